"""The three tables ``score_twin`` compares, checked and turned into arrays.

Every check raises ``TypeError``/``ValueError`` naming the table (``real_train``,
``real_holdout`` or ``synthetic``) and the column: same non-label feature columns in all
three, numeric, never infinite (NaN or ``pd.NA`` marks a missing cell and is kept as NaN);
a label whose classes all appear in ``real_train``, at least two per table. Also the
real-train location and scale (over the observed cells) that put every feature in units
of its real-train sd.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd


def _check_columns(frames: dict[str, pd.DataFrame], label: str) -> pd.Index:
    """The feature columns (every non-label column, in real_train order), after checking
    that each table is a non-empty DataFrame with the label and the same features."""
    for name, frame in frames.items():
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"{name}: expected a pandas DataFrame; got {type(frame).__name__}")
        duplicated = frame.columns[frame.columns.duplicated()].unique().tolist()
        if duplicated:
            raise ValueError(f"{name}: duplicated column names {duplicated}; names must be unique")
        if label not in frame.columns:
            raise ValueError(
                f"{name}: label column {label!r} is missing; columns are {list(frame.columns)}"
            )
    features = frames["real_train"].columns.drop(label)
    if len(features) == 0:
        raise ValueError(f"real_train: no feature columns besides the label {label!r}")
    for name, frame in frames.items():
        other = frame.columns.drop(label)
        missing = [c for c in features if c not in other]
        extra = [c for c in other if c not in features]
        if missing or extra:
            raise ValueError(
                f"{name}: feature columns differ from real_train (missing {missing}, "
                f"extra {extra}); all three tables need the same feature columns"
            )
    for name, frame in frames.items():
        if len(frame) == 0:
            raise ValueError(f"{name}: the table is empty; every table needs at least one row")
    return features


def _feature_values(frame: pd.DataFrame, features: pd.Index, name: str) -> np.ndarray:
    """The features as a float64 (n, p) array in ``features`` order, NaN where a cell is
    missing; raises ``ValueError`` naming the table and column for an infinite value."""
    table = frame[features]
    bad = [
        f"{c!r} ({table[c].dtype})"
        for c in features
        if not pd.api.types.is_numeric_dtype(table[c].dtype)
        or pd.api.types.is_complex_dtype(table[c].dtype)
    ]
    if bad:
        raise ValueError(
            f"{name}: feature columns {', '.join(bad)} are not numeric; only real numbers "
            "(int, float, bool) are allowed, so encode them as numbers first (e.g. one-hot)"
        )
    values = table.to_numpy(dtype=np.float64, na_value=np.nan)
    for j in np.flatnonzero(np.isinf(values).any(axis=0)):
        column = values[:, j]
        first = int(np.flatnonzero(np.isinf(column))[0])
        raise ValueError(
            f"{name}: feature column {features[j]!r} has {int(np.isinf(column).sum())} "
            f"infinite values (the first {column[first]:g} at row {first}); only finite "
            "numbers or NaN (missing) are allowed"
        )
    return values


def _classes(labels: pd.Series) -> list[Hashable]:
    """The real-train classes: category order for a categorical label, else sorted."""
    if isinstance(labels.dtype, pd.CategoricalDtype):
        present = set(labels.dropna().unique())
        return [c for c in labels.cat.categories if c in present]
    unique = pd.unique(labels.dropna()).tolist()
    try:
        return sorted(unique)
    except TypeError as exc:
        raise ValueError(
            f"real_train: label {labels.name!r} mixes values that cannot be sorted "
            f"({unique[:5]}); use one type for the labels"
        ) from exc


def _label_codes(labels: pd.Series, classes: list[Hashable], name: str, label: str) -> np.ndarray:
    """Integer codes of ``labels`` in ``classes``, after checking the classes are usable."""
    n_missing = int(labels.isna().sum())
    if n_missing:
        raise ValueError(
            f"{name}: label column {label!r} has {n_missing} missing values; every row "
            "needs a class"
        )
    values = np.asarray(labels, dtype=object)
    codes = pd.Index(classes, dtype=object).get_indexer(values)
    unknown = pd.unique(values[codes < 0]).tolist()
    if unknown:
        raise ValueError(
            f"{name}: label {label!r} has classes {unknown} that real_train does not have; "
            f"allowed classes are {classes}"
        )
    present = np.unique(codes)
    if len(present) < 2:
        raise ValueError(
            f"{name}: label {label!r} holds a single class ({classes[present[0]]!r}); "
            "at least two classes are needed to fit and score a classifier"
        )
    return codes


def _location_scale(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and sds (ddof 1) of the observed cells; a column without spread is left
    unscaled (sd 1), one without observed cells uncentred (mean 0)."""
    sd = _sd(x)
    mean = _mean(x)
    return np.where(np.isfinite(mean), mean, 0.0), np.where(np.isfinite(sd) & (sd > 0), sd, 1.0)


def _mean(x: np.ndarray) -> np.ndarray:
    """Column means of the observed (non-NaN) cells; NaN for a column with none."""
    n = (~np.isnan(x)).sum(axis=0)
    total = np.where(np.isnan(x), 0.0, x).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, total / n, np.nan)


def _sd(x: np.ndarray) -> np.ndarray:
    """Column sds with ddof 1 of the observed cells; NaN for fewer than two."""
    n = (~np.isnan(x)).sum(axis=0)
    if not np.isnan(x).any():  # the exact two-pass formula numpy uses
        return x.std(axis=0, ddof=1) if x.shape[0] >= 2 else np.full(x.shape[1], np.nan)
    centred = np.where(np.isnan(x), 0.0, x - _mean(x))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n >= 2, np.sqrt((centred**2).sum(axis=0) / (n - 1)), np.nan)


def one_hot_categorical(label: str, *frames: pd.DataFrame) -> list[pd.DataFrame]:
    """The tables with every non-numeric feature (a categorical column, text as
    ``pd.read_csv`` gives it) one-hot encoded as 0/1 columns ``COL=LEVEL``, levels taken
    from the first table's observed values; a missing cell is NaN in every ``COL=LEVEL``
    column, so scoring sees (and compares) it as missing. Numeric and boolean columns,
    columns numeric in any of the tables, and ``label`` are kept as they are."""

    def numeric(column: pd.Series) -> bool:
        return pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)

    first = frames[0]
    # text in every table that has it (a column text in one table and numbers in another
    # is left as it is, for the check of numeric features to name)
    encoded = [
        name
        for name in first.columns
        if name != label and not any(numeric(f[name]) for f in frames if name in f.columns)
    ]
    if not encoded:
        return list(frames)
    out = []
    for frame in frames:
        columns: dict[str, Any] = {}
        for name in frame.columns:
            if name not in encoded:
                columns[name] = frame[name]
                continue
            text = frame[name].astype(str)
            missing = frame[name].isna().to_numpy()
            for level in sorted(first[name].dropna().astype(str).unique()):
                hot = (text == level).to_numpy(dtype=np.float64)
                columns[f"{name}={level}"] = pd.Series(
                    np.where(missing, np.nan, hot), index=frame.index
                )
        out.append(pd.DataFrame(columns, index=frame.index))
    return out
