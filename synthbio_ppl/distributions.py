"""Structured standard normals for correlated clusters, without a dense Cholesky.

Both have unit variances, zero means and a correlation matrix R(ρ) over the last axis;
``rho`` may differ per row (per-class correlation).

- Equicorrelated: R = (1-ρ)·I + ρ·11ᵀ. Sample x = √(1-ρ)·(e + t·Σe·1) with
  t = (√((1+(p-1)ρ)/(1-ρ)) - 1)/p, valid on the whole range -1/(p-1) < ρ < 1.
- Toeplitz (AR(1)): R_ij = ρ^|i-j|. Sample x_0 = z_0, x_j = ρ·x_{j-1} + √(1-ρ²)·z_j.
"""

from __future__ import annotations

import math
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpyro.distributions as dist
from jax import Array
from numpyro.distributions import constraints
from numpyro.distributions.util import promote_shapes

_LOG_2PI = math.log(2 * math.pi)


class _StructuredNormal(dist.Distribution):
    arg_constraints: ClassVar[dict] = {"rho": constraints.interval(-1.0, 1.0)}
    support = constraints.real_vector
    reparametrized_params: ClassVar[list[str]] = ["rho"]

    def __init__(self, rho: Array, dim: int, *, validate_args: bool | None = None) -> None:
        (self.rho,) = promote_shapes(jnp.asarray(rho))
        self.dim = dim
        super().__init__(jnp.shape(self.rho), (dim,), validate_args=validate_args)

    @property
    def mean(self) -> Array:
        return jnp.zeros(self.batch_shape + self.event_shape)

    @property
    def variance(self) -> Array:
        return jnp.ones(self.batch_shape + self.event_shape)

    def correlation(self) -> Array:
        """The dense correlation matrix (for checks and small problems only)."""
        raise NotImplementedError

    def tree_flatten(self):  # type: ignore[no-untyped-def]
        return (self.rho,), self.dim

    @classmethod
    def tree_unflatten(cls, aux_data, params):  # type: ignore[no-untyped-def]
        return cls(params[0], aux_data)


class EquicorrelatedNormal(_StructuredNormal):
    """Standard normal vector with every pairwise correlation equal to ρ."""

    def sample(self, key: Array, sample_shape: tuple[int, ...] = ()) -> Array:
        shape = sample_shape + self.batch_shape + self.event_shape
        e = jax.random.normal(key, shape, dtype=jnp.result_type(self.rho, float))
        rho = self.rho[..., None]
        p = self.dim
        t = (jnp.sqrt((1 + (p - 1) * rho) / (1 - rho)) - 1) / p
        return jnp.sqrt(1 - rho) * (e + t * e.sum(-1, keepdims=True))

    def log_prob(self, value: Array) -> Array:
        p, rho = self.dim, self.rho
        s = value.sum(-1)
        q = (value * value).sum(-1)
        big = 1 + (p - 1) * rho
        maha = (q - rho / big * s * s) / (1 - rho)
        logdet = (p - 1) * jnp.log1p(-rho) + jnp.log(big)
        return -0.5 * (maha + logdet + p * _LOG_2PI)

    def correlation(self) -> Array:
        eye = jnp.eye(self.dim)
        rho = self.rho[..., None, None]
        return (1 - rho) * eye + rho


class AR1Normal(_StructuredNormal):
    """Standard normal vector with Toeplitz correlation ρ^|i-j| (stationary AR(1))."""

    def sample(self, key: Array, sample_shape: tuple[int, ...] = ()) -> Array:
        shape = sample_shape + self.batch_shape + self.event_shape
        z = jax.random.normal(key, shape, dtype=jnp.result_type(self.rho, float))
        rho = jnp.broadcast_to(self.rho, shape[:-1])
        innovation = jnp.sqrt(1 - rho**2)

        def step(previous: Array, z_j: Array) -> tuple[Array, Array]:
            x_j = rho * previous + innovation * z_j
            return x_j, x_j

        z_first = jnp.moveaxis(z, -1, 0)
        _, rest = jax.lax.scan(step, z_first[0], z_first[1:])
        return jnp.moveaxis(jnp.concatenate([z_first[:1], rest], axis=0), 0, -1)

    def log_prob(self, value: Array) -> Array:
        p, rho = self.dim, self.rho
        one_minus = 1 - rho**2
        resid = value[..., 1:] - rho[..., None] * value[..., :-1]
        maha = value[..., 0] ** 2 + (resid**2).sum(-1) / one_minus
        return -0.5 * (maha + (p - 1) * jnp.log(one_minus) + p * _LOG_2PI)

    def correlation(self) -> Array:
        lag = jnp.abs(jnp.arange(self.dim)[:, None] - jnp.arange(self.dim)[None, :])
        return self.rho[..., None, None] ** lag


def anchor_correlations(structure: str, rho: Array, dim: int) -> Array:
    """R[anchor, j] for j = 0..dim-1, the anchor being feature 0: shape rho.shape + (dim,)."""
    rho = jnp.asarray(rho)[..., None]
    j = jnp.arange(dim)
    if structure == "toeplitz":
        return rho**j
    return jnp.where(j == 0, 1.0, rho)


STRUCTURES: dict[str, type[_StructuredNormal]] = {
    "equicorrelated": EquicorrelatedNormal,
    "toeplitz": AR1Normal,
}
