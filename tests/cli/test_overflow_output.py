"""Values at the edge of the dtype: the CLI prints one line and exits 2, or generates with
nothing on stderr; no numpy or JAX RuntimeWarning leaks either way."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def spec(dtype: str, **biomarker: object) -> dict[str, object]:
    return {
        "name": "edge",
        "dtype": dtype,
        "structure": {"n": 200, "biomarkers": {"A": {}, "B": {"baseline": 2.0, **biomarker}}},
        "missing": [{"mechanism": "mar", "rate": 0.2, "depends_on": "B", "affects": ["A"]}],
    }


def synthbio(tmp_path: Path, data: dict[str, object]) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data))
    command = ["generate", str(path), "--out", str(tmp_path / "out"), "--quiet"]
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    return subprocess.run(
        [sys.executable, "-m", "synthbio_ppl.cli", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


CENTRE = {"depends_on": {"A": {"coef": 0.5, "centre": 1e300}}}


@pytest.mark.parametrize(
    ("biomarker", "line"),
    [
        (CENTRE, "structure.biomarkers.B.depends_on.A.centre: 1e+300 is not allowed; "),
        ({"clip": [-1e39, None]}, "structure.biomarkers.B.clip[0]: -1e+39 is not allowed; "),
    ],
)
def test_a_constant_beyond_float32_is_one_line(
    tmp_path: Path, biomarker: dict[str, object], line: str
) -> None:
    run = synthbio(tmp_path, spec("float32", **biomarker))
    assert run.returncode == 2
    assert run.stderr.startswith(f"synthbio: error: {line}")
    assert len(run.stderr.splitlines()) == 1, run.stderr


def test_the_same_centre_in_float64_generates_with_nothing_on_stderr(tmp_path: Path) -> None:
    run = synthbio(tmp_path, spec("float64", **CENTRE))
    assert (run.returncode, run.stderr) == (0, "")
