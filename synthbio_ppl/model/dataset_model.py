"""The dataset model: every block's process over one rows plate, column effects shared.

The same function generates (sites unobserved, parameters conditioned to the spec) and
is the likelihood for fitting (``X`` observed, priors on the parameter sites).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from synthbio_ppl.core.lazy import jnp, numpyro
from synthbio_ppl.core.streams import ROWS
from synthbio_ppl.model.layout import Layout
from synthbio_ppl.processes.block import RowDesign, Rows
from synthbio_ppl.processes.registry import modifier_of, process_of

if TYPE_CHECKING:
    from jax import Array

__all__ = ["RowDesign", "dataset_model", "placeholder_design"]


def dataset_model(layout: Layout, design: RowDesign, X: Array | None = None) -> dict[str, Array]:
    """All feature blocks for the rows in ``design``.

    Returns ``{"X": (rows, features)}``; processes that produce other per-row outputs
    (latent values, drawn covariates) add them under their own names. Column modifiers
    (batches) give each block's columns x_obs = scale · x + loc_shift.
    """
    effects = []
    for static in layout.modifiers:
        modifier = modifier_of(static.field)
        shift, scale = modifier.column_effects(static, layout.n_features)
        effects.append((shift, scale, modifier.row_codes(design)))
    rows = numpyro.plate(ROWS, design.y.shape[0], dim=-1)
    values = []
    outputs: dict[str, Array] = {}
    for block in layout.blocks:
        loc_shift: Array | float = 0.0
        scale_: Array | float = 1.0
        for shift, scale, codes in effects:  # gather per block, only what is not identity
            if scale is not None:
                factor = scale[:, block.start : block.stop][codes]
                loc_shift = loc_shift if isinstance(loc_shift, float) else loc_shift * factor
                scale_ = factor if isinstance(scale_, float) else scale_ * factor
            if shift is not None:
                offset = shift[:, block.start : block.stop][codes]
                loc_shift = offset if isinstance(loc_shift, float) else loc_shift + offset
        obs = None if X is None else X[:, block.start : block.stop]
        process = process_of(block.kind)
        out = process.sample(block, Rows(design, layout.n_classes, rows, loc_shift, scale_, obs))
        values.append(out.pop("X"))
        outputs.update(out)
    return {"X": jnp.concatenate(values, axis=-1), **outputs}


def placeholder_design(layout: Layout, n_rows: int) -> RowDesign:
    """A design of ``n_rows`` zero codes with every field the layout needs (for tracing
    the sites outside the rows plate)."""
    zeros = np.zeros(n_rows, dtype=np.int32)
    groups = {b.name: zeros for b in layout.blocks if process_of(b.kind).latent_levels(b)}
    return RowDesign(zeros, zeros if layout.modifiers else None, groups)
