"""The fixed row design: class labels, batch assignment and latent row groups.

Labels are a design, not random draws: class counts are exact, batch sizes are exact
(the batch process's class×batch table), and latent groups are balanced. Which rows get
which label is decided by named keyed permutations (``core.permutation``), seeded from
the spec's seed and the permutation's name and evaluated row by row, so any rows' codes
cost memory in proportion to those rows only: a streamed table of 10⁸ rows never holds
its whole design (numpy: the design is bookkeeping, not a model process, and needs no
compilation).

The rule, for the row at index r of n rows with class counts n_k:
    s = π_shuffle(r) (s = r without shuffle); the class is the k with s in the k-th run
    of n_k positions, and j = s − (start of that run) the row's place in its class;
    its batch is the level whose run of the class's row in the class×batch table holds
    π_k(j), a permutation of the class's n_k places;
    a block's latent group is the level whose run of balanced sizes holds π_block(r).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from synthbio_ppl.core.permutation import permuted
from synthbio_ppl.core.rounding import largest_remainder
from synthbio_ppl.model.layout import build_layout
from synthbio_ppl.processes.registry import MODIFIERS, process_of

SHUFFLE_STREAM = "design.shuffle"
"""The name of the permutation that mixes the classes' rows (``shuffle: true``)."""


@dataclass(frozen=True)
class Design:
    """Per-row design codes of some rows (numpy int32 arrays of one length).

    ``y`` class codes; ``batch`` batch codes or None; ``groups`` ``{block: codes}`` latent
    groups; ``class_batch_table`` (classes, batches) int64 counts of the whole dataset, or
    None.
    """

    y: np.ndarray
    batch: np.ndarray | None
    groups: dict[str, np.ndarray]
    class_batch_table: np.ndarray | None

    @property
    def n_rows(self) -> int:
        return int(self.y.shape[0])

    def take(self, index: np.ndarray) -> Design:
        """The codes of the rows at ``index`` (int array of positions in these rows)."""
        return Design(
            y=self.y[index],
            batch=None if self.batch is None else self.batch[index],
            groups={k: v[index] for k, v in self.groups.items()},
            class_batch_table=self.class_batch_table,
        )

    def rows(self, start: int, stop: int) -> Design:
        """The codes of rows [start, stop)."""
        return self.take(np.arange(start, stop))


@dataclass(frozen=True, eq=False)
class DesignRule:
    """The row design of a whole dataset as a rule: any rows' codes on demand.

    ``class_counts`` (classes,) int64; ``class_batch_table`` (classes, batches) int64 or
    None, with ``batch_stream`` its permutations' name; ``group_levels`` ``{block:
    levels}``. ``take``/``rows`` return a :class:`Design` of the rows asked for, in
    O(rows asked) time and memory.
    """

    seed: int
    class_counts: np.ndarray
    shuffle: bool
    class_batch_table: np.ndarray | None = None
    batch_stream: str = ""
    group_levels: dict[str, int] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return int(self.class_counts.sum())

    def take(self, index: np.ndarray) -> Design:
        """The codes of the rows at ``index`` (int array of row indices in [0, n_rows))."""
        n, index = self.n_rows, np.asarray(index, dtype=np.int64)
        place = permuted(self.seed, SHUFFLE_STREAM, n, index) if self.shuffle else index
        ends = np.cumsum(self.class_counts)
        y = np.searchsorted(ends, place, side="right")
        batch = None
        if self.class_batch_table is not None:
            within = place - (ends - self.class_counts)[y]
            batch = np.empty(index.shape, dtype=np.int64)
            for k, n_k in enumerate(self.class_counts.tolist()):
                rows = np.flatnonzero(y == k)
                if rows.size:
                    spot = permuted(self.seed, f"{self.batch_stream}.{k}", n_k, within[rows])
                    batch[rows] = np.searchsorted(
                        np.cumsum(self.class_batch_table[k]), spot, side="right"
                    )
        groups = {}
        for name, levels in self.group_levels.items():
            ends_g = np.cumsum(largest_remainder(n, np.ones(levels)))
            spot = permuted(self.seed, f"design.{name}", n, index)
            groups[name] = np.searchsorted(ends_g, spot, side="right").astype(np.int32)
        return Design(
            y=y.astype(np.int32),
            batch=None if batch is None else batch.astype(np.int32),
            groups=groups,
            class_batch_table=self.class_batch_table,
        )

    def rows(self, start: int, stop: int) -> Design:
        """The codes of rows [start, stop)."""
        return self.take(np.arange(start, stop))

    def whole(self) -> Design:
        """The codes of every row."""
        return self.rows(0, self.n_rows)


def design_rule(spec: Any) -> DesignRule:
    """The row design of a validated spec as a rule (nothing per row is computed)."""
    counts = np.array([c.n for c in spec.classes], dtype=np.int64)
    table, stream = None, ""
    for modifier in MODIFIERS:
        group = getattr(spec, modifier.field)
        if group is None:
            continue
        assigned = modifier.assign(group, counts)
        if assigned is not None:
            table, stream = np.asarray(assigned, dtype=np.int64), modifier.design_stream
    levels = {}
    for block in build_layout(spec).blocks:
        n_levels = process_of(block.kind).latent_levels(block)
        if n_levels:
            levels[block.name] = n_levels
    return DesignRule(spec.seed, counts, bool(spec.shuffle), table, stream, levels)


def build_design(spec: Any) -> Design:
    """Labels, batches and latent groups for every row of a validated spec."""
    return design_rule(spec).whole()
