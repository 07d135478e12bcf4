"""Hostile input: a dataset folder changed after it was written is refused on load with one
line naming the file (or part), the column or entry, the value and what is allowed,
never fitted nor blamed on the wrong file."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import synthbio_ppl as sb
from synthbio_ppl.cli.app import main
from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.engine.parquet_writer import generate_to_parquet

MIXED = {
    "name": "mixed",
    "seed": 3,
    "classes": [{"name": "a", "n": 40}, {"name": "b", "n": 40}],
    "informative": [{"name": "inf", "n": 3, "effect_size": 1.0}],
    "pseudo_classes": [{"name": "sub", "n": 2, "groups": 3}],
    "counts": [{"name": "gene", "n": 4, "library_size": {"median": 2000}}],
    "batches": {"n": 3, "confounding": 0.3},
    "missing": [{"mechanism": "mcar", "rate": 0.2, "affects": "informative"}],
}
SURVIVAL = {
    "name": "cohort",
    "seed": 5,
    "classes": [{"name": "a", "n": 40}, {"name": "b", "n": 40}],
    "noise": [{"name": "bio", "n": 3}],
    "outcome": {"kind": "survival", "coefficients": {"bio_0": 0.7}, "times": [1, 2.5]},
}
STRUCTURAL = {
    "name": "regions",
    "seed": 2,
    "structure": {
        "name": "scene",
        "n": 600,
        "covariates": {"region": {"levels": {"rural": 0.5, "urban": 0.5}}},
        "factors": {"F": {"mean": {"by": "region", "rural": -1.0, "urban": 1.0}}},
        "biomarkers": {"M": {"baseline": 1.0, "loadings": {"F": 1.0}, "noise": 0.5}},
    },
}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tampered")
    streamed = root / "streamed"
    generate_to_parquet(MIXED, streamed, rows=900, chunk_rows=256)
    return {
        "mixed": sb.generate(MIXED).to_parquet(root / "mixed"),
        "survival": sb.generate(SURVIVAL).to_parquet(root / "survival"),
        "streamed": streamed,
        "structural": sb.generate(STRUCTURAL).to_parquet(root / "structural"),
    }


def copy(written: dict[str, Path], name: str, tmp_path: Path) -> Path:
    folder = Path(shutil.copytree(written[name], tmp_path / name))
    sb.load_dataset(folder)  # intact
    return folder


def edit(path: Path, change: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    """Rewrite a Parquet file through pandas, as a user with pandas would."""
    frame = change(pd.read_parquet(path))
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)


def cell(column: str, row: int, value: object, as_type: object = None):
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        if as_type is not None:
            frame[column] = frame[column].astype(as_type)
        frame.loc[row, column] = value
        return frame

    return change


def refused(folder: Path) -> str:
    with pytest.raises(SpecError) as info:
        sb.load_dataset(folder)
    message = str(info.value)
    # one readable line: short besides the folder's path, however deep the temporary folder
    assert "\n" not in message and len(message.replace(str(folder), "")) < 460, message
    return message


# -- feature columns


def test_an_infinite_feature_value_is_named(written: dict[str, Path], tmp_path: Path) -> None:
    folder = copy(written, "mixed", tmp_path)
    edit(folder / "data.parquet", cell("sub_0", 3, np.inf))
    message = refused(folder)
    assert "data.parquet row 3, column 'sub_0': inf is not allowed" in message
    assert "finite" in message


def test_minus_infinity_in_a_masked_column_is_named_in_the_data(
    written: dict[str, Path], tmp_path: Path
) -> None:
    """NaN is allowed in a masked column (where the mask hides a cell); ±inf never, and
    the data is blamed, not complete.parquet."""
    folder = copy(written, "mixed", tmp_path)
    edit(folder / "data.parquet", cell("inf_1", 5, -np.inf))
    message = refused(folder)
    assert "data.parquet row 5, column 'inf_1': -inf is not allowed" in message
    assert "complete.parquet" not in message


def test_text_in_a_feature_column_is_named(written: dict[str, Path], tmp_path: Path) -> None:
    folder = copy(written, "mixed", tmp_path)
    edit(folder / "data.parquet", cell("sub_1", 2, "abc", str))
    message = refused(folder)
    assert "column 'sub_1'" in message and "holds text" in message and "data.parquet" in message


# -- design columns


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda f: f.drop(columns=["batch"]),
            "lacks the design column 'batch' (one of ['batch0', 'batch1', 'batch2'] per row)",
        ),
        (
            lambda f: f.rename(columns={"batch": "Batch"}),
            "lacks the design column 'batch' (one of ['batch0', 'batch1', 'batch2'] per row); "
            "it holds 'Batch', which the spec does not name",
        ),
        (lambda f: f.drop(columns=["sub_group"]), "lacks the design column 'sub_group'"),
        (lambda f: f.rename(columns={"y": "label"}), "lacks the column 'y'"),
    ],
    ids=["batch dropped", "batch renamed", "group dropped", "y renamed"],
)
def test_a_dropped_or_renamed_design_column_is_named(
    written: dict[str, Path], tmp_path: Path, change: Callable, expected: str
) -> None:
    folder = copy(written, "mixed", tmp_path)
    edit(folder / "data.parquet", change)
    message = refused(folder)
    assert "data.parquet' is not allowed; " + expected in message, message


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("batch", "zz", "column 'batch': 'zz' is not allowed; must be one of the spec's levels "),
        ("y", "c", "column 'y': 'c' is not allowed; must be one of the spec's levels ['a', 'b']"),
        ("sub_group", 7, "column 'sub_group': 7 is not allowed; must be one of the spec's levels"),
    ],
)
def test_a_foreign_design_level_is_named(
    written: dict[str, Path], tmp_path: Path, column: str, value: object, expected: str
) -> None:
    folder = copy(written, "mixed", tmp_path)
    kind = str if isinstance(value, str) else None
    edit(folder / "data.parquet", cell(column, 4, value, kind))
    message = refused(folder)
    assert f"data.parquet row 4, {expected}" in message, message


def test_a_foreign_level_of_a_drawn_covariate_is_named(
    written: dict[str, Path], tmp_path: Path
) -> None:
    folder = copy(written, "structural", tmp_path)
    edit(folder / "data.parquet", cell("region", 0, "mars", str))
    message = refused(folder)
    assert "row 0, column 'region': 'mars' is not allowed" in message
    assert "['rural', 'urban']" in message


def test_a_relabelled_row_is_not_the_spec_design(written: dict[str, Path], tmp_path: Path) -> None:
    folder = copy(written, "mixed", tmp_path)
    data = pd.read_parquet(folder / "data.parquet")
    other = "b" if data["y"].iloc[6] == "a" else "a"
    edit(folder / "data.parquet", cell("y", 6, other, str))
    message = refused(folder)
    assert f"data.parquet row 6, column 'y': {other!r} is not allowed" in message
    assert "row design (seed 3) places" in message


# -- truth.json


@pytest.mark.parametrize(
    ("token", "shown"),
    [("Infinity", "inf"), ("-Infinity", "-inf"), ("1e999", "inf"), ("NaN", "nan")],
)
def test_a_non_finite_truth_value_is_named(
    written: dict[str, Path], tmp_path: Path, token: str, shown: str
) -> None:
    folder = copy(written, "mixed", tmp_path)
    truth = json.loads((folder / "truth.json").read_text())
    site = next(iter(truth["parameters"]))
    text = (folder / "truth.json").read_text()
    text = text.replace('"parameters": {', f'"parameters": {{"zz": {token}, ', 1)
    (folder / "truth.json").write_text(text)
    message = refused(folder)
    assert f"truth.json entry parameters.zz: {shown} is not allowed" in message
    assert "finite" in message and site  # the file still parses as JSON


def test_an_infinite_table_cell_of_the_truth_is_named(
    written: dict[str, Path], tmp_path: Path
) -> None:
    """A table's blank cells are NaN (the counts' own columns on other features), so NaN
    there loads; an infinity does not."""
    folder = copy(written, "mixed", tmp_path)
    truth = json.loads((folder / "truth.json").read_text())
    assert any(v != v for row in truth["features"]["data"] for v in row if isinstance(v, float))
    truth["class_means"]["data"][1][0] = float("inf")
    (folder / "truth.json").write_text(json.dumps(truth))
    message = refused(folder)
    assert "truth.json entry class_means['inf_1', 'a']: inf is not allowed" in message


# -- latents out of range


def test_a_negative_library_size_is_named(written: dict[str, Path], tmp_path: Path) -> None:
    folder = copy(written, "mixed", tmp_path)
    edit(folder / "latents.parquet", cell("gene.library_size", 2, -5.0))
    message = refused(folder)
    assert "latents.parquet row 2, column 'gene.library_size': -5.0 is not allowed" in message
    assert "positive" in message


@pytest.mark.parametrize("value", [1.5, -0.25])
def test_a_survival_probability_outside_0_1_is_named(
    written: dict[str, Path], tmp_path: Path, value: float
) -> None:
    folder = copy(written, "survival", tmp_path)
    column = "outcome.event_free_survival@2.5"
    edit(folder / "latents.parquet", cell(column, 7, value))
    message = refused(folder)
    assert f"latents.parquet row 7, column '{column}': {value} is not allowed" in message
    assert "[0, 1]" in message


# -- streamed parts


def _swap(folder: Path, a: int, b: int, tables: list[str]) -> None:
    for table in tables:
        first, second = (folder / table / f"part-{i:06d}.parquet" for i in (a, b))
        held = first.with_name("held")
        first.rename(held)
        second.rename(first)
        held.rename(second)


TABLES = ["data", "latents", "missing", "complete"]


def test_parts_swapped_in_every_table_are_named(written: dict[str, Path], tmp_path: Path) -> None:
    """Equal parts swapped consistently: each part says which rows it holds."""
    folder = copy(written, "streamed", tmp_path)
    _swap(folder, 1, 2, TABLES)
    message = refused(folder)
    assert "data/part-000001.parquet' is not allowed; holds rows 512:768 of the table" in message
    assert "where rows 256:512 belong" in message and "parts swapped" in message


@pytest.mark.parametrize("tables", [["data", "latents"], ["latents"]])
def test_parts_swapped_without_a_design_to_betray_them_are_named(
    tmp_path: Path, tables: list[str]
) -> None:
    """No batches, no groups, rows in class order: only the parts' own rows tell, in the
    data's folder or in a per-row table alone."""
    spec = {**SURVIVAL, "shuffle": False}
    folder = generate_to_parquet(spec, tmp_path / "plain", rows=900, chunk_rows=256)
    sb.load_dataset(folder)
    _swap(folder, 0, 2, tables)
    message = refused(folder)
    assert f"{tables[0]}/part-000000.parquet' is not allowed; holds rows 512:768" in message


def test_the_design_still_betrays_swapped_rows_without_part_metadata(
    written: dict[str, Path], tmp_path: Path
) -> None:
    """Parts rewritten without their row metadata (as pandas writes them) and swapped:
    the rows' class, batch and group are not the spec's row design."""
    folder = copy(written, "streamed", tmp_path)
    for table in TABLES:
        for part in (folder / table).iterdir():
            frame = pd.read_parquet(part)
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), part)
    sb.load_dataset(folder)
    _swap(folder, 1, 2, TABLES)
    message = refused(folder)
    assert "data/part-000001.parquet row " in message and "(row 2" in message
    assert "row design (seed 3) places" in message and "parts swapped" in message


def test_a_swapped_last_part_is_named_by_its_size(written: dict[str, Path], tmp_path: Path) -> None:
    folder = copy(written, "streamed", tmp_path)
    _swap(folder, 1, 3, TABLES)
    message = refused(folder)
    assert "data/part-000001.parquet' is not allowed; holds 132 rows where" in message


def test_a_renamed_part_is_named(written: dict[str, Path], tmp_path: Path) -> None:
    folder = copy(written, "streamed", tmp_path)
    (folder / "data" / "part-000002.parquet").rename(folder / "data" / "part-000007.parquet")
    message = refused(folder)
    assert (
        "data/part-000002.parquet' is not allowed; is missing, yet part-000003.parquet " in message
    )
    assert "follows part-000001.parquet" in message
    (folder / "data" / "part-000007.parquet").rename(folder / "data" / "part-2.parquet")
    assert "part-2.parquet' is not allowed; is not named as a part" in refused(folder)


def test_a_table_whose_parts_are_not_the_datas_is_named(
    written: dict[str, Path], tmp_path: Path
) -> None:
    folder = copy(written, "streamed", tmp_path)
    _swap(folder, 1, 3, ["latents"])  # its sizes now 256, 132, 256, 256
    message = refused(folder)
    assert "latents/part-000001.parquet' is not allowed; holds 132 rows" in message


# -- data and mask that disagree


def _masked_cell(folder: Path, hidden: bool) -> tuple[str, int]:
    mask = pd.read_parquet(folder / "missing.parquet")
    column = mask.columns[0]
    return column, int(np.flatnonzero(mask[column].to_numpy() == hidden)[0])


def test_a_value_written_into_a_missing_cell_names_the_data(
    written: dict[str, Path], tmp_path: Path
) -> None:
    folder = copy(written, "mixed", tmp_path)
    column, row = _masked_cell(folder, hidden=True)
    edit(folder / "data.parquet", cell(column, row, 0.5))
    message = refused(folder)
    assert f"data.parquet row {row}, column '{column}': 0.5 is not allowed" in message
    assert "the data and missing.parquet disagree" in message


def test_nan_written_into_an_observed_cell_names_the_data(
    written: dict[str, Path], tmp_path: Path
) -> None:
    folder = copy(written, "mixed", tmp_path)
    column, row = _masked_cell(folder, hidden=False)
    edit(folder / "data.parquet", cell(column, row, np.nan))
    message = refused(folder)
    assert f"data.parquet row {row}, column '{column}': nan is not allowed" in message
    assert "missing.parquet marks this cell observed" in message


def test_a_flipped_mask_names_the_mask(written: dict[str, Path], tmp_path: Path) -> None:
    folder = copy(written, "mixed", tmp_path)
    column, row = _masked_cell(folder, hidden=False)
    edit(folder / "missing.parquet", cell(column, row, True))
    message = refused(folder)
    assert f"missing.parquet row {row}, column '{column}': True is not allowed" in message
    assert "missing.parquet and the data disagree" in message


def test_the_cli_refuses_a_tampered_folder_in_one_line(
    written: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = copy(written, "mixed", tmp_path)
    edit(folder / "data.parquet", cell("batch", 1, "zz", str))
    assert main(["fit", str(folder), "--method", "svi", "--svi-steps", "2", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "column 'batch': 'zz' is not allowed" in err
