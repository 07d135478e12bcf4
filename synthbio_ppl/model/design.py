"""The fixed row design: class labels, batch assignment and latent row groups.

Labels are a design, not random draws: class counts are exact, batch sizes are exact
(the batch process's class×batch table), and latent groups are balanced. Which rows get
which label is decided by named random permutations, seeded from the spec's seed and the
permutation's name (numpy: the design is bookkeeping, not a model process, and needs no
compilation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from synthbio_ppl.core.rounding import largest_remainder
from synthbio_ppl.core.streams import stable_id
from synthbio_ppl.model.layout import build_layout
from synthbio_ppl.processes.registry import MODIFIERS, process_of


@dataclass(frozen=True)
class Design:
    """Per-row design of a whole dataset (numpy int32 arrays of length n_rows).

    ``y`` class codes; ``batch`` batch codes or None; ``groups`` ``{block: codes}`` latent
    groups; ``class_batch_table`` (classes, batches) int64 counts or None.
    """

    y: np.ndarray
    batch: np.ndarray | None
    groups: dict[str, np.ndarray]
    class_batch_table: np.ndarray | None

    @property
    def n_rows(self) -> int:
        return int(self.y.shape[0])


def _permutation(seed: int, name: str, n: int) -> np.ndarray:
    return np.random.default_rng([seed, stable_id(name)]).permutation(n)


def build_design(spec: Any) -> Design:
    """Labels, batches and latent groups for every row of a validated spec."""
    counts = np.array([c.n for c in spec.classes])
    n = int(counts.sum())
    y = np.repeat(np.arange(len(counts)), counts)
    batch = table = None
    for modifier in MODIFIERS:
        group = getattr(spec, modifier.field)
        if group is None:
            continue
        table = modifier.assign(group, counts)
        if table is None:
            continue
        in_class_order = np.concatenate([np.repeat(np.arange(len(r)), r) for r in table])
        within_class = np.lexsort((_permutation(spec.seed, modifier.design_stream, n), y))
        batch = in_class_order[within_class]
    if spec.shuffle:
        order = _permutation(spec.seed, "design.shuffle", n)
        y = y[order]
        batch = None if batch is None else batch[order]
    groups = {}
    for block in build_layout(spec).blocks:
        levels = process_of(block.kind).latent_levels(block)
        if levels:
            sizes = largest_remainder(n, np.ones(levels))
            grouped = np.repeat(np.arange(levels), sizes)
            groups[block.name] = grouped[_permutation(spec.seed, f"design.{block.name}", n)]
    return Design(
        y=y.astype(np.int32),
        batch=None if batch is None else batch.astype(np.int32),
        groups={k: v.astype(np.int32) for k, v in groups.items()},
        class_batch_table=table,
    )
