"""A streamed folder (tables as folders of parts) read back: damage is named by the part
or the folder it sits in, in one short line."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import synthbio_ppl as sb
from synthbio_ppl.core.errors import SpecError

SPEC = {
    "name": "streamed",
    "seed": 3,
    "classes": [{"name": "a", "n": 300}, {"name": "b", "n": 300}],
    "counts": [
        {
            "name": "gene",
            "n": 6,
            "library_size": {"median": 2000},
            "dropout": {"midpoint": 4.0, "slope": 1.0},
        }
    ],
}


@pytest.fixture
def streamed(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    sb.generate_to_parquet(SPEC, folder, chunk_rows=256)
    assert (folder / "data").is_dir() and (folder / "dropout").is_dir()
    return folder


def test_a_part_whose_columns_differ_is_named_with_the_column(streamed: Path) -> None:
    part = sorted((streamed / "data").glob("part-*.parquet"))[1]
    table = pq.read_table(part)
    pq.write_table(table.rename_columns(["renamed", *table.column_names[1:]]), part)
    with pytest.raises(SpecError) as info:
        sb.load_dataset(streamed)
    message = str(info.value)
    assert part.name in message and "at 'gene_0' (absent here, int32 there)" in message
    assert len(message) < 400 and "\n" not in message


def test_damaged_dropout_parts_name_the_folder(streamed: Path) -> None:
    part = sorted((streamed / "dropout").glob("part-*.parquet"))[0]
    table = pq.read_table(part)
    counts = pq.read_table(sorted((streamed / "data").glob("part-*.parquet"))[0])
    column = table.column_names[0]
    nonzero = [i for i, v in enumerate(counts.column(column).to_pylist()) if v]
    marks = table.column(column).to_pylist()
    marks[nonzero[0]] = True  # a dropout mark on a cell whose count is not 0
    table = table.set_column(0, column, pa.array(marks))
    pq.write_table(table, part)
    with pytest.raises(SpecError, match=r"/dropout' .*marks cells whose count is not 0"):
        sb.load_dataset(streamed)


def test_a_lost_or_copied_part_is_refused(streamed: Path) -> None:
    parts = sorted((streamed / "data").glob("part-*.parquet"))
    copy = streamed / "data" / "part-000099.parquet"
    copy.write_bytes(parts[1].read_bytes())
    with pytest.raises(SpecError, match=r"data' .*holds 856 rows where spec.yaml has 600"):
        sb.load_dataset(streamed)
    copy.unlink()
    parts[0].unlink()
    with pytest.raises(SpecError, match=r"holds 344 rows where spec.yaml has 600"):
        sb.load_dataset(streamed)


def test_a_part_with_its_columns_in_another_order_says_so(streamed: Path) -> None:
    part = sorted((streamed / "data").glob("part-*.parquet"))[1]
    table = pq.read_table(part)
    pq.write_table(table.select(list(reversed(table.column_names))), part)
    with pytest.raises(
        SpecError, match=r"holds the columns of part-000000.parquet in another order"
    ):
        sb.load_dataset(streamed)
