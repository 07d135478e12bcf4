"""Missing cells of a table: the fraction per column and class, and real against synthetic.

A twin learns, for each feature column j and class c, the fraction of rows of class c
whose cell j is missing (NaN, None or ``pd.NA``):

    rate_jc = #{i : y_i = c, x_ij missing} / #{i : y_i = c}

and masks each synthetic cell with a Bernoulli(rate_jc) draw (``twins.model``). That is
missingness completely at random *within a class*: it keeps each column's rate in each
class, but not a dependence of the mask on other values (MAR on another column, MNAR) nor
co-missingness between columns (masks of different columns are independent given the
class). ``score_twin`` compares the same fractions between the real and synthetic tables.
Only numpy and pandas are needed here, so scoring stays free of JAX.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd


def missing_rates(
    frame: pd.DataFrame, label: str, columns: Sequence[str], classes: Sequence[Hashable]
) -> pd.DataFrame:
    """Fraction of missing cells per column and class.

    Returns a float64 DataFrame of shape (len(columns), len(classes)): index ``column`` (in
    ``columns`` order), columns ``class`` (in ``classes`` order). A class without rows in
    ``frame`` gets NaN (0/0). Labels not in ``classes`` are ignored; the caller checks them.
    """
    codes = pd.Index(list(classes), dtype=object).get_indexer(np.asarray(frame[label], object))
    missing = frame[list(columns)].isna().to_numpy()
    counts, per_class = _per_class(missing, codes, len(classes))
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = per_class / counts[None, :]
    return pd.DataFrame(
        rates,
        index=pd.Index(list(columns), name="column"),
        columns=pd.Index(list(classes), name="class"),
    )


def _per_class(missing: np.ndarray, codes: np.ndarray, n_classes: int) -> tuple[np.ndarray, ...]:
    """(rows per class (C,), missing cells per column and class (p, C)), both float64, of
    ``missing`` (n, p) bool with class ``codes`` (n,) int (−1: no class, not counted)."""
    known = codes >= 0
    onehot = np.zeros((len(codes), n_classes))
    onehot[np.flatnonzero(known), codes[known]] = 1.0
    return onehot.sum(axis=0), missing.astype(np.float64).T @ onehot


def compare_missing(
    real: np.ndarray,
    real_codes: np.ndarray,
    synthetic: np.ndarray,
    synthetic_codes: np.ndarray,
    features: Sequence[Hashable],
    classes: Sequence[Hashable],
) -> pd.DataFrame:
    """Real against synthetic missing fractions, per feature and class.

    ``real`` and ``synthetic`` are float (n, p) feature arrays (NaN: missing), the codes
    (n,) int their rows' class indices in ``classes``. One row per (feature, class) pair
    (a MultiIndex ``feature``, ``class``): the rows of the class in each table
    (``real_n``, ``synthetic_n``), the missing fractions (``real_missing``,
    ``synthetic_missing``), ``difference`` = synthetic − real and ``se``, the standard
    error of that difference when both tables share one rate:
    √(p̄(1 − p̄)(1/n_real + 1/n_synthetic)), p̄ the pooled fraction (0 when p̄ is 0 or 1).
    A class with no rows in a table gets NaN fractions there.
    """
    n_classes = len(classes)
    n_real, k_real = _per_class(np.isnan(real), real_codes, n_classes)
    n_synth, k_synth = _per_class(np.isnan(synthetic), synthetic_codes, n_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        real_rate, synth_rate = k_real / n_real, k_synth / n_synth
        pooled = (k_real + k_synth) / (n_real + n_synth)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n_real + 1 / n_synth))
    index = pd.MultiIndex.from_product([list(features), list(classes)], names=["feature", "class"])
    shape = real_rate.shape
    table = pd.DataFrame(
        {
            "real_n": np.broadcast_to(n_real, shape).ravel().astype(np.int64),
            "real_missing": real_rate.ravel(),
            "synthetic_n": np.broadcast_to(n_synth, shape).ravel().astype(np.int64),
            "synthetic_missing": synth_rate.ravel(),
        },
        index=index,
    )
    table["difference"] = table["synthetic_missing"] - table["real_missing"]
    table["se"] = se.ravel()
    return table


def overall_missing(values: np.ndarray) -> np.ndarray:
    """Fraction of NaN cells per column of a float (n, p) array (NaN for 0 rows)."""
    if values.shape[0] == 0:
        return np.full(values.shape[1], np.nan)
    return np.isnan(values).mean(axis=0)
