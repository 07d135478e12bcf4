"""The pieces a table is drawn in, and what each piece's compiled program is keyed by.

A layout's rows are drawn piece by piece: a block whose process has
``independent_columns`` in *lanes* of ``LANES`` columns, any other block whole, and, when
the layout has an outcome or masks, what follows the blocks (``model.dataset_model.
after_blocks``) over the complete values. A piece's program is keyed by its ``Unit``,
which holds no block size, name or position for lanes and no position for whole blocks:
a new block size, a renamed block or a new mix of blocks re-uses compiled programs.

Lanes are drawn under the canonical block name ``LANE`` (one feature each); their
population sites (every site outside the rows plate: spec values, level means) come from
the layout's population draw, renamed, and their row sites' keys come from the block's
name, the row chunk and the column's index in the block (``engine.step_programs``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Any

import jax
import numpy as np
import numpyro
from numpyro import handlers

from synthbio_ppl.core.streams import ROW_CHUNK, ROWS
from synthbio_ppl.core.world import Setting
from synthbio_ppl.model.layout import Layout
from synthbio_ppl.processes.block import Block, RowDesign, Rows
from synthbio_ppl.processes.registry import modifier_of, process_of

LANE = "lane"
"""The block name inside a lane program (its sites are ``lane``, ``lane.<param>``)."""
LANES = 128
"""Columns one lane program draws per call. Part of the stream definition: a column's
place among the lanes fixes its compiled arithmetic, so changing it may move last bits."""


@dataclass(frozen=True)
class Unit:
    """The static part of one piece's program (hashable: its compile cache key).

    ``block`` the canonical block (lanes: named ``LANE`` at column 0 with one feature;
    otherwise the block at column 0); ``lanes`` columns per call (0: the whole block);
    ``effects`` for each column modifier, its spec field and whether it shifts and scales
    this piece's columns; ``settings`` the world's settings routed here (lanes: on the
    site ``LANE``, for every cell, the column each sets passed as data).
    """

    block: Block
    n_classes: int
    lanes: int
    effects: tuple[tuple[str, bool, bool], ...] = ()
    settings: tuple[Setting, ...] = ()

    @property
    def width(self) -> int:
        """Columns one call returns."""
        return self.lanes or self.block.n_features


@dataclass(frozen=True)
class Piece:
    """One piece of a table: ``unit`` drawing columns [first, first + width) of
    ``block`` (the layout's); ``routed`` the indices of the world's settings it applies;
    ``targets`` (lanes) the block column each of them sets, −1 for every column."""

    unit: Unit
    block: Block
    first: int
    width: int
    routed: tuple[int, ...] = ()
    targets: tuple[int, ...] = ()

    @property
    def columns(self) -> tuple[int, int]:
        """The table columns it fills, [start, stop)."""
        start = self.block.start + self.first
        return start, start + self.width


def effect_flags(
    layout: Layout, effects: list[tuple[Any, Any]], start: int, stop: int
) -> tuple[tuple[str, bool, bool], ...]:
    """For each modifier, whether it shifts and scales any of columns [start, stop)."""
    flags = []
    for static, (shift, scale) in zip(layout.modifiers, effects, strict=True):
        ranges = modifier_of(static.field).affected_ranges(static)
        touched = any(lo < stop and start < hi for lo, hi in ranges)
        flags.append((static.field, touched and shift is not None, touched and scale is not None))
    return tuple(flags)


def pieces_of(
    layout: Layout, settings: tuple[Setting, ...], effects: list[tuple[Any, Any]]
) -> list[Piece]:
    """The layout's block pieces in column order, with the world's ``settings`` routed
    to the piece whose sites they set (the rest go to what follows the blocks)."""
    pieces = []
    for block in layout.blocks:
        process = process_of(block.kind)
        if process.independent_columns:
            canonical = replace(block, name=LANE, start=0, n_features=1, columns=())
            for first in range(0, block.n_features, LANES):
                width = min(LANES, block.n_features - first)
                lo = block.start + first
                routed = [
                    i
                    for i, s in enumerate(settings)
                    if s.site == block.name
                    and (s.column is None or first <= s.column < first + width)
                ]
                unit = Unit(
                    canonical,
                    layout.n_classes,
                    LANES,
                    effect_flags(layout, effects, lo, lo + width),
                    tuple(Setting(LANE, None, settings[i].per_row) for i in routed),
                )
                targets = tuple(
                    -1 if settings[i].column is None else settings[i].column for i in routed
                )
                pieces.append(Piece(unit, block, first, width, tuple(routed), targets))
            continue
        at_zero = replace(block, start=0)
        flags = effect_flags(layout, effects, block.start, block.stop)
        own = unit_sites(Unit(at_zero, layout.n_classes, 0, flags))
        routed = [i for i, s in enumerate(settings) if s.site in own.rows]
        unit = Unit(at_zero, layout.n_classes, 0, flags, tuple(settings[i] for i in routed))
        pieces.append(Piece(unit, block, 0, block.n_features, tuple(routed)))
    return pieces


def unclaimed(pieces: list[Piece], settings: tuple[Setting, ...]) -> tuple[int, ...]:
    """The settings no block piece applies (the outcome's and the masks' sites)."""
    taken = {i for piece in pieces for i in piece.routed}
    return tuple(i for i in range(len(settings)) if i not in taken)


@dataclass(frozen=True)
class UnitSites:
    """A unit's sample and deterministic sites: outside the rows plate, and inside it."""

    population: frozenset[str]
    rows: frozenset[str]


@functools.lru_cache(maxsize=512)
def unit_sites(unit: Unit) -> UnitSites:
    """The sites the unit's block model has (traced abstractly once: nothing is computed)."""
    population: set[str] = set()
    rows: set[str] = set()

    def trace() -> int:
        design = placeholder_rows(unit, ROW_CHUNK)
        given = Rows(design, unit.n_classes, numpyro.plate(ROWS, ROW_CHUNK, dim=-1))
        model = handlers.seed(process_of(unit.block.kind).sample, rng_seed=0)
        for name, site in handlers.trace(model).get_trace(unit.block, given).items():
            if site["type"] not in ("sample", "deterministic"):
                continue
            in_rows = any(f.name == ROWS for f in site.get("cond_indep_stack", ()))
            (rows if in_rows else population).add(name)
        return 0

    jax.eval_shape(trace)
    return UnitSites(frozenset(population), frozenset(rows))


def placeholder_rows(unit: Unit, n_rows: int) -> RowDesign:
    """Zero codes for ``n_rows`` rows with every field the unit reads."""
    zeros = np.zeros(n_rows, dtype=np.int32)
    batch = zeros if any(shift or scale for _, shift, scale in unit.effects) else None
    levels = process_of(unit.block.kind).latent_levels(unit.block)
    return RowDesign(zeros, batch, {unit.block.name: zeros} if levels else None)


def piece_population(piece: Piece, population: dict[str, Any]) -> dict[str, Any]:
    """The piece's population sites' values (lanes: renamed to ``LANE``)."""
    names = unit_sites(piece.unit).population
    if not piece.unit.lanes:
        return {n: population[n] for n in names if n in population}
    real = piece.block.name
    return {
        n: population[real + n[len(LANE) :]] for n in names if real + n[len(LANE) :] in population
    }


def piece_rows(piece: Piece, design: RowDesign) -> RowDesign:
    """The row design fields the piece reads, under the names its program uses."""
    unit = piece.unit
    batch = design.batch if any(shift or scale for _, shift, scale in unit.effects) else None
    groups = None
    if process_of(unit.block.kind).latent_levels(unit.block):
        groups = {unit.block.name: design.groups[piece.block.name]}
    return RowDesign(design.y, batch, groups)
