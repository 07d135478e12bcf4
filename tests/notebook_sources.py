"""The lessons are committed with their outputs; this stamps and checks that the outputs
come from the cells as they are now.

``python -m tests.notebook_sources`` (run by ``make notebooks`` after executing every
lesson in place) writes into each notebook's metadata the SHA-256 of its code cells'
sources. ``tests/test_notebooks.py`` recomputes it: a cell edited without re-running
``make notebooks`` fails CI, so committed outputs never go stale.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
KEY = "synthbio_ppl"


def code_sources(notebook: dict[str, Any]) -> str:
    """The SHA-256 of the notebook's code cells' sources, in order."""
    digest = hashlib.sha256()
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            source = cell["source"]
            digest.update(("".join(source) if isinstance(source, list) else source).encode())
            digest.update(b"\x00")
    return digest.hexdigest()


def stamp(path: Path) -> None:
    """Record the code cells' hash in the notebook's metadata (after it was executed)."""
    notebook = json.loads(path.read_text())
    notebook["metadata"].setdefault(KEY, {})["sources_sha256"] = code_sources(notebook)
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    for lesson in sorted(NOTEBOOKS.glob("*.ipynb")):
        stamp(lesson)
        print(f"stamped {lesson.name}")
