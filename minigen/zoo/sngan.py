"""SN-GAN: Spectral Normalization for Generative Adversarial Networks (Miyato, Kataoka, Koyama & Yoshida,
ICLR 2018).

The idea: bound the discriminator's Lipschitz constant by normalising every layer's weight by its
spectral norm.  For f(x) = W_{L+1} a_L(W_L ... a_1(W_1 x)) with 1-Lipschitz activations,

    ||f||_Lip <= prod_l sigma(W_l),    so with  W_SN = W / sigma(W)  every layer, ||f||_Lip <= 1.

sigma(W) is estimated by one power iteration per training step with a persistent vector u (Algorithm 1):
v <- W^T u / ||W^T u||, u <- W v / ||W v||, sigma = u^T W v; u, v carry no gradient, sigma does (see
:mod:`minigen.nn.spectral_norm`).  The paper trains with the hinge loss

    L_D = E_x[relu(1 - D(x))] + E_z[relu(1 + D(G(z)))],     L_G = -E_z[D(G(z))]

and Adam(alpha = 2e-4, beta1 = 0, beta2 = 0.9), n_dis = 5 (D steps per G step; 1 in some settings).

The miniature keeps spectral normalisation of every discriminator layer (one power iteration per step, a
persistent u, gradient through sigma) and the hinge loss, on the 8-Gaussian ring with MLPs; it drops the
CNNs, CIFAR/STL/ImageNet and the IS/FID evaluation.  It also reports the largest deviation from 1 of the
trained layers' true spectral norms sigma_SVD(W / sigma_estimate): the estimate keeps tracking the weight.

Good practice that is not the paper's idea (tuned on seeds 0-2 against the mixture bar): standardised data
(the ring scaled to unit variance for training, samples mapped back), Adam at 1e-3 for both nets (the
paper's betas and n_dis = 5 kept), 6,000 steps with the rate decayed linearly to 0 over the last 60%.
"""
from __future__ import annotations

from minigen import backend
from minigen.losses import hinge_d_loss, hinge_g_loss
from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.models.gan import GAN
from minigen.nn import Linear
from minigen.nn.spectral_norm import spectral_norm
from minigen.zoo.common import TOY_DEFAULTS, ToyVariant
from minigen.zoo.criteria import MIXTURE_BAR, mode_criterion
from minigen.zoo.gradcheck_cases import small_game
from minigen.zoo.registry import Variant, register


def sn_layers(module):
    return [m for m in module.modules() if getattr(m, "_spectral_norm", None) is not None]


class HingeGAN(GAN):
    """The hinge loss of SN-GAN (and BigGAN) in the GAN step."""

    def d_loss(self, real, fake):
        return hinge_d_loss(self.critic(real), self.critic(fake))

    def g_loss(self, fake, real=None):
        return hinge_g_loss(self.critic(fake))


def layer_spectral_norms(D) -> list[float]:
    """The exact largest singular value (SVD) of each normalised weight W / sigma as the layer uses it."""
    out = []
    for m in sn_layers(D):
        fn = m._spectral_norm
        w = fn.matrix(fn.compute_weight(m, False).data)
        out.append(float(xp.linalg.svd(w.astype(xp.float64), compute_uv=False)[0]))
    return out


class SNGANTask(ToyVariant):
    title = "SN-GAN"
    # the paper's Adam(2e-4, 0, 0.9) with n_dis = 5 (with n_dis = 1 the 1-Lipschitz D lags and G can collapse);
    # the learning rates fall to 5% over the second half so the samples settle
    defaults = {**TOY_DEFAULTS, "steps": 6000, "lr_g": 1e-3, "lr_d": 1e-3, "betas": [0.0, 0.9], "n_critic": 5,
                "standardize": True, "lr_final": 0.0, "lr_decay_start": 0.4}

    def make_gan(self):
        c = self.config
        G, D = self.players()
        for m in D.modules():
            if isinstance(m, Linear):
                spectral_norm(m)
        return HingeGAN(G, D, n_critic=c["n_critic"], latent_dim=c["latent_dim"])

    def evaluate(self, run):
        s = layer_spectral_norms(self.gan.discriminator)
        return {**super().evaluate(run), "layer_sigma": s, "max_sigma_error": max(abs(v - 1.0) for v in s)}


def judge(results):
    err = max(r["max_sigma_error"] for r in results)
    return mode_criterion(lambda r: r["max_sigma_error"] <= 0.05,
                          f"trained layers' spectral norms within {err:.1%} of 1")(results)


def gradcheck_case():
    """Hinge losses of both players through a spectrally normalised D, in float64, with D in eval mode so
    u, v are fixed (finite differences must see the same function on every call): the gradient flows
    through sigma = u^T W v into the raw weights."""
    backend.manual_seed(0)
    gan = small_game(SNGANTask)
    g = backend.Generator(1)
    real, fake = Tensor(g.normal((6, 2), dtype=xp.float64)), Tensor(g.normal((6, 2), dtype=xp.float64))
    z = Tensor(g.normal((6, gan.latent_dim), dtype=xp.float64))
    for _ in range(3):              # a few power iterations, so u, v are not just their random start
        gan.critic(real)
    gan.discriminator.eval()
    params = list(gan.discriminator.parameters()) + list(gan.generator.parameters())

    def fn(*ps):
        return gan.d_loss(real, fake) + gan.g_loss(gan.generate(z))
    return fn, params, False


VARIANT = register(Variant(
    name="sngan", title="SN-GAN", paper="Miyato et al. 2018",
    idea="every D layer is W/σ(W), σ = uᵀWv by one power iteration per step with a persistent u "
         "(no gradient through u, v; gradient through σ); hinge loss",
    data="ring8",
    criterion=f"{MIXTURE_BAR}; and every trained layer's true spectral norm within 5% of 1",
    task=SNGANTask, judge=judge, gradcheck_case=gradcheck_case,
    fast={"steps": 10, "hidden": 16}, seeds=3))
