"""Worked solutions (for the tests only: the skeletons hold none) and the typical wrong answers.

``SOLUTIONS[n]`` maps each skeleton's ``raise NotImplementedError("exercise n: Op.method")`` message to
the code that replaces it.  ``MISTAKES[n]`` lists one-line mutations of a solution, (old, new, the
hint's tag it must get).
"""
import re

from minigen.exercises.skeletons import render

SIGMOID = """e = xp.exp(-xp.abs({x}))
s = xp.where({x} >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
"""

SOLUTIONS = {
    1: {"Exp.backward": "return gy * y",
        "Log.backward": "return gy / x",
        "Sigmoid.backward": "return gy * y * (1.0 - y)",
        "Tanh.backward": "return gy * (1.0 - y * y)"},
    2: {"sum_to": """while g.ndim > len(shape):
    g = g.sum(axis=0)
for i, n in enumerate(shape):
    if n == 1 and g.shape[i] != 1:
        g = g.sum(axis=i, keepdims=True)
return g""",
        "Add.backward": """ga, gb = self.needs_grad
return (sum_to(gy, a.shape) if ga else None, sum_to(gy, b.shape) if gb else None)""",
        "Sum.backward": """axes = range(x.ndim) if self.axis is None else self.axis if isinstance(self.axis, tuple) else (self.axis,)
axes = [ax % x.ndim for ax in axes]
kept = gy if self.keepdims else gy.reshape([1 if i in axes else n for i, n in enumerate(x.shape)])
return kept * xp.ones_like(x)""",
        "Mean.backward": """axes = range(x.ndim) if self.axis is None else self.axis if isinstance(self.axis, tuple) else (self.axis,)
axes = [ax % x.ndim for ax in axes]
kept = gy if self.keepdims else gy.reshape([1 if i in axes else n for i, n in enumerate(x.shape)])
return kept * xp.ones_like(x) / (x.size // y.size)"""},
    3: {"MatMul.backward": """ga, gb = self.needs_grad
return (unbroadcast(gy @ xp.swapaxes(b, -1, -2), a) if ga else None,
        unbroadcast(xp.swapaxes(a, -1, -2) @ gy, b) if gb else None)""",
        "Linear.backward": """gx, gW, gb = self.needs_grad
return (gy @ W if gx else None, gy.T @ x if gW else None, gy.sum(axis=0) if gb else None)"""},
    4: {"BCEWithLogits.forward": "return xp.maximum(x, 0) - x * t + xp.log1p(xp.exp(-xp.abs(x)))",
        "BCEWithLogits.backward": SIGMOID.format(x="x") + """gx, gt = self.needs_grad
return (gy * (s - t) if gx else None, -gy * x if gt else None)"""},
    5: {"Reparameterize.backward": """gmu, glv, _ = self.needs_grad
g_mu = unbroadcast(gy, mu) if gmu else None
g_lv = unbroadcast(gy * 0.5 * xp.exp(0.5 * logvar) * eps, logvar) if glv else None
return g_mu, g_lv, None"""},
    6: {"KLNormalStandard.backward": """gmu, glv = self.needs_grad
return (gy * mu if gmu else None, gy * 0.5 * (xp.exp(logvar) - 1.0) if glv else None)"""},
    7: {"MinimaxGeneratorLoss.backward": SIGMOID.format(x="l") + "return -gy * s",
        "NonSaturatingGeneratorLoss.backward": SIGMOID.format(x="l") + "return gy * (s - 1.0)"},
    8: {"Softplus.backward": "return gy * sigmoid(x)"},
}

# (exercise, old, new, the hint's tag)
MISTAKES = [
    (1, "return gy * y\n", "return -gy * y\n", "sign"),
    (1, "return gy / x", "return 0.5 * gy / x", "a factor of 1/2"),
    (1, "return gy * y * (1.0 - y)", "return gy * y", "wrong values"),
    (2, "        g = g.sum(axis=i, keepdims=True)", "        pass", "forgotten broadcast sum"),
    (2, "xp.ones_like(x) / (x.size // y.size)", "xp.ones_like(x)", "a factor of 12"),
    (2, "return kept * xp.ones_like(x)\n", "return kept\n", "reduced shape"),
    (3, "gy @ xp.swapaxes(b, -1, -2)", "gy @ b", "transpose"),
    (3, "gy.T @ x", "x.T @ gy", "transpose"),
    (3, "gy.sum(axis=0) if gb", "gy if gb", "forgotten broadcast sum"),
    (3, "unbroadcast(gy @ xp.swapaxes(b, -1, -2), a)", "gy @ xp.swapaxes(b, -1, -2)", "forgotten broadcast sum"),
    (4, "return xp.maximum(x, 0) - x * t + xp.log1p(xp.exp(-xp.abs(x)))",
     "return xp.log(1.0 + xp.exp(x)) - x * t", "overflowing exp"),
    (4, "-gy * x if gt", "gy * x if gt", "sign"),
    (5, "gy * 0.5 * xp.exp(0.5 * logvar)", "gy * xp.exp(0.5 * logvar)", "a factor of 1/2"),
    (5, "unbroadcast(gy, mu)", "gy", "forgotten broadcast sum"),
    (5, "g_mu = unbroadcast(gy, mu)", "g_mu = unbroadcast(-gy, mu)", "sign"),
    (6, "gy * 0.5 * (xp.exp(logvar) - 1.0)", "gy * (xp.exp(logvar) - 1.0)", "a factor of 1/2"),
    (6, "gy * 0.5 * (xp.exp(logvar) - 1.0)", "gy * 0.5 * (1.0 - xp.exp(logvar))", "sign"),
    (7, "return -gy * s", "return gy * s", "sign"),
    (7, "return gy * (s - 1.0)", "return -gy * s", "wrong values"),
    (8, "return gy * sigmoid(x)", "return gy / (1.0 + xp.exp(-x))", "double backprop"),
    (8, "return gy * sigmoid(x)", "return -gy * sigmoid(x)", "sign"),
]


def solved(ex, folder="exercises") -> str:
    """The skeleton of ``ex`` with every rule filled in."""
    text = render(ex, folder)
    for key, code in SOLUTIONS[ex.number].items():
        pat = re.compile(rf'^( *)raise NotImplementedError\("exercise {ex.number}: {re.escape(key)}"\)$', re.MULTILINE)
        m = pat.search(text)
        assert m, f"no marker for {key} in exercise {ex.number}'s skeleton"
        indent = m.group(1)
        body = "\n".join(indent + line if line else line for line in code.splitlines())
        text = text[:m.start()] + body + text[m.end():]
    assert f'raise NotImplementedError("exercise {ex.number}' not in text
    return text
