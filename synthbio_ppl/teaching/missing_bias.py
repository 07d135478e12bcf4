"""How a missingness mechanism biases what the observed cells say, against the exact truth.

``mean_bias`` and ``effect_size_bias``: the mean and Cohen's d of the observed cells per
column, next to the complete values of the same rows (``truth.complete``: what the mask
did to this draw, exactly) and the population (``truth.class_means``,
``truth.effect_sizes``), with the sampling error MCAR would cause. ``rate_table``:
realised missing rates against each ``missing:`` entry's rate. Missing completely at
random (MCAR) and at random (MAR, given its driver) leave them unbiased; missing not at
random (MNAR) does not (Rubin 1976, Biometrika 63:581; Little & Rubin, Statistical
Analysis with Missing Data, 3rd ed., 2019).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from synthbio_ppl.teaching.effect_sizes import cohens_d
from synthbio_ppl.teaching.inputs import class_order, class_pair, shown
from synthbio_ppl.teaching.selection import true_effect

if TYPE_CHECKING:
    from synthbio_ppl.data.dataset import Dataset

__all__ = ["MEAN_BIAS_COLUMNS", "effect_size_bias", "mean_bias", "rate_table"]


def _tables(data: Dataset) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(X, complete) as float64 frames: complete holds the values before masking (the
    truth's masked columns, X's own values elsewhere). Raises ValueError when X has NaN
    that the truth holds no complete value for."""
    X = data.X.astype(np.float64)
    complete = X.copy()
    if data.truth.complete is not None:
        masked = data.truth.complete.columns.intersection(X.columns)
        complete[masked] = data.truth.complete[masked].astype(np.float64)
    unknown = complete.columns[complete.isna().any()]
    if len(unknown):
        raise ValueError(
            f"X has NaN in columns {unknown[:5].tolist()} without complete values in "
            "data.truth.complete; these helpers need a dataset generated with missing:"
        )
    return X, complete


def _columns(X: pd.DataFrame, columns: Sequence[Hashable] | None) -> list[Hashable]:
    """``columns`` checked against ``X`` (a string names one column); by default those
    with a NaN (all when none). An empty or non-iterable ``columns`` is a ValueError."""
    if columns is not None:
        if isinstance(columns, str):
            columns = [columns]
        try:
            columns = list(columns)
        except TypeError:
            raise ValueError(
                f"columns must be a list of column names of data.X; got {shown(columns)}"
            ) from None
        if not columns:
            raise ValueError(
                "columns is empty; name at least one column of data.X, or pass None for "
                "the columns with a NaN"
            )
        absent = [c for c in columns if c not in X.columns]
        if absent:
            raise ValueError(f"columns not in data.X: {absent[:5]}")
        return list(columns)
    hit = X.columns[X.isna().any()].tolist()
    return hit or X.columns.tolist()


MEAN_BIAS_COLUMNS = [
    "n",
    "n_observed",
    "missing_rate",
    "observed_mean",
    "complete_mean",
    "population_mean",
    "bias",
    "se",
    "z",
]


def mean_bias(
    data: Dataset,
    by: Literal["class"] | None = "class",
    columns: Sequence[Hashable] | None = None,
) -> pd.DataFrame:
    """The mean of the observed cells against the truth, per column (and class).

    ``data``: a Dataset generated with ``missing:`` (``data.truth.complete`` gives the
    values under the NaN). ``columns`` default to those with a NaN (all when none has).
    Per column, or per (column, class) with ``by="class"``:

        bias = observed_mean − complete_mean   (what the mask did to this draw, exactly)
        se = sd · sqrt(1/n_observed − 1/n)     (sd of the complete values, ddof 1)
        z = bias / se

    ``se`` is the standard deviation of the mean of n_observed cells picked at random
    (without replacement) among the n: what MCAR would move the mean by. Under MCAR
    |z| is mostly below 2; MNAR with strength < 0 (low values go missing) gives a large
    positive z. ``population_mean``: ``truth.class_means`` (per class), or their average
    weighted by the class counts (pooled): the level means before batch effects.

    Returns a float DataFrame indexed by ``column`` (or ``column``, ``class``) with
    ``n``, ``n_observed`` (int), ``missing_rate``, ``observed_mean``, ``complete_mean``,
    ``population_mean``, ``bias``, ``se``, ``z``. Raises ValueError for an unknown column,
    an empty ``columns``, another ``by``, or NaN without complete values.
    """
    if not (by is None or (isinstance(by, str) and by == "class")):  # never `in` a Series
        raise ValueError(
            f"by must be 'class' (per column and class) or None (per column); got {shown(by)}"
        )
    X, complete = _tables(data)
    names = _columns(X, columns)
    labels = data.y.to_numpy(dtype=object)
    classes = class_order(data.y)
    groups = [(c, labels == c) for c in classes] if by else [(None, np.ones(len(X), bool))]
    means = data.truth.class_means
    shares = np.array([np.mean(labels == c) for c in classes])
    rows = []
    for name in names:
        x, full = X[name].to_numpy(), complete[name].to_numpy()
        for label, rows_in in groups:
            seen = rows_in & ~np.isnan(x)
            n, k = int(rows_in.sum()), int(seen.sum())
            if name in means.index:
                level = means.loc[name, classes].to_numpy(dtype=float)
                population = level[classes.index(label)] if by else float(shares @ level)
            else:
                population = np.nan
            observed = x[seen].mean() if k else np.nan
            truth = full[rows_in].mean() if n else np.nan
            sd = full[rows_in].std(ddof=1) if n > 1 else np.nan
            se = sd * np.sqrt(1 / k - 1 / n) if k else np.nan
            bias = observed - truth
            with np.errstate(divide="ignore", invalid="ignore"):
                z = bias / se if se > 0 else (0.0 if bias == 0 else np.nan)
            rows.append((name, label, n, k, 1 - k / n, observed, truth, population, bias, se, z))
    frame = pd.DataFrame(rows, columns=["column", "class", *MEAN_BIAS_COLUMNS])
    if by:
        return frame.set_index(["column", "class"])
    return frame.drop(columns="class").set_index("column")


def _se_d(d: np.ndarray, na: np.ndarray, nb: np.ndarray) -> np.ndarray:
    """Large-sample sd of Cohen's d: sqrt((n_a + n_b)/(n_a·n_b) + d²/(2(n_a + n_b)))."""
    return np.sqrt((na + nb) / (na * nb) + d**2 / (2 * (na + nb)))


def effect_size_bias(
    data: Dataset,
    classes: Sequence[Hashable] | None = None,
    columns: Sequence[Hashable] | None = None,
) -> pd.DataFrame:
    """Cohen's d of the observed cells against the truth, per column.

    ``observed_d``: d of ``b − a`` (``classes=(a, b)``, as in ``cohens_d``) on each
    column's observed cells (available case); ``complete_d``: d of the same rows before
    masking; ``population_d``: the truth's effect size of the pair. ``columns`` default
    to those with a NaN.

        bias = observed_d − complete_d,   se = sqrt(se(observed_d)² − se(complete_d)²),
        se(d) = sqrt((n_a + n_b)/(n_a·n_b) + d²/(2(n_a + n_b))),   z = bias / se

    ``se`` is the large-sample sd of the change in d when a random subset of the cells
    (MCAR) is kept: the variance of a subsample's statistic less the full sample's.

    Returns a DataFrame indexed by ``column`` with ``n_a``, ``n_b`` (observed, int),
    ``observed_d``, ``complete_d``, ``population_d``, ``bias``, ``se``, ``z`` (float).
    Raises ValueError as ``mean_bias`` does, or for a bad class pair.
    """
    X, complete = _tables(data)
    names = _columns(X, columns)
    a, b = class_pair(data.y, classes)
    observed = cohens_d(X[names], data.y, (a, b), missing="available_case").to_numpy()
    full = cohens_d(complete[names], data.y, (a, b)).to_numpy()
    seen = X[names].notna().to_numpy()
    labels = data.y.to_numpy(dtype=object)
    na, nb = seen[labels == a].sum(axis=0), seen[labels == b].sum(axis=0)
    fa, fb = int((labels == a).sum()), int((labels == b).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = _se_d(observed, na, nb) ** 2 - _se_d(full, fa, fb) ** 2
        se = np.sqrt(np.maximum(gap, 0.0))
        bias = observed - full
        z = np.where(se > 0, bias / se, np.where(bias == 0, 0.0, np.nan))
    population = true_effect(data.truth, a, b).reindex(names).to_numpy(dtype=float)
    frame = pd.DataFrame(
        {
            "n_a": na,
            "n_b": nb,
            "observed_d": observed,
            "complete_d": full,
            "population_d": population,
            "bias": bias,
            "se": se,
            "z": z,
        },
        index=pd.Index(names, name="column"),
    )
    frame.attrs["classes"] = (a, b)
    return frame


def rate_table(data: Dataset) -> pd.DataFrame:
    """Realised missing rates against each ``missing:`` entry's target, per column.

    One row per (entry, column): ``mechanism``, ``target`` (the spec's rate),
    ``realised`` (share of the column's cells that are NaN, from ``truth.missing``; with
    two entries on one column it counts both), ``se`` = sqrt(target·(1 − target)/n) and
    ``z`` = (realised − target)/se. The binomial se is exact for MCAR and an upper bound
    for MAR and MNAR (cells with unequal probabilities vary less); an ``exact`` entry
    hits round(target·n)/n. Returns an empty frame (same columns) without ``missing:``.
    """
    columns = ["entry", "column", "mechanism", "target", "realised", "se", "z"]
    entries = data.truth.missingness or {}
    mask = data.truth.missing
    if mask is None or not entries:
        return pd.DataFrame(columns=columns)
    n = len(mask)
    rows = []
    for entry, info in entries.items():
        rate = float(info["rate"])
        se = np.sqrt(rate * (1 - rate) / n)
        for column in info["columns"].index:
            realised = float(mask[column].mean())
            z = (realised - rate) / se if se > 0 else 0.0
            rows.append((entry, column, info["mechanism"], rate, realised, se, z))
    return pd.DataFrame(rows, columns=columns).set_index(["entry", "column"])
