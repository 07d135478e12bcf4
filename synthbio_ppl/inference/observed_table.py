"""The observed table a fit is given, checked against the spec's feature columns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.precision import LARGEST, range_phrase
from synthbio_ppl.model.layout import Layout
from synthbio_ppl.processes.registry import process_of


def check_whole_numbers(X: np.ndarray, layout: Layout, columns: list[str]) -> None:
    """Columns of whole-number blocks (counts) must hold whole numbers in [0, 2^31)."""
    for block in layout.blocks:
        if not process_of(block.kind).integer:
            continue
        part = X[:, block.start : block.stop]
        bad = ~np.isnan(part) & ((part < 0) | (part >= 2**31) | (part != np.round(part)))
        if bad.any():
            j = int(np.argmax(bad.any(axis=0)))
            value = part[:, j][bad[:, j]][0]
            raise SpecError(
                f"X.{columns[block.start + j]}",
                float(value),
                "a count column must hold whole numbers from 0 to 2^31 - 1",
            )


def feature_matrix(
    frame: pd.DataFrame,
    columns: list[str],
    known: set[str],
    dtype: str,
    masked: list[int] | None = None,
) -> np.ndarray:
    """The spec's feature ``columns`` of ``frame`` as an (rows, features) array of ``dtype``.

    Raises SpecError naming the column for a missing, unknown (not in ``columns`` nor
    ``known``) or non-numeric column, an infinite value or one beyond ``dtype``'s range,
    or a NaN outside the ``masked`` column indices (those a ``missing:`` entry covers).
    """
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        shown = missing[:5] + ([f"... {len(missing) - 5} more"] if len(missing) > 5 else [])
        raise SpecError(
            "X",
            shown,
            f"missing feature columns; the spec's {len(columns)} columns are "
            f"{columns[0]} ... {columns[-1]} (see synthbio describe)",
        )
    extra = [str(c) for c in frame.columns if c not in set(columns) and c not in known]
    if extra:
        raise SpecError("X", extra[:5], "unknown columns for this spec; drop them or fix the spec")
    for column in columns:
        if not pd.api.types.is_numeric_dtype(frame[column]) or pd.api.types.is_bool_dtype(
            frame[column]
        ):
            raise SpecError(f"X.{column}", str(frame[column].dtype), "must be a numeric column")
    values = frame[columns].to_numpy(dtype=np.float64)
    bad = np.isinf(values)
    allowed = np.zeros(len(columns), dtype=bool)
    allowed[masked or []] = True
    bad |= np.isnan(values) & ~allowed[None, :]
    if bad.any():
        j = int(np.argmax(bad.any(axis=0)))
        n_bad = int(bad[:, j].sum())
        infinite = bool(np.isinf(values[:, j]).any())
        raise SpecError(
            f"X.{columns[j]}",
            f"{n_bad} {'infinite' if infinite else 'missing'} value(s)",
            "every value must be a finite number"
            + ("" if infinite else "; add a `missing:` entry that covers the column")
            + ", or drop or impute those rows first",
        )
    beyond = np.abs(values) > LARGEST[dtype]  # would be inf in the spec's dtype
    if beyond.any():
        j = int(np.argmax(beyond.any(axis=0)))
        i = int(np.argmax(beyond[:, j]))
        raise SpecError(f"X.{columns[j]}", f"{values[i, j]:g} at row {i}", range_phrase(dtype))
    return values.astype(dtype)
