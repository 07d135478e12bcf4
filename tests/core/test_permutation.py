"""The keyed permutation behind the row design: a bijection, keyed, and random-looking."""

from __future__ import annotations

import numpy as np
import pytest

from synthbio_ppl.core.permutation import permuted


@pytest.mark.parametrize("n", [1, 2, 3, 7, 16, 17, 255, 256, 257, 4099])
def test_it_is_a_bijection_of_the_domain(n: int) -> None:
    values = permuted(5, "x", n, np.arange(n))
    assert np.array_equal(np.sort(values), np.arange(n))


def test_it_is_evaluated_pointwise_and_keyed_by_seed_and_name() -> None:
    n = 10_000
    whole = permuted(5, "x", n, np.arange(n))
    index = np.array([9_999, 0, 17, 17])
    assert np.array_equal(permuted(5, "x", n, index), whole[index])
    assert not np.array_equal(permuted(6, "x", n, np.arange(n)), whole)
    assert not np.array_equal(permuted(5, "y", n, np.arange(n)), whole)
    assert np.mean(whole == np.arange(n)) < 0.01  # fixed points: about 1/n of them


def test_positions_are_uncorrelated_with_indices() -> None:
    """For a uniform random permutation corr(i, π(i)) has sd 1/√(n−1)."""
    n = 50_000
    values = permuted(11, "x", n, np.arange(n))
    assert abs(np.corrcoef(np.arange(n), values)[0, 1]) < 4 / np.sqrt(n - 1)
    # the first tenth lands evenly over the ten tenths (a χ² test of the counts)
    counts = np.bincount(values[: n // 10] * 10 // n, minlength=10)
    expected = n / 100
    assert ((counts - expected) ** 2 / expected).sum() < 27.9  # χ²(9) at 0.001


def test_an_index_outside_the_domain_is_refused() -> None:
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        permuted(1, "x", 10, np.array([10]))
