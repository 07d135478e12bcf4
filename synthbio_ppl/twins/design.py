"""A real table as the arrays ``twin_model`` takes, and the model's numbers back as data.

Shared by fitting (``synthbio_ppl.twins.fitting``) and sampling
(``synthbio_ppl.twins.posterior``): ``_shape`` builds the ``TwinShape`` (the static sizes
a compiled program is keyed on), ``_design`` the ``TwinDesign`` (class codes and the
classes' missing fractions); integer codes of the classes and categorical levels (−1 for
a missing cell); the numeric values standardised, u = (x − m)/s, with their observed mask;
and the row padding that lets tables of similar size share one compiled program.
``_unclipped`` maps the model's u back to the data's units, x = m + s·u, ``_outside``
finds rows beyond a column's bounds (by default its observed range), and ``_to_data``
clips to them and rounds integer columns. Both directions run in float64 on the
host, so the float32 model never holds a value in data units (1e9 + 0.5 would round to
1e9 there).
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import pandas as pd

from synthbio_ppl.twins.columns import TwinLayout
from synthbio_ppl.twins.model import TwinDesign, TwinShape


def _bucket(n_rows: int) -> int:
    """Rows padded up to a multiple of 64 (of 512 beyond 4,096): CV folds and refits of
    similar tables then reuse one compiled fit."""
    step = 64 if n_rows <= 4096 else 512
    return step * math.ceil(n_rows / step)


def _pad(values: np.ndarray, rows: int, fill: object = 0) -> np.ndarray:
    """``values`` with rows of ``fill`` appended up to ``rows`` rows."""
    extra = np.full((rows - len(values), *values.shape[1:]), fill, dtype=values.dtype)
    return np.concatenate([values, extra])


def _shape(layout: TwinLayout, rank: int) -> TwinShape:
    return TwinShape(
        n_classes=len(layout.classes),
        n_numeric=len(layout.numeric),
        rank=rank,
        n_levels=tuple(len(c.levels) for c in layout.categorical),
    )


def _design(y: np.ndarray, missing: np.ndarray | None = None) -> TwinDesign:
    """The design of rows ``y`` (int codes); ``missing`` (classes, numeric + categorical
    columns) the cells' missing fractions, or None for no mask."""
    return TwinDesign(
        y=jnp.asarray(y, dtype=jnp.int32),
        missing=None if missing is None else jnp.asarray(missing, dtype=jnp.float32),
    )


def _constants(layout: TwinLayout) -> tuple[np.ndarray, ...]:
    """(centre, scale, low, high) of the numeric columns, float64 (±inf: unbounded)."""
    numeric = layout.numeric
    return (
        np.array([c.centre for c in numeric], dtype=np.float64),
        np.array([c.scale for c in numeric], dtype=np.float64),
        np.array([-np.inf if c.low is None else c.low for c in numeric], dtype=np.float64),
        np.array([np.inf if c.high is None else c.high for c in numeric], dtype=np.float64),
    )


def _numeric_values(data: pd.DataFrame, layout: TwinLayout) -> tuple[np.ndarray, np.ndarray]:
    """(u (n, p) float32, observed (n, p) bool) of the numeric columns, u = (x − m)/s
    computed in float64; a missing cell holds 0 (the column's centre), which the
    likelihood ignores."""
    names = [c.name for c in layout.numeric]
    values = data[names].to_numpy(dtype=np.float64, na_value=np.nan)
    observed = ~np.isnan(values)
    centre, scale, _, _ = _constants(layout)
    u = (values - centre[None, :]) / scale[None, :]
    return np.where(observed, u, 0.0).astype(np.float32), observed


def _unclipped(layout: TwinLayout, u: np.ndarray) -> np.ndarray:
    """(rows, p) float64 in the data's units from the model's u: m + s·u."""
    centre, scale, _, _ = _constants(layout)
    with np.errstate(over="ignore", invalid="ignore"):
        return centre + scale * np.asarray(u, dtype=np.float64)


def _outside(layout: TwinLayout, x: np.ndarray) -> np.ndarray:
    """(rows,) bool: rows with a value of ``x`` (rows, p) in data units outside its
    column's (low, high), a bound the data pile up on (``TwinColumn.piled``) excepted:
    clipping onto it keeps the pile. An integer column's range reaches half a unit beyond
    its bounds (the values that round onto them), so a bound value is drawn as often as
    its neighbours."""
    low, high = _value_range(layout)
    integer = np.array([c.kind == "integer" for c in layout.numeric], dtype=bool)
    low, high = np.where(integer, low - 0.5, low), np.where(integer, high + 0.5, high)
    piled = np.array([c.piled for c in layout.numeric], dtype=bool).reshape(-1, 2)
    low = np.where(piled[:, 0], -np.inf, low)
    high = np.where(piled[:, 1], np.inf, high)
    return ((x < low) | (x > high) | ~np.isfinite(x)).any(axis=1)


def _to_data(layout: TwinLayout, x: np.ndarray) -> np.ndarray:
    """``x`` (rows, p) float64 in the data's units clipped to each column's (low, high),
    integer columns rounded (onto the whole numbers within their bounds)."""
    low, high = _value_range(layout)
    integer = np.array([c.kind == "integer" for c in layout.numeric], dtype=bool)
    return np.clip(np.where(integer, np.round(x), x), low, high)


def _value_range(layout: TwinLayout) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) of the values each numeric column takes: its bounds, for an integer
    column the whole numbers within them (ceil(low), floor(high))."""
    _, _, low, high = _constants(layout)
    integer = np.array([c.kind == "integer" for c in layout.numeric], dtype=bool)
    return np.where(integer, np.ceil(low), low), np.where(integer, np.floor(high), high)


def _class_codes(values: pd.Series, layout: TwinLayout) -> np.ndarray:
    labels = np.asarray(values, dtype=object)
    return pd.Categorical(labels, categories=list(layout.classes)).codes.astype(np.int32)


def _category_codes(data: pd.DataFrame, layout: TwinLayout) -> np.ndarray:
    codes = [
        pd.Categorical(np.asarray(data[c.name], dtype=object), categories=list(c.levels)).codes
        for c in layout.categorical
    ]
    if not codes:
        return np.zeros((len(data), 0), dtype=np.int32)
    return np.stack(codes, axis=-1).astype(np.int32)
