"""Streamed Parquet generation: chunk-size invariance, equality with generate(), safe writes,
resume after an interruption (raised, and SIGKILL), refusal to overwrite, CLI handler."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import synthbio_ppl as sb
from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.engine import parquet_writer as stream
from synthbio_ppl.engine.generation import generate
from synthbio_ppl.engine.parquet_writer import generate_to_parquet
from synthbio_ppl.engine.planning import rescale_rows
from synthbio_ppl.engine.staging import staging_path
from tests.engine.scale_helpers import N_FEATURES, ROOT, ROWS, shared_cache, stream_spec


@pytest.fixture(scope="session")
def jax_cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    return shared_cache(tmp_path_factory)


@pytest.fixture(scope="module")
def in_memory() -> sb.Dataset:
    return generate(rescale_rows(sb.validate_spec(stream_spec()), ROWS))


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted streamed run (chunks of 4,096 rows) to compare others with."""
    out = tmp_path_factory.mktemp("reference") / "data"
    return generate_to_parquet(stream_spec(), out, rows=ROWS, chunk_rows=4096)


def part_bytes(folder: Path) -> list[bytes]:
    return [p.read_bytes() for p in sorted((folder / "data").glob("part-*.parquet"))]


def test_rows_rescale_keeps_class_proportions_exactly() -> None:
    spec = rescale_rows(sb.validate_spec(stream_spec()), 1001)
    assert [c.n for c in spec.classes] == [601, 400]  # 600.6 and 400.4: largest remainder
    with pytest.raises(SpecError, match="too few"):
        rescale_rows(sb.validate_spec(stream_spec()), 1)
    with pytest.raises(SpecError, match="positive"):
        rescale_rows(sb.validate_spec(stream_spec()), 0)


@pytest.mark.parametrize("chunk_rows", [256 * 7, 5000, ROWS])
def test_rows_are_identical_whatever_the_chunk_size(
    tmp_path: Path, chunk_rows: int, in_memory: sb.Dataset, reference: Path
) -> None:
    out = generate_to_parquet(stream_spec(), tmp_path / "d", rows=ROWS, chunk_rows=chunk_rows)
    parts = sorted((out / "data").glob("part-*.parquet"))
    rounded = -(-chunk_rows // 256) * 256
    assert len(parts) == -(-ROWS // rounded)
    data = sb.load_dataset(out)
    assert data.X.to_numpy().tobytes() == in_memory.X.to_numpy().tobytes()
    assert data.X.to_numpy().tobytes() == sb.load_dataset(reference).X.to_numpy().tobytes()


def test_streamed_dataset_equals_generate_in_memory(reference: Path, in_memory: sb.Dataset) -> None:
    data = sb.load_dataset(reference)
    pd.testing.assert_frame_equal(data.to_frame(), in_memory.to_frame(), check_exact=True)
    assert data.truth.to_json() == in_memory.truth.to_json()
    assert data.spec == in_memory.spec
    assert sorted(p.name for p in reference.iterdir()) == ["data", "spec.yaml", "truth.json"]
    assert not staging_path(reference).exists()


def test_the_check_is_not_vacuous(reference: Path, in_memory: sb.Dataset) -> None:
    """Another seed changes the bytes the tests above compare."""
    other = generate(rescale_rows(sb.validate_spec({**stream_spec(), "seed": 6}), ROWS))
    assert other.X.to_numpy().tobytes() != in_memory.X.to_numpy().tobytes()


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    out = tmp_path / "d"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(SpecError, match="force=True to generate_to_parquet"):  # the API's
        generate_to_parquet(stream_spec(), out, rows=600)
    assert (out / "keep.txt").read_text() == "mine"
    with pytest.raises(SpecError, match="did not write"):  # force replaces only ours
        generate_to_parquet(stream_spec(), out, rows=600, force=True)
    assert (out / "keep.txt").read_text() == "mine"
    (out / "keep.txt").unlink()
    generate_to_parquet(stream_spec(), out, rows=600)
    generate_to_parquet(stream_spec(), out, rows=600, seed=1, force=True)
    assert sb.load_dataset(out).X.shape == (600, N_FEATURES)


def test_interrupted_write_leaves_nothing_complete_and_resumes_to_the_same_bytes(
    tmp_path: Path, reference: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "d"
    real = stream._write_part
    calls = {"n": 0}

    def failing(path: Path, table: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(path, table)

    monkeypatch.setattr(stream, "_write_part", failing)
    with pytest.raises(KeyboardInterrupt):
        generate_to_parquet(stream_spec(), out, rows=ROWS, chunk_rows=4096)
    assert not out.exists()
    staging = staging_path(out)
    manifest = json.loads((staging / "manifest.json").read_text())
    assert [entry["part"] for entry in manifest["done"]] == [0, 1]
    assert not (staging / "truth.json").exists()
    with pytest.raises(SpecError):
        sb.load_dataset(staging)

    monkeypatch.setattr(stream, "_write_part", real)
    written: list[Path] = []
    monkeypatch.setattr(stream, "_write_part", lambda p, t: written.append(p) or real(p, t))
    generate_to_parquet(stream_spec(), out, rows=ROWS, chunk_rows=4096, resume=True)
    assert [p.name for p in written] == [f"part-00000{i}.parquet" for i in (2, 3, 4)]
    assert part_bytes(out) == part_bytes(reference)
    assert (out / "truth.json").read_bytes() == (reference / "truth.json").read_bytes()
    assert not staging.exists()


def test_resume_refuses_another_spec_and_a_fresh_run_starts_over(tmp_path: Path) -> None:
    out = tmp_path / "d"
    staging = staging_path(out)
    (staging / "data").mkdir(parents=True)
    (staging / "data" / "part-000000.parquet").write_bytes(b"left over")
    (staging / "manifest.json").write_text(json.dumps({"fingerprint": "another run"}))
    with pytest.raises(SpecError, match="without --resume"):
        generate_to_parquet(stream_spec(), out, rows=600, resume=True)
    generate_to_parquet(stream_spec(), out, rows=600)
    assert sb.load_dataset(out).X.shape == (600, N_FEATURES)
    assert not staging.exists()


def test_a_second_writer_of_the_same_target_is_refused(tmp_path: Path) -> None:
    fcntl = pytest.importorskip("fcntl")
    out = tmp_path / "d"
    staging = staging_path(out)
    staging.mkdir(parents=True)
    with open(staging / ".lock", "a+") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(SpecError, match="another process"):
            generate_to_parquet(stream_spec(), out, rows=600)


KILLED_WRITER = """
import sys, time
from synthbio_ppl.engine import parquet_writer as stream
real = stream._write_part
def slow(path, table):
    time.sleep(0.3)
    return real(path, table)
stream._write_part = slow
stream.generate_to_parquet(eval(sys.argv[1]), sys.argv[2], rows=int(sys.argv[3]), chunk_rows=4096)
"""


def test_sigkill_mid_write_leaves_no_partial_dataset_and_resume_matches(
    tmp_path: Path, reference: Path, jax_cache: str
) -> None:
    out = tmp_path / "d"
    env = {**os.environ, "SYNTHBIO_CACHE_DIR": jax_cache, "JAX_PLATFORMS": "cpu"}
    args = [sys.executable, "-c", KILLED_WRITER, repr(stream_spec()), str(out), str(ROWS)]
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stderr=subprocess.PIPE)
    manifest = staging_path(out) / "manifest.json"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            done = json.loads(manifest.read_text())["done"] if manifest.exists() else []
            if len(done) >= 2 or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists()
    assert not list(tmp_path.glob("*/truth.json")) and not list(tmp_path.glob(".*/truth.json"))
    generate_to_parquet(stream_spec(), out, rows=ROWS, chunk_rows=4096, resume=True)
    assert part_bytes(out) == part_bytes(reference)


def test_progress_bar_only_when_asked_or_on_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    generate_to_parquet(stream_spec(), tmp_path / "quiet", rows=600)
    assert capsys.readouterr().err == ""
    generate_to_parquet(stream_spec(), tmp_path / "loud", rows=600, progress=True)
    err = capsys.readouterr().err
    assert "rows" in err and "600" in err


def test_cli_handler_streams(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from synthbio_ppl.cli import stream

    parser = argparse.ArgumentParser()
    parser.add_argument("spec")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--quiet", action="store_true")
    stream.add_stream_arguments(parser)
    spec_file = tmp_path / "spec.yaml"
    sb.save_spec(sb.validate_spec(stream_spec()), spec_file)
    out = tmp_path / "cli"
    args = parser.parse_args([str(spec_file), "--out", str(out), "--rows", "1000"])
    assert stream.wants_stream(args)
    stream.stream_command(args)
    assert "1,000 rows" in capsys.readouterr().out
    assert sb.load_dataset(out).X.shape == (1000, N_FEATURES)
    plain = parser.parse_args([str(spec_file), "--out", str(out)])
    assert not stream.wants_stream(plain)


def test_structural_scene_streams_its_latents(tmp_path: Path) -> None:
    spec = sb.load_spec(ROOT / "models" / "haalsi_like.yaml")
    out = generate_to_parquet(spec, tmp_path / "h", rows=3000, chunk_rows=1024)
    data = sb.load_dataset(out)
    memory = generate(rescale_rows(spec, 3000))
    pd.testing.assert_frame_equal(data.to_frame(), memory.to_frame(), check_exact=True)
    assert data.truth.latents is not None
    np.testing.assert_array_equal(data.truth.latents.to_numpy(), memory.truth.latents.to_numpy())


def _streamed_run(tmp_path: Path, out: Path) -> tuple[Path, list[str]]:
    """A small scene's file and the command line that streams it into ``out``."""
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "name: s\nseed: 1\nclasses: [{name: a, n: 300}, {name: b, n: 300}]\n"
        "noise: [{name: x, n: 4}]\n"
    )
    return spec, ["generate", str(spec), "--out", str(out), "--rows", "600", "--chunk-rows", "256"]


def test_resume_on_a_finished_folder_says_it_is_complete(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from synthbio_ppl.cli import main

    out = tmp_path / "out"
    spec, args = _streamed_run(tmp_path, out)
    assert main(args) == 0
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    capsys.readouterr()
    assert main([*args, "--resume"]) == 0
    assert "is complete already" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before  # nothing rewritten
    assert generate_to_parquet(str(spec), out, rows=600, resume=True) == out
    # another spec (or row count) is still refused, not taken for complete
    assert main([*args[:4], "--rows", "512", "--resume"]) == 2
    assert "finished run of another spec, seed or row count" in capsys.readouterr().err


def test_resume_refuses_a_damaged_finished_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from synthbio_ppl.cli import main

    _, args = _streamed_run(tmp_path, tmp_path / "o")
    damages = {
        "rows": lambda o: sorted((o / "data").glob("part-*.parquet"))[-1].unlink(),
        "empty part": lambda o: sorted((o / "data").glob("part-*.parquet"))[0].write_bytes(b""),
        "empty truth": lambda o: (o / "truth.json").write_text(""),
    }
    for what, damage in damages.items():
        assert main([*args, "--force", "--quiet"]) == 0
        damage(tmp_path / "o")
        capsys.readouterr()
        assert main([*args, "--resume"]) == 2, what
        assert "finished but damaged" in capsys.readouterr().err, what
