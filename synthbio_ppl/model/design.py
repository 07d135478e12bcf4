"""The fixed row design: class labels, batch assignment and latent pseudo-class groups.

Labels are a design, not random draws: class counts are exact, batch sizes are exact,
and under confounding c the class×batch table is
    T = (1-c)·(independent table) + c·(most aligned table with the same margins),
rounded to integers whose margins are still exactly the class counts and batch sizes.
Which rows get which label is decided by named random permutations, seeded from the
spec's seed and the permutation's name (numpy: the design is bookkeeping, not a model
process, and needs no compilation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthbio_ppl.core.keys import stable_id
from synthbio_ppl.model.layout import build_layout
from synthbio_ppl.model.scene import Spec


@dataclass(frozen=True)
class Design:
    """Per-row design of a whole dataset (numpy int32 arrays of length n_rows)."""

    y: np.ndarray
    batch: np.ndarray | None
    groups: dict[str, np.ndarray]
    class_batch_table: np.ndarray | None

    @property
    def n_rows(self) -> int:
        return int(self.y.shape[0])


def largest_remainder(total: int, shares: np.ndarray) -> np.ndarray:
    """Integers proportional to ``shares`` that sum to ``total`` (Hamilton's method)."""
    exact = total * np.asarray(shares, dtype=float) / np.sum(shares)
    counts = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: total - counts.sum()]] += 1
    return counts


def aligned_table(row_sums: np.ndarray, col_sums: np.ndarray) -> np.ndarray:
    """The most aligned table with these margins (north-west corner rule)."""
    table = np.zeros((len(row_sums), len(col_sums)), dtype=np.int64)
    rows, cols = np.array(row_sums), np.array(col_sums)
    i = j = 0
    while i < len(rows) and j < len(cols):
        take = min(rows[i], cols[j])
        table[i, j] += take
        rows[i] -= take
        cols[j] -= take
        i += rows[i] == 0
        j += cols[j] == 0
    return table


def confounded_table(class_counts: np.ndarray, batch_counts: np.ndarray, c: float) -> np.ndarray:
    """Integer class×batch table with exact margins, interpolating independence and alignment."""
    n = class_counts.sum()
    independent = np.outer(class_counts, batch_counts) / n
    target = (1 - c) * independent + c * aligned_table(class_counts, batch_counts)
    return _round_preserving_margins(target, class_counts, batch_counts)


def _round_preserving_margins(target: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    from scipy.optimize import linprog

    # floor(T) <= X <= ceil(T) with the margins fixed is a transportation polytope with
    # integral vertices; the simplex returns one, preferring to round up large fractions.
    low = np.floor(target)
    frac = target - low
    k, b = target.shape
    a_eq = np.zeros((k + b, k * b))
    for i in range(k):
        a_eq[i, i * b : (i + 1) * b] = 1
    for j in range(b):
        a_eq[k + j, j::b] = 1
    b_eq = np.concatenate([rows - low.sum(1), cols - low.sum(0)])
    bounds = [(0.0, 1.0 if f > 1e-12 else 0.0) for f in frac.ravel()]
    result = linprog(-frac.ravel(), A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs-ds")
    if not result.success:  # pragma: no cover - the polytope is never empty
        raise RuntimeError(f"could not round the class×batch table: {result.message}")
    table = (low + np.round(result.x).reshape(k, b)).astype(np.int64)
    assert (table.sum(1) == rows).all() and (table.sum(0) == cols).all()
    return table


def cramers_v(table: np.ndarray) -> float:
    """Cramér's V of a contingency table (empty rows and columns dropped)."""
    from scipy.stats.contingency import association

    table = np.asarray(table)
    table = table[table.sum(1) > 0][:, table.sum(0) > 0]
    if min(table.shape) < 2:
        return 0.0
    return float(association(table, method="cramer"))


def _permutation(seed: int, name: str, n: int) -> np.ndarray:
    return np.random.default_rng([seed, stable_id(name)]).permutation(n)


def build_design(spec: Spec) -> Design:
    """Labels, batches and latent groups for every row of ``spec``."""
    counts = np.array([c.n for c in spec.classes])
    n = int(counts.sum())
    y = np.repeat(np.arange(len(counts)), counts)
    batch = table = None
    if spec.batches is not None:
        shares = spec.batches.proportions or [1.0] * spec.batches.n
        batch_counts = largest_remainder(n, np.asarray(shares))
        table = confounded_table(counts, batch_counts, spec.batches.confounding)
        in_class_order = np.concatenate([np.repeat(np.arange(len(r)), r) for r in table])
        within_class = np.lexsort((_permutation(spec.seed, "design.batch", n), y))
        batch = in_class_order[within_class]
    if spec.shuffle:
        order = _permutation(spec.seed, "design.shuffle", n)
        y = y[order]
        batch = None if batch is None else batch[order]
    groups = {}
    for block in build_layout(spec).blocks:
        if block.kind == "pseudo":
            sizes = largest_remainder(n, np.ones(block.n_levels))
            grouped = np.repeat(np.arange(block.n_levels), sizes)
            groups[block.name] = grouped[_permutation(spec.seed, f"design.{block.name}", n)]
    as_int = {k: v.astype(np.int32) for k, v in groups.items()}
    return Design(
        y=y.astype(np.int32),
        batch=None if batch is None else batch.astype(np.int32),
        groups=as_int,
        class_batch_table=table,
    )
