"""The files ``minigen exercise start N`` writes: the forward given, the backward to fill in.

Each template states what to derive and the shapes, and ends every rule to write with the line
``raise NotImplementedError(...)`` (the marker the tests replace with a solution).  No template holds a
solution: a rule's docstring says what to derive, never the answer.
"""
from __future__ import annotations

MARKER = "raise NotImplementedError"

HEADER = '''"""minigen exercise {number}: {title}.

{concept}

Fill in every method whose body is `raise NotImplementedError(...)`, then grade it with

    minigen exercise check {number} --dir {dir}

The checker puts your rule into a private subclass of the library's op (the library itself is
untouched), runs the op's finite-difference cases (float64), and says which input and which element
disagree, analytic vs numeric, with a hint.  When every case passes it trains {model} with your rule
in place, next to the library's (same seed, same steps).

backward(self, gy, *inputs, y): gy = dL/dy (y's shape), then the forward's inputs and its output y.
Return dL/d(input) for each input, of that input's shape; None for one that needs no gradient
(self.needs_grad[i] is False: a constant, e.g. a Python float or a fixed noise array).
"""
from minigen.autograd.function import Function
from minigen.backend import xp
'''

BODIES = {}

BODIES[1] = '''

class Exp(Function):
    def forward(self, x):
        return xp.exp(x)                               # given: y = e^x

    def backward(self, gy, x, y):
        """y = e^x elementwise; gy, x, y all have x's shape.  Derive dy/dx and return gy * dy/dx.
        The output y is passed in: a rule that re-uses it needs no second exp."""
        raise NotImplementedError("exercise 1: Exp.backward")


class Log(Function):
    def forward(self, x):
        return xp.log(x)                               # given: y = log x, for x > 0

    def backward(self, gy, x, y):
        """y = log x elementwise (x > 0); gy, x, y have x's shape.  Return gy * dy/dx."""
        raise NotImplementedError("exercise 1: Log.backward")


class Sigmoid(Function):
    def forward(self, x):
        e = xp.exp(-xp.abs(x))                         # given: 1/(1+e^-x), no overflowing exp
        return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

    def backward(self, gy, x, y):
        """y = sigma(x) = 1 / (1 + e^-x) elementwise; gy, x, y have x's shape.  Derive dy/dx and
        write it in terms of the output y (no exp needed, and none to overflow)."""
        raise NotImplementedError("exercise 1: Sigmoid.backward")


class Tanh(Function):
    def forward(self, x):
        return xp.tanh(x)                              # given: y = tanh x

    def backward(self, gy, x, y):
        """y = tanh x elementwise; gy, x, y have x's shape.  Write dy/dx in terms of y."""
        raise NotImplementedError("exercise 1: Tanh.backward")
'''

BODIES[2] = '''

def sum_to(g, shape):
    """The helper every broadcasting rule needs: sum the array g over the axes that broadcasting
    added or stretched, so the result has ``shape``.  Example: an input of shape (4, 1) broadcast into
    an output (2, 4, 3): its gradient is g (2, 4, 3) summed over axis 0 and over axis 2 (kept as 1)."""
    raise NotImplementedError("exercise 2: sum_to")


class Add(Function):
    def forward(self, a, b):
        return a + b                                   # given: y = a + b, broadcasting like NumPy

    def backward(self, gy, a, b, y):
        """y = a + b with broadcasting: a (2, 1, 3) + b (4, 1) -> y (2, 4, 3).  gy has y's shape;
        return (dL/da of a's shape, dL/db of b's shape).  Each element of a was used by several
        elements of y: its gradient collects them all.  Use self.needs_grad = (for a, for b) to
        return None for an input that needs no gradient (it may be a Python float)."""
        raise NotImplementedError("exercise 2: Add.backward")


class Sum(Function):
    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims      # axis: None (all), an int (maybe < 0) or a tuple

    def forward(self, x):
        return x.sum(axis=self.axis, keepdims=self.keepdims)     # given

    def backward(self, gy, x, y):
        """y = sum of x over self.axis.  x (2, 3, 4) summed over axes (0, 2) gives y (3,), or
        (1, 3, 1) with keepdims.  gy has y's shape; return dL/dx of x's shape (2, 3, 4): every x
        that went into a sum receives that sum's gradient."""
        raise NotImplementedError("exercise 2: Sum.backward")


class Mean(Function):
    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        return x.mean(axis=self.axis, keepdims=self.keepdims)    # given

    def backward(self, gy, x, y):
        """y = mean of x over self.axis (n = x.size // y.size values per mean).  gy has y's shape;
        return dL/dx of x's shape."""
        raise NotImplementedError("exercise 2: Mean.backward")
'''

BODIES[3] = '''from minigen.ops.shape import unbroadcast     # unbroadcast(g, like): g summed down to like's shape (exercise 2)


class MatMul(Function):
    def forward(self, a, b):
        return a @ b                                   # given: (..., n, k) @ (..., k, m) -> (..., n, m)

    def backward(self, gy, a, b, y):
        """y = a @ b: a (..., n, k), b (..., k, m), y and gy (..., n, m); the batch axes '...'
        broadcast (a (2, 1, 3, 4) @ b (3, 4, 2) -> y (2, 3, 3, 2)).  Return (dL/da of a's shape,
        dL/db of b's shape).  Write y_ij = sum_k a_ik b_kj, differentiate one element, then put the
        result back into matrix form; match the shapes.  xp.swapaxes(m, -1, -2) transposes a batch
        of matrices.  Honour self.needs_grad."""
        raise NotImplementedError("exercise 3: MatMul.backward")


class Linear(Function):
    def forward(self, x, W, b=None):
        y = x @ W.T                                    # given: y = x W^T + b, as torch.nn.functional.linear
        return y if b is None else y + b

    def backward(self, gy, x, W, b, y):
        """x (N, in), W (out, in), b (out,) or None, y and gy (N, out).  Return (dL/dx (N, in),
        dL/dW (out, in), dL/db (out,) or None).  b is added to every row of x W^T."""
        raise NotImplementedError("exercise 3: Linear.backward")
'''

BODIES[4] = '''

class BCEWithLogits(Function):
    def forward(self, x, t):
        """The binary cross-entropy of logits x against targets t in [0, 1], elementwise:

            l = -[t log sigma(x) + (1 - t) log(1 - sigma(x))]

        x, t, l have one shape (N, D).  Write it so that it is finite and exact for |x| = 1e4 (the
        checker tries x = +-1e4): rewrite l in terms of x so that no exp of a large positive number
        is ever computed (log1p and |x| help)."""
        raise NotImplementedError("exercise 4: BCEWithLogits.forward")

    def backward(self, gy, x, t, l):
        """gy, x, t, l have one shape (N, D).  Return (dL/dx, dL/dt): both are short once l is
        written in terms of x.  Finite at |x| = 1e4 too.  Honour self.needs_grad."""
        raise NotImplementedError("exercise 4: BCEWithLogits.backward")
'''

BODIES[5] = '''from minigen.ops.shape import unbroadcast     # unbroadcast(g, like): g summed down to like's shape (exercise 2)


class Reparameterize(Function):
    def forward(self, mu, logvar, eps):
        return mu + xp.exp(0.5 * logvar) * eps          # given: z = mu + sigma eps, sigma = exp(1/2 log sigma^2)

    def backward(self, gy, mu, logvar, eps, z):
        """z = mu + exp(1/2 logvar) * eps, with mu, logvar (N, L) from the encoder and eps ~ N(0, I)
        a constant: (N, L), or (S, N, L) for S samples per example.  gy = dL/dz has z's shape.
        Return (dL/dmu (N, L), dL/dlogvar (N, L), None): derive dz/dmu and dz/dlogvar (mind the
        chain rule through exp(1/2 logvar)), and with S samples collect the gradient of all S."""
        raise NotImplementedError("exercise 5: Reparameterize.backward")
'''

BODIES[6] = '''

class KLNormalStandard(Function):
    def forward(self, mu, logvar):
        # given: KL(N(mu, sigma^2) || N(0, 1)) per latent dimension, sigma^2 = exp(logvar)
        return 0.5 * (mu * mu + xp.exp(logvar) - 1.0 - logvar)

    def backward(self, gy, mu, logvar, kl):
        """kl = 1/2 (mu^2 + exp(logvar) - 1 - logvar) elementwise; mu, logvar, kl, gy all (N, L).
        Return (dL/dmu, dL/dlogvar).  Which mu and logvar make the gradient zero, and is that the
        prior N(0, 1)?  Honour self.needs_grad."""
        raise NotImplementedError("exercise 6: KLNormalStandard.backward")
'''

BODIES[7] = '''

def _softplus(x):
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))    # log(1 + e^x), no overflow


class MinimaxGeneratorLoss(Function):
    def forward(self, l):
        return -_softplus(l)                           # given: log(1 - D(G(z))) with D = sigma(l), l: D's logit

    def backward(self, gy, l, y):
        """y = log(1 - sigma(l)) elementwise over D's logits l (N, 1) on generated samples; G minimises
        it (the original minimax game).  Return dL/dl, l's shape, in terms of D = sigma(l) (compute
        sigma without overflow).  What happens to it when D confidently rejects the fakes (D -> 0)?"""
        raise NotImplementedError("exercise 7: MinimaxGeneratorLoss.backward")


class NonSaturatingGeneratorLoss(Function):
    def forward(self, l):
        return _softplus(-l)                           # given: -log D(G(z))

    def backward(self, gy, l, y):
        """y = -log sigma(l) elementwise, l (N, 1): the non-saturating loss G minimises instead.
        Return dL/dl, l's shape, in terms of D = sigma(l).  And when D -> 0?"""
        raise NotImplementedError("exercise 7: NonSaturatingGeneratorLoss.backward")
'''

BODIES[8] = '''from minigen.functional import sigmoid          # works on raw arrays and on Tensors (recorded)


class Softplus(Function):
    def forward(self, x):
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))    # given: y = log(1 + e^x)

    def backward(self, gy, x, y):
        """y = softplus(x) = log(1 + e^x) elementwise; gy, x, y have x's shape.  Return dL/dx.

        This rule must survive double backprop: a gradient penalty (R1, WGAN-GP) differentiates
        dD/dx again, so the engine calls this rule in two ways.  In a plain backward gy and x are raw
        arrays; under create_graph=True they are Tensors and every operation in the rule is itself
        recorded.  Write it only with minigen functions and operators (*, +, -, sigmoid(...)) that
        work on both: xp.* and .data on a Tensor would fail, or cut the second derivative off."""
        raise NotImplementedError("exercise 8: Softplus.backward")
'''


def render(ex, folder) -> str:
    """The learner's file for exercise ``ex`` (a :class:`~minigen.exercises.catalog.Exercise`)."""
    header = HEADER.format(number=ex.number, title=ex.title, concept=ex.concept, dir=folder,
                           model=ex.training.describe())
    doc, rest = header[3:].split('"""', 1)
    return '"""' + _wrap(doc) + '"""' + rest + BODIES[ex.number]


def _wrap(doc: str, width: int = 100) -> str:
    """Re-fill the docstring's prose paragraphs (the ones that filled in long names); indented lines stay."""
    import textwrap
    paras = doc.split("\n\n")
    return "\n\n".join(p if p.startswith(" ") or not p.strip() else
                        textwrap.fill(" ".join(p.split()), width) + ("\n" if p.endswith("\n") else "")
                        for p in paras)
