"""A folder's missing values read back: ``missing.parquet`` (the mask of the masked
columns) and ``complete.parquet`` (their values before masking), checked against the
data, one column at a time.

The three must agree: a cell the mask marks missing is NaN in the data, a cell it marks
observed holds its value there, and the complete value equals the data's wherever the
cell is observed. Which of two files that disagree was changed cannot always be told, so
a refusal names the cell (file or part, row, column) in the file most likely changed and
says plainly which other file disagrees with it: a value in a missing cell that differs
from its complete value was written into the data; one that equals it means the mask
was flipped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.data.checks import plain
from synthbio_ppl.data.io import COMPLETE_FILE, DATA_FILE, MISSING_FILE, extra_path, read_extra
from synthbio_ppl.data.parts import row_place
from synthbio_ppl.data.truth import Truth


def masked_columns(truth: Truth) -> list[str]:
    """The columns a ``missing:`` entry hides (in column order)."""
    names = {c for entry in (truth.missingness or {}).values() for c in entry["columns"].index}
    return [c for c in truth.features.index if c in names]


def read_mask(folder: Path, truth: Truth, X: pd.DataFrame, masked: list[str]) -> None:
    """Read the ``masked`` columns' mask and complete values into the truth, checked
    against X (whose NaN outside them ``data.checks.check_features`` refused). Raises
    SpecError naming the file that is absent or of the wrong shape or kind, or the first
    cell where the data, the mask and the complete values disagree (module docstring)."""
    if not masked:
        return
    mask = read_extra(folder, MISSING_FILE)
    complete = read_extra(folder, COMPLETE_FILE)
    for name, frame in ((MISSING_FILE, mask), (COMPLETE_FILE, complete)):
        if frame is None or list(frame.columns) != masked or len(frame) != len(X):
            raise SpecError(
                "", str(extra_path(folder, name)), f"needs the {len(X)} rows of {masked[:5]}"
            )
    assert mask is not None and complete is not None
    if not all(pd.api.types.is_bool_dtype(t) for t in mask.dtypes):
        raise SpecError("", str(extra_path(folder, MISSING_FILE)), "must hold boolean columns")
    for column, marks in mask.items():  # pandas' nullable boolean may hold <NA>
        if marks.hasnans:
            row = int(np.argmax(marks.isna().to_numpy()))
            raise SpecError(
                f"{row_place(extra_path(folder, MISSING_FILE), row)}, column {column!r}",
                pd.NA,
                "the mask marks every cell true (missing) or false (observed)",
            )
    if not all(pd.api.types.is_float_dtype(t) for t in complete.dtypes):
        raise SpecError("", str(extra_path(folder, COMPLETE_FILE)), "must hold float columns")
    paths = (extra_path(folder, DATA_FILE), extra_path(folder, MISSING_FILE))
    for column in masked:
        _check_column(column, X[column], mask[column], complete[column], folder, paths)
    truth.hidden_cells = mask.set_axis(X.index)
    truth.complete_cells = complete.set_axis(X.index)
    truth.observed = X


def _check_column(
    column: str,
    data: pd.Series,
    mask: pd.Series,
    complete: pd.Series,
    folder: Path,
    paths: tuple[Path, Path],
) -> None:
    """One masked column: the data's NaN are the mask's cells, the complete values are
    finite and equal the data's observed ones."""
    data_path, mask_path = paths
    full_path = extra_path(folder, COMPLETE_FILE)
    nullable = pd.api.types.is_extension_array_dtype(complete.dtype)  # Float64: <NA> as NaN
    values = (
        complete.to_numpy(dtype=np.float64, na_value=np.nan) if nullable else complete.to_numpy()
    )
    observed = data.to_numpy()
    hidden, nan = mask.to_numpy(dtype=bool), np.isnan(observed)
    finite = np.isfinite(values)
    if not finite.all():
        row = int(np.argmin(finite))
        raise SpecError(
            f"{row_place(full_path, row)}, column {column!r}",
            plain(values[row]),
            "the complete values are finite numbers",
        )
    disagree = hidden != nan
    if disagree.any():
        row = int(np.argmax(disagree))
        data_file, mask_file, full = _name(data_path), _name(mask_path), plain(values[row])
        if nan[row]:
            raise SpecError(
                f"{row_place(data_path, row)}, column {column!r}",
                float("nan"),
                f"{mask_file} marks this cell observed, so the data must hold its value "
                f"({full:g} in {_name(full_path)}): the data and {mask_file} disagree",
            )
        if observed[row] == values[row]:
            raise SpecError(
                f"{row_place(mask_path, row)}, column {column!r}",
                True,
                f"marks missing a cell {data_file} holds ({plain(observed[row]):g}, as "
                f"{_name(full_path)} does): {mask_file} and the data disagree",
            )
        raise SpecError(
            f"{row_place(data_path, row)}, column {column!r}",
            plain(observed[row]),
            f"{mask_file} marks this cell missing, so the data must hold NaN there "
            f"({_name(full_path)} holds {full:g}): the data and {mask_file} disagree",
        )
    wrong = ~nan & (values != observed)
    if wrong.any():
        row = int(np.argmax(wrong))
        raise SpecError(
            f"{row_place(full_path, row)}, column {column!r}",
            plain(values[row]),
            f"{_name(data_path)} holds {plain(observed[row]):g} in this observed cell: "
            f"{_name(full_path)} and the data must agree wherever a cell is observed",
        )


def _name(path: Path) -> str:
    """A table's file name, or its folder of parts' (``missing/``)."""
    return f"{path.name}/" if path.is_dir() else path.name
