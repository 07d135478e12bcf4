"""Pseudo-class features: shifted by a latent grouping g independent of the class.

They look like signal (a clear multi-modal structure) and carry none about y.
"""

from __future__ import annotations

import numpyro
from jax import Array

from synthbio_ppl.model.layout import Block
from synthbio_ppl.processes.informative import shifted_block


def pseudo_classes(
    block: Block,
    labels: Array,
    n_levels: int,
    rows: numpyro.plate,
    loc_shift: Array | float,
    scale: Array | float,
    obs: Array | None = None,
) -> Array:
    """x_ij = m_{g_i} + u_ij with g the block's latent group (``labels`` here)."""
    return shifted_block(block, labels, n_levels, rows, loc_shift, scale, obs)
