"""``synthbio fit`` on a disk too small for its output: exit 1, one line naming the folder.

h5py crashed the process (SIGSEGV) when the disk filled under it, leaving a staged
``.fit_svi.nc.*``; a CSV that hit the full disk after the netCDF left the new netCDF and a
half-written CSV, and the message named no path. Now the free space is checked before
anything is written, and both files are renamed into place only when both are complete.
Fits are SVI with a few steps on 40 rows.
"""

from __future__ import annotations

import builtins
import errno
import io
import shutil
from collections import namedtuple
from pathlib import Path
from typing import Any

import pytest

import synthbio_ppl as sb
from synthbio_ppl.cli.app import main

SPEC = {"classes": [{"name": "a", "n": 20}, {"name": "b", "n": 20}], "informative": [{"n": 3}]}
QUICK = ["--method", "svi", "--svi-steps", "5", "--samples", "5", "--quiet"]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return sb.generate(SPEC).to_parquet(tmp_path / "d")


def contents(folder: Path) -> dict[str, bytes]:
    """Every file in ``folder`` (hidden staged ones too) with its bytes."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if not line.startswith("synthbio: warning:")]
    assert len(lines) == 1 and lines[0].startswith("synthbio: error: "), err
    assert "Traceback" not in err
    return lines[0]


def little_free_space(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every disk has 64 KiB free."""
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage(2**30, 2**30 - 2**16, 2**16))


def fill_disk_when_writing(monkeypatch: pytest.MonkeyPatch, marker: str) -> None:
    """Files whose name holds ``marker``, opened for writing, take half of the first write
    and then report a full disk, as a real one does."""
    real_open = io.open

    class Full:
        def __init__(self, handle: Any) -> None:
            self._handle = handle

        def write(self, data: Any) -> int:
            self._handle.write(data[: len(data) // 2])
            self._handle.flush()
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name: str) -> Any:
            return getattr(self._handle, name)

        def __iter__(self) -> Any:
            return iter(self._handle)

        def __enter__(self) -> Full:
            return self

        def __exit__(self, *exc: object) -> None:
            self._handle.close()

    def opener(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(file, mode, *args, **kwargs)
        writing = any(c in mode for c in "wax+")
        return Full(handle) if writing and marker in str(file) else handle

    monkeypatch.setattr(io, "open", opener)
    monkeypatch.setattr(builtins, "open", opener)


def test_a_disk_too_small_is_refused_before_anything_is_written(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = contents(folder)
    little_free_space(monkeypatch)
    assert main(["fit", str(folder), *QUICK]) == 1
    line = one_error_line(capsys)
    assert line.startswith(
        f"synthbio: error: {folder}: fit_svi.nc and recovery_svi.csv need about "
    )
    assert "over the 64 KiB free here; free some space" in line
    assert contents(folder) == before  # nothing staged, nothing left


def test_a_disk_that_fills_during_the_csv_keeps_the_earlier_fit(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["fit", str(folder), *QUICK]) == 0
    earlier = contents(folder)
    assert {"fit_svi.nc", "recovery_svi.csv"} <= set(earlier)
    fill_disk_when_writing(monkeypatch, "recovery_svi.csv")
    assert main(["fit", str(folder), *QUICK, "--seed", "1", "--force"]) == 1
    monkeypatch.undo()
    assert contents(folder) == earlier  # both staged files removed, the earlier fit intact
    line = one_error_line(capsys)
    assert line == (
        f"synthbio: error: {folder}: the disk is full; fit_svi.nc and recovery_svi.csv not "
        "written, earlier files there unchanged"
    )


def test_fit_to_netcdf_is_refused_before_writing(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = sb.load_dataset(folder)
    result = sb.fit(data.spec, data, "svi", svi_steps=5, num_samples=5, progress=False)
    before = contents(folder)
    little_free_space(monkeypatch)
    with pytest.raises(OSError, match=r"fit\.nc need about .* free some space") as info:
        result.to_netcdf(folder / "fit.nc")
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(folder)
    assert contents(folder) == before
