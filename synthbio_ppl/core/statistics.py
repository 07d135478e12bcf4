"""Shared statistics of contingency tables."""

from __future__ import annotations

import numpy as np


def cramers_v(table: np.ndarray) -> float:
    """Cramér's V of a contingency table (empty rows and columns dropped); 0 for one row or
    column. ``table``: (r, c) counts. V = √(χ²/(n·(min(r, c) − 1))) (Cramér 1946)."""
    from scipy.stats.contingency import association

    table = np.asarray(table)
    table = table[table.sum(1) > 0][:, table.sum(0) > 0]
    if min(table.shape) < 2:
        return 0.0
    return float(association(table, method="cramer"))
