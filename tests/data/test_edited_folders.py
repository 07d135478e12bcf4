"""Innocent edits of a dataset folder (a derived column added, a feature dropped, rows
sorted, a column renamed, a stray file beside a streamed table): refused in one line that
says what to do next, or, where nothing is lost (a part's columns in another order), read."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import synthbio_ppl as sb
from synthbio_ppl.engine.parquet_writer import generate_to_parquet
from tests.data.test_tampered_folders import edit, refused

SPEC = {
    "name": "edited",
    "seed": 3,
    "classes": [{"name": "a", "n": 40}, {"name": "b", "n": 40}],
    "informative": [{"name": "inf", "n": 3, "effect_size": 1.0}],
    "counts": [{"name": "gene", "n": 4, "library_size": {"median": 2000}}],
    "batches": {"n": 3, "confounding": 0.3},
    "missing": [{"mechanism": "mcar", "rate": 0.2, "affects": "informative"}],
}
AS_WRITTEN = "a dataset folder is read as it was written: "


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("edited")
    return {
        "single": sb.generate(SPEC).to_parquet(root / "single"),
        "streamed": generate_to_parquet(SPEC, root / "streamed", rows=900, chunk_rows=256),
    }


def copy(written: dict[str, Path], name: str, tmp_path: Path) -> Path:
    folder = Path(shutil.copytree(written[name], tmp_path / name))
    sb.load_dataset(folder)  # intact
    return folder


# -- a table in both forms


@pytest.mark.parametrize("table", ["data", "latents", "missing", "complete"])
def test_a_stray_single_file_beside_a_streamed_table_is_refused(
    written: dict[str, Path], tmp_path: Path, table: str
) -> None:
    folder = copy(written, "streamed", tmp_path)
    pq.write_table(pa.table({"junk": [1, 2, 3]}), folder / f"{table}.parquet")
    message = refused(folder)
    assert f"/{table}.parquet' is not allowed; " in message, message
    assert f"the folder also holds {folder / table}/" in message, message
    assert f"a run writes only one, {table}.parquet (" in message
    assert f"{table}/ (synthbio generate --rows or --chunk-rows)" in message
    assert f"so remove {table}.parquet" in message, message
    assert "lacks feature columns" not in message


def test_a_stray_folder_of_parts_beside_a_single_file_is_refused(
    written: dict[str, Path], tmp_path: Path
) -> None:
    folder = copy(written, "single", tmp_path)
    shutil.copytree(written["streamed"] / "data", folder / "data")
    message = refused(folder)
    assert f"/data.parquet' is not allowed; the folder also holds {folder / 'data'}/" in message
    assert "so remove data/" in message, message


# -- a part's columns in another order


@pytest.mark.parametrize("table", ["data", "missing", "complete"])
def test_a_part_with_its_columns_in_another_order_is_read(
    written: dict[str, Path], tmp_path: Path, table: str
) -> None:
    folder = copy(written, "streamed", tmp_path)
    part = folder / table / "part-000001.parquet"
    stored = pq.read_table(part)
    pq.write_table(stored.select(sorted(stored.column_names, reverse=True)), part)
    edited, intact = sb.load_dataset(folder), sb.load_dataset(written["streamed"])
    pd.testing.assert_frame_equal(edited.to_frame(), intact.to_frame())
    pd.testing.assert_frame_equal(edited.truth.latents, intact.truth.latents)
    pd.testing.assert_frame_equal(edited.truth.complete_cells, intact.truth.complete_cells)


def test_a_reordered_part_with_a_changed_type_is_still_refused(
    written: dict[str, Path], tmp_path: Path
) -> None:
    folder = copy(written, "streamed", tmp_path)
    part = folder / "data" / "part-000001.parquet"
    stored = pq.read_table(part)
    stored = stored.set_column(0, stored.column_names[0], stored.column(0).cast(pa.float64()))
    pq.write_table(stored.select(list(reversed(stored.column_names))), part)
    message = refused(folder)
    assert "part-000001.parquet' is not allowed; its columns differ from part-000000" in message
    assert "at 'inf_0' (double here, float there)" in message, message


# -- the next step after an innocent edit


def test_a_derived_column_says_to_keep_it_elsewhere(
    written: dict[str, Path], tmp_path: Path
) -> None:
    folder = copy(written, "single", tmp_path)
    edit(folder / "data.parquet", lambda f: f.assign(ratio=f["gene_0"] / f["gene_1"]))
    message = refused(folder)
    assert "holds the column 'ratio', which is no column of the spec; " + AS_WRITTEN in message
    assert "keep derived columns in another file" in message, message


def test_a_derived_column_in_every_part_says_to_keep_it_elsewhere(
    written: dict[str, Path], tmp_path: Path
) -> None:
    folder = copy(written, "streamed", tmp_path)
    for part in (folder / "data").iterdir():
        edit(part, lambda f: f.assign(ratio=1.0))
    message = refused(folder)
    assert "/data' is not allowed; holds the column 'ratio', which is no column" in message
    assert "keep derived columns in another file" in message, message


def test_a_dropped_feature_says_to_put_it_back(written: dict[str, Path], tmp_path: Path) -> None:
    folder = copy(written, "single", tmp_path)
    edit(folder / "data.parquet", lambda f: f.drop(columns=["gene_2"]))
    message = refused(folder)
    assert "lacks feature columns the spec and truth name: ['gene_2']; " + AS_WRITTEN in message
    assert "put it back" in message and ".X" in message, message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("batch", "Batch", "lacks the design column 'batch'"),
        ("y", "label", "lacks the column 'y' (each row's class label)"),
        ("inf_0", "INF_0", "lacks feature columns the spec and truth name: ['inf_0']"),
    ],
)
def test_a_renamed_column_says_to_rename_it_back(
    written: dict[str, Path], tmp_path: Path, old: str, new: str, expected: str
) -> None:
    folder = copy(written, "single", tmp_path)
    edit(folder / "data.parquet", lambda f: f.rename(columns={old: new}))
    message = refused(folder)
    assert expected in message and f"it holds {new!r}, which the spec does not name" in message
    assert AS_WRITTEN + f"rename {new!r} back to {old!r}" in message, message


@pytest.mark.parametrize("name", ["single", "streamed"])
def test_sorted_rows_say_to_restore_the_written_order(
    written: dict[str, Path], tmp_path: Path, name: str
) -> None:
    folder = copy(written, name, tmp_path)
    paths = [folder / "data.parquet"] if name == "single" else sorted((folder / "data").iterdir())
    for path in paths:
        edit(path, lambda f: f.sort_values("y", kind="stable"))
    message = refused(folder)
    assert "the rows are not the spec's in order" in message
    assert AS_WRITTEN + "restore the written row order" in message, message
    assert "sb.fit(spec, frame" in message


def test_dropped_rows_say_to_restore_them(written: dict[str, Path], tmp_path: Path) -> None:
    folder = copy(written, "single", tmp_path)
    edit(folder / "data.parquet", lambda f: f.iloc[:-5])
    message = refused(folder)
    assert "holds 75 rows where spec.yaml has 80; " + AS_WRITTEN in message, message


def test_a_lone_table_in_both_forms_is_told_by_its_parts_row_metadata(tmp_path: Path) -> None:
    spec = {**SPEC, "counts": [], "batches": None, "missing": []}
    spec = {k: v for k, v in spec.items() if v not in ([], None)}
    folder = generate_to_parquet(spec, tmp_path / "lone", rows=600, chunk_rows=256)
    assert sorted(p.name for p in folder.iterdir()) == ["data", "spec.yaml", "truth.json"]
    pq.write_table(pa.table({"junk": [1]}), folder / "data.parquet")
    assert "data/'s parts are a streamed run's, so remove data.parquet" in refused(folder)
