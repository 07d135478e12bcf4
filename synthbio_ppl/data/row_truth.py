"""The per-row truth tables of a dataset folder checked against its spec as it is read.

``latents`` holds what the spec's processes draw per row (a structural scene's factors,
each count block's library sizes, an outcome's linear predictor, probabilities and
failure times); ``dropout`` the count cells dropout set to 0. Each must be present
exactly when the spec draws it, with X's rows, the columns the spec names and values of
their kind, within the range of their quantity where it has one (a library size is
positive, a probability lies in [0, 1], a time is at least 0). A refusal is one line
naming the file (or a streamed run's folder of parts, or part) and the column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.data.checks import plain
from synthbio_ppl.data.io import DROPOUT_FILE, EFFECTS_FILE, LATENTS_FILE, extra_path
from synthbio_ppl.data.parts import row_place
from synthbio_ppl.data.truth import Truth
from synthbio_ppl.model.layout import groups_of


def check_row_truth(folder: Path, spec: Any, layout: Any, truth: Truth, X: pd.DataFrame) -> None:
    """Per-row truth files have X's rows; latents and dropout are those of the spec."""
    extras = (LATENTS_FILE, truth.latents), (DROPOUT_FILE, truth.dropout)
    for name, frame in (*extras, (EFFECTS_FILE, truth.effects)):
        if frame is not None and len(frame) != len(X):
            raise SpecError(
                "", str(extra_path(folder, name)), f"has {len(frame)} rows, the data {len(X)}"
            )
    _check_latents(str(extra_path(folder, LATENTS_FILE)), spec, layout, truth.latents)
    _check_dropout(str(extra_path(folder, DROPOUT_FILE)), layout, truth, X)


def latent_columns(
    spec: Any, layout: Any
) -> tuple[dict[str, Any], list[str], tuple[str, ...], Any]:
    """``(drawn, outcome, prefixes, response)``: the latents the blocks draw (finite
    numbers; column → its process), the columns the outcome's per-row truth always has,
    the prefixes of its further columns (its scores at given times; they vary with its
    kind), and the outcome's process (None without one)."""
    from synthbio_ppl.processes.registry import BLOCK_PROCESSES, response_of

    blocks = iter(layout.blocks)
    drawn = {
        column: process
        for process in BLOCK_PROCESSES
        for group in groups_of(spec, process)
        for column in process.latent_columns(group, next(blocks))
    }
    static = layout.response
    if static is None:
        return drawn, [], (), None
    process = response_of(static.field)
    names = tuple(f"{name}." for _, name in process.site_prefixes(getattr(spec, static.field)))
    return drawn, process.row_truth_columns(static), names, process


def _check_latents(path: str, spec: Any, layout: Any, latents: pd.DataFrame | None) -> None:
    drawn, outcome, prefixes, response = latent_columns(spec, layout)
    expected = [*drawn, *outcome]
    shown = f"{expected[:4]}{'...' if len(expected) > 4 else ''}"
    if latents is None:
        if expected:
            raise SpecError("", path, f"is missing: the spec draws per-row latents {shown}")
        return
    if not expected:
        raise SpecError("", path, "holds latents, but the spec draws none per row")
    columns = [str(c) for c in latents.columns]
    twice = next((c for c in columns if columns.count(c) > 1), None)
    if twice is not None:
        raise SpecError("", path, f"holds the column {twice!r} twice")
    absent = next((c for c in expected if c not in columns), None)
    if absent is not None:
        raise SpecError("", path, f"lacks the column {absent!r} (the spec draws {shown})")
    stray = next((c for c in columns if c not in expected and not c.startswith(prefixes)), None)
    if stray is not None:
        raise SpecError("", path, f"holds the column {stray!r}, which the spec does not draw")
    for column, (_, values) in zip(columns, latents.items(), strict=True):
        kind = values.dtype
        if pd.api.types.is_bool_dtype(kind) or not pd.api.types.is_numeric_dtype(kind):
            held = (
                "text"
                if pd.api.types.is_object_dtype(kind) or pd.api.types.is_string_dtype(kind)
                else kind
            )
            raise SpecError("", path, f"column {column!r} holds {held}, not numbers")
        numbers = values.to_numpy(dtype=np.float64)
        # a block's latents are finite; an outcome's failure time may be infinite
        bad = ~np.isfinite(numbers) if column in drawn else np.isnan(numbers)
        if bad.any():
            row = int(np.argmax(bad))
            what = "finite numbers" if column in drawn else "numbers (NaN at a row)"
            raise SpecError(
                "", path, f"column {column!r} holds {numbers[row]} at row {row}; give {what}"
            )
        _check_range(path, column, numbers, values, drawn.get(column, response))


def _check_range(
    path: str, column: str, numbers: np.ndarray, values: pd.Series, owner: Any
) -> None:
    """SpecError naming the first row where a latent lies outside the range its process
    gives its quantity (``latent_range``; a library size is positive, a probability lies
    in [0, 1])."""
    valid = None if owner is None else owner.latent_range(column)
    if valid is None:
        return
    low, closed, high, rule = valid
    bad = (numbers < low if closed else numbers <= low) | (numbers > high)
    if bad.any():
        row = int(np.argmax(bad))
        raise SpecError(
            f"{row_place(Path(path), row)}, column {column!r}", plain(values.iloc[row]), rule
        )


def dropout_columns(layout: Any) -> list[str]:
    """The columns whose zeroed cells (dropout) the truth records, in column order."""
    from synthbio_ppl.processes.registry import process_of

    columns: list[str] = []
    for block in layout.blocks:
        process = process_of(block.kind)
        frame = process.cell_frame(block, process.empty_outputs(block))
        columns += [] if frame is None else [str(c) for c in frame.columns]
    return columns


def _check_dropout(path: str, layout: Any, truth: Truth, X: pd.DataFrame) -> None:
    """Dropout is present exactly when the spec zeroes cells, with boolean columns of
    those cells' blocks, marking only zeros (or NaN, where a missing entry hid them)."""
    cells, dropout = dropout_columns(layout), truth.dropout
    if dropout is None and cells:
        raise SpecError("", path, "is missing: the spec has dropout (or zero inflation)")
    if dropout is None:
        return
    if not cells:
        raise SpecError("", path, "holds dropout marks, but the spec has no count dropout")
    columns = [str(c) for c in dropout.columns]
    if columns != cells:
        raise SpecError("", path, _first_difference(columns, cells))
    for column, (_, marks) in zip(columns, dropout.items(), strict=True):
        if not pd.api.types.is_bool_dtype(marks.dtype) or marks.isna().any():
            kind = f"{marks.dtype} values" if marks.notna().all() else "empty cells"
            raise SpecError("", path, f"column {column!r} holds {kind}, not true/false only")
    values = X[cells].to_numpy(dtype=np.float64)
    wrong = (values != 0) & ~np.isnan(values) & dropout.to_numpy(dtype=bool)
    if wrong.any():
        row, j = (int(i[0]) for i in np.nonzero(wrong))
        raise SpecError(
            "",
            path,
            f"column {cells[j]!r} marks row {row} as dropped, but its count there is "
            f"{values[row, j]:g}, not 0",
        )
    truth.dropout = dropout.set_axis(X.index)


def _first_difference(columns: list[str], expected: list[str]) -> str:
    """Where a table's columns first part from the expected ones, in words."""
    rule = f"(its columns must be {expected[:3]}{'...' if len(expected) > 3 else ''}, in order)"
    twice = next((c for c in columns if columns.count(c) > 1), None)
    absent = next((c for c in expected if c not in columns), None)
    stray = next((c for c in columns if c not in expected), None)
    if twice is not None:
        return f"holds the column {twice!r} twice {rule}"
    if absent is not None:
        return f"lacks the column {absent!r} {rule}"
    if stray is not None:
        return f"holds the column {stray!r}, which has no dropout in the spec {rule}"
    at = next(i for i, (a, b) in enumerate(zip(columns, expected, strict=False)) if a != b)
    return f"holds the column {columns[at]!r} where {expected[at]!r} belongs {rule}"
