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


class ClassFactorNormal(dist.Distribution):
    """Rows of several classes, each class c a factor-model normal N(μ_c, W_c W_cᵀ + diag(d_c)).

    ``loc`` (C, p), ``factor`` (C, p, r), ``diag`` (C, p) variances, ``y`` (n,) class codes;
    batch shape (n,), event shape (p,). The density uses the Woodbury identity with one
    r × r Cholesky per class, K_c = I + W_cᵀ D_c⁻¹ W_c, so a row costs O(p·r) and nothing
    of size p × p is formed:

        log p(z) = −½ [p log 2π + Σ log d_c + 2 Σ log diag chol(K_c)
                       + eᵀD_c⁻¹e − ‖chol(K_c)⁻¹ W_cᵀ D_c⁻¹ e‖²],   e = z − μ_c.

    Class parameters reach the rows by one-hot products rather than gathers: their
    gradients are then matrix products instead of scatters, which CPUs do far faster.
    """

    arg_constraints: ClassVar[dict] = {
        "loc": constraints.real_vector,
        "diag": constraints.independent(constraints.positive, 1),
    }
    support = constraints.real_vector
    reparametrized_params: ClassVar[list[str]] = ["loc", "factor", "diag"]

    def __init__(self, loc: Array, factor: Array, diag: Array, y: Array) -> None:
        self.loc, self.factor, self.diag, self.y = loc, factor, diag, y
        super().__init__(jnp.shape(y), (loc.shape[-1],), validate_args=False)

    def sample(self, key: Array, sample_shape: tuple[int, ...] = ()) -> Array:
        k_factor, k_noise = jax.random.split(key)
        shape = sample_shape + self.batch_shape
        scores = jax.random.normal(k_factor, (*shape, self.factor.shape[-1]))
        noise = jax.random.normal(k_noise, (*shape, self.loc.shape[-1]))
        y = self.y
        shared = jnp.einsum("...pr,...r->...p", self.factor[y], scores)
        return self.loc[y] + shared + jnp.sqrt(self.diag[y]) * noise

    def log_prob(self, value: Array) -> Array:
        n_classes, p, r = self.factor.shape
        onehot = jax.nn.one_hot(self.y, n_classes, dtype=value.dtype)  # (n, C)
        inv_diag = 1.0 / self.diag  # (C, p)
        capacitance = jnp.eye(r) + jnp.einsum("cpr,cp,cps->crs", self.factor, inv_diag, self.factor)
        chol = jnp.linalg.cholesky(capacitance)  # (C, r, r)
        log_det = jnp.log(self.diag).sum(-1) + 2 * jnp.log(jnp.diagonal(chol, 0, -2, -1)).sum(-1)
        e = value - onehot @ self.loc  # (..., n, p)
        scaled = e * (onehot @ inv_diag)
        eye = jnp.broadcast_to(jnp.eye(r, dtype=chol.dtype), chol.shape)
        whiten = jax.scipy.linalg.solve_triangular(chol, eye, lower=True)  # chol(K_c)⁻¹
        reduced = (jnp.einsum("...np,cpr,csr->...ncs", scaled, self.factor, whiten) ** 2).sum(-1)
        quad = (e * scaled).sum(-1) - (reduced * onehot).sum(-1)
        return -0.5 * (p * _LOG_2PI + onehot @ log_det + quad)
