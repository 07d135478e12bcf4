"""Integer counts from shares that add up exactly (largest remainders)."""

from __future__ import annotations

import numpy as np


def largest_remainder(total: int, shares: np.ndarray) -> np.ndarray:
    """Integers proportional to ``shares`` that sum to ``total`` (Hamilton's method).

    ``shares``: (k,) non-negative numbers, not all 0. Returns (k,) int64 counts; each is the
    floor of its exact share or one more, the extra units going to the largest fractions
    (ties to the earlier entry).
    """
    exact = total * np.asarray(shares, dtype=float) / np.sum(shares)
    counts = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: total - counts.sum()]] += 1
    return counts
