"""What a twin needs to know about a real table's columns, read and checked once.

Every non-label column is *continuous* (float), *integer* (modelled as continuous, rounded
on output) or *categorical* (levels, modelled per class). Numeric columns are typed from
their dtype; anything else must be declared in ``types``. Numeric columns are centred on
their median and divided by a robust spread (IQR/1.349, the sd of a normal; the sd where
the IQR is 0) before the power transform, so one prior fits columns of any unit. A column
whose values are all ≥ 0 gets a lower bound of 0 (concentrations, counts, sizes); explicit
``bounds`` override it. Every problem raises ``SpecError`` naming the column.

Missing values (NaN, None, ``pd.NA``) are allowed in feature columns: the scaling
constants, bounds, levels and the constant-column check use the observed cells only. A
column with no observed cell is refused (nothing to model), as are infinities (a value,
not a missing cell) and a missing class label (``twins.missingness`` learns the rates).

Refused too, before anything is fitted: dates, durations and complex numbers (the
refusal gives a conversion to numbers, ``twins.dates``); a categorical cell that is a
container (a list); a value beyond float32's range, or more than ``MAX_ROBUST_Z`` robust
sds from its column's median, which the float32 model cannot hold; ``bounds`` for a
categorical column.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.precision import LARGEST
from synthbio_ppl.twins.dates import (
    date_example,
    days_recipe,
    refuse_dates_as_numbers,
    refuse_temporal_dtype,
)

ColumnKind = Literal["continuous", "integer", "categorical"]
KINDS: tuple[str, ...] = ("continuous", "integer", "categorical")
MIN_ROWS_PER_CLASS = 5
"""Rows each class needs by default: below that its means and spreads are guesses."""
_IQR_TO_SD = 1.349  # IQR of a standard normal
MAX_ROBUST_Z = 1e15
"""How far (in robust sds) an observed value may lie from its column's median: the model
runs in float32 (largest 3.4e38), where the power transform and Gaussian of a value 1e35
sds away overflowed a MAP fit (1e30 did not); 1e15 leaves a wide margin."""


@dataclass(frozen=True)
class TwinColumn:
    """One feature column: kind, scaling constants, bounds, levels and original dtype."""

    name: str
    kind: ColumnKind
    dtype: Any
    """The column's pandas/numpy dtype, restored on output (category order included)."""
    centre: float = 0.0
    scale: float = 1.0
    low: float | None = None
    high: float | None = None
    levels: tuple[Hashable, ...] = ()
    piled: tuple[bool, bool] = (False, False)
    """Whether the data pile up at ``low``/``high`` (a floor or cap, ``piled_on``), so that
    draws beyond it are clipped onto it rather than drawn again."""


PILE_SHARE = 0.02
"""The share of observed values on a bound (at least two of them) a pile needs."""
PILE_RATIO = 3.0
"""How many times the mean share of the nearest distinct values inside (``PILE_NEIGHBOURS``)
the share on a bound must be to make it a pile: an integer column uniform on 30…84 has
about 1.8% of its values on each, a floor of zeros many times its neighbours' share."""
PILE_NEIGHBOURS = 3


@dataclass(frozen=True)
class TwinLayout:
    """The table's shape: label, classes (sorted) and feature columns in their order."""

    label: str
    label_dtype: Any
    classes: tuple[Hashable, ...]
    columns: tuple[TwinColumn, ...]
    order: tuple[str, ...]
    """Every column of the input table (label included), in the input's order."""

    @property
    def numeric(self) -> tuple[TwinColumn, ...]:
        return tuple(c for c in self.columns if c.kind != "categorical")

    @property
    def categorical(self) -> tuple[TwinColumn, ...]:
        return tuple(c for c in self.columns if c.kind == "categorical")


def read_layout(
    data: pd.DataFrame,
    label: str,
    types: Mapping[str, str] | None = None,
    bounds: Mapping[str, tuple[float | None, float | None]] | None = None,
    min_rows_per_class: int = MIN_ROWS_PER_CLASS,
) -> TwinLayout:
    """Type every column of ``data``, check it, and take its scaling constants."""
    if not isinstance(data, pd.DataFrame):
        raise SpecError("data", type(data).__name__, "must be a pandas DataFrame")
    if data.columns.duplicated().any():
        dup = sorted({str(c) for c in data.columns[data.columns.duplicated()]})
        raise SpecError("data.columns", dup, "column names must be unique")
    unnamed = [c for c in data.columns if not isinstance(c, str)]
    if unnamed:
        raise SpecError(
            "data.columns",
            unnamed[:5],
            "column names must be strings (data.columns = data.columns.astype(str))",
        )
    slashed = [c for c in data.columns if "/" in c]
    if slashed:
        raise SpecError(
            "data.columns", slashed[:5], "a column name may not hold '/' (netCDF cannot store it)"
        )
    if label not in data.columns:
        raise SpecError("label", label, f"must be a column of the table ({list(data.columns)[:8]})")
    types, bounds = dict(types or {}), dict(bounds or {})
    for where, given in (("types", types), ("bounds", bounds)):
        unknown = [str(c) for c in given if c not in data.columns or c == label]
        if unknown:
            raise SpecError(where, unknown, "must name feature columns of the table")
    for name, kind in types.items():
        if kind not in KINDS:
            raise SpecError(f"types.{name}", kind, f"must be one of {list(KINDS)}")
    features = [c for c in data.columns if c != label]
    if not features:
        raise SpecError(
            "data.columns", [label], "the table needs feature columns besides the label"
        )
    classes = _classes(data[label], label, min_rows_per_class)
    columns = tuple(_column(data[name], types.get(name), bounds.get(name)) for name in features)
    return TwinLayout(
        label=label,
        label_dtype=data[label].dtype,
        classes=classes,
        columns=columns,
        order=tuple(data.columns),
    )


def _classes(values: pd.Series, label: str, min_rows: int) -> tuple[Hashable, ...]:
    for row, value in enumerate(values):
        if isinstance(value, tuple | list | dict | set | np.ndarray):
            raise SpecError(
                f"data.{label}",
                f"a {type(value).__name__} at row {row}",
                "a class must be one value (text, number, boolean), not a container",
            )
    if values.isna().any():
        raise SpecError(
            f"data.{label}", f"{int(values.isna().sum())} missing", "every row needs a class"
        )
    counts = values.value_counts()
    counts = counts[counts > 0]  # unused categories of a category dtype
    if len(counts) < 2:
        raise SpecError(f"data.{label}", list(counts.index), "needs at least 2 classes")
    small = {str(k): int(v) for k, v in counts.items() if v < min_rows}
    if small:
        raise SpecError(
            f"data.{label}",
            small,
            f"every class needs at least {min_rows} rows for its model "
            "(lower min_rows_per_class at your own risk, or merge the class)",
        )
    return tuple(sorted(counts.index, key=_sort_key))


def _sort_key(value: Hashable) -> tuple[int, object]:
    return (0, value) if isinstance(value, int | float | np.number) else (1, str(value))


IDENTIFIER_SHARE = 0.5
"""An undeclared text column with more distinct values than this share of its observed
cells (and more than ``IDENTIFIER_MIN`` of them) is taken for an identifier or free text."""
IDENTIFIER_MIN = 20


def _check_not_identifier(values: pd.Series, n_levels: int) -> None:
    """Refuse a text column that looks like identifiers, free text or dates as text: each
    level is a real row's value, which a categorical twin would copy into its output."""
    observed = int(values.notna().sum())
    if n_levels > IDENTIFIER_MIN and n_levels > IDENTIFIER_SHARE * observed:
        where, many = (
            f"data.{values.name}",
            f"{n_levels} distinct values in {observed} observed cells",
        )
        example = date_example(values)
        if example is not None:
            raise SpecError(
                where,
                many,
                f"holds dates (such as {example!r}), which a twin does not model and as "
                f"categories would copy; {days_recipe(str(values.name))} (or declare it "
                "categorical in types to copy its dates)",
            )
        raise SpecError(
            where,
            many,
            "looks like an identifier, free text or dates as text, whose values a twin "
            "would copy; drop it, convert it to numbers, or declare it categorical in types",
        )


def _column(
    values: pd.Series, declared: str | None, bound: tuple[float | None, float | None] | None
) -> TwinColumn:
    name, dtype = str(values.name), values.dtype
    if values.notna().sum() == 0:
        raise SpecError(
            f"data.{name}",
            f"all {len(values)} values missing",
            "a column needs observed values to be modelled; drop it",
        )
    refuse_temporal_dtype(values)
    if pd.api.types.is_complex_dtype(values):
        raise SpecError(
            f"data.{name}",
            str(dtype),
            "complex numbers are not modelled; split them into real and imaginary columns",
        )
    is_numeric = _is_number(values)
    kind = declared or default_kind(values)
    if kind == "categorical":
        if bound is not None:
            if declared is None:  # a date kept as text or objects, not a category
                refuse_dates_as_numbers(values, bound, f"bounds.{name}")
            what = "declared categorical in types" if declared else f"categorical (dtype {dtype})"
            raise SpecError(
                f"bounds.{name}",
                bound,
                f"column {name!r} is {what}: bounds apply only to numeric (continuous or "
                "integer) columns",
            )
        if isinstance(dtype, pd.CategoricalDtype):
            levels = tuple(dtype.categories)
        else:
            levels = _levels(values, name)
        if declared is None and not is_numeric:
            _check_not_identifier(values, len(levels))
        return TwinColumn(name, "categorical", dtype, levels=levels)
    if not is_numeric:
        refuse_dates_as_numbers(values, kind)
        raise SpecError(f"types.{name}", kind, f"column of dtype {dtype} can only be categorical")
    every = values.to_numpy(dtype=np.float64, na_value=np.nan)
    infinite = np.flatnonzero(np.isinf(every))
    if infinite.size:
        first = every[infinite[0]]
        raise SpecError(
            f"data.{name}",
            f"{infinite.size} infinite value(s), the first {first:g} at row {infinite[0]}",
            "every observed value must be finite (NaN marks a missing value)",
        )
    beyond = np.flatnonzero(np.abs(every) > LARGEST["float32"])
    if beyond.size:
        raise SpecError(
            f"data.{name}",
            f"{every[beyond[0]]:g} at row {beyond[0]}",
            f"the twin fits in float32, whose values lie within ±{LARGEST['float32']:.4g}; "
            "rescale the column (divide it by a power of ten) or transform it (log)",
        )
    seen = np.flatnonzero(~np.isnan(every))
    x = every[seen]
    low, high = float(x.min()), float(x.max())  # the observed range, unless bounds say
    if bound is not None:
        low, high = _bound(bound, name)
        if (low is not None and x.min() < low) or (high is not None and x.max() > high):
            raise SpecError(
                f"bounds.{name}", bound, f"must contain the data ({x.min():g} … {x.max():g})"
            )
    centre, scale = _centre_and_scale(x)
    if not (np.isfinite(centre) and np.isfinite(scale)):
        raise SpecError(
            f"data.{name}",
            f"values from {x.min():g} to {x.max():g}",
            "too far apart to standardise in float64; rescale the column",
        )
    if scale <= 0:
        raise SpecError(f"data.{name}", f"constant {x[0]:g}", "drop constant columns")
    with np.errstate(over="ignore", invalid="ignore"):
        far = np.abs(x - centre) / scale
    worst = int(np.argmax(np.where(np.isnan(far), np.inf, far)))
    if not far[worst] <= MAX_ROBUST_Z:
        raise SpecError(
            f"data.{name}",
            f"{x[worst]:g} at row {seen[worst]}, {far[worst]:.3g} robust sds from the median",
            f"a value more than {MAX_ROBUST_Z:g} robust sds (IQR/1.349) from the column's "
            "median overflows the float32 model; transform the column (log) or drop the value",
        )
    piled = (piled_on(x, low), piled_on(x, high))
    return TwinColumn(name, kind, dtype, centre, scale, low, high, piled=piled)  # type: ignore[arg-type]


def piled_on(x: np.ndarray, bound: float | None) -> bool:
    """Whether the observed values ``x`` pile up on ``bound``: at least ``PILE_SHARE`` of
    them (and two) sit on it, and its share is at least ``PILE_RATIO`` times the mean share
    of the ``PILE_NEIGHBOURS`` nearest distinct values inside. A floor of zeros or a capped
    score is a pile; the end of an ordinary integer range (every value about as common as
    its neighbours) is not, and rows drawn beyond it are drawn again."""
    if bound is None:
        return False
    on = int((x == bound).sum())
    if on < max(2, PILE_SHARE * x.size):
        return False
    inside = x[x != bound]
    if inside.size == 0:
        return True
    values, counts = np.unique(inside, return_counts=True)
    nearest = np.argsort(np.abs(values - bound), kind="stable")[:PILE_NEIGHBOURS]
    return on >= PILE_RATIO * float(counts[nearest].mean())


def _is_number(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def default_kind(values: pd.Series) -> ColumnKind:
    """The kind of a column ``types`` does not declare: text, booleans and categories are
    categorical, integer dtypes integer, other numbers continuous (dates and complex
    numbers are refused before this is asked)."""
    if not _is_number(values):
        return "categorical"
    return "integer" if pd.api.types.is_integer_dtype(values) else "continuous"


def _levels(values: pd.Series, name: str) -> tuple[Hashable, ...]:
    """The observed values of a categorical column, sorted; a cell that is a container
    (list, dict, set, array) cannot be a level."""
    observed = values.dropna()
    for row, value in zip(np.flatnonzero(values.notna()), observed, strict=True):
        try:
            hash(value)
        except TypeError:
            raise SpecError(
                f"data.{name}",
                f"a {type(value).__name__} at row {row}",
                "a categorical cell must be one value (text, number, boolean), not a container",
            ) from None
    return tuple(sorted(observed.unique(), key=_sort_key))


def _bound(bound: Any, name: str) -> tuple[float | None, float | None]:
    """``(low, high)``: each None (or ±inf) for unbounded, or a number; low < high."""
    try:
        low, high = bound
        sides = [None if v is None else float(v) for v in (low, high)]
    except (TypeError, ValueError):
        raise SpecError(f"bounds.{name}", bound, "must be (low, high): numbers or None") from None
    low, high = sides
    if (low is not None and np.isnan(low)) or (high is not None and np.isnan(high)):
        raise SpecError(f"bounds.{name}", bound, "a bound cannot be NaN (None: unbounded)")
    if low == np.inf or high == -np.inf:
        raise SpecError(f"bounds.{name}", bound, "low cannot be +inf, nor high -inf")
    low = None if low is None or np.isinf(low) else low
    high = None if high is None or np.isinf(high) else high
    if low is not None and high is not None and not low < high:
        raise SpecError(f"bounds.{name}", bound, "low must be below high")
    return low, high


def _centre_and_scale(x: np.ndarray) -> tuple[float, float]:
    """The median and robust spread of the finite values ``x``: IQR/1.349, or the sd where
    the IQR is 0 (computed relative to the largest deviation, so neither 1e200 nor 1e-200
    squares out of float64)."""
    with np.errstate(over="ignore", invalid="ignore"):
        q25, q50, q75 = np.quantile(x, [0.25, 0.5, 0.75])
        scale = (q75 - q25) / _IQR_TO_SD
        if scale == 0:
            deviation = x - q50
            largest = np.abs(deviation).max()
            scale = largest * np.std(deviation / largest) if largest > 0 else 0.0
    return float(q50), float(scale)
