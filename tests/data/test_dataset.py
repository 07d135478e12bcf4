"""A dataset folder that is damaged, or not one, is refused naming the file or column."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

import synthbio_ppl as sb
from synthbio_ppl.cli.app import main

SPEC = {"classes": [{"name": "a", "n": 20}, {"name": "b", "n": 20}], "informative": [{"n": 3}]}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return sb.generate(SPEC).to_parquet(tmp_path / "d")


def _break(folder: Path, how: str) -> None:
    if how == "truth not json":
        (folder / "truth.json").write_text("{not json")
    elif how == "truth not a truth":
        (folder / "truth.json").write_text('{"features": 3}')
    elif how == "data not parquet":
        (folder / "data.parquet").write_bytes(b"PAR1 but not really")
    elif how == "column renamed":
        table = pq.read_table(folder / "data.parquet")
        names = ["renamed" if n == "inf0_1" else n for n in table.column_names]
        pq.write_table(table.rename_columns(names), folder / "data.parquet")
    elif how == "spec not yaml":
        (folder / "spec.yaml").write_text("classes: [unclosed")
    elif how == "spec not utf-8":
        (folder / "spec.yaml").write_bytes(b"\xff\xfe")
    elif how == "spec empty":
        (folder / "spec.yaml").write_text("")
    elif how == "truth entry of a wrong type":
        text = (folder / "truth.json").read_text()
        text = text.replace('"parameters": {', '"parameters": "x", "_": {')
        (folder / "truth.json").write_text(text)


@pytest.mark.parametrize(
    "how",
    [
        "truth not json",
        "truth not a truth",
        "data not parquet",
        "column renamed",
        "spec not yaml",
        "spec not utf-8",  # UnicodeDecodeError
        "spec empty",  # the file was not named
        "truth entry of a wrong type",  # AttributeError in fit
    ],
)
def test_a_damaged_folder_is_one_spec_error(folder: Path, how: str, capsys) -> None:
    _break(folder, how)
    with pytest.raises(sb.SpecError, match=r"truth\.json|spec\.yaml|data\.parquet|inf0_1"):
        sb.load_dataset(folder)
    assert main(["fit", str(folder), "--warmup", "1", "--samples", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_an_intact_folder_round_trips(folder: Path) -> None:
    data = sb.load_dataset(folder)
    assert data.X.shape == (40, 3) and list(data.y.cat.categories) == ["a", "b"]


def test_a_full_disk_in_memory_names_the_folder(tmp_path: Path, monkeypatch, capsys) -> None:
    """pyarrow's own message named no path; nothing is left behind."""
    import errno

    import pyarrow.parquet as parquet

    def full(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, "Error writing bytes to file: No space left on device")

    monkeypatch.setattr(parquet, "write_table", full)
    spec = tmp_path / "s.yaml"
    sb.save_spec(sb.validate_spec(SPEC), spec)
    out = tmp_path / "out"
    assert main(["generate", str(spec), "--out", str(out), "--quiet"]) == 1
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and f"{out}: the disk is full" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]
