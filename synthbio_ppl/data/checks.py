"""A folder's data table checked against its spec as it is read: the columns, the feature
values and the row design.

The table holds the spec's feature columns, ``y``, the outcome's columns and the design
columns its processes read (``batch``, ``<block>_group``, a structural scene's
covariates), nothing else. Feature columns hold numbers, finite, or NaN only in the
columns a ``missing:`` entry hides (the mask says which cells; ``data.dataset`` checks
them). Each design column holds its levels only, and the class labels, batches and latent
groups are the spec's row design (``model.design``: the classes, batches and groups of
the rows in order, from the spec's seed), so relabelled rows or a streamed folder's parts
swapped are named. The design is compared a block of rows at a time, never held whole.
A refusal is one SpecError naming the file (or the part), the row, the column, the value
and what is allowed.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.data.parts import row_place

BLOCK_ROWS = 1 << 18
"""Rows of the design computed at once when comparing it (bounds the memory)."""


def design_levels(layout: Any) -> dict[str, list[str]]:
    """Every per-row design column the layout's processes read, with its level names."""
    from synthbio_ppl.processes.registry import modifier_of, process_of

    levels: dict[str, list[str]] = {}
    for block in layout.blocks:
        levels.update(process_of(block.kind).design_columns(block))
    for static in layout.modifiers:
        levels.update(modifier_of(static.field).design_columns(static))
    return levels


AS_WRITTEN = "a dataset folder is read as it was written: "
"""The start of a refusal's next step after an innocent edit of the folder's data."""
EDIT_LOADED = "edit the loaded dataset instead (its .X, .y, .covariates)"
"""Where a column edit belongs: after loading."""
FIT_EDITED = "or fit the edited table with sb.fit(spec, frame) (no truth to compare then)"
"""Where an edited table (rows sorted, relabelled) can still go: a fit without the truth."""


def check_columns(
    path: Path, frame: pd.DataFrame, features: list[str], layout: Any, outcome: list[str]
) -> None:
    """The table has every feature column, ``y``, the outcome's and the design columns,
    and no other. SpecError naming the data file and the first column absent (with a
    column the spec does not name, where there is one: a renamed column) or stray, and
    what to do (``AS_WRITTEN``: rename it back, put it back, keep it elsewhere)."""
    levels = design_levels(layout)
    known = {*features, "y", *outcome, *levels}
    stray = [str(c) for c in frame.columns if c not in known]
    hint = f"; it holds {stray[0]!r}, which the spec does not name" if stray else ""
    if frame.columns.has_duplicates:
        twice = str(frame.columns[frame.columns.duplicated()][0])
        raise SpecError("", str(path), f"holds the column {twice!r} twice")
    present = set(frame.columns)
    absent = [c for c in features if c not in present]
    if absent:
        shown = absent[:5] + ([f"... {len(absent) - 5} more"] if len(absent) > 5 else [])
        step = _put_back(absent, stray)
        raise SpecError(
            "", str(path), f"lacks feature columns the spec and truth name: {shown}{hint}{step}"
        )
    if "y" not in present:
        step = _put_back(["y"], stray)
        raise SpecError("", str(path), f"lacks the column 'y' (each row's class label){hint}{step}")
    for column, names in levels.items():
        if column not in present:
            step = _put_back([column], stray)
            raise SpecError(
                "",
                str(path),
                f"lacks the design column {column!r} (one of {_shown(names)} per row){hint}{step}",
            )
    if stray:
        raise SpecError(
            "",
            str(path),
            f"holds the column {stray[0]!r}, which is no column of the spec; {AS_WRITTEN}"
            "remove it and keep derived columns in another file (or add them to the "
            "loaded dataset's .to_frame())",
        )


def _put_back(absent: list[str], stray: list[str]) -> str:
    """The next step for columns the table lacks: rename the stray column back (one
    absent, one stray: a rename) or put them back, and edit after loading instead."""
    renamed = len(absent) == 1 and len(stray) == 1
    fix = f"rename {stray[0]!r} back to {absent[0]!r}" if renamed else "put it back"
    fix = "put them back" if len(absent) > 1 else fix
    return f"; {AS_WRITTEN}{fix}, and {EDIT_LOADED}"


COUNTS = "a count column holds whole numbers from 0 to 2^31 - 1"
"""What a count block's column holds (a fit reads nothing else)."""
UNHIDDEN = "no missing: entry of the spec hides this column, so it holds numbers only"


def whole_columns(layout: Any) -> list[str]:
    """The columns of whole-number blocks (counts)."""
    from synthbio_ppl.processes.registry import process_of

    blocks = [b for b in layout.blocks if process_of(b.kind).integer]
    return [c for b in blocks for c in layout.columns[b.start : b.stop]]


def check_features(
    path: Path, X: pd.DataFrame, masked: list[str], whole: list[str], largest: float = math.inf
) -> None:
    """Feature columns hold numbers (not text, not true/false, not pandas' <NA>), finite
    and at most ``largest`` in magnitude (the spec's dtype's), NaN only in the ``masked``
    columns, and in the ``whole`` ones (counts) whole numbers from 0 to 2^31 - 1.
    SpecError naming the file (part), row, column and value. One column at a time: no copy
    of the table."""
    hidden, counts = set(masked), set(whole)
    for column, values in X.items():
        numbers = numbers_of(path, column, values, "a feature column holds numbers only")
        if isinstance(values.dtype, pd.api.extensions.ExtensionDtype) and values.hasnans:
            row = int(np.argmax(values.isna().to_numpy()))
            rule = _NULLABLE.format(kind=values.dtype) if column in hidden else UNHIDDEN
            raise SpecError(f"{row_place(path, row)}, column {column!r}", pd.NA, rule)
        floats = numbers.dtype.kind == "f"
        if not floats and column not in counts:
            continue  # whole numbers: finite, never NaN
        with np.errstate(invalid="ignore"):  # NaN compares False
            bad = np.abs(numbers) > largest if floats else np.zeros(len(numbers), dtype=bool)
        if floats and column not in hidden:
            bad |= np.isnan(numbers)
        if column in counts:
            bad |= (numbers < 0) | (numbers >= 2**31)
            if floats:
                bad |= (numbers != np.round(numbers)) & ~np.isnan(numbers)
        if bad.any():
            row = int(np.argmax(bad))
            number = float(numbers[row])
            rule = (
                "feature values must be finite numbers"
                if math.isinf(number)
                else UNHIDDEN
                if math.isnan(number)
                else f"beyond ±{largest:.4g}, the spec's dtype's largest"
                if abs(number) > largest
                else COUNTS
            )
            raise SpecError(f"{row_place(path, row)}, column {column!r}", plain(numbers[row]), rule)


_NULLABLE = (
    "a missing cell is NaN in a float column, not pandas' <NA> (this column is pandas' "
    "nullable {kind}): write the column as float"
)


def numbers_of(path: Path, column: str, values: pd.Series, allowed: str) -> np.ndarray:
    """A numeric column's values (as stored; a nullable type's as float64, <NA> as NaN).
    SpecError naming the file (part), row and column of the first value that is not a
    number (text, true/false) and ``allowed``."""
    kind = values.dtype
    if pd.api.types.is_bool_dtype(kind) or not pd.api.types.is_numeric_dtype(kind):
        row = _first_non_number(values)
        raise SpecError(
            f"{row_place(path, row)}, column {column!r}",
            plain(values.iloc[row]),
            f"{allowed} (this one holds {_kind(kind)})",
        )
    if isinstance(kind, pd.api.extensions.ExtensionDtype):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    return values.to_numpy()


def check_outcome_columns(path: Path, frame: pd.DataFrame, columns: list[str]) -> None:
    """The outcome's columns beside ``y`` (a survival time and event) hold numbers or
    true/false, not text: SpecError naming the file (part), row, column and value."""
    for column in columns:
        values = frame[column]
        if not pd.api.types.is_bool_dtype(values.dtype):
            numbers_of(path, column, values, "the outcome's columns hold numbers")


def check_design(path: Path, frame: pd.DataFrame, spec: Any, layout: Any) -> None:
    """Each design column holds its levels only, and the class labels (where ``y`` holds
    the classes), batches and latent groups are the spec's row design, row by row.
    SpecError naming the file (part), row, column, value and the level allowed there."""
    from synthbio_ppl.model.design import design_rule

    levels = design_levels(layout)
    codes = {column: _codes(path, frame[column], column, names) for column, names in levels.items()}
    classes = spec.label_names == spec.class_names  # else y is the outcome's
    if classes:
        levels = {"y": spec.class_names, **levels}
        codes["y"] = _codes(path, frame["y"], "y", spec.class_names)
    rule = design_rule(spec)
    for start in range(0, len(frame), BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, len(frame))
        for column, want in _rule_codes(layout, rule.rows(start, stop), classes).items():
            differ = codes[column][start:stop] != want
            if differ.any():
                at = int(np.argmax(differ))
                raise SpecError(
                    f"{row_place(path, start + at)}, column {column!r}",
                    plain(frame[column].iloc[start + at]),
                    f"the spec's row design (seed {spec.seed}) places "
                    f"{levels[column][int(want[at])]!r} there: the rows are not the spec's "
                    f"in order (a label changed, rows reordered or parts swapped); {AS_WRITTEN}"
                    "restore the written row order and labels (sort or relabel after loading "
                    f"instead), {FIT_EDITED}",
                )


def _rule_codes(layout: Any, design: Any, classes: bool) -> dict[str, np.ndarray]:
    """The design columns' codes the spec's row design gives some rows (a ``Design``):
    the classes (where ``y`` holds them), the modifiers' assignment (batches) and the
    latent groups of blocks that have them."""
    from synthbio_ppl.processes.registry import modifier_of, process_of

    out = {"y": np.asarray(design.y)} if classes else {}
    for static in layout.modifiers:
        for column in modifier_of(static.field).design_columns(static):
            if design.batch is not None:
                out[column] = np.asarray(design.batch)
    for block in layout.blocks:
        process = process_of(block.kind)
        if process.latent_levels(block):
            out.update({k: np.asarray(v) for k, v in process.design_codes(block, design).items()})
    return out


def _codes(path: Path, values: pd.Series, column: str, names: list[str]) -> np.ndarray:
    """A design column's level codes (a value as its level's name; whole numbers as text,
    ``1`` for the level ``"1"``). SpecError naming the first value that is no level."""
    found, uniques = pd.factorize(values, use_na_sentinel=True)
    index = {name: i for i, name in enumerate(names)}
    lookup = np.array([index.get(_text(u), -1) for u in uniques] + [-1], dtype=np.int64)
    codes = lookup[found]  # NaN (-1) reads lookup's last entry: no level
    if (codes < 0).any():
        row = int(np.argmax(codes < 0))
        raise SpecError(
            f"{row_place(path, row)}, column {column!r}",
            plain(values.iloc[row]),
            f"must be one of the spec's levels {_shown(names)}",
        )
    return codes


def plain(value: Any) -> Any:
    """A value for a message: a numpy scalar as the Python number it shows (a float32 by
    its shortest decimal, -0.086448 rather than -0.08644799888134003)."""
    if isinstance(value, np.floating):
        return float(str(value))
    return value.item() if isinstance(value, np.generic) else value


def _text(value: Any) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _first_non_number(values: pd.Series) -> int:
    """The row of a column's first value that is not a number (0 for a wholly other kind)."""
    for row, value in enumerate(values):
        if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
            return row
    return 0


def _kind(kind: Any) -> str:
    if pd.api.types.is_bool_dtype(kind):
        return "true/false"
    if pd.api.types.is_object_dtype(kind) or pd.api.types.is_string_dtype(kind):
        return "text"
    return str(kind)


def _shown(names: list[str]) -> str:
    return f"{names[:8]}{'...' if len(names) > 8 else ''}"
