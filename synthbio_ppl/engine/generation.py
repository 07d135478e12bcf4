"""``generate``: spec in, Dataset out (features, labels, covariates, truth)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.world import World
from synthbio_ppl.data.dataset import Dataset
from synthbio_ppl.data.truth import Truth, build_truth
from synthbio_ppl.engine.budget import check_budget
from synthbio_ppl.engine.counterfactual import add_effects, world_error
from synthbio_ppl.engine.draw import draw_rows, population_sites
from synthbio_ppl.engine.finite import check_finite, check_truth_finite
from synthbio_ppl.engine.masking import apply_exact, with_mask_sites
from synthbio_ppl.engine.outcome_sites import with_outcome_sites
from synthbio_ppl.model.dataset_model import HIDDEN
from synthbio_ppl.model.design import Design, build_design
from synthbio_ppl.model.layout import build_layout, groups_of
from synthbio_ppl.model.parameters import fixed_sites
from synthbio_ppl.model.scene import Spec, SpecLike, as_spec
from synthbio_ppl.model.worlds import build_world
from synthbio_ppl.processes.registry import (
    BLOCK_PROCESSES,
    modifier_of,
    process_of,
    response_of,
)


def generate(
    spec: SpecLike,
    seed: int | None = None,
    *,
    without: str | Sequence[str] | None = None,
    do: Mapping[str, Any] | None = None,
) -> Dataset:
    """Draw the dataset a spec describes; ``seed`` overrides the spec's seed.

    ``without`` (names such as ``"batches"``, ``"dropout"``, ``"missing"``) and ``do``
    (``{variable: value}``: a structural covariate's level, a factor's, a biomarker's or a
    feature column's value, for every row or one per row with None where a row keeps its
    own) draw the same rows in a counterfactual world: every draw not downstream of the
    change is bit-identical, and ``truth.world``/``truth.effects`` hold the per-row and
    average effects against the factual world (``engine.counterfactual``).

    Same spec and seed give bit-identical output on the same JAX version. Raises SpecError
    for an invalid spec, or for ``without``/``do`` naming what the scene does not have.
    """
    spec = as_spec(spec).with_seed(seed)
    layout = build_layout(spec)
    # before the world, whose per-row arrays are as long as the table: refused first
    check_budget(spec, layout, spec.n_rows, paired=bool(without) or bool(do))
    world = build_world(layout, spec.n_rows, without, do, spec.dtype)
    design = build_design(spec)
    fixed = with_outcome_sites(spec, layout, fixed_sites(spec), design)
    fixed = with_mask_sites(spec, layout, fixed, design)
    if world.factual:
        return draw_dataset(spec, layout, design, fixed, world)
    factual = draw_dataset(spec, layout, design, fixed, World())  # the spec's own errors
    try:
        data = draw_dataset(spec, layout, design, fixed, world)
        add_effects(data, factual, world)
    except SpecError as exc:
        raise world_error(world, exc) from None
    return data


def draw_dataset(
    spec: Spec, layout: Any, design: Design, fixed: dict[str, np.ndarray], world: World
) -> Dataset:
    """The dataset of one world, its targets already solved into ``fixed`` (in the
    factual world, so that a counterfactual one keeps the mechanism)."""
    sites = population_sites(layout, fixed, spec.seed, spec.dtype, world)
    outputs = draw_rows(layout, fixed, design, spec.seed, spec.dtype, world=world, population=sites)
    apply_exact(spec, layout, outputs)
    if not world.masks:
        outputs.pop(HIDDEN, None)
    settled = finish_outcome(spec, layout, outputs)
    check_finite(spec, layout, outputs["X"])
    check_count_blocks(outputs["X"], layout)
    pd.Index(layout.columns)
    truth = build_truth(spec, layout, design, {**sites, **settled})
    check_truth_finite(spec, layout, truth)
    y, outcome, rows = outcome_frames(spec, layout, outputs, truth)
    truth.latents = _joined(latent_frames(spec, outputs), rows)
    truth.dropout = cell_frames(layout, outputs)
    if HIDDEN in outputs:
        X, truth.hidden_cells, truth.complete_cells = observed_frames(
            outputs["X"], outputs[HIDDEN], layout
        )
        truth.observed = X
    else:
        X = typed_frame(outputs["X"], layout)
    return Dataset(
        X=X,
        y=class_labels(spec, design) if y is None else y,
        covariates=covariates_of(spec, design, outputs),
        truth=truth,
        spec=spec,
        outcome=outcome,
    )


def finish_outcome(spec: Spec, layout: Any, outputs: dict[str, np.ndarray]) -> dict[str, Any]:
    """Whole-table work of the outcome (an exact count of cases); the values it settles."""
    static = layout.response
    if static is None:
        return {}
    settled = response_of(static.field).finish(getattr(spec, static.field), static, outputs)
    return {k: np.asarray(v, dtype=spec.dtype) for k, v in settled.items()}


def outcome_frames(
    spec: Spec, layout: Any, outputs: dict[str, np.ndarray], truth: Truth | None = None
) -> tuple[pd.Series | None, pd.DataFrame | None, pd.DataFrame | None]:
    """``(y, outcome, rows)``: the outcome as ``y`` where it replaces the class labels
    (else None), its table columns, and its per-row truth (with ``truth``, the best
    scores are added to ``truth.outcome``); Nones without an outcome."""
    static = layout.response
    if static is None:
        return None, None, None
    process = response_of(static.field)
    group = getattr(spec, static.field)
    frame = process.frame(group, static, outputs)
    rows = process.row_truth(static, outputs)
    if truth is not None and process.truth_field is not None:
        owned = getattr(truth, process.truth_field)
        rows = process.score_truth(group, owned, static, rows, frame)
    y = frame["y"] if process.replaces_labels(static) else None
    return y, frame, rows


def _joined(first: pd.DataFrame | None, second: pd.DataFrame | None) -> pd.DataFrame | None:
    present = [f for f in (first, second) if f is not None]
    if not present:
        return None
    return present[0] if len(present) == 1 else pd.concat(present, axis=1)


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
    X = typed_frame(values, layout)
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
    """Per-row latent values the model drew (a structural scene's factors, count blocks'
    library sizes), or None."""
    blocks = iter(build_layout(spec).blocks)
    frames = []
    for process in BLOCK_PROCESSES:
        for group in groups_of(spec, process):
            frame = process.latent_frame(group, next(blocks), outputs)
            if frame is not None:
                frames.append(frame)
    return pd.concat(frames, axis=1) if frames else None


def cell_frames(layout: Any, outputs: dict[str, np.ndarray]) -> pd.DataFrame | None:
    """The cells technical processes set to zero (count blocks' dropout), or None."""
    frames = [process_of(b.kind).cell_frame(b, outputs) for b in layout.blocks]
    present = [f for f in frames if f is not None]
    return pd.concat(present, axis=1) if present else None


FLOAT32_EXACT = 2**24
"""Whole numbers above this are not all exact in float32."""


INT32_MAX = 2**31 - 1


def _check_counts(part: np.ndarray, layout: Any, start: int) -> None:
    """Refuse whole-number columns beyond int32 (the sampler's range) or negative (the
    sampler's mark of a mean or dispersion that overflowed): SpecError."""
    if not part.size:
        return
    low, high = float(np.nanmin(part)), float(np.nanmax(part))
    if low >= 0 and high < INT32_MAX:
        return
    from synthbio_ppl.core.errors import SpecError

    block = next(b for b in layout.blocks if b.start <= start < b.stop)
    index = [b.name for b in layout.blocks if b.kind == block.kind].index(block.name)
    path = f"{process_of(block.kind).field}[{index}]"
    if low < 0:
        raise SpecError(
            path,
            "cells whose mean or dispersion is not a finite number",
            "the settings overflow (a tiny base_mean.shape with a large dispersion.trend, "
            "huge fold changes or outliers); choose milder values",
        )
    raise SpecError(
        path,
        f"counts up to {high:.3g}",
        "counts must stay below 2^31 (int32); lower library_size (median, sdlog), the "
        "outliers or the fold changes",
    )


def check_count_blocks(values: np.ndarray, layout: Any) -> None:
    """``_check_counts`` on every whole-number block of the drawn (rows, features) values,
    masked or not (before NaN is written into hidden cells)."""
    for block in layout.blocks:
        if process_of(block.kind).integer:
            part = values[:, block.start : block.stop]
            _check_counts(part, layout, block.start)
            if values.dtype == np.float32 and part.size and part.max() >= FLOAT32_EXACT:
                import warnings

                warnings.warn(
                    f"counts of {block.name} reach {part.max():.0f}, beyond float32's exact "
                    "whole numbers (2^24); set dtype: float64 in the spec for exact counts",
                    stacklevel=3,
                )


def typed_frame(values: np.ndarray, layout: Any) -> pd.DataFrame:
    """``X`` as a DataFrame over the drawn (rows, features) ``values``: float columns are
    views, whole-number blocks (counts) int32 unless a missing entry hides cells of them."""
    columns = pd.Index(layout.columns)
    masked = set(layout.masked)
    runs: list[tuple[int, int, bool]] = []
    for block in layout.blocks:
        whole = process_of(block.kind).integer and not masked & set(range(block.start, block.stop))
        if runs and runs[-1][2] == whole:
            runs[-1] = (runs[-1][0], block.stop, whole)
        else:
            runs.append((block.start, block.stop, whole))
    if not any(whole for *_, whole in runs):
        return pd.DataFrame(values, columns=columns, copy=False)
    parts = []
    for start, stop, whole in runs:
        part = values[:, start:stop]
        if whole:
            part = part.astype(np.int32)
        parts.append(pd.DataFrame(part, columns=columns[start:stop], copy=False))
    return parts[0] if len(parts) == 1 else pd.concat(parts, axis=1)
