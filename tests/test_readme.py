"""Every Python block of README.md runs as written, in order, in one namespace.

The blocks run in a fresh folder that holds a link to the repository's ``models/`` (so
``out/...`` paths are the test's own, as after ``make demo`` in a clone). The only changes
are the sampler settings in ``FAST`` (fewer NUTS draws and SBC simulations), substituted
textually; a block whose text no longer holds one of them fails the test, so the list
cannot go stale.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FAST = {
    "sb.fit(None, data)": "sb.fit(None, data, num_warmup=50, num_samples=50, progress=False)",
    "sb.calibrate(spec, n_sims=50)": (  # 50 NUTS fits of the demo: too long for a unit test
        "sb.calibrate(spec, n_sims=2, n_draws=9, num_warmup=30, num_samples=45)"
    ),
}


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # FAST's short chains do not mix
def test_every_python_block_of_the_readme_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    (tmp_path / "models").symlink_to(ROOT / "models")
    (tmp_path / "out" / "demo").mkdir(parents=True)  # as left by `make demo`
    (tmp_path / "out" / "demo" / "data.parquet").write_text("")
    monkeypatch.chdir(tmp_path)
    blocks = python_blocks()
    assert len(blocks) >= 5
    text = "\n".join(blocks)
    for original in FAST:
        assert original in text, f"README no longer holds {original!r}: update FAST"
    namespace: dict[str, object] = {"__name__": "readme"}
    for i, block in enumerate(blocks):
        for original, fast in FAST.items():
            block = block.replace(original, fast)
        try:
            exec(compile(block, f"README.md python block {i}", "exec"), namespace)
        except Exception as exc:  # name the block, not only the line
            raise AssertionError(f"README python block {i} fails: {exc!r}\n{block}") from exc
    assert os.path.isdir(tmp_path / "out" / "my_demo")
