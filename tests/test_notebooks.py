"""The committed lessons carry the outputs of their current cells (``make notebooks``).

``make test`` executes every lesson too (nbmake), so its asserted claims still hold; this
checks that what a student opens shows the outputs of the cells as they are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.notebook_sources import KEY, NOTEBOOKS, code_sources

LESSONS = sorted(NOTEBOOKS.glob("*.ipynb"))


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_a_lesson_is_committed_with_the_outputs_of_its_cells(path: Path) -> None:
    notebook = json.loads(path.read_text())
    stamped = notebook["metadata"].get(KEY, {}).get("sources_sha256")
    assert stamped == code_sources(notebook), (
        f"{path.name}: its cells changed since its outputs were made; run `make notebooks`"
    )
    cells = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    counts = [c["execution_count"] for c in cells]
    assert counts == list(range(1, len(cells) + 1)), f"{path.name}: not run top to bottom"
    for cell in cells:
        for output in cell["outputs"]:
            assert output["output_type"] != "error", f"{path.name}: a cell raised"
            text = "".join(output.get("text", ""))
            assert "IProgress not found" not in text, f"{path.name}: tqdm's widget warning"
    shown = sum(bool(c["outputs"]) for c in cells)
    assert shown >= len(cells) // 2, f"{path.name}: most cells show nothing"


def test_every_lesson_is_checked() -> None:
    assert len(LESSONS) >= 13
