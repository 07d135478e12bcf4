"""Every scene in models/ validates and generates as its header promises."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import synthbio_ppl as sb
from tests.conftest import MODELS

SCENES = sorted(MODELS.glob("*.yaml"))


def test_catalogue_is_not_empty() -> None:
    names = {p.stem for p in SCENES}
    assert {"demo", "winners_curse", "correlated_clusters", "batch_confounding"} <= names
    assert "kitchen_sink" in names


@pytest.mark.parametrize("path", SCENES, ids=[p.stem for p in SCENES])
def test_scene_validates_and_generates(path: Path) -> None:
    spec = sb.load_spec(path)
    assert path.read_text().startswith("#"), (
        "every scene starts with a comment saying what it shows"
    )
    data = sb.generate(spec)
    assert data.X.shape == (spec.n_rows, len(data.truth.features))
    assert np.isfinite(data.X.to_numpy()).all()
    if spec.outcome is not None and spec.outcome.kind in ("binary", "continuous"):
        assert data.y.equals(data.outcome["y"])  # the outcome replaces the classes
    else:
        assert data.y.value_counts().to_dict() == {c.name: c.n for c in spec.classes}


def test_kitchen_sink_uses_every_process() -> None:
    spec = sb.load_spec(MODELS / "kitchen_sink.yaml")
    assert spec.informative and spec.clusters and spec.noise and spec.pseudo_classes
    assert spec.batches is not None
    assert {c.structure for c in spec.clusters} == {"equicorrelated", "toeplitz"}
    assert any(not g.standardise for g in spec.noise)
