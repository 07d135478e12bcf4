"""``generate``: spec in, Dataset out (features, labels, covariates, truth)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from synthbio_ppl.data.dataset import Dataset
from synthbio_ppl.data.truth import build_truth
from synthbio_ppl.engine.budget import check_budget
from synthbio_ppl.engine.draw import draw_rows, population_sites
from synthbio_ppl.engine.finite import check_finite
from synthbio_ppl.engine.masking import apply_exact, with_mask_sites
from synthbio_ppl.model.dataset_model import HIDDEN
from synthbio_ppl.model.design import Design, build_design
from synthbio_ppl.model.layout import build_layout, groups_of
from synthbio_ppl.model.parameters import fixed_sites
from synthbio_ppl.model.scene import Spec, SpecLike, as_spec
from synthbio_ppl.processes.registry import BLOCK_PROCESSES, modifier_of


def generate(spec: SpecLike, seed: int | None = None) -> Dataset:
    """Draw the dataset a spec describes; ``seed`` overrides the spec's seed.

    Same spec and seed give bit-identical output on the same JAX version. Raises SpecError
    for an invalid spec.
    """
    spec = as_spec(spec).with_seed(seed)
    layout = build_layout(spec)
    check_budget(spec, layout, spec.n_rows)
    design = build_design(spec)
    fixed = with_mask_sites(spec, layout, fixed_sites(spec), design)
    outputs = draw_rows(layout, fixed, design, spec.seed, spec.dtype)
    apply_exact(spec, layout, outputs)
    check_finite(spec, layout, outputs["X"])
    columns = pd.Index(layout.columns)
    sites = population_sites(layout, fixed, spec.seed, spec.dtype)
    truth = build_truth(spec, layout, design, sites)
    truth.latents = latent_frames(spec, outputs)
    if HIDDEN in outputs:
        X, truth.hidden_cells, truth.complete_cells = observed_frames(
            outputs["X"], outputs[HIDDEN], layout
        )
        truth.observed = X
    else:
        X = pd.DataFrame(outputs["X"], columns=columns, copy=False)
    return Dataset(
        X=X,
        y=class_labels(spec, design),
        covariates=covariates_of(spec, design, outputs),
        truth=truth,
        spec=spec,
    )


def observed_frames(
    values: np.ndarray, hidden: np.ndarray, layout: Any
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The observed table, NaN written into the drawn ``values`` (rows, features) in place,
    and the masked columns' mask and complete values (``hidden``: (rows, masked columns)
    bool, in ``layout.masked`` order); only the masked columns are copied, a contiguous
    run of them at a time."""
    masked = list(layout.masked)
    names = [layout.columns[j] for j in masked]
    complete = np.empty((values.shape[0], len(masked)), dtype=values.dtype)
    at = 0
    for start, stop in _runs(masked):
        block = values[:, start:stop]  # a view
        complete[:, at : at + stop - start] = block
        np.copyto(block, np.array(np.nan, values.dtype), where=hidden[:, at : at + stop - start])
        at += stop - start
    X = pd.DataFrame(values, columns=pd.Index(layout.columns), copy=False)
    return (
        X,
        pd.DataFrame(hidden, columns=pd.Index(names), copy=False),
        pd.DataFrame(complete, columns=pd.Index(names), copy=False),
    )


def _runs(columns: list[int]) -> list[tuple[int, int]]:
    """Sorted column indices as half-open runs of consecutive ones."""
    runs: list[tuple[int, int]] = []
    for j in columns:
        if runs and runs[-1][1] == j:
            runs[-1] = (runs[-1][0], j + 1)
        else:
            runs.append((j, j + 1))
    return runs


def class_labels(spec: Spec, design: Design) -> pd.Series:
    """``y`` as a categorical Series of class names, in the spec's class order."""
    labels = pd.Categorical.from_codes(design.y, categories=spec.class_names)
    return pd.Series(labels, name="y")


def covariates_of(
    spec: Spec, design: Design, outputs: dict[str, np.ndarray] | None = None
) -> pd.DataFrame:
    """Covariates: those the model drew (a structural scene's, from its per-row ``outputs``),
    ``batch`` (categorical) and each latent-group block's ``<block>_group``."""
    columns: dict[str, Any] = {}
    for process in BLOCK_PROCESSES:
        for group in groups_of(spec, process):
            columns.update(process.covariate_frame(group, outputs or {}))
    for static in build_layout(spec).modifiers:
        for column, names in modifier_of(static.field).design_columns(static).items():
            columns[column] = pd.Categorical.from_codes(design.batch, categories=names)
    for name, groups in design.groups.items():
        columns[f"{name}_group"] = groups.astype(np.int64)
    return pd.DataFrame(columns, index=pd.RangeIndex(design.n_rows))


def latent_frames(spec: Spec, outputs: dict[str, np.ndarray]) -> pd.DataFrame | None:
    """Per-row latent values the model drew (a structural scene's factors), or None."""
    for process in BLOCK_PROCESSES:
        for group in groups_of(spec, process):
            frame = process.latent_frame(group, outputs)
            if frame is not None:
                return frame
    return None
