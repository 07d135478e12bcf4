"""Batch effects on a chosen set of columns.

additive:       x ← x + β_b,        β ~ N(0, s²) per batch × feature (or one per batch)
multiplicative: x ← x · exp(γ_b),   γ ~ N(0, s²), so every factor is > 0
Returns per-batch column shifts and scales of shape (B, n_features); unaffected columns
get shift 0 and scale 1.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from jax import Array

from synthbio_ppl.model.layout import BatchLayout


def batch_effects(layout: BatchLayout, n_features: int) -> tuple[Array, Array]:
    """Sample ``batch.strength`` and the per-batch effects; (shift, scale), each (B, P)."""
    strength = numpyro.sample("batch.strength", dist.HalfNormal(1.0))
    width = layout.n_affected if layout.granularity == "per_feature" else 1
    name = "batch.offset" if layout.effect == "additive" else "batch.log_factor"
    draws = numpyro.sample(
        name, dist.Normal(0.0, strength).expand([layout.n_batches, width]).to_event(2)
    )
    effect = jnp.broadcast_to(draws, (layout.n_batches, layout.n_affected))
    columns = jnp.concatenate(
        [jnp.arange(start, stop) for start, stop in layout.affected] or [jnp.zeros(0, int)]
    )
    shift = jnp.zeros((layout.n_batches, n_features), dtype=draws.dtype)
    scale = jnp.ones((layout.n_batches, n_features), dtype=draws.dtype)
    if layout.effect == "additive":
        shift = shift.at[:, columns].set(effect)
    else:
        scale = scale.at[:, columns].set(numpyro.deterministic("batch.factor", jnp.exp(effect)))
    return shift, scale
