"""The variational autoencoder (Kingma & Welling 2014).

Encoder q(z|x) = N(mu(x), diag exp(logvar(x))), prior p(z) = N(0, I), decoder p(x|z):

    Bernoulli:          log p(x|z) = -BCE_with_logits(D(z), x)            (summed over the D data dims)
    Gaussian, fixed s2: log p(x|z) = log N(x; D(z), s2 I)                 (the course's form)
    Gaussian, learned:  log p(x|z) = log N(x; D_mean(z), diag exp(D_logvar(z)))

The reparameterization trick makes the sample a differentiable function of (mu, logvar):

    z = mu + exp(1/2 logvar) * eps,   eps ~ N(0, I)      (note the 1/2: sigma = exp(logvar / 2))

and the evidence lower bound splits into the two terms learners watch:

    ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z)),   KL = 1/2 sum_j (mu_j^2 + e^{logvar_j} - 1 - logvar_j)
              reconstruction     prior matching (closed form)

Training minimises -ELBO averaged over the batch.  ``iwae(x, k)`` is the importance-weighted bound
log (1/k) sum_i p(x, z_i) / q(z_i|x) >= ELBO, which tightens towards log p(x) as k grows.

Shapes: x (N, D); mu, logvar, eps (N, L) or (S, N, L) for S samples per example; per-example terms (N,).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from minigen import backend
from minigen import functional as F
from minigen.autograd.mode import no_grad
from minigen.autograd.tensor import Tensor
from minigen.nn import MLP, Linear, Module

_LOG_2PI = math.log(2 * math.pi)
LIKELIHOODS = ("bernoulli", "gaussian")


@dataclass
class ELBO:
    """Per-example values, shape (N,): ``elbo = reconstruction - kl``."""
    elbo: Tensor
    reconstruction: Tensor
    kl: Tensor

    def loss(self) -> Tensor:
        """The training loss: -ELBO averaged over the batch."""
        return -F.mean(self.elbo)


def _trunk(sizes, activation):
    """Hidden layers (with their activation after the last one too), or nothing."""
    if len(sizes) < 2:
        return None
    return MLP(sizes, activation=activation, out_activation=activation)


class VAE(Module):
    """``VAE(data_dim, latent_dim, hidden=(400,), likelihood="bernoulli" | "gaussian", fixed_variance=None)``.

    With ``likelihood="gaussian"`` the decoder's variance is ``fixed_variance`` when given, else learned
    per data dimension (the decoder then outputs a mean and a log-variance).
    """

    def __init__(self, data_dim: int, latent_dim: int, hidden=(400,), likelihood: str = "bernoulli",
                 fixed_variance: float | None = None, activation: str = "relu"):
        super().__init__()
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"VAE: likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
        if fixed_variance is not None and (likelihood != "gaussian" or fixed_variance <= 0):
            raise ValueError("VAE: fixed_variance needs likelihood='gaussian' and a positive value")
        self.data_dim, self.latent_dim, self.hidden = data_dim, latent_dim, tuple(hidden)
        self.likelihood, self.fixed_variance, self.activation = likelihood, fixed_variance, activation
        h = self.hidden
        self.encoder = _trunk([data_dim, *h], activation)
        self.fc_mu = Linear(h[-1] if h else data_dim, latent_dim)
        self.fc_logvar = Linear(h[-1] if h else data_dim, latent_dim)
        learned_var = likelihood == "gaussian" and fixed_variance is None
        out = 2 * data_dim if learned_var else data_dim
        self.decoder = MLP([latent_dim, *reversed(h), out], activation=activation) if h else Linear(latent_dim, out)

    def config(self) -> dict:
        return {"kind": "vae", "data_dim": self.data_dim, "latent_dim": self.latent_dim, "hidden": list(self.hidden),
                "likelihood": self.likelihood, "fixed_variance": self.fixed_variance, "activation": self.activation}

    # --- the three pieces ---
    def encode(self, x):
        """x (N, D) -> (mu, logvar), each (N, L): the parameters of q(z|x)."""
        _check_input(x, self.data_dim, "VAE")
        h = self.encoder(x) if self.encoder is not None else x
        return self.fc_mu(h), self.fc_logvar(h)

    @staticmethod
    def reparameterize(mu, logvar, eps):
        """z = mu + exp(logvar / 2) * eps: a sample of q(z|x) through which gradients reach mu and logvar."""
        return mu + F.exp(0.5 * logvar) * eps

    def decode(self, z):
        """z (..., L) -> the decoder's output: Bernoulli logits, a Gaussian mean, or (mean, logvar)."""
        out = self.decoder(z)
        if self.likelihood == "gaussian" and self.fixed_variance is None:
            mean, logvar = F.split(out, 2, axis=-1)
            return mean, logvar
        return out

    def log_likelihood(self, x, out):
        """log p(x|z) summed over data dimensions; ``out`` is ``decode(z)`` of shape (..., N, D)."""
        if self.likelihood == "bernoulli":
            return -F.sum(F.binary_cross_entropy_with_logits(out, F.broadcast_to(x, out.shape), "none"), axis=-1)
        if self.fixed_variance is not None:      # log N(x; m, s2 I) = -|x - m|^2 / (2 s2) - D/2 log(2 pi s2)
            d = x - out
            s2 = self.fixed_variance
            return F.sum(d * d, axis=-1) * (-0.5 / s2) - 0.5 * self.data_dim * (math.log(s2) + _LOG_2PI)
        mean, logvar = out
        return -F.sum(F.gaussian_nll(x, mean, logvar), axis=-1)

    def mean_of(self, out):
        """The decoder's mean E[x|z]: sigmoid of the logits, or the Gaussian mean."""
        if self.likelihood == "bernoulli":
            return F.sigmoid(out)
        return out[0] if isinstance(out, tuple) else out

    # --- the objectives ---
    def elbo(self, x, n_samples: int = 1, eps=None) -> ELBO:
        """Per-example ELBO and its two terms.  ``eps`` (N, L) or (S, N, L) fixes the noise, which
        makes the ELBO a deterministic function of the weights (for gradient checks)."""
        mu, logvar = self.encode(x)
        if eps is None:
            shape = (n_samples,) + tuple(mu.shape) if n_samples > 1 else tuple(mu.shape)
            eps = backend.rng().normal(shape, dtype=mu.dtype)
        z = self.reparameterize(mu, logvar, eps)
        rec = self.log_likelihood(x, self.decode(z))
        if len(rec.shape) == 2:                 # (S, N): average the S samples
            rec = F.mean(rec, axis=0)
        kl = F.sum(F.kl_normal_standard(mu, logvar), axis=-1)
        return ELBO(rec - kl, rec, kl)

    def loss(self, x) -> Tensor:
        return self.elbo(x).loss()

    def iwae(self, x, k: int = 100, chunk: int = 100):
        """The importance-weighted bound (Burda et al. 2016), per example (N,), without gradients:

            log p(x) >= log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x),   z_i ~ q(z|x)
        """
        with no_grad():
            mu, logvar = self.encode(x)
            logws = []
            for start in range(0, k, chunk):
                s = min(chunk, k - start)
                eps = backend.rng().normal((s,) + tuple(mu.shape), dtype=mu.dtype)
                z = self.reparameterize(mu, logvar, eps)
                log_px_z = self.log_likelihood(x, self.decode(z))
                log_pz = -0.5 * F.sum(z * z + _LOG_2PI, axis=-1)
                log_qz = -0.5 * F.sum(eps * eps + logvar + _LOG_2PI, axis=-1)
                logws.append(log_px_z + log_pz - log_qz)
            logw = F.concatenate(logws, axis=0)
            return F.logsumexp(logw, axis=0) - math.log(k)

    # --- using it ---
    def sample(self, n: int):
        """n draws x ~ E[x|z], z ~ N(0, I): decoder means, (n, D)."""
        with no_grad():
            z = Tensor(backend.rng().normal((n, self.latent_dim)))
            return self.mean_of(self.decode(z))

    def reconstruct(self, x):
        """E[x | z = mu(x)]: the decoded posterior mean."""
        with no_grad():
            mu, _ = self.encode(x)
            return self.mean_of(self.decode(mu))


class AutoEncoder(Module):
    """A deterministic autoencoder: z = E(x), x_hat = D(z), loss = reconstruction error only.

    ``likelihood="bernoulli"`` trains on BCE-with-logits (data in [0, 1]); ``"gaussian"`` on squared error.
    Nothing shapes the latent space, so codes between the training codes may decode to nonsense: the
    question the VAE's prior answers.
    """

    def __init__(self, data_dim: int, latent_dim: int, hidden=(400,), likelihood: str = "bernoulli",
                 activation: str = "relu"):
        super().__init__()
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"AutoEncoder: likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
        self.data_dim, self.latent_dim, self.hidden = data_dim, latent_dim, tuple(hidden)
        self.likelihood, self.activation = likelihood, activation
        h = self.hidden
        self.encoder = MLP([data_dim, *h, latent_dim], activation=activation)
        self.decoder = MLP([latent_dim, *reversed(h), data_dim], activation=activation)

    def config(self) -> dict:
        return {"kind": "ae", "data_dim": self.data_dim, "latent_dim": self.latent_dim, "hidden": list(self.hidden),
                "likelihood": self.likelihood, "activation": self.activation}

    def encode(self, x):
        _check_input(x, self.data_dim, "AutoEncoder")
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def reconstruction_error(self, x):
        """Per-example error (N,): summed BCE-with-logits or squared error."""
        out = self.decode(self.encode(x))
        if self.likelihood == "bernoulli":
            return F.sum(F.binary_cross_entropy_with_logits(out, x, "none"), axis=-1)
        return F.sum(F.mse_loss(out, x, "none"), axis=-1)

    def loss(self, x):
        return F.mean(self.reconstruction_error(x))

    def mean_of(self, out):
        return F.sigmoid(out) if self.likelihood == "bernoulli" else out

    def reconstruct(self, x):
        with no_grad():
            return self.mean_of(self.decode(self.encode(x)))


def _check_input(x, dim, who):
    shape = tuple(x.shape)
    if len(shape) != 2 or shape[1] != dim:
        raise ValueError(f"{who}: expected data of shape (N, {dim}), got {shape}")


def build(config: dict) -> Module:
    """Rebuild a model from its ``config()`` (for loading runs)."""
    cfg = dict(config)
    kind = cfg.pop("kind")
    if kind == "vae":
        return VAE(**cfg)
    if kind == "ae":
        return AutoEncoder(**cfg)
    raise ValueError(f"unknown model kind {kind!r}")

