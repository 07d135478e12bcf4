"""Inputs of ``synthbio twin``: the real table and the ``--types``/``--bounds``/``--balance``
options, read and checked before anything is fitted.

Every bad input raises ``SpecError`` in command-line terms (the option and the offending
item). pandas and numpy are imported inside the functions, so registering the subcommand
stays light.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from synthbio_ppl.core.errors import SpecError

if TYPE_CHECKING:  # pandas loads when the command runs, not when it is registered
    import pandas as pd

PARQUET_SUFFIXES = (".parquet", ".pq")
TAB_SUFFIXES = (".tsv", ".tab")
"""Read with tabs between the cells; any other name but Parquet's as comma-separated."""


def read_table(path: Path) -> pd.DataFrame:
    """The real table from a CSV or Parquet file; every failure is a SpecError."""
    import pandas as pd

    if not path.exists():
        raise SpecError("REAL", str(path), "no such file")
    if not path.is_file():
        raise SpecError("REAL", str(path), "must be a CSV or Parquet file, not a folder")
    parquet = path.suffix.lower() in PARQUET_SUFFIXES
    sep = "\t" if path.suffix.lower() in TAB_SUFFIXES else ","
    try:
        frame = pd.read_parquet(path) if parquet else pd.read_csv(path, sep=sep)
    except (OSError, ValueError) as exc:  # parser, decoding, empty-file and Arrow errors
        kind = "Parquet" if parquet else "CSV"
        reason = " ".join(str(exc).split())[:120]
        raise SpecError("REAL", str(path), f"cannot be read as {kind} ({reason})") from exc
    if frame.empty:
        raise SpecError("REAL", str(path), "the table has no rows")
    names = [str(c) for c in frame.columns] if parquet else _csv_header(path, sep)
    other = next((c for c in "\t;|" if c != sep and len(names) == 1 and c in names[0]), None)
    if other is not None:  # one column whose name holds another separator
        shown = {"\t": "tabs", ";": "semicolons", "|": "bars"}[other]
        raise SpecError(
            "REAL",
            str(path),
            f"reads as one column: its cells are separated by {shown}, not commas; write it "
            "comma-separated" + (" or name it .tsv" if other == "\t" else ""),
        )
    duplicated = sorted({c for c in names if names.count(c) > 1})
    if duplicated:  # pandas would rename a second `a` to `a.1` silently
        raise SpecError("REAL", duplicated, "column names must be unique")
    return frame if parquet else _whole_numbers_with_blanks(frame)


def _whole_numbers_with_blanks(frame: pd.DataFrame) -> pd.DataFrame:
    """CSV columns of whole numbers with empty cells as nullable integers (pandas reads
    them as floats, and the twin would then draw decimals)."""
    import numpy as np
    import pandas as pd

    for name in frame.columns:
        values = frame[name]
        if values.dtype != np.float64 or not values.isna().any():
            continue
        observed = values.dropna().to_numpy()
        if (
            observed.size
            and np.all(observed == np.round(observed))
            and np.all(np.abs(observed) < 2**53)
        ):
            frame[name] = values.astype(pd.Int64Dtype())
    return frame


def _csv_header(path: Path, sep: str = ",") -> list[str]:
    """The CSV's column names as written (before pandas renames repeated ones)."""
    import csv

    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        return next(csv.reader(fh, delimiter=sep), [])


def _check_label(frame: pd.DataFrame, label: str, path: Path) -> str:
    if label not in frame.columns:
        columns = [str(c) for c in frame.columns]
        shown = ", ".join(columns[:8]) + (", ..." if len(columns) > 8 else "")
        raise SpecError("--label", label, f"must be a column of {path.name} ({shown})")
    missing = int(frame[label].isna().sum())
    if missing:
        raise SpecError("--label", label, f"{missing} row(s) have no class; drop them first")
    return label


def _split_items(text: str, option: str, form: str) -> list[tuple[str, str, str]]:
    """``A=x,B=y`` → [(token, key, value)]; a token without ``=`` or a key raises."""
    items = []
    seen: set[str] = set()
    for token in text.split(","):
        key, sep, value = token.strip().rpartition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise SpecError(option, token, f"each item must be {form}")
        if key in seen:
            raise SpecError(option, token, f"{key!r} is given twice")
        seen.add(key)
        items.append((token, key, value))
    return items


def _feature(frame: pd.DataFrame, label: str, option: str, token: str, name: str) -> str:
    if name == label:
        raise SpecError(option, token, f"names the label {label!r}; name a feature column")
    if name not in frame.columns:
        raise SpecError(option, token, f"{name!r} is not a column of the table")
    return name


def parse_types(text: str | None, frame: pd.DataFrame, label: str) -> dict[str, str]:
    """``--types COL=KIND,...`` → {column: kind}."""
    from synthbio_ppl.twins.columns import KINDS

    if text is None:
        return {}
    form = f"COL=KIND with KIND one of {', '.join(KINDS)}"
    types = {}
    for token, key, value in _split_items(text, "--types", form):
        if value not in KINDS:
            raise SpecError("--types", token, f"{value!r} is not a kind; use {', '.join(KINDS)}")
        types[_feature(frame, label, "--types", token, key)] = value
    return types


def parse_bounds(
    text: str | None, frame: pd.DataFrame, label: str, types: Mapping[str, str]
) -> dict[str, tuple[float | None, float | None]]:
    """``--bounds COL=LOW:HIGH,...`` → {column: (low, high)}; an empty side (or ±inf) is
    unbounded, so ``COL=:`` removes the default lower bound of 0. A categorical column
    (declared, or text, boolean or category) is refused: bounds apply to numbers only."""
    from synthbio_ppl.twins.columns import default_kind
    from synthbio_ppl.twins.dates import refuse_dates_as_numbers, refuse_temporal_dtype

    if text is None:
        return {}
    form = "COL=LOW:HIGH (LOW or HIGH may be empty)"
    bounds: dict[str, tuple[float | None, float | None]] = {}
    for token, key, value in _split_items(text, "--bounds", form):
        column = _feature(frame, label, "--bounds", token, key)
        refuse_temporal_dtype(frame[column])  # what the twin would say of a date column
        declared = types.get(column)
        if declared is None:  # dates kept as text or objects: say so, and how to convert
            refuse_dates_as_numbers(frame[column], token, "--bounds")
        if (declared or default_kind(frame[column])) == "categorical":
            dtype = frame[column].dtype
            what = "declared categorical in --types" if declared else f"categorical (dtype {dtype})"
            raise SpecError(
                "--bounds",
                token,
                f"column {column!r} is {what}: bounds apply only to numeric (continuous or "
                "integer) columns",
            )
        low_text, sep, high_text = value.partition(":")
        if not sep:
            raise SpecError("--bounds", token, f"each item must be {form}")
        low, high = _bound(low_text, token, -1), _bound(high_text, token, 1)
        if low is not None and high is not None and not low < high:
            raise SpecError("--bounds", token, "LOW must be below HIGH")
        bounds[column] = (low, high)
    return bounds


def _bound(text: str, token: str, side: int) -> float | None:
    """A bound's value (None: unbounded); ``side`` −1 for the low one, 1 for the high."""
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise SpecError("--bounds", token, f"{text!r} is not a number") from None
    if math.isnan(value):
        raise SpecError("--bounds", token, "a bound cannot be nan")
    if math.isinf(value) and (value > 0) != (side > 0):
        which = "low" if side < 0 else "high"
        raise SpecError("--bounds", token, f"a {which} bound of {value} leaves no value")
    return None if math.isinf(value) else value


def parse_balance(text: str | None, labels: pd.Series) -> str | dict[Hashable, float] | None:
    """``--balance``: None (the real balance), ``"equal"``, or CLASS=SHARE,... as shares
    normalised to sum to 1 (so they are never read as row counts). CLASS is matched to the
    label values by their text, or numerically (``1`` matches ``1.0``)."""
    import pandas as pd

    if text is None:
        return None
    if text.strip() == "equal":
        return "equal"
    classes = sorted(pd.unique(labels).tolist(), key=str)
    form = "CLASS=SHARE (or the word 'equal')"
    shares: dict[Hashable, float] = {}
    for token, key, value in _split_items(text, "--balance", form):
        cls = _match_class(key, classes)
        if cls is None:
            shown = ", ".join(str(c) for c in classes[:8])
            raise SpecError("--balance", token, f"{key!r} is not a class; classes are {shown}")
        if cls in shares:
            raise SpecError("--balance", token, f"class {cls!r} is given twice")
        try:
            share = float(value)
        except ValueError:
            raise SpecError("--balance", token, f"{value!r} is not a number") from None
        if not math.isfinite(share) or share < 0:
            raise SpecError("--balance", token, "a share must be a finite number ≥ 0")
        shares[cls] = share
    largest = max(shares.values())
    if largest <= 0:
        raise SpecError("--balance", text, "at least one share must be above 0")
    # relative to the largest first: the sum of shares near 1e308 would overflow
    total = sum(share / largest for share in shares.values())
    return {cls: share / largest / total for cls, share in shares.items()}


def _match_class(key: str, classes: list[Hashable]) -> Hashable | None:
    import numpy as np

    for cls in classes:
        if str(cls) == key:
            return cls
    try:
        number = float(key)
    except ValueError:
        return None
    for cls in classes:
        numeric = isinstance(cls, int | float | np.number) and not isinstance(cls, bool)
        if numeric and float(cls) == number:
            return cls
    return None
