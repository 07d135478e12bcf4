"""Shared by the scale tests (streaming, sharding, Dask): a spec and a compilation cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROWS = 20_000
N_FEATURES = 13


def stream_spec() -> dict[str, Any]:
    """Informative, equicorrelated cluster (its row sum is where XLA's reduction order
    shows), noise, pseudo-classes, batches: 13 features, engine steps of 16,384 rows."""
    return {
        "name": "streamed",
        "seed": 5,
        "classes": [{"name": "healthy", "n": 30}, {"name": "diseased", "n": 20}],
        "informative": [{"n": 3, "effect_size": 1.0}],
        "clusters": [
            {"n": 4, "correlation": {"healthy": 0.2, "diseased": 0.8}, "anchor_effect": 1},
        ],
        "noise": [{"n": 4, "distribution": "lognormal"}],
        "pseudo_classes": [{"n": 2, "groups": 3}],
        "batches": {"n": 3, "confounding": 0.5, "proportions": [0.5, 0.3, 0.2]},
    }


def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    """This process's compilation cache, so a subprocess re-uses what was compiled here."""
    from synthbio_ppl.core.cache import enable_compilation_cache

    folder = enable_compilation_cache() or tmp_path_factory.getbasetemp() / "jax-cache"
    return str(folder)
