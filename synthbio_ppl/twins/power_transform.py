"""The Yeo–Johnson power transform as a NumPyro bijection, one power λ per column.

    ψ_λ(u) = ((1 + u)^λ − 1)/λ                 u ≥ 0
    ψ_λ(u) = −((1 − u)^(2−λ) − 1)/(2 − λ)       u < 0

ψ_λ is increasing, maps 0 to 0 and is the identity at λ = 1; λ < 1 pulls in a long right
tail (λ → 0 is log(1 + u) there), λ > 1 a long left tail. Restricted to 0 < λ < 2 it maps
the real line onto the real line, so its inverse is defined everywhere and a Gaussian draw
always maps back to a finite value. ``YeoJohnsonInverse`` is ψ_λ⁻¹, the direction a
``TransformedDistribution`` needs to turn a Gaussian into skewed data; its log-Jacobian is
−Σ_j log ψ'(u_j) with log ψ'(u) = (λ − 1)·sign(u)·log(1 + |u|).
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import Array
from numpyro.distributions import constraints
from numpyro.distributions.transforms import Transform


def yeo_johnson(u: Array, lam: Array) -> Array:
    """ψ_λ(u), elementwise, for 0 < λ < 2."""
    pos = u >= 0
    a = jnp.where(pos, lam, 2.0 - lam)
    t = jnp.log1p(jnp.abs(u))
    return jnp.where(pos, 1.0, -1.0) * jnp.expm1(a * t) / a


def yeo_johnson_inverse(z: Array, lam: Array) -> Array:
    """ψ_λ⁻¹(z), elementwise, for 0 < λ < 2 (defined for every real z)."""
    pos = z >= 0
    a = jnp.where(pos, lam, 2.0 - lam)
    return jnp.where(pos, 1.0, -1.0) * jnp.expm1(jnp.log1p(a * jnp.abs(z)) / a)


class YeoJohnsonInverse(Transform):
    """z ↦ ψ_λ⁻¹(z) over the last axis (one λ per column): Gaussian scale → data scale."""

    domain = constraints.real_vector
    codomain = constraints.real_vector

    def __init__(self, lam: Array) -> None:
        self.lam = lam

    def __call__(self, z: Array) -> Array:
        return yeo_johnson_inverse(z, self.lam)

    def _inverse(self, u: Array) -> Array:
        return yeo_johnson(u, self.lam)

    def log_abs_det_jacobian(self, z: Array, u: Array, intermediates: None = None) -> Array:
        log_slope = (self.lam - 1.0) * jnp.sign(u) * jnp.log1p(jnp.abs(u))
        return -jnp.sum(log_slope, axis=-1)

    def tree_flatten(self) -> tuple[tuple[Array], dict]:
        return (self.lam,), {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, YeoJohnsonInverse) and self.lam is other.lam
