"""Noise: x_ij = u_ij, the same distribution in every class (standardised or raw family)."""

from __future__ import annotations

import numpyro
from jax import Array

from synthbio_ppl.families.standardised import family_sites, feature_distribution
from synthbio_ppl.model.layout import Block


def noise(
    block: Block,
    labels: Array,
    n_levels: int,
    rows: numpyro.plate,
    loc_shift: Array | float,
    scale: Array | float,
    obs: Array | None = None,
) -> Array:
    """Class-independent features; ``labels`` is ignored."""
    params = family_sites(block.name, block.family, block.standardise)
    with rows:
        shape = (labels.shape[0], block.n_features)
        fn = feature_distribution(block.family, params, block.standardise, loc_shift, scale, shape)
        return numpyro.sample(block.name, fn, obs=obs)
