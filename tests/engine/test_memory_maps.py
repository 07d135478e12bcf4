"""Compiled programs are freed before the process runs out of memory-map regions."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import synthbio_ppl as sb
from synthbio_ppl.core import memory_maps

linux_only = pytest.mark.skipif(
    memory_maps.mapped_regions() is None, reason="needs /proc/self/maps (Linux)"
)


def _layout(k: int) -> dict:
    # a cluster block of its own size per k: every call compiles new programs (its
    # block's and the population's; lane-drawn blocks alone would re-use theirs)
    return {
        "name": "maps",
        "seed": 1,
        "informative": [{"n": 4}],
        "clusters": [{"n": 3 + k, "correlation": 0.5}],
    }


@linux_only
def test_regions_stay_near_the_threshold_however_many_layouts_are_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the limit set so that the threshold sits 300 regions above the present count,
    16 new layouts (about 80 regions each, 1,250 in all if nothing were freed) never take
    the process more than two programs' worth past the threshold."""
    import gc

    import jax

    # start from no loaded program: earlier tests' programs, freed while the loop runs,
    # would otherwise hold the count below the threshold
    jax.clear_caches()
    gc.collect()
    sb.generate(_layout(0))  # imports and one-off allocations before the baseline
    threshold = memory_maps.mapped_regions() + 300
    monkeypatch.setattr(memory_maps, "map_limit", lambda: int(threshold / memory_maps.SHARE))
    cleared = 0
    original = memory_maps.make_room_for_programs

    def counting() -> bool:
        nonlocal cleared
        freed = original()
        cleared += freed
        return freed

    for module in ("synthbio_ppl.engine.draw", "synthbio_ppl.engine.step_programs"):
        monkeypatch.setattr(sys.modules[module], "make_room_for_programs", counting)
    peak = 0
    for k in range(1, 17):
        sb.generate(_layout(k))
        peak = max(peak, memory_maps.mapped_regions())
    assert cleared >= 1
    assert peak < threshold + 400, (peak, threshold)


def test_freeing_programs_changes_no_value(monkeypatch: pytest.MonkeyPatch) -> None:
    before = sb.generate(_layout(100)).X.to_numpy()
    monkeypatch.setattr(memory_maps, "map_limit", lambda: 1)
    monkeypatch.setattr(memory_maps, "mapped_regions", lambda: 2)
    assert memory_maps.make_room_for_programs()
    np.testing.assert_array_equal(sb.generate(_layout(100)).X.to_numpy(), before)


def test_without_proc_nothing_is_checked(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(memory_maps, "MAPS_FILE", tmp_path / "absent")
    assert memory_maps.mapped_regions() is None
    assert memory_maps.make_room_for_programs() is False
    memory_maps.map_limit.cache_clear()
    monkeypatch.setattr(memory_maps, "LIMIT_FILE", tmp_path / "absent")
    assert memory_maps.map_limit() is None
    memory_maps.map_limit.cache_clear()
