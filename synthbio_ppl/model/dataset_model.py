"""The dataset model: every block's process over one rows plate, batch effects shared.

The same function generates (sites unobserved, parameters conditioned to the spec) and
is the likelihood for fitting (``X`` observed, priors on the parameter sites).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpyro
from jax import Array

from synthbio_ppl.core.keys import ROWS
from synthbio_ppl.model.layout import Layout
from synthbio_ppl.processes import BLOCK_PROCESSES, batch_effects
from synthbio_ppl.processes.structural.model import structural


class RowDesign(NamedTuple):
    """Per-row design variables (fixed, not random draws of the model)."""

    y: Array
    batch: Array | None = None
    groups: dict[str, Array] | None = None
    covariates: Array | None = None  # (rows, C) observed covariate codes of a structural scene


def dataset_model(layout: Layout, design: RowDesign, X: Array | None = None) -> dict[str, Array]:
    """All feature blocks for the rows in ``design``.

    Returns ``{"X": (rows, features)}``; processes that produce other per-row outputs
    (latent values, drawn covariates) add them under their own names.
    """
    n_rows = design.y.shape[0]
    if layout.batches is not None:
        shift, scale = batch_effects(layout.batches, layout.n_features)
        additive = layout.batches.effect == "additive"
    rows = numpyro.plate(ROWS, n_rows, dim=-1)
    values = []
    outputs: dict[str, Array] = {}
    for block in layout.blocks:
        if block.kind == "pseudo":
            labels, n_levels = design.groups[block.name], block.n_levels
        else:
            labels, n_levels = design.y, layout.n_classes
        loc_shift: Array | float = 0.0
        scale_: Array | float = 1.0
        if layout.batches is not None:  # gather per block, only the half that is not identity
            if additive:
                loc_shift = shift[:, block.start : block.stop][design.batch]
            else:
                scale_ = scale[:, block.start : block.stop][design.batch]
        obs = None if X is None else X[:, block.start : block.stop]
        if block.kind == "structural":  # biomarkers, plus latent values and covariate codes
            outputs = structural(
                layout.structure, rows, loc_shift, scale_, obs, covariates=design.covariates
            )
            values.append(outputs.pop("X"))
            continue
        process = BLOCK_PROCESSES[block.kind]
        values.append(process(block, labels, n_levels, rows, loc_shift, scale_, obs))
    return {"X": jnp.concatenate(values, axis=-1), **outputs}
