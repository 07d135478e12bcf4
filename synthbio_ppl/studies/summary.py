"""A study's results summarised over replicates: mean, standard deviation, Monte Carlo
standard error and a 95% t interval per (scenario, method, metric, scheme, parameter),
plus the selection stability of each selecting method (Morris, White & Crowther 2019,
Stat. Med. 38:2074, §5: report the Monte Carlo SE of every performance measure)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthbio_ppl.teaching.selection import selection_stability

__all__ = ["KEYS", "interval", "stability_rows", "summarise"]

KEYS = ["scenario", "method", "metric", "scheme", "parameter"]
"""The grouping of the summary (replicates are what it summarises)."""


def interval(values: pd.Series) -> pd.Series:
    """n, mean, sd, se = sd/√n and the 95% t interval of the mean of ``values`` (NaN
    values left out; sd, se and the interval NaN below two values)."""
    from scipy.stats import t

    x = values.to_numpy(dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    mean = float(x.mean()) if n else float("nan")
    sd = float(x.std(ddof=1)) if n > 1 else float("nan")
    se = sd / np.sqrt(n) if n > 1 else float("nan")
    half = float(t.ppf(0.975, n - 1) * se) if n > 1 else float("nan")
    return pd.Series(
        {"n": n, "mean": mean, "sd": sd, "se": se, "ci_low": mean - half, "ci_high": mean + half}
    )


def stability_rows(
    selected: dict[tuple[int, int], dict[str, list[str]]],
) -> pd.DataFrame:
    """Mean pairwise Jaccard index of each method's selected sets across a scenario's
    replicates (two empty sets agree: 1), one row per (scenario, method)."""
    by: dict[tuple[int, str], list[set[str]]] = {}
    for (scenario, _), sets in sorted(selected.items()):
        for method, names in sets.items():
            by.setdefault((scenario, method), []).append(set(names))
    rows = []
    for (scenario, method), sets in by.items():
        value = float("nan")
        if len(sets) > 1:  # the vocabulary stands for the features: Kuncheva's index unused
            vocabulary = max(len(set().union(*sets)), 1)
            value = selection_stability(sets, vocabulary)["mean_jaccard"]
        rows.append((scenario, method, "stability", "", "", len(sets), value))
    columns = [*KEYS, "n", "mean"]
    return pd.DataFrame(rows, columns=columns)


def summarise(
    table: pd.DataFrame,
    selected: dict[tuple[int, int], dict[str, list[str]]],
    axes: pd.DataFrame,
    stability: bool,
) -> pd.DataFrame:
    """The summary table: ``KEYS``, the grid's axis columns, then n, mean, sd, se, ci_low,
    ci_high. ``axes``: one row per scenario (index ``scenario``), a column per grid path."""
    from scipy.stats import t

    finite = table["value"].where(np.isfinite(table["value"]))  # ±inf left out, as NaN
    grouped = finite.groupby([table[k] for k in KEYS], sort=True, dropna=False)
    stats = grouped.agg(["count", "mean", "std"]).reset_index()
    stats = stats.rename(columns={"count": "n", "std": "sd"})
    stats["se"] = stats["sd"] / np.sqrt(stats["n"])
    with np.errstate(invalid="ignore"):
        half = t.ppf(0.975, stats["n"] - 1) * stats["se"]  # NaN below two values
    stats["ci_low"], stats["ci_high"] = stats["mean"] - half, stats["mean"] + half
    if stability:
        stats = pd.concat([stats, stability_rows(selected)], ignore_index=True)
    stats["n"] = stats["n"].astype("int64")
    return axes.reset_index().merge(stats, on="scenario", how="right")[
        ["scenario", *axes.columns, *KEYS[1:], "n", "mean", "sd", "se", "ci_low", "ci_high"]
    ]
