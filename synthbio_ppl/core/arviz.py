"""ArviZ, imported on first use with its 0.x migration notice silenced."""

from __future__ import annotations

import warnings
from typing import Any


def import_arviz() -> Any:
    """The ``arviz`` module (0.x prints a FutureWarning about its 1.0 refactor on import)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz

    return arviz
