"""Bit-identity pin: every catalogue scene generates the same bytes as before the restructure.

The digests in ``tests/golden/catalogue.json`` hold for the JAX version recorded there
(``jax.random`` bits may change between JAX releases); the pinned range in pyproject.toml
keeps CI on it.
"""

from __future__ import annotations

import json

import jax
import pytest

from tests.golden.digests import MODELS, PINNED, scene_digests

PIN = json.loads(PINNED.read_text())


def test_pin_covers_the_whole_catalogue() -> None:
    assert sorted(PIN["scenes"]) == sorted(p.stem for p in MODELS.glob("*.yaml"))


@pytest.mark.skipif(jax.__version__ != PIN["jax"], reason=f"digests hold for jax {PIN['jax']} bits")
@pytest.mark.parametrize("scene", sorted(PIN["scenes"]))
def test_catalogue_scene_is_bit_identical(scene: str) -> None:
    assert scene_digests(MODELS / f"{scene}.yaml", PIN["rows"]) == PIN["scenes"][scene]
