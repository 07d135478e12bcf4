"""Exactness of the vectorised count samplers: moments, goodness of fit, determinism, x64.

Tolerances come from sampling error (4 standard errors; p-values above 1e-4 at a fixed seed).
Each distinct (sampler, shape, dtype) compiles once (about 2 s), so the draws are shared.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import pytest
from scipy import stats

from synthbio_ppl.families import counts
from synthbio_ppl.families.counts import FastNegativeBinomial2, FastPoisson, gamma, poisson

# interleaved along the last axis, so every chunk mixes inversion, PTRS and invalid rates
RATES = (0.0, 0.05, 1.0, 3.0, 9.9, 10.0, 30.0, 1000.0, 1e5, np.nan, -1.0)
N_POISSON = 200_000
SHAPES = (0.1, 0.5, 1.0, 3.0, 100.0)
N_GAMMA = 100_000
NB = ((0.5, 2.0), (5.0, 0.1), (100.0, 0.05), (1000.0, 0.5), (0.0, 0.5))  # (mean μ, φ = 1/r)
N_NB = 200_000


@pytest.fixture(scope="module")
def poisson_draws() -> np.ndarray:
    d = FastPoisson(jnp.asarray(RATES), validate_args=False)
    x = d.sample(jax.random.PRNGKey(0), (N_POISSON,))
    assert x.dtype == jnp.int32 and x.shape == (N_POISSON, len(RATES))
    return np.asarray(x)


@pytest.fixture(scope="module")
def gamma_draws() -> np.ndarray:
    x = gamma(jax.random.PRNGKey(1), jnp.asarray(SHAPES), (N_GAMMA, len(SHAPES)))
    assert x.dtype == jnp.float32 and x.shape == (N_GAMMA, len(SHAPES))
    return np.asarray(x, dtype=float)


@pytest.fixture(scope="module")
def nb_draws() -> np.ndarray:
    mean, phi = (jnp.asarray(c) for c in zip(*NB, strict=True))
    x = FastNegativeBinomial2(mean, 1 / phi).sample(jax.random.PRNGKey(4), (N_NB,))
    assert x.dtype == jnp.int32 and x.shape == (N_NB, len(NB))
    return np.asarray(x)


def chi_square_pvalue(x: np.ndarray, law) -> float:
    """Pearson's test against a discrete law, adjacent values pooled to ≥ 5 expected."""
    lo, hi = int(x.min()), int(x.max())
    k = np.arange(lo, hi + 1)
    p = law.pmf(k)
    p[0], p[-1] = law.cdf(lo), law.sf(hi - 1)  # the tails join the end bins
    observed, expected = np.bincount(x - lo, minlength=k.size), p * x.size
    obs, exp, o, e = [], [], 0.0, 0.0
    for oi, ei in zip(observed, expected, strict=True):
        o, e = o + oi, e + ei
        if e >= 5:
            obs.append(o)
            exp.append(e)
            o, e = 0.0, 0.0
    obs[-1], exp[-1] = obs[-1] + o, exp[-1] + e  # the remainder joins the last bin
    exp = np.asarray(exp) * x.size / np.sum(exp)
    return stats.chisquare(obs, exp).pvalue


def assert_moments(x: np.ndarray, law) -> None:
    """Sample mean and variance within 4 standard errors of the law's."""
    mean, var, _, kurt = (float(m) for m in law.stats(moments="mvsk"))
    n = x.size
    assert abs(x.mean() - mean) <= 4 * np.sqrt(var / n)
    assert abs(x.var() - var) <= 4 * np.sqrt((kurt + 2) * var**2 / n)  # μ4 - σ⁴ = (κ + 2)σ⁴


@pytest.mark.parametrize("j", range(1, 9), ids=[f"rate={r:g}" for r in RATES[1:9]])
def test_poisson_moments_and_fit(poisson_draws, j) -> None:
    x, law = poisson_draws[:, j], stats.poisson(RATES[j])
    assert_moments(x, law)
    assert chi_square_pvalue(x, law) > 1e-4


def test_poisson_zero_and_invalid_rates(poisson_draws) -> None:
    assert np.all(poisson_draws[:, 0] == 0)  # λ = 0
    assert np.all(poisson_draws[:, -2:] == -1)  # NaN, λ < 0
    assert np.all(poisson_draws[:, :-2] >= 0)


@pytest.mark.parametrize("j", range(len(SHAPES)), ids=[f"alpha={a:g}" for a in SHAPES])
def test_gamma_ks(gamma_draws, j) -> None:
    x, alpha = gamma_draws[:, j], SHAPES[j]
    assert abs(x.mean() - alpha) <= 4 * np.sqrt(alpha / x.size)
    assert stats.kstest(x, stats.gamma(alpha).cdf).pvalue > 1e-4


def test_chunks_are_independent(gamma_draws) -> None:
    """Chunks get their own seeds: cells one chunk apart are uncorrelated."""
    z = ((gamma_draws - np.asarray(SHAPES)) / np.sqrt(SHAPES)).ravel()
    lag = counts._CHUNK
    assert z.size > lag
    assert abs(np.corrcoef(z[:-lag], z[lag:])[0, 1]) < 4 / np.sqrt(z.size - lag)


def test_inversion_at_the_top_of_the_uniform_grid() -> None:
    """Where the rounded cdf never reaches u, the count stops at its top, in the far tail."""
    lam = np.linspace(0, 9.99, 500, dtype=np.float32)
    k = counts._inversion(jnp.asarray(lam), jnp.full(lam.shape, 1 - 2**-24, jnp.float32))
    assert np.all(np.asarray(k) <= stats.poisson(lam.astype(float)).ppf(1 - 1e-9))


@pytest.mark.parametrize("j", range(4), ids=[f"mu={m:g},phi={p:g}" for m, p in NB[:4]])
def test_negative_binomial_moments_and_fit(nb_draws, j) -> None:
    mean, phi = NB[j]
    r = 1 / phi
    law = stats.nbinom(r, r / (r + mean))  # NB2(μ, r): n = r, p = r/(r + μ)
    assert_moments(nb_draws[:, j], law)
    assert chi_square_pvalue(nb_draws[:, j], law) > 1e-4


def test_negative_binomial_zero_mean_gives_zero(nb_draws) -> None:
    assert np.all(nb_draws[:, -1] == 0)


def test_same_key_same_values_other_key_other_values(poisson_draws, nb_draws) -> None:
    d = FastPoisson(jnp.asarray(RATES), validate_args=False)
    np.testing.assert_array_equal(d.sample(jax.random.PRNGKey(0), (N_POISSON,)), poisson_draws)
    assert np.mean(np.asarray(d.sample(jax.random.PRNGKey(3), (N_POISSON,))) != poisson_draws) > 0.3
    mean, phi = (jnp.asarray(c) for c in zip(*NB, strict=True))
    again = FastNegativeBinomial2(mean, 1 / phi).sample(jax.random.PRNGKey(4), (N_NB,))
    np.testing.assert_array_equal(again, nb_draws)


def test_log_prob_is_numpyros() -> None:
    pairs = [(FastPoisson(4.5), dist.Poisson(4.5))]
    pairs += [(FastNegativeBinomial2(7.0, 0.3), dist.NegativeBinomial2(7.0, 0.3))]
    values = jax.jit(lambda k: [(f.log_prob(k), r.log_prob(k)) for f, r in pairs])(jnp.arange(30))
    for fast, ref in values:
        np.testing.assert_array_equal(fast, ref)


def test_inside_jit_with_a_typed_key_and_shapes() -> None:
    sample = jax.jit(lambda k: FastNegativeBinomial2(jnp.full((3, 1), 5.0), 2.0).sample(k, (4,)))
    x = sample(jax.random.key(0))
    assert x.shape == (4, 3, 1) and x.dtype == jnp.int32
    np.testing.assert_array_equal(x, sample(jax.random.key(0)))
    assert poisson(jax.random.PRNGKey(0), jnp.zeros((0, 2))).shape == (0, 2)


def test_float64_under_x64() -> None:
    enable_x64 = getattr(jax, "enable_x64", None)
    if enable_x64 is None:
        enable_x64 = getattr(getattr(jax, "experimental", None), "enable_x64", None)
    if enable_x64 is None:
        pytest.skip("no x64 context manager in this jax")
    mean = np.array([0.7, 3.0, 50.0, 4000.0])  # NB μ, with φ = 0.25: inversion and PTRS
    n = 50_000
    with enable_x64(True):
        x = FastNegativeBinomial2(jnp.asarray(mean), 4.0).sample(jax.random.PRNGKey(5), (n,))
        g = gamma(jax.random.PRNGKey(6), jnp.asarray([0.3, 30.0]), (n, 2))
        assert x.dtype == jnp.int32 and g.dtype == jnp.float64
    x, g = np.asarray(x), np.asarray(g)
    for j, m in enumerate(mean):
        assert_moments(x[:, j], stats.nbinom(4.0, 4.0 / (4.0 + m)))
    for j, alpha in enumerate([0.3, 30.0]):
        assert stats.kstest(g[:, j], stats.gamma(alpha).cdf).pvalue > 1e-4
