"""The static layout of a ``missing:`` entry: its columns and what drives its mask."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.processes.block import Block
from synthbio_ppl.processes.selection import range_indices


@dataclass(frozen=True)
class MissingLayout:
    """One entry: its name, mechanism, affected column ranges and driver.

    ``driver`` is "" (none), a design code name (``y``, ``batch``, a covariate), or
    "column"/"own"; ``driver_column`` the index of a driving column.
    """

    name: str
    mechanism: str
    form: str
    affected: tuple[tuple[int, int], ...]
    driver: str = ""
    driver_column: int = -1
    exact: bool = False
    field: str = "missing"

    @property
    def indices(self) -> list[int]:
        return range_indices(self.affected)

    @property
    def n_affected(self) -> int:
        return sum(stop - start for start, stop in self.affected)

    @property
    def standardised(self) -> bool:
        """Whether z is a standardised value (a column's or the cell's own)."""
        return self.driver in ("column", "own")


def driver_of(
    name: str,
    blocks: list[Block],
    columns: Callable[[Block], list[str]],
    has_column: Callable[[Block, str], bool],
    design_names: dict[str, int],
    path: str,
) -> tuple[str, int]:
    """The driver of ``depends_on``: a design code name, or ("column", its index)."""
    clashes = name == "class" and (
        name in design_names or any(has_column(block, name) for block in blocks)
    )
    if clashes:
        raise SpecError(
            f"{path}.depends_on", name, "is both the class and a column's name; rename that"
        )
    if name == "class":
        return "y", -1
    if name in design_names:
        return name, -1
    for block in blocks:
        if has_column(block, name):  # only that block's names are listed
            return "column", block.start + columns(block).index(name)
    raise SpecError(f"{path}.depends_on", name, f"must be {drivers(blocks, columns, design_names)}")


SHOWN = 12
"""Columns of one block a message lists by name (a wider block: its first and last)."""
LISTED = 10_000
"""The widest block whose column names a message builds (a block may have millions)."""


def drivers(
    blocks: list[Block], columns: Callable[[Block], list[str]], design_names: dict[str, int]
) -> str:
    """What ``depends_on`` may name, in words: the class, each design column (batch, a
    covariate, ``<block>_group``) and each block's feature columns (``inf0_0 … inf0_9``)."""
    features = []
    for block in blocks:
        if block.n_features > LISTED and not block.columns:
            features.append(f"the {block.n_features:,} columns of {block.name}")
            continue
        names = columns(block)
        wide = len(names) > SHOWN
        features += [f"{names[0]} … {names[-1]}"] if wide else names
    design = ", ".join(["class", *design_names])
    return f"{design} or a feature column ({', '.join(features)})"
