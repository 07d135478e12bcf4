"""Informative group: x_ij = m_{y_i} + u_ij, u standardised, m the centred running sum of d."""

from __future__ import annotations

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from jax import Array

from synthbio_ppl.families.standardised import family_sites, feature_distribution
from synthbio_ppl.model.layout import Block


def class_means(effect_size: Array) -> Array:
    """Means of K levels from the K-1 adjacent effect sizes, centred: (..., K-1) -> (..., K)."""
    zero = jnp.zeros((*jnp.shape(effect_size)[:-1], 1), dtype=jnp.result_type(effect_size))
    running = jnp.concatenate([zero, jnp.cumsum(effect_size, axis=-1)], axis=-1)
    return running - running.mean(axis=-1, keepdims=True)


def shifted_block(
    block: Block,
    labels: Array,
    n_levels: int,
    rows: numpyro.plate,
    loc_shift: Array | float,
    scale: Array | float,
    obs: Array | None,
) -> Array:
    """Features whose level means are the centred running sum of ``<block>.effect_size``."""
    d = numpyro.sample(
        f"{block.name}.effect_size", dist.Normal(0.0, 2.0).expand([n_levels - 1]).to_event(1)
    )
    means = class_means(d)
    numpyro.deterministic(f"{block.name}.level_means", means)
    params = family_sites(block.name, block.family, block.standardise)
    with rows:
        shape = (labels.shape[0], block.n_features)
        loc = scale * means[labels][:, None] + loc_shift
        fn = feature_distribution(block.family, params, block.standardise, loc, scale, shape)
        return numpyro.sample(block.name, fn, obs=obs)


def informative(
    block: Block,
    labels: Array,
    n_levels: int,
    rows: numpyro.plate,
    loc_shift: Array | float,
    scale: Array | float,
    obs: Array | None = None,
) -> Array:
    """Class-shifted features; population d between adjacent classes = ``<block>.effect_size``."""
    return shifted_block(block, labels, n_levels, rows, loc_shift, scale, obs)
