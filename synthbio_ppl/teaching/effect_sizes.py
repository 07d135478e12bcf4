"""Effect sizes of every feature between two classes: Cohen's d and Cliff's delta.

Computed for every feature at once (vectorised over columns). Statistics compare class
``b`` with class ``a`` (``b - a``), the same orientation as the truth's ``effect_size``
(last class minus first).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from synthbio_ppl.teaching.inputs import split_classes

__all__ = ["cliffs_delta", "cohens_d"]


def cohens_d(X: Any, y: Any, classes: Sequence[Hashable] | None = None) -> pd.Series:
    """Cohen's d of every feature between two classes, with the pooled sd.

        d_j = (mean_b,j − mean_a,j) / s_j,
        s_j² = (Σ_a (x − mean_a,j)² + Σ_b (x − mean_b,j)²) / (n_a + n_b − 2).

    ``classes=(a, b)`` picks the pair (required when ``y`` has more than two classes);
    by default ``a`` and ``b`` are the two classes in category (or sorted) order.
    A feature with no spread inside either class (s_j = 0, e.g. a constant feature) gets
    d = 0 when both classes hold the same value and ±inf when they hold different values
    (perfect separation without spread), never NaN.
    """
    xa, xb, names = split_classes(X, y, classes)
    na, nb = xa.shape[0], xb.shape[0]
    if na < 1 or nb < 1 or na + nb < 3:
        raise ValueError(f"Cohen's d needs n_a, n_b >= 1 and n_a + n_b >= 3; got {na}, {nb}")
    # Constant columns take their value exactly, so rounding cannot fake a spread.
    flat_a = np.ptp(xa, axis=0) == 0
    flat_b = np.ptp(xb, axis=0) == 0
    mean_a = np.where(flat_a, xa[0], xa.mean(axis=0))
    mean_b = np.where(flat_b, xb[0], xb.mean(axis=0))
    ss_a = np.where(flat_a, 0.0, ((xa - mean_a) ** 2).sum(axis=0))
    ss_b = np.where(flat_b, 0.0, ((xb - mean_b) ** 2).sum(axis=0))
    sd = np.sqrt((ss_a + ss_b) / (na + nb - 2))
    diff = mean_b - mean_a
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(sd > 0, diff / sd, np.sign(diff) * np.inf)
    d = np.where((sd == 0) & (diff == 0), 0.0, d)
    return pd.Series(d, index=names, name="cohens_d")


def cliffs_delta(X: Any, y: Any, classes: Sequence[Hashable] | None = None) -> pd.Series:
    """Cliff's delta of every feature between two classes, ties counted exactly.

        δ_j = P(x_b > x_a) − P(x_b < x_a) = 2·U_b / (n_a·n_b) − 1,
        U_b = R_b − n_b(n_b + 1)/2,

    with R_b the sum of the mid-ranks of class ``b`` in the pooled column (ties share
    their mean rank, i.e. count one half). One ranking per feature: O(n log n), not the
    O(n_a·n_b) pair count. δ lies in [−1, 1]; a constant feature gives 0.
    """
    xa, xb, names = split_classes(X, y, classes)
    na, nb = xa.shape[0], xb.shape[0]
    if na < 1 or nb < 1:
        raise ValueError(f"Cliff's delta needs both classes present; got n_a={na}, n_b={nb}")
    ranks = rankdata(np.concatenate([xa, xb]), method="average", axis=0)
    u_b = ranks[na:].sum(axis=0) - nb * (nb + 1) / 2
    return pd.Series(2.0 * u_b / (na * nb) - 1.0, index=names, name="cliffs_delta")
