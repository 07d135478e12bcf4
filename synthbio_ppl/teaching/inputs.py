"""Inputs of the evaluation helpers, checked: feature matrix, labels and classes.

Also the classes' order (``class_order``), the pair of classes a two-class statistic
compares (oriented ``b - a``), and what a helper does with missing values (NaN): every
helper that takes an ``X`` has a ``missing=`` argument, "raise" by default, so a NaN is
never dropped or imputed silently. Infinities are always refused.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "MISSING_CHOICES",
    "Missing",
    "class_codes",
    "class_order",
    "class_pair",
    "complete_rows",
    "feature_matrix",
    "kept_complete",
    "row_labels",
    "shown",
    "split_classes",
]

Missing = Literal["raise", "complete_case", "available_case", "impute"]
"""What a helper does with NaN in X (each helper names the choices it supports)."""

MISSING_CHOICES: dict[str, str] = {
    "complete_case": "drop every row that holds a NaN",
    "available_case": "use each column's observed cells",
    "impute": "mean-impute with scikit-learn's SimpleImputer, fitted inside each CV training fold",
}
"""The default description of each choice, quoted in the "raise" message."""


def feature_matrix(
    X: Any,
    missing: str = "raise",
    choices: Mapping[str, str] | Sequence[str] = (),
) -> tuple[np.ndarray, pd.Index]:
    """``X`` as a float64 (n, p) array and its feature names.

    Infinities raise ValueError. NaN cells are returned as NaN unless ``missing`` is
    "raise" (the default), which raises a ValueError naming the columns with NaN, their
    counts, the rows affected and the ``choices`` the caller supports (names, or names to
    descriptions). ``missing`` must be "raise" or one of ``choices``: another value is a
    ValueError too. The caller acts on the choice (``kept_complete`` for complete_case).
    """
    if isinstance(X, pd.DataFrame):
        names = pd.Index(X.columns)
        text = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c].dtype)]
        if text:
            raise ValueError(f"X has columns that are not numbers: {text[:5]}; drop or encode them")
        values = X.to_numpy(dtype=np.float64)
    else:
        values = np.asarray(X, dtype=np.float64)
        if values.ndim == 1:
            values = values[:, None]
        names = pd.RangeIndex(values.shape[1])
    if values.ndim != 2:
        raise ValueError(f"X must be 2-D (rows × features); got shape {values.shape}")
    offered = (
        dict(choices) if isinstance(choices, Mapping) else {c: MISSING_CHOICES[c] for c in choices}
    )
    if missing != "raise" and missing not in offered:
        allowed = ", ".join(repr(c) for c in ["raise", *offered])
        raise ValueError(f"missing must be one of {allowed}; got {missing!r}")
    nan = np.isnan(values)
    if np.isinf(values).any():  # an infinity is no missing value: refuse it whatever missing is
        columns = names[np.isinf(values).any(axis=0)].tolist()
        raise ValueError(
            f"X contains infinite values (columns {columns[:5]}); replace or drop them first"
        )
    if missing == "raise" and nan.any():
        raise ValueError(_nan_message(nan, names, offered))
    return values, names


def _nan_message(nan: np.ndarray, names: pd.Index, offered: Mapping[str, str]) -> str:
    per_column = nan.sum(axis=0)
    hit = np.flatnonzero(per_column)
    listed = ", ".join(f"{names[j]!r}: {int(per_column[j])}" for j in hit[:5])
    more = f" and {len(hit) - 5} more" if len(hit) > 5 else ""
    rows = int(nan.any(axis=1).sum())
    options = " or ".join(f"missing={c!r} ({text})" for c, text in offered.items())
    return (
        f"X has NaN in {len(hit)} of {nan.shape[1]} columns ({listed}{more}); {rows} of "
        f"{nan.shape[0]} rows hold one. Choose how to handle them: "
        + (options or "this helper takes none, so impute or drop them first")
    )


def shown(value: Any, width: int = 60) -> str:
    """``value`` for a one-line error message: its repr when short, else its type (and
    length), so a Series or an array never spills over many lines."""
    text = repr(value)
    if len(text) <= width and "\n" not in text:
        return text
    size = f" of length {len(value)}" if hasattr(value, "__len__") else ""
    return f"a {type(value).__name__}{size}"


def complete_rows(values: np.ndarray) -> np.ndarray:
    """Boolean (n,) mask of the rows of ``values`` (n, p) without a NaN."""
    return ~np.isnan(values).any(axis=1)


def kept_complete(values: np.ndarray, names: pd.Index) -> np.ndarray:
    """``complete_rows`` for missing="complete_case", refusing a table with no complete
    row: ValueError naming the columns with no observed cell, if any."""
    keep = complete_rows(values)
    if keep.any():
        return keep
    empty = np.isnan(values).all(axis=0) if values.shape[0] else np.zeros(values.shape[1], bool)
    listed = names[empty].tolist()
    cause = (
        "X has no rows"
        if not values.shape[0]
        else f"column(s) {listed[:5]} have no observed cell"
        if listed
        else "every row holds a NaN"
    )
    raise ValueError(
        f"missing='complete_case' keeps no row of X ({values.shape[0]} rows): {cause}; "
        "drop such columns first or choose another missing= option"
    )


def row_labels(y: Any, n_rows: int, name: str = "y") -> np.ndarray:
    """``y`` as an (n_rows,) object array; ValueError naming ``name`` for another shape."""
    labels = np.asarray(y, dtype=object)
    if labels.ndim != 1 or labels.shape[0] != n_rows:
        raise ValueError(f"{name} must have one label per row ({n_rows}); got shape {labels.shape}")
    return labels


def class_codes(y: Any, n_rows: int) -> tuple[np.ndarray, list[Hashable]]:
    """Integer class codes (in ``class_order``) for scikit-learn, and the class names."""
    labels = row_labels(y, n_rows)
    names = class_order(y)
    codes = pd.Index(names).get_indexer(labels)
    if (codes < 0).any():
        raise ValueError("y contains missing labels")
    return codes, names


def class_order(y: Any, name: str = "y") -> list[Hashable]:
    """Classes present in ``y``: category order for a categorical, else sorted.

    Raises ValueError, naming ``name``, for missing labels (None, NaN, ``pd.NA``: every
    row needs a class) or labels of types that cannot be sorted."""
    values = np.asarray(y, dtype=object)
    hole = np.asarray(pd.isna(values), dtype=bool)
    if hole.any():
        at = np.flatnonzero(hole.ravel())
        raise ValueError(
            f"{name} has {len(at)} missing label(s) (None/NaN) among {values.size}, at positions "
            f"{at[:5].tolist()}{' ...' if len(at) > 5 else ''}; every row needs a class: "
            "drop those rows (and their X) or give them one"
        )
    if isinstance(y, pd.Series) and isinstance(y.dtype, pd.CategoricalDtype):
        present = set(y.unique())
        return [c for c in y.cat.categories if c in present]
    unique = pd.unique(values.ravel()).tolist()
    try:
        return sorted(unique)
    except TypeError:
        types = sorted({type(v).__name__ for v in unique})
        raise ValueError(
            f"{name} mixes label types that cannot be sorted ({', '.join(types)}); use one "
            "type for the labels"
        ) from None


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
    X: Any,
    y: Any,
    classes: Sequence[Hashable] | None,
    missing: str = "raise",
    choices: Sequence[str] = ("complete_case", "available_case"),
) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """The rows of classes ``a`` and ``b`` (``class_pair``): (n_a, p), (n_b, p), names.

    ``missing`` as in ``feature_matrix``; "complete_case" drops the rows with a NaN first,
    "available_case" keeps the NaN cells for a NaN-aware statistic.
    """
    values, names = feature_matrix(X, missing, choices)
    labels = row_labels(y, values.shape[0])
    a, b = class_pair(y, classes)
    if missing == "complete_case":
        keep = kept_complete(values, names)
        values, labels = values[keep], labels[keep]
    return values[labels == a], values[labels == b], names


MAX_CLASSES = 10
"""Panels (plots) or colours (pair plots) per class: more labels are no classes."""


def check_labels(y: Any, n_rows: int) -> None:
    """ValueError for labels that are not one class label per row of at most
    ``MAX_CLASSES`` classes (a continuous outcome, say)."""
    labels = np.asarray(y, dtype=object)
    if labels.ndim != 1 or len(labels) != n_rows:
        raise ValueError(f"y must hold one class label per row of X ({n_rows}); got {len(labels)}")
    if len(pd.unique(labels)) > MAX_CLASSES:
        raise ValueError(
            f"y has {len(pd.unique(labels))} distinct values: class labels are expected "
            f"(at most {MAX_CLASSES}); a continuous outcome has no per-class panels"
        )
