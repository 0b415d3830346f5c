"""Generative models built on minigen.nn: autoencoders, VAEs, GANs."""
from minigen.models.vae import ELBO, VAE, AutoEncoder  # noqa: F401
from minigen.models.gan import GAN, ConcatLabel, ConditionalGAN, mlp_gan  # noqa: F401
