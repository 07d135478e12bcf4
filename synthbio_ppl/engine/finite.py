"""Generated values are finite, or generation stops naming the block that overflowed."""

from __future__ import annotations

from typing import Any

import numpy as np

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.model.layout import Layout, block_paths
from synthbio_ppl.processes.registry import process_of


def check_finite(spec: Any, layout: Layout, values: np.ndarray) -> None:
    """Raise SpecError at the first block whose generated values (rows, features) hold a NaN
    or an infinity: its parameters overflow the spec's dtype (a huge effect size, a
    lognormal sigma or a multiplicative batch strength far too large)."""
    # a column holds a NaN or an infinity exactly when its min or max is not finite: two
    # reductions, no (rows, features) temporary
    finite = np.isfinite(values.min(axis=0, initial=0.0)) & np.isfinite(
        values.max(axis=0, initial=0.0)
    )
    if finite.all():
        return
    column = int(np.argmin(finite))
    block = next(b for b in layout.blocks if b.start <= column < b.stop)
    n_bad = int((~np.isfinite(values[:, column])).sum())
    effects = " (or the column effects on it, such as batches)" if layout.modifiers else ""
    path = block_paths(spec)[block.name]
    if block.columns:  # columns the user named (a scene's biomarkers): name that one
        path = f"{process_of(block.kind).columns_path(block)}.{layout.columns[column]}"
    raise SpecError(
        path,
        f"{n_bad} of {len(values)} values non-finite in {layout.columns[column]}",
        f"its parameters{effects} overflow {spec.dtype}; use smaller ones"
        + (" or dtype: float64" if spec.dtype == "float32" else ""),
    )
