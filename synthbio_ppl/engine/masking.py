"""The mask entries' parameters, solved before the rows are drawn.

An entry's intercepts are solved so that the expected share of missing cells is the
spec's rate: from the row design itself for class, batch and group drivers (every row's
level, counted a bounded chunk of rows at a time),
and from drawn values where the driver is drawn (a column, the cell's own value, a
scene's covariate). With up to ``PILOT_ROWS`` rows those are the dataset's own rows, drawn
once with the masks switched off, so the expected realised rate is the spec's exactly.
With more, they are a pilot: ``PILOT_ROWS`` rows of the row design picked at random (so
every class and batch is represented as in the data, sorted or not) and drawn from a
stream of their own. Either way the solved values, and so every row's mask, do not
depend on which rows are asked for.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.streams import stable_id
from synthbio_ppl.engine.draw import draw_rows
from synthbio_ppl.model.dataset_model import HIDDEN, RowDesign, row_codes
from synthbio_ppl.model.design import Design, DesignRule
from synthbio_ppl.model.layout import Layout
from synthbio_ppl.model.parameters import mask_entries, owner_paths
from synthbio_ppl.processes.registry import mask_of

PILOT_ROWS = 8192
"""Rows whose drawn values fix the intercepts of entries driven by drawn values: with more
rows than this, the expected rate is the spec's within about 0.5/√8192 ≈ 0.006."""
PILOT_STREAM = "missing.pilot"
"""The name of the pilot's row choice and of its values' stream."""


LEVEL_CHUNK = 1 << 20
"""Rows of the design whose codes are counted at once (bounds the memory of counting)."""


def with_mask_sites(
    spec: Any, layout: Layout, fixed: dict[str, np.ndarray], design: Design | DesignRule
) -> dict[str, np.ndarray]:
    """``fixed`` plus every mask site's solved value (as arrays of the spec's dtype)."""
    if not layout.masks:
        return fixed
    entries = mask_entries(spec)
    counts = design_level_counts(layout, design)
    values = None
    if any(mask_of(s.field).needs_rows(s) for s in layout.masks):
        drawn, rows = draw_pilot(spec, layout, fixed, design)
        values = drawn["X"]
        head = RowDesign(y=rows.y, batch=rows.batch, groups=rows.groups)
        drawn_codes = row_codes(layout, head, drawn.get("covariates"))
        counts = {**{k: level_counts(v) for k, v in drawn_codes.items()}, **counts}
    solved: dict[str, np.ndarray] = dict(fixed)
    paths = owner_paths(spec, layout)
    for entry, static in zip(entries, layout.masks, strict=True):
        mask = mask_of(static.field)
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            found = mask.solve(entry, static, counts, values)
            cast = {site: np.asarray(value, dtype=spec.dtype) for site, value in found.items()}
        for site, value in cast.items():
            if not np.isfinite(value).all():
                slope = mask.slope_field
                path = paths[static.name] + (f".{slope}" if slope else "")
                raise SpecError(
                    path,
                    getattr(entry, slope) if slope else site,
                    f"its solved {site.partition('.')[2]} would lie beyond {spec.dtype}'s "
                    "range: too large for the driver's values; use a smaller value"
                    + (" or dtype: float64" if spec.dtype == "float32" else ""),
                )
        solved.update(cast)
    return solved


def level_counts(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(levels, rows at each level) of a (rows,) int code array, levels present only."""
    levels, counts = np.unique(np.asarray(codes), return_counts=True)
    return levels, counts


def design_level_counts(
    layout: Layout, design: Design | DesignRule
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{design column: (levels, counts)}`` over every row of the design (``y``, the
    modifiers' and the blocks' columns), counted ``LEVEL_CHUNK`` rows at a time."""
    totals: dict[str, np.ndarray] = {}
    for start in range(0, design.n_rows, LEVEL_CHUNK):
        part = design.rows(start, min(start + LEVEL_CHUNK, design.n_rows))
        chunk = RowDesign(y=part.y, batch=part.batch, groups=part.groups)
        for name, codes in row_codes(layout, chunk).items():
            counted = np.bincount(np.asarray(codes))
            before = totals.get(name, np.zeros(0, dtype=np.int64))
            width = max(before.size, counted.size)
            totals[name] = np.pad(before, (0, width - before.size)) + np.pad(
                counted, (0, width - counted.size)
            )
    return {name: (np.flatnonzero(c), c[c > 0]) for name, c in totals.items()}


def draw_pilot(
    spec: Any,
    layout: Layout,
    fixed: dict[str, np.ndarray],
    design: Design | DesignRule,
    unsolved: dict[str, Any] | None = None,
) -> tuple[dict[str, np.ndarray], Design]:
    """The pilot rows' outputs (``pilot_design``) and those rows, drawn with ``fixed``, the
    mask entries' placeholder sites and ``unsolved`` (other placeholders, an outcome's)."""
    placeholders: dict[str, Any] = dict(unsolved or {})
    for static in layout.masks:
        placeholders.update(mask_of(static.field).placeholder_sites(static))
    pilot = {**fixed, **{k: np.asarray(v, spec.dtype) for k, v in placeholders.items()}}
    rows, seed = pilot_design(design, spec.seed)
    return draw_rows(layout, pilot, rows, seed, spec.dtype), rows


def pilot_design(design: Design | DesignRule, seed: int) -> tuple[Design, int]:
    """The rows whose values the intercepts are solved from, and their stream's seed: the
    design itself (the dataset's own rows) up to ``PILOT_ROWS`` rows, else that many rows
    of it chosen at random, drawn with a seed of their own."""
    if design.n_rows <= PILOT_ROWS:
        return design.rows(0, design.n_rows), seed
    rng = np.random.default_rng([seed, stable_id(PILOT_STREAM)])
    pick = np.sort(rng.choice(design.n_rows, PILOT_ROWS, replace=False))
    return design.take(pick), (seed + stable_id(PILOT_STREAM)) % 2**32


def apply_exact(spec: Any, layout: Layout, outputs: dict[str, np.ndarray]) -> None:
    """Hide, per column of each ``exact`` entry, the cells with its k largest scores (the
    whole table's rows: ``generate`` only), or-ed into ``outputs[HIDDEN]``."""
    for entry, static in zip(mask_entries(spec), layout.masks, strict=True):
        if not static.exact:
            continue
        scores = outputs.pop(f"{static.name}.score")
        n_rows = scores.shape[0]
        k = mask_of(static.field).exact_count(entry, n_rows)
        if k == 0:
            continue
        top = np.argpartition(-scores, k - 1, axis=0)[:k]  # (k, columns): row indices
        hidden = outputs[HIDDEN]  # (rows, masked columns)
        position = {j: m for m, j in enumerate(layout.masked)}
        for j, column in enumerate(static.indices):
            hidden[top[:, j], position[column]] = True
