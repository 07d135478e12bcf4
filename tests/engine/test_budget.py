"""A request that cannot fit in memory is refused before anything is allocated."""

from __future__ import annotations

import errno
import re
from pathlib import Path
from typing import Any

import pytest

import synthbio_ppl as sb
from synthbio_ppl.engine.budget import LIMIT_VARIABLE, check_disk, memory_limit, request_bytes
from synthbio_ppl.engine.parquet_writer import generate_to_parquet
from synthbio_ppl.model.layout import build_layout

BASE = {"classes": [{"name": "a", "n": 30}, {"name": "b", "n": 30}], "noise": [{"n": 2}]}


@pytest.mark.parametrize(
    "extra",
    [
        {"classes": [{"name": "a", "n": 1_500_000_000}, {"name": "b", "n": 5}]},
        # the world's per-row arrays (50 GB) were allocated before the check
        {"classes": [{"name": "a", "n": 50}, {"name": "b", "n": 50_000_000_000}]},
        {"noise": [{"n": 10_000_000}]},  # one 256-row chunk alone is 10 GB
        {"classes": [{"name": "a", "n": 100_000}, {"name": "b", "n": 100_000}],
         "batches": {"n": 100_000}},  # the dense class × batch rounding programme
    ],
)  # fmt: skip
def test_a_request_over_the_limit_is_refused(extra: dict[str, Any]) -> None:
    with pytest.raises(sb.SpecError, match="over the memory limit"):
        sb.generate({**BASE, **extra})


def test_streamed_memory_does_not_grow_with_rows() -> None:
    """The row design is a rule evaluated chunk by chunk: 2·10⁶ and 10¹² rows need as much."""
    spec = sb.validate_spec(
        {**BASE, "pseudo_classes": [{"n": 1, "groups": 3}], "batches": {"n": 2}}
    )
    layout = build_layout(spec)
    small, large = (request_bytes(spec, layout, r, streamed=True) for r in (2 * 10**6, 10**12))
    assert small == large < 200 * 2**20
    assert request_bytes(spec, layout, 10**6) < request_bytes(spec, layout, 10**7)


def test_a_stream_larger_than_the_free_disk_is_refused(tmp_path: Path) -> None:
    """2·10¹¹ rows × 2 features: terabytes, refused before a folder is made, as a fault of
    the environment (OSError, ENOSPC, naming the disk's folder), not of the request."""
    with pytest.raises(OSError) as info:
        generate_to_parquet(BASE, tmp_path / "d", rows=2 * 10**11)
    assert re.match(r"200,000,000,000 rows × 2 features need .* on disk", info.value.strerror)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(tmp_path)
    assert not isinstance(info.value, sb.SpecError)
    assert list(tmp_path.iterdir()) == []


def test_the_limit_can_be_raised_or_lowered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LIMIT_VARIABLE, "1K")
    assert memory_limit() == 1024
    with pytest.raises(sb.SpecError, match="over the memory limit 1 KiB"):
        sb.generate(BASE)
    monkeypatch.setenv(LIMIT_VARIABLE, "64G")
    assert memory_limit() == 64 * 2**30
    assert sb.generate(BASE).X.shape == (60, 2)
    monkeypatch.setenv(LIMIT_VARIABLE, "a lot")
    with pytest.raises(sb.SpecError, match=LIMIT_VARIABLE):
        memory_limit()


@pytest.mark.parametrize(
    ("batches", "path"),
    [
        ({"n": 61}, "batches.n"),
        ({"n": 3, "proportions": [0.98, 0.01, 0.01]}, "batches.proportions"),
    ],
)
def test_a_batch_without_rows_is_refused(batches: dict[str, Any], path: str) -> None:
    with pytest.raises(sb.SpecError) as info:
        sb.generate({**BASE, "batches": batches})
    assert info.value.path == path


def test_the_disk_check_counts_every_value_at_its_full_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Drawn float32 values do not compress: 3·10⁶ rows × 2 features need about 72 MB
    (3e6 × (2 × 4 + 16) bytes), refused with 50 MiB free, accepted with 100 MiB."""
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    spec = sb.rescale_rows(BASE, 3_000_000)
    layout = build_layout(spec)
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage(0, 0, 50 * 2**20))
    with pytest.raises(OSError, match=r"need about 68.7 MiB more on disk.*\(rows\)"):
        check_disk(spec, layout, spec.n_rows, tmp_path)
    check_disk(spec, layout, spec.n_rows, tmp_path, written=30 * 2**20)  # a resumed run
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage(0, 0, 100 * 2**20))
    check_disk(spec, layout, spec.n_rows, tmp_path)


@pytest.mark.parametrize(
    ("owner", "name", "said"),
    [
        ("parquet_writer", "_write_part", "the disk is full; the finished parts stay there"),
        # the manifest could not be written: "No space left on device" named no path
        ("staging", "start", "the disk is full as this run starts"),
    ],
)
def test_a_full_disk_names_the_folder_that_keeps_the_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
    owner: str, name: str, said: str,
) -> None:  # fmt: skip
    import errno

    from synthbio_ppl.cli.app import main
    from synthbio_ppl.engine import parquet_writer
    from synthbio_ppl.engine.staging import Staging

    def full(*_: Any) -> int:
        raise OSError(errno.ENOSPC, "Error writing bytes to file. No space left on device")

    monkeypatch.setattr(parquet_writer if owner == "parquet_writer" else Staging, name, full)
    spec = tmp_path / "s.yaml"
    sb.save_spec(sb.validate_spec(BASE), spec)
    out = tmp_path / "out"
    code = main(["generate", str(spec), "--out", str(out), "--rows", "1000", "--quiet"])
    line = capsys.readouterr().err.strip()
    assert code == 1 and "\n" not in line
    assert f"{tmp_path / '.out.partial'}: {said}" in line
    assert "--resume" in line and not out.exists()


def test_a_modifier_that_takes_the_memory_is_named() -> None:
    """40,000 batches on 50,000 rows: the rounding programme, not rows × features."""
    spec = {
        "classes": [{"name": "a", "n": 30_000}, {"name": "b", "n": 20_000}],
        "noise": [{"n": 1}],
        "batches": {"n": 40_000},
    }
    with pytest.raises(sb.SpecError, match="class × level rounding") as info:
        sb.generate(spec)
    assert info.value.path == "batches.n"


def test_the_cli_reports_a_disk_too_small_as_the_environment(tmp_path: Path, capsys) -> None:
    """Exit 1 (environment), one line naming the folder whose disk is short."""
    from synthbio_ppl.cli.app import main

    spec = tmp_path / "s.yaml"
    spec.write_text("classes: [{name: a, n: 30}, {name: b, n: 30}]\nnoise: [{n: 2}]\n")
    code = main(["generate", str(spec), "--out", str(tmp_path / "d"), "--rows", "200000000000"])
    line = capsys.readouterr().err.strip()
    assert code == 1 and "\n" not in line
    assert (
        line.startswith(f"synthbio: error: {tmp_path}: 200,000,000,000 rows") and "(rows)" in line
    )


@pytest.mark.parametrize("shares", [[0.98, 0.01, 0.01], [0.5, 0.49, 0.01]])
def test_validation_refuses_a_batch_share_below_one_row(shares: list[float], tmp_path) -> None:
    """60 rows × 1% is 0.6 of a row: refused by `validate`, as by generate, and by --rows
    that shrinks a scene until a share falls below one row."""
    from synthbio_ppl.cli.app import main
    from synthbio_ppl.engine.parquet_writer import run_spec

    spec = {**BASE, "batches": {"n": 3, "proportions": shares}}
    # batches are named batch0, batch1, ... as in the data; 1% needs 100 rows
    pattern = r"60 rows give batch[12] 0\.6 of a row; .* at least 100 rows"
    with pytest.raises(sb.SpecError, match=pattern) as info:
        sb.validate_spec(spec)
    assert info.value.path == "batches.proportions"
    path = tmp_path / "s.yaml"
    sb.save_spec(
        sb.validate_spec({**spec, "classes": [{"name": "a", "n": 150}, {"name": "b", "n": 150}]}),
        path,
    )
    assert main(["validate", str(path)]) == 0
    with pytest.raises(sb.SpecError, match=pattern):
        run_spec(sb.load_spec(path), None, 60)


def test_a_limit_beyond_any_memory_is_refused_in_one_line(monkeypatch) -> None:
    """400 digits were read as a float's inf: an internal OverflowError."""
    monkeypatch.setenv(LIMIT_VARIABLE, "9" * 400)
    with pytest.raises(sb.SpecError, match="below 2\\^62 bytes") as info:
        memory_limit()
    assert info.value.path == LIMIT_VARIABLE


def test_thousands_of_classes_are_refused_by_their_pairs() -> None:
    """20,000 one-row classes grew to 18 GB (the effect sizes hold a column per pair of
    classes) before the process was killed; they are refused, naming the classes."""
    spec = {"classes": [{"name": f"c{i}", "n": 1} for i in range(20_000)],
            "informative": [{"n": 1}]}  # fmt: skip
    with pytest.raises(sb.SpecError, match=r"^classes: '20,000 classes' .*199,990,000 pairs"):
        sb.generate(spec)
