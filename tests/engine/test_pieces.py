"""A table is drawn in pieces whose compiled programs do not follow the layout.

Lane-drawn blocks (informative, noise, pseudo-classes) re-use one program per process,
family and column effects whatever their size, name or place; a lane program's calls of
1, 8 or 64 chunks give the same bits; a table's rows are covered without waste.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import jax
import numpy as np
import pytest

import synthbio_ppl as sb
from synthbio_ppl.core.streams import ROW_CHUNK
from synthbio_ppl.engine.dispatch import LANE_CALLS, fixed_calls, lane_calls
from synthbio_ppl.engine.draw import draw_rows
from synthbio_ppl.model.design import build_design
from synthbio_ppl.model.layout import build_layout
from synthbio_ppl.model.parameters import fixed_sites
from tests.conftest import two_classes


def _course(noise: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": "course",
        "seed": 5,
        "classes": two_classes(15, 15),
        "informative": [{"n": 8, "effect_size": 1.2}],
        "noise": [{"n": noise}],
        **extra,
    }


class _Compiles(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.names: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith(("Compiling ", "Finished XLA compilation")):
            self.names.append(message)


@contextmanager
def _compiles() -> Iterator[list[str]]:
    """The XLA compilations run inside the block (JAX's compile log)."""
    handler = _Compiles()
    logger = logging.getLogger("jax")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    jax.config.update("jax_log_compiles", True)
    try:
        yield handler.names
    finally:
        jax.config.update("jax_log_compiles", False)
        logger.removeHandler(handler)
        logger.setLevel(level)


def _row_programs(names: list[str]) -> list[str]:
    """Compilations of a piece's step (not the per-layout population draw)."""
    return [n for n in names if "step" in n and "population" not in n]


def test_a_new_block_size_or_name_compiles_no_row_program() -> None:
    sb.generate(_course(100))  # the informative and noise lanes, compiled once
    with _compiles() as names:
        for noise in (1, 101, 257, 1_000):
            sb.generate(_course(noise))
        renamed = _course(300)
        renamed["noise"][0]["name"] = "junk"
        renamed["noise"].append({"n": 17, "name": "more"})  # a new mix of blocks
        sb.generate(renamed)
    assert _row_programs(names) == []
    # not vacuous: a new family is a new program, and the log sees it
    with _compiles() as names:
        sb.generate(_course(100) | {"noise": [{"n": 100, "distribution": "laplace"}]})
    assert _row_programs(names) != []


@pytest.mark.parametrize(
    "family",
    [
        "normal", "lognormal", "gamma", "beta", "student_t", "uniform", "exponential",
        "laplace", "logistic",
    ],
)  # fmt: skip
def test_lane_calls_of_any_size_give_the_same_bits(family: str) -> None:
    """Rows come from calls of 64, 8 and 1 chunks depending on the range asked: a row's
    values are the same whichever call drew it."""
    spec = sb.validate_spec(
        {
            "name": "calls",
            "seed": 2,
            "classes": two_classes(64 * ROW_CHUNK + 1_500, 1_000),
            "informative": [{"n": 3, "distribution": family}],
            "noise": [{"n": 2, "distribution": family}],
        }
    )
    layout, fixed, design = build_layout(spec), fixed_sites(spec), build_design(spec)
    whole = draw_rows(layout, fixed, design, spec.seed, spec.dtype)["X"]  # 64 + 8 + 1 + 1
    for start, stop in [
        (0, 30),
        (ROW_CHUNK - 1, ROW_CHUNK + 1),
        (66 * ROW_CHUNK, 66 * ROW_CHUNK + 9),
    ]:
        part = draw_rows(layout, fixed, design, spec.seed, spec.dtype, start, stop)["X"]
        np.testing.assert_array_equal(part, whole[start:stop])


def test_two_blocks_of_the_same_spec_draw_their_own_values() -> None:
    """A lane's key holds its block's name: equal specs under two names differ."""
    spec = _course(5)
    spec["noise"] = [{"n": 5, "name": "a"}, {"n": 5, "name": "b"}]
    X = sb.generate(spec).X
    assert not np.isin(X["a_0"].to_numpy(), X["b_0"].to_numpy()).any()


@pytest.mark.parametrize(
    ("first", "last", "devices"), [(0, 1, 1), (0, 73, 1), (5, 200, 1), (3, 4, 2), (0, 150, 2)]
)
def test_lane_calls_cover_the_range_exactly(first: int, last: int, devices: int) -> None:
    calls = lane_calls(first, last, devices)
    sizes = {c * devices for c in LANE_CALLS}
    assert all(n in sizes for _, n in calls)
    covered = [c for start, n in calls for c in range(start, start + n)]
    assert covered[0] == first and covered == list(range(first, first + len(covered)))
    assert len(covered) - (last - first) < devices  # rounded up to whole device shares only


def test_fixed_calls_start_at_multiples_of_the_step() -> None:
    assert fixed_calls(5, 70, 32) == [(0, 32), (32, 32), (64, 32)]
    assert fixed_calls(3, 3, 8) == [(0, 8)]  # one step even for no rows: the output shapes


def test_a_small_table_draws_one_chunk_per_lane_program(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 30-row table: one call of one chunk per 128 columns, nothing more."""
    from synthbio_ppl.engine import dispatch

    calls: list[tuple[int, int]] = []
    real = dispatch.lane_calls

    def counted(first: int, last: int, per_device: int) -> list[tuple[int, int]]:
        out = real(first, last, per_device)
        calls.extend(out)
        return out

    monkeypatch.setattr(dispatch, "lane_calls", counted)
    X = sb.generate(_course(1_200)).X
    assert X.shape == (30, 1_208)
    assert calls == [(0, 1)] * (1 + 10)  # 8 informative columns in one lane call, 1,200 in 10


def test_block_names_with_one_stream_id_are_refused() -> None:
    """A block's streams are keyed by its name's CRC-32: two names with one id would draw
    the same values, so the second is refused (these two collide, as zlib says)."""
    import zlib

    assert zlib.crc32(b"benaurc7") == zlib.crc32(b"b4cay")
    spec = _course(3)
    spec["noise"] = [{"name": "benaurc7", "n": 3}, {"name": "b4cay", "n": 3}]
    with pytest.raises(sb.SpecError) as info:
        sb.validate_spec(spec)
    assert info.value.path == "noise[1].name"
    assert "benaurc7" in str(info.value) and "rename one" in str(info.value)
    spec["noise"][1]["name"] = "b4caz"  # not vacuous: another name is accepted
    sb.validate_spec(spec)
