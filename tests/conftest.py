"""Shared fixtures: small specs and the repository paths."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
# Tests that read stderr must not see a compile notice on a slow machine; the notice's own
# tests switch it on (tests/engine/test_compile_notice.py).
os.environ.setdefault("SYNTHBIO_COMPILE_NOTICE", "off")


def two_classes(n0: int = 50, n1: int = 50) -> list[dict[str, Any]]:
    return [{"name": "healthy", "n": n0}, {"name": "diseased", "n": n1}]


@pytest.fixture
def small_spec() -> dict[str, Any]:
    """Every process once, small enough to generate in well under a second once compiled."""
    return {
        "name": "small",
        "seed": 3,
        "classes": two_classes(40, 30),
        "informative": [{"n": 3, "effect_size": 1.0}],
        "clusters": [
            {"n": 4, "correlation": {"healthy": 0.2, "diseased": 0.8}, "anchor_effect": 1}
        ],
        "noise": [{"n": 5, "distribution": "lognormal"}],
        "pseudo_classes": [{"n": 2, "groups": 3}],
        "batches": {"n": 3, "confounding": 0.5, "proportions": [0.5, 0.3, 0.2]},
    }


# shared by test_evaluation and test_plots, so the compiled generator is reused
RANKING_SPEC = {
    "name": "ranking",
    "seed": 7,
    "classes": [{"name": "healthy", "n": 100}, {"name": "diseased", "n": 100}],
    "informative": [{"n": 8, "effect_size": 2.0}],
    "clusters": [{"n": 4, "correlation": 0.7, "anchor_effect": 0.0}],
    "noise": [{"n": 50}],
}
