"""A distribution that is one of two per element, chosen by a known boolean array."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpyro.distributions as dist
from jax import Array


class Either(dist.Distribution):
    """``first`` where ``which`` is True, else ``second`` (same shape and support).

    Used to draw a mixture's value once its component is known (a Splat outlier gene's
    expression); ``log_prob`` is that component's density.
    """

    def __init__(self, which: Array, first: dist.Distribution, second: dist.Distribution):
        self.which, self.first, self.second = which, first, second
        shape = jnp.broadcast_shapes(jnp.shape(which), first.batch_shape, second.batch_shape)
        super().__init__(batch_shape=shape, event_shape=())

    @property
    def support(self) -> Any:
        return self.first.support

    def sample(self, key: Array, sample_shape: tuple[int, ...] = ()) -> Array:
        import jax

        a, b = jax.random.split(key)
        return jnp.where(
            self.which, self.first.sample(a, sample_shape), self.second.sample(b, sample_shape)
        )

    def log_prob(self, value: Array) -> Array:
        return jnp.where(self.which, self.first.log_prob(value), self.second.log_prob(value))
