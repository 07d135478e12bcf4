"""``synthbio twin`` on a disk too small for its output: exit 1, one line naming the folder,
no staging folder left and an earlier output unchanged.

h5py crashed the process (SIGSEGV) when the disk filled under it, leaving the staging
folder; a full disk met by another writer was reported with no path. Now the free space
for the posterior, the synthetic table and the reports is checked before anything is
written. Fits are MAP for 20 steps without a holdout.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from synthbio_ppl.cli.app import main
from tests.cli.test_fit_full_disk import fill_disk_when_writing, little_free_space
from tests.cli.test_twin import leftovers, one_error_line, real_table, twin_args

QUICK = ["--steps", "20", "--holdout", "0"]


@pytest.fixture
def earlier(tmp_path: Path) -> Path:
    """An earlier output of the twin (the files that mark one), which --force would
    replace."""
    out = tmp_path / "twin"
    out.mkdir()
    (out / "report.md").write_text("the earlier twin")
    (out / "report.json").write_text("{}")
    (out / "synthetic.csv").write_text("x\n1\n")
    real_table().to_csv(tmp_path / "real.csv", index=False)
    return out


def test_a_disk_too_small_is_refused_before_anything_is_written(
    earlier: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    little_free_space(monkeypatch)
    real, folder = earlier.parent / "real.csv", earlier.parent
    for out, extra in ((folder / "fresh", []), (earlier, ["--force"])):
        assert main([*twin_args(real, out, *QUICK), *extra]) == 1
        line = one_error_line(capsys).strip()
        assert line.startswith(f"synthbio: error: {folder}: the twin's files ({out.name}/) need")
        assert line.endswith("over the 64 KiB free here; free some space")
    assert not (folder / "fresh").exists() and leftovers(folder) == []
    assert sorted(p.name for p in earlier.iterdir()) == [
        "report.json",
        "report.md",
        "synthetic.csv",
    ]
    assert (earlier / "report.md").read_text() == "the earlier twin"


def test_a_disk_that_fills_while_writing_leaves_no_staging_folder(
    earlier: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real, folder = earlier.parent / "real.csv", earlier.parent
    fill_disk_when_writing(monkeypatch, "missing_rates.csv")
    assert main([*twin_args(real, earlier, *QUICK), "--force"]) == 1
    monkeypatch.undo()
    line = one_error_line(capsys).strip()
    assert line == (
        f"synthbio: error: {folder}: the disk is full; twin/ not written, an earlier one "
        "there unchanged"
    )
    assert leftovers(folder) == []
    assert sorted(p.name for p in earlier.iterdir()) == [
        "report.json",
        "report.md",
        "synthetic.csv",
    ]
    assert (earlier / "report.md").read_text() == "the earlier twin"
