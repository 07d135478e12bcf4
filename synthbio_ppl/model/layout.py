"""The static shape of a dataset: its blocks, their columns, and the column modifiers.

A Layout is hashable and holds no numbers that may change between datasets of the same
shape, so it can be a static argument of a jitted function: changing an effect size or a
correlation re-uses the compiled code. The rows are drawn by programs of the layout's
pieces (``engine.pieces``), most of which do not depend on the layout at all.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from synthbio_ppl.processes.base import BlockProcess
from synthbio_ppl.processes.block import Block
from synthbio_ppl.processes.registry import (
    BLOCK_PROCESSES,
    MASKS,
    MODIFIERS,
    RESPONSES,
    modifier_of,
    process_of,
)


@dataclass(frozen=True)
class Layout:
    """Every block in column order, the class count and the modifiers' static layouts."""

    n_classes: int
    blocks: tuple[Block, ...]
    modifiers: tuple[Any, ...] = ()
    """Static layout of each column modifier present (each names its spec ``field``)."""
    masks: tuple[Any, ...] = ()
    """Static layout of each mask entry (missing values), in spec order."""
    response: Any = None
    """Static layout of the outcome drawn from the features, or None."""

    @property
    def n_features(self) -> int:
        return self.blocks[-1].stop if self.blocks else 0

    @functools.cached_property
    def columns(self) -> list[str]:
        """Every feature column name, in order (computed once per Layout)."""
        return [c for block in self.blocks for c in _columns(block)]

    @functools.cached_property
    def masked(self) -> tuple[int, ...]:
        """The columns some mask entry covers, in order."""
        return tuple(sorted({j for static in self.masks for j in static.indices}))

    def without_masks(self) -> Layout:
        """The same blocks and modifiers with no mask (an ignorable fit's layout)."""
        return Layout(self.n_classes, self.blocks, self.modifiers, (), self.response)

    def modifier(self, field: str) -> Any | None:
        """The static layout of the modifier of spec field ``field``, or None."""
        return next((m for m in self.modifiers if m.field == field), None)


def groups_of(spec: Any, process: BlockProcess) -> list[Any]:
    """The spec's groups of one block process (a list, or the single group if set)."""
    value = getattr(spec, process.field)
    if process.many:
        return list(value)
    return [] if value is None else [value]


def columns_of(block: Block) -> list[str]:
    """The column names of one block."""
    return list(_columns(block))


@functools.lru_cache(maxsize=4096)
def _columns(block: Block) -> tuple[str, ...]:
    return tuple(process_of(block.kind).columns(block))


def _has_column(block: Block, name: str) -> bool:
    return process_of(block.kind).has_column(block, name)


def build_layout(spec: Any) -> Layout:
    """The static Layout of a validated spec; SpecError if a modifier names no column."""
    blocks: list[Block] = []
    start = 0
    for process in BLOCK_PROCESSES:
        for i, group in enumerate(groups_of(spec, process)):
            block = process.block(group, process.block_name(group, i), start)
            blocks.append(block)
            start = block.stop
    selectors = {p.selector: p.kind for p in BLOCK_PROCESSES if p.selector is not None}
    modifiers = tuple(
        m.layout(getattr(spec, m.field), blocks, selectors, columns_of)
        for m in MODIFIERS
        if getattr(spec, m.field) is not None
    )
    design_names = {
        name: len(levels)
        for static in modifiers
        for name, levels in modifier_of(static.field).design_columns(static).items()
    }
    for block in blocks:
        design_names.update(
            {n: len(levels) for n, levels in process_of(block.kind).design_columns(block).items()}
        )
    masks = tuple(
        mask.layout(entry, i, blocks, selectors, columns_of, _has_column, design_names)
        for mask in MASKS
        for i, entry in enumerate(getattr(spec, mask.field))
    )
    response = _response_layout(spec, blocks, modifiers)
    return Layout(len(spec.classes), tuple(blocks), modifiers, masks, response)


def _response_layout(spec: Any, blocks: list[Block], modifiers: tuple[Any, ...]) -> Any:
    """The outcome's static layout (None without one): the design levels its terms may
    name, the batch count, and which columns carry column effects ("affine", or "counts"
    for whole-number blocks, whose effects cannot be undone)."""
    levels: dict[str, list[str]] = {"class": list(spec.class_names)}
    for static in modifiers:
        levels.update(modifier_of(static.field).design_columns(static))
    for block in blocks:
        levels.update(process_of(block.kind).design_columns(block))
    n_batches = max(
        (len(v) for s in modifiers for v in modifier_of(s.field).design_columns(s).values()),
        default=0,
    )
    ranges = [r for s in modifiers for r in modifier_of(s.field).affected_ranges(s)]

    def effect(j: int) -> str:
        if not any(a <= j < b for a, b in ranges):
            return ""
        block = next(b for b in blocks if b.start <= j < b.stop)
        return "counts" if process_of(block.kind).integer else "affine"

    for process in RESPONSES:
        group = getattr(spec, process.field)
        if group is not None:
            return process.layout(group, blocks, columns_of, levels, n_batches, effect)
    return None


def column_names(spec: Any) -> list[str]:
    """All feature columns in order."""
    return build_layout(spec).columns


def block_paths(spec: Any) -> dict[str, str]:
    """``{block name: its spec field path}`` (``noise[1]``, ``structure``)."""
    paths = {}
    for process in BLOCK_PROCESSES:
        for i, group in enumerate(groups_of(spec, process)):
            path = f"{process.field}[{i}]" if process.many else process.field
            paths[process.block_name(group, i)] = path
    return paths
