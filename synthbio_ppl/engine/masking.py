"""The mask entries' parameters, solved before the rows are drawn.

An entry's intercepts are solved so that the expected share of missing cells is the
spec's rate: from the row design itself for class, batch and group drivers (every row),
and from the values of the dataset's first ``PILOT_ROWS`` rows where the driver is drawn
(a column, the cell's own value, a scene's covariate). Those rows are the dataset's own
(a row's values depend on its index only), drawn once with the masks switched off, so the
solved values, and so every row's mask, do not depend on which rows are asked for.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from synthbio_ppl.engine.draw import draw_rows
from synthbio_ppl.model.dataset_model import HIDDEN, RowDesign, row_codes
from synthbio_ppl.model.design import Design
from synthbio_ppl.model.layout import Layout
from synthbio_ppl.model.parameters import mask_entries
from synthbio_ppl.processes.registry import mask_of

PILOT_ROWS = 8192
"""Rows whose drawn values fix the intercepts of entries driven by drawn values: with more
rows than this, the expected rate is the spec's within about 0.5/√8192 ≈ 0.006."""


def with_mask_sites(
    spec: Any, layout: Layout, fixed: dict[str, np.ndarray], design: Design
) -> dict[str, np.ndarray]:
    """``fixed`` plus every mask site's solved value (as arrays of the spec's dtype)."""
    if not layout.masks:
        return fixed
    entries = mask_entries(spec)
    full = RowDesign(y=design.y, batch=design.batch, groups=design.groups)
    codes: dict[str, np.ndarray] = row_codes(layout, full)
    values = None
    if any(mask_of(s.field).needs_rows(s) for s in layout.masks):
        placeholders: dict[str, Any] = {}
        for static in layout.masks:
            placeholders.update(mask_of(static.field).placeholder_sites(static))
        pilot = {**fixed, **{k: np.asarray(v, spec.dtype) for k, v in placeholders.items()}}
        n = min(design.n_rows, PILOT_ROWS)
        drawn = draw_rows(layout, pilot, design, spec.seed, spec.dtype, 0, n)
        values = drawn["X"]
        head = RowDesign(
            y=design.y[:n],
            batch=None if design.batch is None else design.batch[:n],
            groups={k: v[:n] for k, v in design.groups.items()},
        )
        drawn_codes = row_codes(layout, head, drawn.get("covariates"))
        codes = {**drawn_codes, **codes}
    solved: dict[str, np.ndarray] = dict(fixed)
    for entry, static in zip(entries, layout.masks, strict=True):
        for site, value in mask_of(static.field).solve(entry, static, codes, values).items():
            solved[site] = np.asarray(value, dtype=spec.dtype)
    return solved


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
        hidden = outputs[HIDDEN]
        for j, column in enumerate(static.indices):
            hidden[top[:, j], column] = True
