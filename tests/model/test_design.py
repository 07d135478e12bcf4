"""Row design: exact class counts, exact batch sizes, confounding that behaves."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from synthbio_ppl import validate_spec
from synthbio_ppl.core.rounding import largest_remainder
from synthbio_ppl.core.statistics import cramers_v
from synthbio_ppl.model.design import build_design, design_rule
from synthbio_ppl.processes.batches import aligned_table, confounded_table


def test_largest_remainder_sums_and_is_proportional() -> None:
    assert largest_remainder(10, np.array([0.4, 0.3, 0.3])).tolist() == [4, 3, 3]
    assert largest_remainder(7, np.array([1, 1, 1])).tolist() == [3, 2, 2]
    counts = largest_remainder(1001, np.array([0.5, 0.25, 0.25]))
    assert counts.sum() == 1001 and np.all(np.abs(counts - 1001 * np.array([0.5, 0.25, 0.25])) < 1)


def test_aligned_table_is_north_west_corner() -> None:
    table = aligned_table(np.array([50, 50]), np.array([40, 30, 30]))
    assert table.tolist() == [[40, 10, 0], [0, 20, 30]]


@pytest.mark.parametrize("c", [0.0, 0.3, 0.7, 1.0])
def test_confounded_table_keeps_both_margins(c: float) -> None:
    rows, cols = np.array([37, 51, 12]), np.array([30, 30, 20, 20])
    table = confounded_table(rows, cols, c)
    assert table.sum(1).tolist() == rows.tolist()
    assert table.sum(0).tolist() == cols.tolist()
    target = (1 - c) * np.outer(rows, cols) / rows.sum() + c * aligned_table(rows, cols)
    assert np.all(np.abs(table - target) < 1)  # each cell is a rounding of the target


def test_cramers_v_rises_with_confounding() -> None:
    rows, cols = np.array([100, 100]), np.array([70, 70, 60])
    v = [cramers_v(confounded_table(rows, cols, c)) for c in np.linspace(0, 1, 6)]
    assert v[0] < 0.02
    assert all(b > a for a, b in itertools.pairwise(v))
    assert v[-1] > 0.8


def _spec(confounding: float, shuffle: bool = True):
    return validate_spec(
        {
            "seed": 9,
            "shuffle": shuffle,
            "classes": [{"name": "a", "n": 61}, {"name": "b", "n": 39}, {"name": "c", "n": 20}],
            "noise": [{"n": 1}],
            "pseudo_classes": [{"name": "ps", "n": 1, "groups": 3}],
            "batches": {"n": 3, "confounding": confounding, "proportions": [0.5, 0.25, 0.25]},
        }
    )


@pytest.mark.parametrize("c", [0.0, 0.5, 1.0])
def test_design_honours_counts_and_proportions(c: float) -> None:
    design = build_design(_spec(c))
    assert np.bincount(design.y).tolist() == [61, 39, 20]
    assert np.bincount(design.batch).tolist() == [60, 30, 30]
    realised = np.zeros((3, 3), dtype=int)
    np.add.at(realised, (design.y, design.batch), 1)
    assert realised.tolist() == design.class_batch_table.tolist()
    assert np.bincount(design.groups["ps"]).tolist() == [40, 40, 40]


def test_shuffle_false_keeps_rows_grouped_and_true_mixes_them() -> None:
    grouped = build_design(_spec(0.5, shuffle=False)).y
    assert np.all(np.diff(grouped) >= 0)
    shuffled = build_design(_spec(0.5)).y
    assert np.sum(np.diff(shuffled) != 0) > 30  # grouped rows change label only twice


def test_design_is_deterministic_per_seed() -> None:
    a, b = build_design(_spec(0.5)), build_design(_spec(0.5))
    assert np.array_equal(a.y, b.y) and np.array_equal(a.batch, b.batch)
    other = build_design(_spec(0.5).with_seed(10))
    assert not np.array_equal(a.y, other.y)


def test_any_rows_of_the_rule_are_those_rows_of_the_whole_design() -> None:
    rule = design_rule(_spec(0.5))
    whole = rule.whole()
    for start, stop in [(0, 1), (5, 77), (119, 120), (0, 120), (40, 40)]:
        part = rule.rows(start, stop)
        assert np.array_equal(part.y, whole.y[start:stop])
        assert np.array_equal(part.batch, whole.batch[start:stop])
        assert np.array_equal(part.groups["ps"], whole.groups["ps"][start:stop])
    index = np.array([119, 3, 3, 64])
    assert np.array_equal(rule.take(index).batch, whole.batch[index])


def test_rows_of_a_billion_row_design_cost_memory_for_those_rows_only() -> None:
    """Streaming: the codes of the last rows of 10⁹ are computed without the others (the
    whole design would take gigabytes)."""
    import tracemalloc

    spec = validate_spec(
        {
            "seed": 2,
            "classes": [{"name": "a", "n": 600_000_000}, {"name": "b", "n": 400_000_000}],
            "noise": [{"n": 1}],
            "pseudo_classes": [{"n": 1, "groups": 4}],
            "batches": {"n": 3, "confounding": 0.5},
        }
    )
    rule = design_rule(spec)
    tracemalloc.start()
    part = rule.rows(10**9 - 1000, 10**9)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1_000_000  # bytes: a few arrays of 1,000 int64 codes
    assert part.y.shape == (1000,) and set(np.unique(part.y)) <= {0, 1}
    assert set(np.unique(part.batch)) <= {0, 1, 2}


def test_labels_are_spread_as_a_random_assignment_would_spread_them() -> None:
    """The first half's share of class a is hypergeometric: sd √(p(1−p)/m · (n−m)/(n−1))."""
    n, m, p = 20_000, 10_000, 0.3
    spec = validate_spec(
        {
            "seed": 4,
            "classes": [{"name": "a", "n": int(p * n)}, {"name": "b", "n": int((1 - p) * n)}],
            "noise": [{"n": 1}],
        }
    )
    share = (design_rule(spec).rows(0, m).y == 0).mean()
    sd = np.sqrt(p * (1 - p) / m * (n - m) / (n - 1))
    assert abs(share - p) < 4 * sd
    # neighbouring rows are not alike: the label runs of a random order, not blocks
    y = build_design(spec).y.astype(float)
    assert abs(np.corrcoef(y[:-1], y[1:])[0, 1]) < 4 / np.sqrt(n)
