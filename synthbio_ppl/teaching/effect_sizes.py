"""Effect sizes of every feature between two classes: Cohen's d and Cliff's delta.

Computed for every feature at once (vectorised over columns). Statistics compare class
``b`` with class ``a`` (``b - a``), the same orientation as the truth's ``effect_size``
(last class minus first).

NaN in ``X`` raise by default (``missing="raise"``); ``missing="complete_case"`` drops the
rows that hold one, ``missing="available_case"`` uses each column's observed cells (its
own n_a, n_b). The choice is recorded in the result's ``attrs["missing"]``.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from synthbio_ppl.teaching.inputs import split_classes

__all__ = ["EffectMissing", "cliffs_delta", "cohens_d"]

EffectMissing = Literal["raise", "complete_case", "available_case"]


def _counts(xa: np.ndarray, xb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (~np.isnan(xa)).sum(axis=0), (~np.isnan(xb)).sum(axis=0)


def _blank_short(
    values: np.ndarray, short: np.ndarray, names: pd.Index, need: str, stat: str
) -> np.ndarray:
    """NaN where a column has too few observed cells (available_case only), with a warning."""
    if short.any():
        warnings.warn(
            f"{stat} is NaN for {int(short.sum())} column(s) with too few observed cells "
            f"({need}), e.g. {names[np.flatnonzero(short)[:3]].tolist()}",
            UserWarning,
            stacklevel=3,
        )
    return np.where(short, np.nan, values)


def cohens_d(
    X: Any,
    y: Any,
    classes: Sequence[Hashable] | None = None,
    missing: EffectMissing = "raise",
) -> pd.Series:
    """Cohen's d of every feature between two classes, with the pooled sd.

        d_j = (mean_b,j − mean_a,j) / s_j,
        s_j² = (Σ_a (x − mean_a,j)² + Σ_b (x − mean_b,j)²) / (n_a + n_b − 2).

    ``X``: (n, p) array or DataFrame; ``y``: n labels. ``classes=(a, b)`` picks the pair
    (required when ``y`` has more than two classes); by default ``a`` and ``b`` are the
    two classes in category (or sorted) order. A feature with no spread inside either
    class (s_j = 0, e.g. a constant feature) gets d = 0 when both classes hold the same
    value and ±inf when they hold different values (perfect separation without spread).

    ``missing``: "raise" (ValueError naming the columns with NaN), "complete_case" (drop
    the rows with a NaN) or "available_case" (each column's observed cells; a column
    with n_a or n_b = 0 or n_a + n_b < 3 observed gets NaN and a warning). Returns a
    float64 Series named ``cohens_d``, indexed by feature (``attrs["missing"]`` records the
    choice). Raises ValueError when a class has no row.
    """
    xa, xb, names = split_classes(X, y, classes, missing)
    if xa.shape[0] < 1 or xb.shape[0] < 1 or xa.shape[0] + xb.shape[0] < 3:
        raise ValueError(
            f"Cohen's d needs n_a, n_b >= 1 and n_a + n_b >= 3; got {xa.shape[0]}, {xb.shape[0]}"
        )
    na, nb = _counts(xa, xb)
    short = (na < 1) | (nb < 1) | (na + nb < 3)
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: blanked below
        # Constant columns take their value exactly, so rounding cannot fake a spread.
        flat_a = np.nanmax(xa, axis=0) == np.nanmin(xa, axis=0)
        flat_b = np.nanmax(xb, axis=0) == np.nanmin(xb, axis=0)
        mean_a = np.where(flat_a, np.nanmax(xa, axis=0), np.nansum(xa, axis=0) / na)
        mean_b = np.where(flat_b, np.nanmax(xb, axis=0), np.nansum(xb, axis=0) / nb)
        ss_a = np.where(flat_a, 0.0, np.nansum((xa - mean_a) ** 2, axis=0))
        ss_b = np.where(flat_b, 0.0, np.nansum((xb - mean_b) ** 2, axis=0))
        sd = np.sqrt((ss_a + ss_b) / (na + nb - 2))
        diff = mean_b - mean_a
        d = np.where(sd > 0, diff / sd, np.sign(diff) * np.inf)
    d = np.where((sd == 0) & (diff == 0), 0.0, d)
    d = _blank_short(d, short, names, "n_a, n_b >= 1 and n_a + n_b >= 3", "Cohen's d")
    out = pd.Series(d, index=names, name="cohens_d")
    out.attrs["missing"] = missing
    return out


def cliffs_delta(
    X: Any,
    y: Any,
    classes: Sequence[Hashable] | None = None,
    missing: EffectMissing = "raise",
) -> pd.Series:
    """Cliff's delta of every feature between two classes, ties counted exactly.

        δ_j = P(x_b > x_a) − P(x_b < x_a) = 2·U_b / (n_a·n_b) − 1,
        U_b = R_b − n_b(n_b + 1)/2,

    with R_b the sum of the mid-ranks of class ``b`` in the pooled column (ties share
    their mean rank, i.e. count one half). One ranking per feature: O(n log n), not the
    O(n_a·n_b) pair count. δ lies in [−1, 1]; a constant feature gives 0.

    ``X``, ``y``, ``classes`` and ``missing`` as in ``cohens_d`` (available_case ranks each
    column's observed cells; a column with n_a or n_b = 0 observed gets NaN and a
    warning). Returns a float64 Series named ``cliffs_delta`` (``attrs`` as in
    ``cohens_d``). Raises ValueError when a class has no row.
    """
    xa, xb, names = split_classes(X, y, classes, missing)
    if xa.shape[0] < 1 or xb.shape[0] < 1:
        raise ValueError(
            f"Cliff's delta needs both classes present; got n_a={xa.shape[0]}, n_b={xb.shape[0]}"
        )
    na, nb = _counts(xa, xb)
    pooled = np.concatenate([xa, xb])
    if np.isnan(pooled).any():  # ranks among each column's observed cells; NaN ranks stay NaN
        ranks = rankdata(pooled, method="average", axis=0, nan_policy="omit")
    else:
        ranks = rankdata(pooled, method="average", axis=0)
    u_b = np.nansum(ranks[xa.shape[0] :], axis=0) - nb * (nb + 1) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = 2.0 * u_b / (na * nb) - 1.0
    delta = _blank_short(delta, (na < 1) | (nb < 1), names, "n_a, n_b >= 1", "Cliff's delta")
    out = pd.Series(delta, index=names, name="cliffs_delta")
    out.attrs["missing"] = missing
    return out
