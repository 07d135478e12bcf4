"""Pin: every catalogue scene generates the values it did when they were pinned, up to the
rounding that differs between CPU instruction sets (see ``tests/golden/reference.py``).

The pinned values hold for the JAX version recorded in ``catalogue.json`` (``jax.random``
bits may change between JAX releases); the pinned range in pyproject.toml keeps CI on it.
"""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest

from tests.golden.reference import (
    MAX_FLIPS_SHARE,
    MODELS,
    PINNED,
    RTOL,
    SCENES,
    agreement,
    scene_reference,
)

PIN = json.loads(PINNED.read_text())
SAME_JAX = pytest.mark.skipif(
    jax.__version__ != PIN["jax"], reason=f"pinned values hold for jax {PIN['jax']} bits"
)


def _pinned(scene: str) -> dict[str, np.ndarray]:
    with np.load(SCENES / f"{scene}.npz") as stored:
        return dict(stored)


def test_pin_covers_the_whole_catalogue() -> None:
    assert PIN["scenes"] == sorted(p.stem for p in MODELS.glob("*.yaml"))
    assert sorted(PIN["scenes"]) == sorted(p.stem for p in SCENES.glob("*.npz"))


@SAME_JAX
@pytest.mark.parametrize("scene", PIN["scenes"])
def test_catalogue_scene_matches_its_pinned_values(scene: str) -> None:
    assert agreement(_pinned(scene), scene_reference(MODELS / f"{scene}.yaml", PIN["rows"])) == []


@SAME_JAX
def test_another_seed_departs_from_the_pin_in_every_frame_it_draws() -> None:
    got = scene_reference(MODELS / "kitchen_sink.yaml", PIN["rows"], seed=8)
    problems = agreement(_pinned("kitchen_sink"), got)
    assert {p.split(":")[0] for p in problems} >= {"X.values", "y.values", "truth.values"}


def _frame(values: np.ndarray, columns: np.ndarray) -> dict[str, np.ndarray]:
    return {"X.layout": np.array("abc"), "X.values": values, "X.columns": columns}


def test_agreement_allows_rounding_and_rare_flips_only() -> None:
    rng = np.random.default_rng(0)
    columns = np.repeat(np.arange(50), 40)  # 2,000 cells, 40 per column
    pinned = _frame(rng.normal(size=2000), columns)
    rounded = pinned["X.values"] * (1 + rng.uniform(-RTOL, RTOL, 2000) / 2)
    assert agreement(pinned, _frame(rounded, columns)) == []

    flipped = rounded.copy()
    flips = int(MAX_FLIPS_SHARE * 2000)  # 10 cells, one per column
    flipped[np.arange(flips) * 40] += 1.0
    assert agreement(pinned, _frame(flipped, columns)) == []
    flipped[flips * 40] += 1.0  # one flip more than a frame allows
    assert agreement(pinned, _frame(flipped, columns)) == ["X.values: 11 of 2000 values differ"]

    one_column = rounded.copy()
    one_column[40:42] += 1.0  # two cells of column 1: a change confined to it
    assert agreement(pinned, _frame(one_column, columns)) == ["X.values: 2 of column 1's 40 differ"]
    shifted = rounded + 3 * RTOL * np.abs(pinned["X.values"]).max()  # beyond rounding
    assert agreement(pinned, _frame(shifted, columns)) == [
        "X.values: 2000 of 2000 values differ",
        "X.values: 40 of column 0's 40 differ",
    ]


def test_agreement_reads_nan_as_equal_and_layout_exactly() -> None:
    columns = np.repeat(np.arange(4), 5)
    values = np.arange(20.0)
    values[3] = np.nan
    pinned = _frame(values, columns)
    assert agreement(pinned, _frame(values.copy(), columns)) == []
    other = _frame(values.copy(), columns) | {"X.layout": np.array("abd")}
    assert agreement(pinned, other) == ["X.layout: abd differs from the pinned abc"]
    assert agreement(pinned, {"X.layout": np.array("abc")}) == [
        "X.columns: missing",
        "X.values: missing",
    ]
