"""Generated values and their truth are finite, or generation stops naming the spec field
whose numbers overflowed."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.data.truth import Truth
from synthbio_ppl.data.truth_numbers import check_truth_numbers
from synthbio_ppl.model.layout import Layout, block_paths
from synthbio_ppl.model.parameters import owner_paths
from synthbio_ppl.processes.registry import process_of, truth_owners


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
        f"its parameters{effects} leave {spec.dtype}'s range: a value too large (overflow), "
        "or a scale too small to compute with (a lognormal sigma near 0); use values nearer "
        "1" + (", or dtype: float64" if spec.dtype == "float32" else ""),
    )


def check_truth_finite(spec: Any, layout: Layout, truth: Truth) -> None:
    """Raise SpecError where the truth holds a number that ``load_dataset`` would refuse
    (an infinity; NaN outside a table's blank cells): values finite in the spec's dtype
    whose moments overflow it (a population sd from a baseline near 1e300). The error names
    the spec field that owns the entry (the whole spec for the shared tables)."""
    if not _may_hold_non_finite(vars(truth)):
        return
    try:
        check_truth_numbers(truth.to_dict(), "truth.json")
    except SpecError as exc:
        entry = exc.path.removeprefix("truth.json entry ")
        raise SpecError(
            _owner_path(spec, layout, entry),
            f"the truth's {entry} = {exc.value}",
            f"its numbers overflow {spec.dtype} in the truth; use smaller ones"
            + (" or dtype: float64" if spec.dtype == "float32" else ""),
        ) from None


def _owner_path(spec: Any, layout: Layout, entry: str) -> str:
    """The spec field behind a truth entry: a site's owner (``parameters.miss1.intercept``
    → ``missing[1]``), a process's own truth (``structure.tables...`` → ``structure``)."""
    head, _, rest = entry.partition(".")
    if head == "parameters":
        return owner_paths(spec, layout).get(rest.partition(".")[0], "")
    owner = truth_owners().get(head.partition("[")[0])
    return owner.field if owner is not None else ""


def _may_hold_non_finite(value: Any) -> bool:
    """False where no number in ``value`` (the truth's attributes: frames, arrays, dicts,
    lists, numbers) can be one the truth refuses: no infinity anywhere, no NaN outside a
    frame's cells. Vectorised per frame and array,
    so the exact walk of the truth's JSON form (a large share of a wide dataset's
    generation time) runs only where it may find one."""
    if isinstance(value, pd.Series):
        value = value.to_frame()
    if isinstance(value, pd.DataFrame):
        numbers = value.select_dtypes("number").to_numpy(dtype=float)
        return bool(np.isinf(numbers).any())
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "fc" and not bool(np.isfinite(value).all())
    if isinstance(value, float | np.floating):
        return not np.isfinite(value)
    if isinstance(value, dict):
        return any(_may_hold_non_finite(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_may_hold_non_finite(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _may_hold_non_finite(vars(value))
    return not isinstance(value, str | int | None)  # anything else: the exact walk decides
