"""One call that prepares a lesson notebook: ``MODELS, scene = sb.setup_lesson()``."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["setup_lesson"]


def setup_lesson(
    precision: int = 3, start: str | Path | None = None
) -> tuple[Path, Callable[[str], dict[str, Any]]]:
    """Quiet tqdm's notebook-widget warning (no ipywidgets needed), show pandas numbers to
    ``precision`` digits, and find the scene catalogue.

    Returns ``(MODELS, scene)``: the ``models/`` folder (looked for in ``start``, default
    the working directory, then its parents: a notebook runs from ``notebooks/`` or the
    repository root) and ``scene(name)``, which reads ``models/<name>.yaml`` into a plain
    dict, ready to edit and pass to ``sb.generate``. Raises FileNotFoundError when no
    ``models/`` folder holds the catalogue, and ValueError for a bad ``precision`` (0 to
    15 digits) or ``start``.
    """
    import pandas as pd
    import yaml

    if isinstance(precision, bool) or not isinstance(precision, int) or not 0 <= precision <= 15:
        raise ValueError(f"precision must be a whole number from 0 to 15; got {precision!r}")
    if start is not None and not isinstance(start, str | Path):
        raise ValueError(f"start must be a folder (str or Path); got {start!r}")
    warnings.filterwarnings("ignore", message="IProgress not found")
    pd.set_option("display.precision", precision)
    here = Path.cwd() if start is None else Path(start)
    models = next(
        (
            p / "models"
            for p in (here, *here.resolve().parents)
            if (p / "models" / "demo.yaml").is_file()
        ),
        None,
    )
    if models is None:
        raise FileNotFoundError(
            f"no models/ folder with the scene catalogue in {here} or above it; run the "
            "notebook from the repository (notebooks/ or its root)"
        )

    def scene(name: str) -> dict[str, Any]:
        """``models/<name>.yaml`` as a plain dict."""
        return yaml.safe_load((models / f"{name}.yaml").read_text())

    return models, scene
