"""Inputs of the evaluation helpers, checked: feature matrix, labels and classes.

Also the classes' order (``class_order``) and the pair of classes a two-class statistic
compares (oriented ``b - a``).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "class_codes",
    "class_order",
    "class_pair",
    "feature_matrix",
    "row_labels",
    "split_classes",
]


def feature_matrix(X: Any) -> tuple[np.ndarray, pd.Index]:
    """``X`` as a float64 (n, p) array and its feature names."""
    if isinstance(X, pd.DataFrame):
        names = pd.Index(X.columns)
        values = X.to_numpy(dtype=np.float64)
    else:
        values = np.asarray(X, dtype=np.float64)
        if values.ndim == 1:
            values = values[:, None]
        names = pd.RangeIndex(values.shape[1])
    if values.ndim != 2:
        raise ValueError(f"X must be 2-D (rows × features); got shape {values.shape}")
    if not np.isfinite(values).all():  # an infinity is as unusable as a NaN: say so
        raise ValueError("X contains NaN or infinite values; impute or drop them first")
    return values, names


def row_labels(y: Any, n_rows: int) -> np.ndarray:
    labels = np.asarray(y, dtype=object)
    if labels.ndim != 1 or labels.shape[0] != n_rows:
        raise ValueError(f"y must have one label per row ({n_rows}); got shape {labels.shape}")
    return labels


def class_codes(y: Any, n_rows: int) -> tuple[np.ndarray, list[Hashable]]:
    """Integer class codes (in ``class_order``) for scikit-learn, and the class names."""
    labels = row_labels(y, n_rows)
    names = class_order(y)
    codes = pd.Index(names).get_indexer(labels)
    if (codes < 0).any():
        raise ValueError("y contains missing labels")
    return codes, names


def class_order(y: Any) -> list[Hashable]:
    """Classes present in ``y``: category order for a categorical, else sorted."""
    if isinstance(y, pd.Series) and isinstance(y.dtype, pd.CategoricalDtype):
        present = set(y.dropna().unique())
        return [c for c in y.cat.categories if c in present]
    return sorted(pd.unique(np.asarray(y, dtype=object)).tolist())


def class_pair(y: Any, classes: Sequence[Hashable] | None) -> tuple[Hashable, Hashable]:
    """The two classes ``(a, b)`` to compare; statistics are oriented ``b - a``."""
    present = class_order(y)
    if classes is None:
        if len(present) != 2:
            raise ValueError(
                f"y has {len(present)} classes {present}; a two-class statistic needs "
                "exactly two, so pass classes=(a, b) to compare b with a"
            )
        return present[0], present[1]
    if len(classes) != 2 or classes[0] == classes[1]:
        raise ValueError(f"classes must name two different classes; got {classes!r}")
    missing = [c for c in classes if c not in present]
    if missing:
        raise ValueError(f"classes {missing} do not occur in y (classes present: {present})")
    return classes[0], classes[1]


def split_classes(
    X: Any, y: Any, classes: Sequence[Hashable] | None
) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    values, names = feature_matrix(X)
    labels = row_labels(y, values.shape[0])
    a, b = class_pair(y, classes)
    return values[labels == a], values[labels == b], names
