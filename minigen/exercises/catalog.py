"""The course's exercises, in order: what each one asks, which ops it grades, how, and what it trains.

An exercise names the classes the learner writes (:class:`Op`).  An op that replaces a library
``Function`` (``library = (module, class name)``) is graded on that op's own registry cases
(:mod:`minigen.ops.registry`): during the check the module's name resolves to a private subclass of the
library's class carrying the learner's methods, so the registry's case functions (``F.exp``, ``F.sum``,
...) build the learner's node.  An op the library composes from smaller ones (the reparameterization,
the KL term, the generator losses) is graded on cases of the same shapes and domains, written here.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from minigen import backend
from minigen.backend import xp
from minigen.ops.registry import REGISTRY, _c


@dataclass
class Op:
    """One class the learner writes."""
    name: str                               # the class name in the learner's file
    library: tuple | None = None            # (module, class name) of the library op it stands in for
    registry: str | None = None             # registry entry whose cases grade it
    rules: tuple = ("backward",)            # the methods the learner writes
    call: Callable | None = None            # (private class) -> fn(*tensors) for an op with no library class
    install: Callable | None = None         # (private class) -> [(owner, attr, value)] for training
    formula: str = ""                       # a nudge for the hint of last resort (never the answer)

    def cases(self, private) -> list:
        """(label, Case) pairs.  A library op: its registry cases as they are (the swap routes them to
        ``private``).  Otherwise: the cases of the same shapes and domains calling ``call(private)``."""
        return [(c.label or f"case {i}", c if self.call is None else replace(c, fn=self.call(private)))
                for i, c in enumerate(REGISTRY.get(self.registry) or EXTRA_CASES[self.registry])]


@dataclass
class Training:
    """The small model trained once with the learner's rule and once with the library's."""
    task: str                               # a registered task: "vae" or "gan"
    settings: dict
    quick: dict                             # a smoke-sized run (tests, --quick)
    report: tuple                           # (results key, label) pairs printed side by side

    def describe(self) -> str:
        if self.task == "vae":
            return f"the VAE on the embedded 8x8 digits ({self.settings['epochs']} epochs)"
        return f"a GAN on the 8-Gaussian ring ({self.settings['steps']} steps)"


@dataclass
class Exercise:
    number: int
    slug: str
    title: str
    concept: str                            # one paragraph: what the exercise teaches
    ops: list
    training: Training
    demo: str                               # the demo in demos/ that shows the concept
    second_order: bool = False              # the rules must also pass the second-order checks
    extra: Callable | None = None           # (private classes by name) -> (passed, text): a further check

    @property
    def filename(self) -> str:
        return f"{self.number:02d}_{self.slug}.py"


# --- the models the rules are trained in ----------------------------------------------------------------

VAE_REPORT = (("test_elbo", "test ELBO (nats)"), ("test_kl", "test KL (nats)"),
              ("test_reconstruction", "test log p(x|z) (nats)"), ("knn_accuracy", "5-NN accuracy on codes"))
GAN_REPORT = (("modes", "modes covered (of 8)"), ("high_quality", "high-quality samples"),
              ("reverse_kl", "reverse KL"))
# the VAE of `minigen train vae`, 10 epochs (220 steps) instead of 300, a cheaper test IWAE
VAE = Training("vae", {"epochs": 10, "iwae_k": 20},
               {"epochs": 1, "hidden": [16], "iwae_k": 2}, VAE_REPORT)
# a GAN on ring8: no EMA (1000 steps are too few for its average to catch up), one evaluation at the end
_GAN = {"data": "ring8", "steps": 1000, "hidden": 64, "batch_size": 128, "ema": 0.0, "eval_every": 1000,
        "lr_decay_start": 1.0, "eval_n": 1000}
_GAN_QUICK = {"steps": 20, "hidden": 8, "batch_size": 32, "eval_every": 20, "eval_n": 200}
GAN = Training("gan", _GAN, _GAN_QUICK, GAN_REPORT)
# softplus in G and D, D under the R1 penalty: at gamma 0.1 and lr 1e-3 it covered no mode in 1000 steps, at
# gamma 0.01 and lr 3e-3 three (seed 0)
GAN_R1 = Training("gan", {**_GAN, "activation": "softplus", "r1": 0.01, "lr_g": 3e-3, "lr_d": 3e-3}, _GAN_QUICK,
                  GAN_REPORT)


# --- ops with no library class ----------------------------------------------------------------------------

def _eps_const(shape):
    return lambda g: [g.normal(shape, dtype=xp.float64)]


# cases for the ops the library composes from smaller ones (eps, the noise, is a constant input)
EXTRA_CASES = {
    "reparameterize": [_c(None, (4, 3), (4, 3), consts=_eps_const((4, 3)), label="one sample"),
                       _c(None, (4, 3), (4, 3), consts=_eps_const((2, 4, 3)), label="2 samples: eps (2, 4, 3)"),
                       _c(None, (3, 2), (3, 2), dom="wide", consts=_eps_const((3, 2)), label="wide log-variances")],
    "generator_loss": [_c(None, (4, 1), dom="wide", label="D's logits (N, 1)"),
                       _c(None, (3, 2), label="near D = 1/2")],
}


def _vae_reparameterize(private):
    from minigen.models.vae import VAE as Model
    return [(Model, "reparameterize", staticmethod(lambda mu, logvar, eps: private()(mu, logvar, eps)))]


def _kl_install(private):
    import minigen.functional as F
    return [(F, "kl_normal_standard", lambda mu, logvar, reduction="none": _reduce(private()(mu, logvar), reduction))]


def _reduce(t, reduction):
    from minigen.ops.losses import _reduce as reduce_
    return reduce_(t, reduction, "kl_normal_standard")


def _generator_loss_install(name):
    def install(private):
        import minigen.functional as F
        from minigen import losses
        return [(losses, name, lambda logits: F.mean(private()(logits)))]
    return install


# --- further checks ----------------------------------------------------------------------------------------

def bce_extremes(privates) -> tuple:
    """The loss and its gradient at |logit| = 1e4 against the exact values: softplus(x) - t x and sigma(x) - t."""
    from minigen.autograd.engine import grad
    from minigen.autograd.tensor import Tensor
    x = xp.asarray([1e4, -1e4, 1e4, -1e4, 0.0])
    t = xp.asarray([1.0, 0.0, 0.0, 1.0, 0.5])
    want_l = [0.0, 0.0, 1e4, 1e4, math.log(2.0)]
    want_g = [0.0, 0.0, 1.0, -1.0, 0.0]
    xt = Tensor(x, requires_grad=True)
    with backend_errstate():
        try:
            loss = privates["BCEWithLogits"]()(xt, Tensor(t))
            (g,) = grad([loss], [xt], grad_outputs=[xp.ones(5)])
            got_l, got_g = backend.to_host(loss.data).tolist(), backend.to_host(g.data).tolist()
        except Exception as e:                       # noqa: BLE001  (the learner's code: report, do not crash)
            return False, f"at |logit| = 1e4 your op raised {type(e).__name__}: {e}"
    lines = [f"  {'logit':>8}{'target':>8}{'loss (yours)':>15}{'exact':>10}{'dL/dx (yours)':>15}{'exact':>8}  ok"]
    ok_all = True
    for i in range(5):
        ok = (math.isfinite(got_l[i]) and math.isfinite(got_g[i]) and abs(got_l[i] - want_l[i]) <= 1e-9 * max(1, abs(want_l[i]))
              and abs(got_g[i] - want_g[i]) <= 1e-9)
        ok_all &= ok
        lines.append(f"  {float(x[i]):>8.0f}{float(t[i]):>8.1f}{got_l[i]:>15.6g}{want_l[i]:>10.6g}{got_g[i]:>15.6g}"
                     f"{want_g[i]:>8.3g}  {'yes' if ok else 'NO'}")
    head = "finite and exact at |logit| = 1e4: " + ("passed" if ok_all else "FAILED")
    if not ok_all:
        from minigen.exercises.hints import overflow_hint
        finite = all(math.isfinite(v) for v in got_l + got_g)
        lines.append("  hint: " + (overflow_hint() if not finite else
                                   "exact where it matters: compare each row with the exact values"))
    return ok_all, "\n".join([head] + lines)


def backend_errstate():
    """Silence overflow warnings while a learner's naive exp is measured (its inf is the finding)."""
    import contextlib
    import warnings
    stack = contextlib.ExitStack()
    errstate = getattr(xp, "errstate", None)          # NumPy's; the strict stand-in has none, but warns
    if errstate is not None:
        stack.enter_context(errstate(all="ignore"))
    stack.enter_context(warnings.catch_warnings())
    warnings.simplefilter("ignore", RuntimeWarning)
    return stack


def saturation(privates) -> tuple:
    """Why the minimax loss's gradient vanishes: dL/dl of both losses where D rejects the fakes."""
    from minigen.autograd.engine import grad
    from minigen.autograd.tensor import Tensor
    logits = [-10.0, -5.0, -2.0, 0.0, 2.0]
    rows = []
    for name in ("MinimaxGeneratorLoss", "NonSaturatingGeneratorLoss"):
        lt = Tensor(xp.asarray(logits), requires_grad=True)
        (g,) = grad([privates[name]()(lt)], [lt], grad_outputs=[xp.ones(len(logits))])
        rows.append(backend.to_host(g.data).tolist())
    d = [1.0 / (1.0 + math.exp(-v)) for v in logits]
    lines = ["your gradients dL/dl where D rejects the fakes (l = D's logit, D = sigma(l)):",
             f"  {'l':>6}{'D(G(z))':>12}{'minimax':>14}{'non-saturating':>16}"]
    lines += [f"  {v:>6.0f}{p:>12.3g}{a:>14.3g}{b:>16.3g}" for v, p, a, b in zip(logits, d, *rows)]
    lines.append("  minimax: dL/dl = -D -> 0 as D -> 0, so an early G that D rejects learns nothing; "
                 "non-saturating: -(1 - D) -> -1")
    return True, "\n".join(lines)


# --- the course ----------------------------------------------------------------------------------------------

EXERCISES = [
    Exercise(1, "elementwise", "elementwise rules: exp, log, sigmoid, tanh",
             "The derivative of an elementwise function is elementwise: dL/dx = gy * f'(x).  Sigmoid and "
             "tanh have derivatives that are cheapest written with their own output y.",
             [Op("Exp", ("minigen.ops.elementwise", "Exp"), "exp", formula="e^x is its own derivative"),
              Op("Log", ("minigen.ops.elementwise", "Log"), "log", formula="the slope of log at x"),
              Op("Sigmoid", ("minigen.ops.elementwise", "Sigmoid"), "sigmoid", formula="differentiate 1/(1 + e^-x), then write the result with y = sigma(x) only"),
              Op("Tanh", ("minigen.ops.elementwise", "Tanh"), "tanh", formula="tanh' = 1/cosh^2; write it with y = tanh x")],
             VAE, "reparam_walkthrough.py"),
    Exercise(2, "broadcasting", "broadcasting and reductions: add with broadcast, sum, mean",
             "Broadcasting copies an input along new or size-1 axes, so its gradient sums over those axes; "
             "a reduction's gradient does the opposite and spreads gy back over the reduced axes.",
             [Op("Add", ("minigen.ops.arithmetic", "Add"), "add",
                 formula="dy/da = dy/db = 1 elementwise; the rest is shapes"),
              Op("Sum", ("minigen.ops.reduction", "Sum"), "sum",
                 formula="each x_i enters exactly one sum with coefficient 1"),
              Op("Mean", ("minigen.ops.reduction", "Mean"), "mean", formula="each x_i enters one mean with coefficient 1/n")],
             VAE, "reparam_walkthrough.py"),
    Exercise(3, "matmul", "matmul and linear",
             "The gradient of a matrix product is a matrix product with the other factor transposed; "
             "linear is x W^T + b, whose bias gradient sums over the batch.",
             [Op("MatMul", ("minigen.ops.arithmetic", "MatMul"), "matmul",
                 formula="dy_ij/da_ik = b_kj: which product of gy and b has a's shape?"),
              Op("Linear", ("minigen.ops.nn", "Linear"), "linear",
                 formula="y_nj = sum_i x_ni W_ji + b_j: differentiate one element")],
             VAE, "reparam_walkthrough.py"),
    Exercise(4, "bce_with_logits", "a numerically stable BCE-with-logits, finite at |logit| = 1e4",
             "The Bernoulli decoder's log-likelihood is a binary cross-entropy; computed from the logits it "
             "never takes log 0 or exp of a large number, and its gradient is the short sigma(x) - t.",
             [Op("BCEWithLogits", ("minigen.ops.losses", "BCEWithLogits"), "binary_cross_entropy_with_logits",
                 rules=("forward", "backward"),
                 formula="write l = log(1 + e^x) - t x first, then differentiate")],
             VAE, "ae_vs_vae.py", extra=bce_extremes),
    Exercise(5, "reparameterization", "the reparameterization step: dL/dmu and dL/dlog sigma^2",
             "z = mu + sigma eps with sigma = exp(1/2 log sigma^2) and eps ~ N(0, I) moves the randomness "
             "into a constant input, so the sample is a differentiable function of the encoder's outputs.",
             [Op("Reparameterize", registry="reparameterize",
                 call=lambda P: (lambda mu, logvar, eps: P()(mu, logvar, eps)), install=_vae_reparameterize,
                 formula="z depends on logvar only through sigma = exp(1/2 logvar)")],
             VAE, "reparameterization.py"),
    Exercise(6, "gaussian_kl", "the Gaussian KL term's gradient",
             "KL(N(mu, sigma^2) || N(0, 1)) = 1/2 (mu^2 + sigma^2 - 1 - log sigma^2) per latent dimension; its "
             "gradient pulls mu to 0 and sigma^2 to 1, the prior.",
             [Op("KLNormalStandard", registry="kl_normal_standard",
                 call=lambda P: (lambda mu, logvar: P()(mu, logvar)), install=_kl_install,
                 formula="differentiate each of the four terms; mind the 1/2 in front")],
             VAE, "probability_basics.py"),
    Exercise(7, "generator_losses", "the generator's gradient: minimax and non-saturating losses",
             "With D = sigma(l), G's minimax loss log(1 - D(G(z))) has dL/dl = -D, which vanishes when D "
             "rejects the fakes; the non-saturating -log D(G(z)) has -(1 - D), which does not.",
             [Op("MinimaxGeneratorLoss", registry="generator_loss", call=lambda P: (lambda l: P()(l)),
                 install=_generator_loss_install("generator_loss_minimax"), formula="d/dl log(1 - sigma(l)); sigma' = sigma (1 - sigma)"),
              Op("NonSaturatingGeneratorLoss", registry="generator_loss", call=lambda P: (lambda l: P()(l)),
                 install=_generator_loss_install("generator_loss_nonsaturating"),
                 formula="d/dl -log sigma(l); sigma' = sigma (1 - sigma)")],
             GAN, "gan_vanishing_gradients.py", extra=saturation),
    Exercise(8, "double_backprop", "a rule that survives double backprop (for a gradient penalty)",
             "A gradient penalty differentiates a gradient, so every rule in D's graph is itself "
             "differentiated: a rule written with recorded ops (not raw arrays) gives the second derivative "
             "for free.",
             [Op("Softplus", ("minigen.ops.elementwise", "Softplus"), "softplus",
                 formula="d/dx log(1 + e^x)")],
             GAN_R1, "gan_mode_collapse.py", second_order=True),
]

BY_NUMBER = {ex.number: ex for ex in EXERCISES}
