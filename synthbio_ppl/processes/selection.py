"""Which columns a modifier acts on: ``affects: all | <block kind> | [block or column names]``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.streams import stable_id
from synthbio_ppl.processes.block import Block, unpadded
from synthbio_ppl.spec.fields import YAML_FLAGS, is_flag


def check_affects(value: Any) -> Any:
    """Field validator body: a string or a list of strings."""
    if isinstance(value, list) and not value:
        raise SpecError("", value, "name at least one block or feature, or leave the field out")
    if isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(v, str) for v in value)
    ):
        return value
    if isinstance(value, list):
        at = next(i for i, v in enumerate(value) if not isinstance(v, str))
        if is_flag(value[at]):
            raise SpecError(f"[{at}]", value[at], "must be a block or feature name " + YAML_FLAGS)
        raise SpecError(f"[{at}]", value[at], "must be a block or feature name")
    if is_flag(value):
        raise SpecError(
            "", value, "must be all, a block kind or names, not true/false " + YAML_FLAGS
        )
    raise SpecError("", value, "must be all, a block kind or a list of block or feature names")


def affected_ranges(
    affects: str | list[str],
    blocks: list[Block],
    selectors: dict[str, str],
    columns: Callable[[Block], list[str]],
    path: str,
    has_column: Callable[[Block, str], bool] | None = None,
) -> tuple[tuple[int, int], ...]:
    """The selected columns as sorted, merged half-open ranges (a block and one of its
    columns may both be named).

    ``selectors`` maps the block-kind names a user may give to kinds; ``has_column`` tests
    a column name without listing the block's columns (only the block that has it is
    listed); ``path`` is the spec field reported by the SpecError for a name that is
    neither a block nor a column.
    """
    if affects == "all":
        return ((0, blocks[-1].stop),) if blocks else ()
    if isinstance(affects, str):
        if affects not in selectors:
            allowed = ", ".join(["all", *selectors])
            raise SpecError(path, affects, f"must be {allowed} or a list of names")
        kind = selectors[affects]
        ranges = tuple((b.start, b.stop) for b in blocks if b.kind == kind)
        if not ranges:  # it would silently act on nothing
            present = sorted({k for k, v in selectors.items() if any(b.kind == v for b in blocks)})
            raise SpecError(
                path,
                affects,
                f"this spec has no such block; it has: {', '.join(['all', *present])}",
            )
        return ranges
    test = has_column or (lambda block, name: name in columns(block))
    ranges: list[tuple[int, int]] = []
    for j, item in enumerate(affects):
        found = False
        for block in blocks:
            if block.name == item:
                ranges.append((block.start, block.stop))
                found = True
            elif test(block, item):
                at = block.start + columns(block).index(item)
                ranges.append((at, at + 1))
                found = True
        if not found:
            fixed = unpadded(item)
            hint = ""
            if fixed is not None and any(test(b, fixed) for b in blocks):
                hint = f"; column names are not zero-padded: {fixed}"
            names = ", ".join(b.name for b in blocks[:8]) + (", …" if len(blocks) > 8 else "")
            allowed = f"must name a block ({names}) or one of their columns"
            raise SpecError(f"{path}[{j}]", item, allowed + hint)
    return merge_ranges(sorted(ranges))


def merge_ranges(ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Sorted half-open ranges with overlapping or touching ones merged."""
    merged: list[tuple[int, int]] = []
    for start, stop in ranges:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(stop, merged[-1][1]))
        else:
            merged.append((start, stop))
    return tuple(merged)


def range_indices(ranges: tuple[tuple[int, int], ...]) -> list[int]:
    """The column indices of half-open ranges, in order."""
    return [j for start, stop in ranges for j in range(start, stop)]


def block_segments(
    ranges: tuple[tuple[int, int], ...], blocks: list[Block]
) -> tuple[tuple[int, int, int], ...]:
    """The columns of ``ranges`` as ``(stable id of the block's name, first index in the
    block, length)`` runs, in column order: what keys a column's draws by its block, so
    that they do not move when another block grows."""
    segments = []
    for start, stop in ranges:
        for block in blocks:
            first, last = max(start, block.start), min(stop, block.stop)
            if first < last:
                segments.append((stable_id(block.name), first - block.start, last - first))
    return tuple(segments)
