"""A streamed folder (tables as folders of parts) read back: damage is named by the part
or the folder it sits in, in one short line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import synthbio_ppl as sb
from synthbio_ppl.cli.app import main
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
    with pytest.raises(
        SpecError, match=r"/dropout' .*marks row \d+ as dropped, but its count there is \d+, not 0"
    ):
        sb.load_dataset(streamed)


def test_a_lost_or_copied_part_is_refused(streamed: Path) -> None:
    parts = sorted((streamed / "data").glob("part-*.parquet"))
    copy = streamed / "data" / "part-000099.parquet"
    copy.write_bytes(parts[1].read_bytes())
    with pytest.raises(
        SpecError,
        match=r"part-000003.parquet' .*is missing, yet part-000099.parquet follows "
        r"part-000002.parquet",
    ):
        sb.load_dataset(streamed)
    copy.unlink()
    (streamed / "data" / "part-000003.parquet").write_bytes(parts[1].read_bytes())
    with pytest.raises(
        SpecError, match=r"part-000002.parquet' .*holds 88 rows where part-000000.parquet holds 256"
    ):
        sb.load_dataset(streamed)
    (streamed / "data" / "part-000003.parquet").unlink()
    parts[0].unlink()
    with pytest.raises(
        SpecError, match=r"part-000000.parquet' .*is missing, yet part-000001.parquet comes first"
    ):
        sb.load_dataset(streamed)


def test_a_part_with_its_columns_in_another_order_is_read_in_the_first_parts_order(
    streamed: Path,
) -> None:
    """As a single data.parquet's columns are read in any order, so are a part's."""
    intact = sb.load_dataset(streamed).to_frame()
    part = sorted((streamed / "data").glob("part-*.parquet"))[1]
    table = pq.read_table(part)
    pq.write_table(table.select(list(reversed(table.column_names))), part)
    pd.testing.assert_frame_equal(sb.load_dataset(streamed).to_frame(), intact)


def test_parts_whose_schemas_differ_name_the_part_and_each_column_in_one_line(
    streamed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    part = sorted((streamed / "data").glob("part-*.parquet"))[2]
    table = pq.read_table(part)
    table = table.set_column(1, "gene_1", table.column(1).cast(pa.float64()))
    pq.write_table(table.append_column("extra", pa.array([0.5] * table.num_rows)), part)
    message = (
        "/data/part-000002.parquet' is not allowed; its columns differ from "
        "part-000000.parquet's at "
        "'gene_1' (double here, int32 there), 'extra' (double here, absent there)"
    )
    with pytest.raises(SpecError) as info:
        sb.load_dataset(streamed)
    assert str(info.value).endswith(message), info.value
    assert main(["cluster", str(streamed)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_an_unreadable_part_is_named_itself(streamed: Path) -> None:
    part = sorted((streamed / "latents").glob("part-*.parquet"))[1]
    part.write_bytes(b"PAR1")
    with pytest.raises(
        SpecError, match=r"/latents/part-000001.parquet' is not allowed; not a readable"
    ):
        sb.load_dataset(streamed)


@pytest.mark.parametrize(
    ("folder", "message"),
    [
        ("dropout", "/dropout' is not allowed; is missing: the spec has dropout"),
        ("latents", "/latents' is not allowed; is missing: the spec draws per-row latents"),
    ],
)
def test_a_missing_table_of_a_streamed_folder_is_named_by_its_folder(
    streamed: Path, folder: str, message: str
) -> None:
    shutil.rmtree(streamed / folder)
    with pytest.raises(SpecError) as info:
        sb.load_dataset(streamed)
    assert message in str(info.value) and ".parquet" not in str(info.value), info.value
