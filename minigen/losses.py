"""The GAN game's losses, in stable logit form (D outputs a logit l, D(x) = sigmoid(l)).

The value function of Goodfellow et al. (2014):

    min_G max_D  V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))]

Using log sigmoid(l) = -softplus(-l) and log(1 - sigmoid(l)) = -softplus(l):

    discriminator_loss          -V = E[softplus(-l_real)] + E[softplus(l_fake)]   (D ascends V)
    generator_loss_minimax       E[log(1 - D(G(z)))] = -E[softplus(l_fake)]       (saturating: its gradient
                                                                                   vanishes when D wins)
    generator_loss_nonsaturating -E[log D(G(z))] = E[softplus(-l_fake)]           (same fixed point,
                                                                                   strong gradients early)

and the hinge loss of Geometric GAN / SN-GAN / BigGAN (D outputs a score s):

    hinge_d_loss                 E[relu(1 - s_real)] + E[relu(1 + s_fake)]
    hinge_g_loss                 -E[s_fake]
"""
from __future__ import annotations

from minigen import functional as F

GENERATOR_LOSSES = ("nonsaturating", "minimax")


def discriminator_loss(real_logits, fake_logits):
    """-(E[log D(x)] + E[log(1 - D(G(z)))]): binary cross-entropy with real = 1, fake = 0."""
    return F.mean(F.softplus(-real_logits)) + F.mean(F.softplus(fake_logits))


def generator_loss_minimax(fake_logits):
    """E[log(1 - D(G(z)))], the original (saturating) minimax generator loss, minimised by G."""
    return -F.mean(F.softplus(fake_logits))


def generator_loss_nonsaturating(fake_logits):
    """-E[log D(G(z))], the non-saturating generator loss."""
    return F.mean(F.softplus(-fake_logits))


def generator_loss(fake_logits, kind: str = "nonsaturating"):
    if kind == "nonsaturating":
        return generator_loss_nonsaturating(fake_logits)
    if kind == "minimax":
        return generator_loss_minimax(fake_logits)
    raise ValueError(f"generator loss must be one of {GENERATOR_LOSSES}, got {kind!r}")


def hinge_d_loss(real_out, fake_out):
    """E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]"""
    return F.mean(F.relu(1.0 - real_out)) + F.mean(F.relu(1.0 + fake_out))


def hinge_g_loss(fake_out):
    """-E[D(G(z))]"""
    return -F.mean(fake_out)
