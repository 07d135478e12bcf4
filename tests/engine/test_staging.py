"""Writing a dataset folder never follows a link, never removes what it did not write,
re-checks the target at the rename, and resumes only parts whose bytes still match."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import synthbio_ppl as sb
from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.data import io
from synthbio_ppl.engine import parquet_writer as writer
from synthbio_ppl.engine.parquet_writer import generate_to_parquet
from synthbio_ppl.engine.staging import staging_path
from tests.engine.scale_helpers import N_FEATURES, stream_spec

ROWS = 1200
CHUNK = 256  # five parts


@pytest.fixture
def precious(tmp_path: Path) -> Path:
    """A folder of the user's that no run may touch."""
    folder = tmp_path / "precious"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    return folder


def test_a_staging_path_that_is_a_link_is_refused_and_its_target_kept(
    tmp_path: Path, precious: Path
) -> None:
    out = tmp_path / "d"
    staging_path(out).symlink_to(precious, target_is_directory=True)
    with pytest.raises(SpecError, match="link"):
        generate_to_parquet(stream_spec(), out, rows=ROWS, chunk_rows=CHUNK)
    assert (precious / "keep.txt").read_text() == "mine"


def test_a_linked_part_folder_inside_the_staging_is_not_followed(
    tmp_path: Path, precious: Path
) -> None:
    out = tmp_path / "d"
    staging_path(out).mkdir()
    (staging_path(out) / "data").symlink_to(precious, target_is_directory=True)
    with pytest.raises(SpecError, match="not written by this program"):
        generate_to_parquet(stream_spec(), out, rows=ROWS, chunk_rows=CHUNK)
    assert (precious / "keep.txt").read_text() == "mine"


def test_an_unknown_file_in_the_staging_is_kept_and_named(tmp_path: Path) -> None:
    out = tmp_path / "d"
    staging_path(out).mkdir()
    (staging_path(out) / "notes.txt").write_text("mine")
    with pytest.raises(SpecError, match=r"notes\.txt"):
        generate_to_parquet(stream_spec(), out, rows=ROWS, chunk_rows=CHUNK)
    assert (staging_path(out) / "notes.txt").read_text() == "mine"


def test_an_output_link_is_refused(tmp_path: Path, precious: Path) -> None:
    out = tmp_path / "d"
    out.symlink_to(precious, target_is_directory=True)
    with pytest.raises(SpecError, match="link"):
        generate_to_parquet(stream_spec(), out, rows=ROWS, chunk_rows=CHUNK, force=True)
    assert sorted(p.name for p in precious.iterdir()) == ["keep.txt"]


def test_a_target_that_appears_mid_run_is_kept_and_the_parts_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "d"
    real = writer._write_part
    calls: list[Path] = []

    def racing(path: Path, table: Any) -> int:
        calls.append(path)
        if len(calls) == 3:  # another writer finishes a dataset there meanwhile
            out.mkdir()
            (out / "theirs.txt").write_text("theirs")
            (out / "spec.yaml").write_text("theirs")  # with the files that mark a dataset
            (out / "truth.json").write_text("{}")
        return real(path, table)

    monkeypatch.setattr(writer, "_write_part", racing)
    with pytest.raises(SpecError, match="appeared"):
        generate_to_parquet(stream_spec(), out, rows=ROWS, chunk_rows=CHUNK)
    assert (out / "theirs.txt").read_text() == "theirs"
    manifest = json.loads((staging_path(out) / "manifest.json").read_text())
    assert len(manifest["done"]) == 5  # nothing finished was lost
    calls.clear()
    generate_to_parquet(stream_spec(), out, rows=ROWS, chunk_rows=CHUNK, resume=True, force=True)
    assert calls == []  # all five parts kept, none redrawn
    assert sb.load_dataset(out).X.shape == (ROWS, N_FEATURES)
    assert not (out / "theirs.txt").exists() and not staging_path(out).exists()


def _refusing_third_part(out: Path, calls: list[int], stranger: bool = False) -> Callable:
    """``chunk_frames`` refusing the spec's values in the third part it is asked for
    (after writing a stranger's file into the staging folder if ``stranger``)."""
    real = writer.chunk_frames

    def refusing(plan: Any, start: int, stop: int) -> Any:
        calls.append(start)
        if len(calls) == 3:
            if stranger:
                (staging_path(out) / "notes.txt").write_text("mine")
            raise SpecError("counts[0]", "overflowed", "a refusal in the third part")
        return real(plan, start, stop)

    return refusing


def test_a_run_refused_mid_way_by_its_own_values_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A spec whose values are refused in a later part (overflowing counts, non-finite
    values) would be refused again on resume: its staged parts are removed, nothing else."""
    out = tmp_path / "d"
    real = writer.chunk_frames
    calls: list[int] = []
    refusing = _refusing_third_part(out, calls)
    monkeypatch.setattr(writer, "chunk_frames", refusing)
    with pytest.raises(SpecError, match="third part"):
        generate_to_parquet(stream_spec(), out, rows=ROWS, chunk_rows=CHUNK)
    assert not staging_path(out).exists() and not out.exists()

    # an interrupted run keeps its parts; refused on resume, those go too
    def interrupted(plan: Any, start: int, stop: int) -> Any:
        calls.append(start)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(plan, start, stop)

    calls.clear()
    monkeypatch.setattr(writer, "chunk_frames", interrupted)
    with pytest.raises(KeyboardInterrupt):
        generate_to_parquet(stream_spec(), out, rows=ROWS, chunk_rows=CHUNK)
    manifest = json.loads((staging_path(out) / "manifest.json").read_text())
    assert len(manifest["done"]) == 2
    calls.clear()
    monkeypatch.setattr(writer, "chunk_frames", refusing)
    with pytest.raises(SpecError, match="third part"):
        generate_to_parquet(stream_spec(), out, rows=ROWS, chunk_rows=CHUNK, resume=True)
    assert not staging_path(out).exists() and not out.exists()


def test_an_in_memory_write_does_not_replace_a_folder_that_appeared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = sb.generate({"classes": [{"name": "a", "n": 5}, {"name": "b", "n": 5}],
                        "noise": [{"n": 2}]})  # fmt: skip
    out = tmp_path / "d"
    original = io.claim_target

    def late(target: Path, overwrite: bool, existed: bool, kept: Path | None = None) -> None:
        target.mkdir()
        (target / "theirs.txt").write_text("theirs")
        original(target, overwrite, existed, kept)

    monkeypatch.setattr(io, "claim_target", late)
    with pytest.raises(SpecError, match="appeared"):
        data.to_parquet(out)
    assert sorted(p.name for p in out.iterdir()) == ["theirs.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["d"]  # no staging left behind


def test_resume_redraws_a_part_whose_bytes_changed_at_the_same_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = generate_to_parquet(stream_spec(), tmp_path / "ref", rows=ROWS, chunk_rows=CHUNK)
    out = tmp_path / "d"
    real = writer._write_part
    calls: list[Path] = []

    def failing(path: Path, table: Any) -> int:
        if len(calls) == 4:
            raise KeyboardInterrupt
        calls.append(path)
        return real(path, table)

    monkeypatch.setattr(writer, "_write_part", failing)
    with pytest.raises(KeyboardInterrupt):
        generate_to_parquet(stream_spec(), out, rows=ROWS, chunk_rows=CHUNK)
    part = staging_path(out) / "data" / "part-000001.parquet"
    raw = bytearray(part.read_bytes())
    raw[100:164] = bytes(64)  # 64 zeroed bytes, size unchanged
    part.write_bytes(bytes(raw))
    calls.clear()
    monkeypatch.setattr(writer, "_write_part", lambda p, t: calls.append(p) or real(p, t))
    generate_to_parquet(stream_spec(), out, rows=ROWS, chunk_rows=CHUNK, resume=True)
    assert sorted(p.name for p in calls) == ["part-000001.parquet", "part-000004.parquet"]
    for name in sorted(p.name for p in (reference / "data").iterdir()):
        assert (out / "data" / name).read_bytes() == (reference / "data" / name).read_bytes()


def test_a_damaged_manifest_is_refused_on_resume(tmp_path: Path) -> None:
    out = tmp_path / "d"
    staging_path(out).mkdir()
    (staging_path(out) / "manifest.json").write_text('{"done": "every part"}')
    with pytest.raises(SpecError, match="damaged"):
        generate_to_parquet(stream_spec(), out, rows=ROWS, chunk_rows=CHUNK, resume=True)
    generate_to_parquet(stream_spec(), out, rows=ROWS, chunk_rows=CHUNK)  # starts over
    assert sb.load_dataset(out).X.shape == (ROWS, N_FEATURES)


def test_a_refusal_mid_run_is_reported_even_beside_a_strangers_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file of someone else's in the staging folder keeps the parts where they are, and
    the spec's refusal (not the stranger's file) is what the user is told."""
    out = tmp_path / "d"
    monkeypatch.setattr(writer, "chunk_frames", _refusing_third_part(out, [], stranger=True))
    with pytest.raises(SpecError, match="third part"):
        generate_to_parquet(stream_spec(), out, rows=ROWS, chunk_rows=CHUNK)
    assert (staging_path(out) / "notes.txt").read_text() == "mine"
    assert not (staging_path(out) / "manifest.json").exists()
