"""A location-scale family clipped to [low, high], with its censored likelihood."""

from __future__ import annotations

import jax.numpy as jnp
import numpyro.distributions as dist
from jax import Array
from numpyro.distributions import constraints

_TINY = 1e-30


class CensoredLocScale(dist.Distribution):
    """obs = shift + scale·clip(loc + sd·u, low, high), u from a standardised ``unit`` law.

    ``log_prob`` is the censored likelihood: log P(x ≤ low) at the low bound, log P(x ≥ high)
    at the high bound, and the density of obs in between. ``low``/``high`` may be None.
    """

    arg_constraints = {}  # noqa: RUF012
    support = constraints.real

    def __init__(
        self,
        unit: dist.Distribution,
        loc: Array,
        sd: Array | float,
        low: float | None = None,
        high: float | None = None,
        shift: Array | float = 0.0,
        scale: Array | float = 1.0,
    ) -> None:
        self.unit, self.loc, self.sd = unit, loc, sd
        self.low, self.high, self.shift, self.scale = low, high, shift, scale
        shape = jnp.broadcast_shapes(jnp.shape(loc), jnp.shape(shift), jnp.shape(scale))
        super().__init__(batch_shape=shape, validate_args=False)

    def sample(self, key: Array, sample_shape: tuple[int, ...] = ()) -> Array:
        u = self.unit.sample(key, sample_shape + self.batch_shape)
        x = self.loc + self.sd * u
        if self.low is not None or self.high is not None:
            x = jnp.clip(x, self.low, self.high)
        return self.shift + self.scale * x

    def log_prob(self, value: Array) -> Array:
        z = ((value - self.shift) / self.scale - self.loc) / self.sd
        lp = self.unit.log_prob(z) - jnp.log(self.sd) - jnp.log(self.scale)
        if self.low is not None:
            at_low = value <= self.shift + self.scale * self.low
            mass = self.unit.cdf((self.low - self.loc) / self.sd)
            lp = jnp.where(at_low, jnp.log(jnp.maximum(mass, _TINY)), lp)
        if self.high is not None:
            at_high = value >= self.shift + self.scale * self.high
            mass = 1.0 - self.unit.cdf((self.high - self.loc) / self.sd)
            lp = jnp.where(at_high, jnp.log(jnp.maximum(mass, _TINY)), lp)
        return lp
