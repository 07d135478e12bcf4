"""A request that cannot fit in memory is refused before anything is allocated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import synthbio_ppl as sb
from synthbio_ppl.engine.budget import LIMIT_VARIABLE, memory_limit
from synthbio_ppl.engine.parquet_writer import generate_to_parquet

BASE = {"classes": [{"name": "a", "n": 30}, {"name": "b", "n": 30}], "noise": [{"n": 2}]}


@pytest.mark.parametrize(
    "extra",
    [
        {"classes": [{"name": "a", "n": 1_500_000_000}, {"name": "b", "n": 5}]},
        {"noise": [{"n": 10_000_000}]},  # one 256-row chunk alone is 10 GB
        {"classes": [{"name": "a", "n": 100_000}, {"name": "b", "n": 100_000}],
         "batches": {"n": 100_000}},  # the dense class × batch rounding programme
    ],
)  # fmt: skip
def test_a_request_over_the_limit_is_refused(extra: dict[str, Any]) -> None:
    with pytest.raises(sb.SpecError, match="over the memory limit"):
        sb.generate({**BASE, **extra})


def test_streaming_bounds_the_table_but_not_the_design(tmp_path: Path) -> None:
    with pytest.raises(sb.SpecError, match="over the memory limit"):
        generate_to_parquet(BASE, tmp_path / "d", rows=10**12)
    assert not (tmp_path / "d").exists()


def test_the_limit_can_be_raised_or_lowered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LIMIT_VARIABLE, "1K")
    assert memory_limit() == 1024
    with pytest.raises(sb.SpecError, match="over the memory limit 1 KiB"):
        sb.generate(BASE)
    monkeypatch.setenv(LIMIT_VARIABLE, "64G")
    assert memory_limit() == 64 * 2**30
    assert sb.generate(BASE).X.shape == (60, 2)
    monkeypatch.setenv(LIMIT_VARIABLE, "a lot")
    with pytest.raises(sb.SpecError, match=LIMIT_VARIABLE):
        memory_limit()


@pytest.mark.parametrize(
    ("batches", "path"),
    [
        ({"n": 61}, "batches.n"),
        ({"n": 3, "proportions": [0.98, 0.01, 0.01]}, "batches.proportions"),
    ],
)
def test_a_batch_without_rows_is_refused(batches: dict[str, Any], path: str) -> None:
    with pytest.raises(sb.SpecError) as info:
        sb.generate({**BASE, "batches": batches})
    assert info.value.path == path
