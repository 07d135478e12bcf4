"""A normal distribution whose columns are drawn from keys of their own.

One site may hold values for the columns of several blocks (a batch's offsets for every
affected feature). Drawn as one array, every value would move when any block grows. Here
column ``j`` is drawn from ``fold_in(fold_in(key, block_id[j]), index[j])``: its values
depend only on its block's name and its position in the block. The density is the plain
normal's, so a fit sees the same model.
"""

from __future__ import annotations

from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpyro.distributions as dist
from jax import Array


def column_ids(segments: tuple[tuple[int, int, int], ...]) -> tuple[Array, Array]:
    """(block ids, indices in the block), each (P,) uint32, of the columns that
    ``segments`` of ``(block_id, first index in the block, length)`` list in order."""
    blocks = [jnp.full(length, block, jnp.uint32) for block, _, length in segments]
    index = [jnp.arange(first, first + length, dtype=jnp.uint32) for _, first, length in segments]
    empty = [jnp.zeros(0, jnp.uint32)]
    return jnp.concatenate(blocks or empty), jnp.concatenate(index or empty)


class ColumnKeyedNormal(dist.Normal):
    """``Normal(loc, scale)`` of batch shape ``(..., P)`` whose column ``j`` (last axis) is
    drawn from a key folded with ``block_ids[j]`` then ``indices[j]`` (both (P,) uint32).

    Without ids (as a reparametrisation rebuilds it) it samples as ``Normal`` does.
    Values: the float dtype of ``loc``/``scale``, shape ``sample_shape + batch_shape``.
    """

    pytree_data_fields: ClassVar[tuple[str, ...]] = ("block_ids", "indices")

    def __init__(
        self,
        loc: Any = 0.0,
        scale: Any = 1.0,
        *,
        block_ids: Array | None = None,
        indices: Array | None = None,
        validate_args: bool | None = None,
    ) -> None:
        self.block_ids, self.indices = block_ids, indices
        super().__init__(loc, scale, validate_args=validate_args)

    def sample(self, key: Array, sample_shape: tuple[int, ...] = ()) -> Array:
        if self.block_ids is None:
            return super().sample(key, sample_shape)
        shape = tuple(sample_shape) + self.batch_shape
        dtype = jnp.result_type(self.loc, self.scale)

        def column(block: Array, index: Array) -> Array:
            own = jax.random.fold_in(jax.random.fold_in(key, block), index)
            return jax.random.normal(own, shape[:-1], dtype)

        z = jax.vmap(column, out_axes=-1)(self.block_ids, self.indices)
        return self.loc + self.scale * jnp.broadcast_to(z, shape)
