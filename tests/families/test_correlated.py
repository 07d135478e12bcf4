"""Structured normals: declared correlation, unit variance, exact log-density."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpyro.distributions import MultivariateNormal

from synthbio_ppl.families.correlated import AR1Normal, EquicorrelatedNormal, anchor_correlations

N = 20_000


@pytest.mark.parametrize(
    ("cls", "rho", "dim"),
    [
        (EquicorrelatedNormal, 0.9, 5),
        (EquicorrelatedNormal, 0.3, 4),
        (EquicorrelatedNormal, -0.2, 4),  # negative, inside (-1/3, 1)
        (AR1Normal, 0.7, 6),
        (AR1Normal, -0.6, 4),
    ],
)
def test_sample_correlation_matches_declared(cls, rho, dim) -> None:
    d = cls(jnp.full((N,), rho), dim)
    x = np.asarray(d.sample(jax.random.PRNGKey(0)), dtype=float)
    empirical = np.corrcoef(x, rowvar=False)
    declared = np.asarray(d.correlation()[0])
    se = (1 - declared**2) / np.sqrt(N)  # SE of a sample correlation
    assert np.all(np.abs(empirical - declared) <= 5 * se + 1e-12)
    assert np.allclose(x.var(axis=0), 1.0, atol=5 * np.sqrt(2 / N))


@pytest.mark.parametrize(("cls", "rho"), [(EquicorrelatedNormal, 0.6), (AR1Normal, 0.7)])
def test_log_prob_equals_dense_multivariate_normal(cls, rho) -> None:
    with jax.enable_x64(True):
        rhos = jnp.array([rho, -0.1, 0.0])
        d = cls(rhos, 5)
        x = jax.random.normal(jax.random.PRNGKey(1), (3, 5), dtype=jnp.float64)
        dense = MultivariateNormal(jnp.zeros(5), covariance_matrix=d.correlation())
        assert np.allclose(d.log_prob(x), dense.log_prob(x), rtol=1e-10)


def test_anchor_row_of_correlation() -> None:
    r = anchor_correlations("toeplitz", jnp.array([0.5, -0.5]), 4)
    assert np.allclose(r, [[1, 0.5, 0.25, 0.125], [1, -0.5, 0.25, -0.125]])
    r = anchor_correlations("equicorrelated", jnp.array([0.3]), 3)
    assert np.allclose(r, [[1, 0.3, 0.3]])
