"""Adding a process takes its module and one registry line: the template of
docs/developing.md, registered from outside the package, goes through every stage."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "developing.md"

SCRIPT = """
import json, sys
sys.path.insert(0, sys.argv[1])
import synthbio_ppl.processes.registry as registry
import offset_process

registry.BLOCK_PROCESSES = (*registry.BLOCK_PROCESSES, offset_process.PROCESS)  # the one line
registry._BY_KIND[offset_process.PROCESS.kind] = offset_process.PROCESS

import numpy as np
import synthbio_ppl as sb
from synthbio_ppl.data.describe import spec_summary
from synthbio_ppl.model.reference import spec_reference

base = {"name": "new", "seed": 3, "classes": [{"name": "a", "n": 150}, {"name": "b", "n": 150}],
        "informative": [{"n": 2, "effect_size": 1.0}]}
spec = sb.validate_spec({**base, "offsets": [{"n": 3, "mean": 1.5}]})
data = sb.generate(spec)
plain = sb.generate(base)
try:
    sb.validate_spec({**base, "offsets": [{"n": 3, "mean": "high"}]})
    error = None
except sb.SpecError as exc:
    error = exc.path
result = sb.fit(None, data, num_warmup=300, num_samples=600, progress=False)
row = result.recovery().loc["off0.mean"]
print(json.dumps({
    "columns": list(data.X.columns),
    "sample_mean": float(data.X[["off0_0", "off0_1", "off0_2"]].to_numpy().mean()),
    "truth_mean": data.truth.class_means.loc["off0_0"].tolist(),
    "roles": data.truth.features["role"].tolist(),
    "informative_unchanged": bool(np.array_equal(data.X[["inf0_0", "inf0_1"]], plain.X)),
    "error_path": error,
    "describe": spec_summary(spec),
    "reference": spec_reference(),
    "posterior": [float(row["mean"]), float(row["sd"]), float(row["truth"])],
}))
"""


def template() -> str:
    """The template module's code, as the guide shows it."""
    text = GUIDE.read_text()
    block = text.split("### Template", 1)[1]
    return re.search(r"```python\n(.*?)```", block, re.S).group(1)


def test_the_guide_template_registers_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "offset_process.py").write_text(template())
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["columns"] == ["inf0_0", "inf0_1", "off0_0", "off0_1", "off0_2"]
    # 300 rows × 3 unit-variance features: SE of the mean 1/30
    assert abs(got["sample_mean"] - 1.5) < 4 / 30
    assert got["truth_mean"] == [1.5, 1.5]
    assert got["roles"][2:] == ["offset"] * 3
    assert got["informative_unchanged"]  # keys come from site names: other blocks keep bits
    assert got["error_path"] == "offsets[0].mean"
    assert "off0" in got["describe"] and "offset" in got["describe"]
    assert "## `offsets[]`" in got["reference"]
    assert "| `<block>.mean` | the block's mean | N(0, 2²) |" in got["reference"]
    mean, sd, truth = got["posterior"]
    assert truth == 1.5 and abs(mean - truth) < 3.5 * sd


def test_the_guide_template_passes_the_project_lint(tmp_path: Path) -> None:
    module = tmp_path / "offset_process.py"
    module.write_text(template())
    ruff = Path(sys.executable).parent / "ruff"
    config = str(ROOT / "pyproject.toml")
    lint = subprocess.run(
        [str(ruff), "check", "--no-cache", "--config", config, str(module)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout
    fmt = subprocess.run(
        [str(ruff), "format", "--check", "--no-cache", "--config", config, str(module)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert fmt.returncode == 0, fmt.stdout
