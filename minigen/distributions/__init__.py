"""Probability toolkit: samplers, distribution objects, and discrete information theory.

    import minigen.distributions as D

    D.sample_discrete(p, n)                      CDF + binary search
    D.inverse_transform_sample(inv_cdf, n)       x = F^{-1}(u)
    D.numeric_inverse_transform_sample(pdf, a, b, n)
    D.rejection_sample(pdf, q_sample, q_pdf, M, n) -> (samples, acceptance_rate)

    D.Normal(loc, scale)            .rsample .sample .log_prob .entropy .mean .stddev .variance
    D.MultivariateNormal(loc, covariance_matrix=... | scale_tril=...)
    D.Bernoulli(logits=...), D.Categorical(logits=...), D.RelaxedOneHotCategorical(tau, logits=...)
    D.gumbel_softmax(logits, tau, hard=False)

    D.kl_divergence(p, q)           closed form for two distributions, or sum p log(p/q) for two arrays
    D.mc_kl(p, q, n)                Monte Carlo KL with its standard error
    D.entropy, D.cross_entropy, D.marginal, D.conditional, D.expectation
"""
from minigen.distributions.distribution import Distribution  # noqa: F401
from minigen.distributions.sampling import (RejectionResult, inverse_transform_sample,  # noqa: F401
                                            numeric_inverse_transform_sample, rejection_sample,
                                            sample_discrete)
from minigen.distributions.normal import MultivariateNormal, Normal  # noqa: F401
from minigen.distributions.discrete import (Bernoulli, Categorical, RelaxedOneHotCategorical,  # noqa: F401
                                            gumbel_softmax)
from minigen.distributions.kl import register_kl  # noqa: F401
from minigen.distributions.information import (MCEstimate, conditional, cross_entropy, entropy,  # noqa: F401
                                               expectation, kl_divergence, marginal, mc_kl)

__all__ = [
    "Distribution",
    "sample_discrete", "inverse_transform_sample", "numeric_inverse_transform_sample", "rejection_sample",
    "RejectionResult",
    "Normal", "MultivariateNormal", "Bernoulli", "Categorical", "RelaxedOneHotCategorical", "gumbel_softmax",
    "kl_divergence", "register_kl", "mc_kl", "MCEstimate",
    "entropy", "cross_entropy", "marginal", "conditional", "expectation",
]
