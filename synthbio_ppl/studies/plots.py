"""A study's metric plotted against each grid path: one panel per path, a line per method
(and CV scheme), the mean over replicates and the path's other values with its 95% t
interval; the Bayes classifier (``oracle``) dashed. matplotlib (extra ``plot``) is
imported only here."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.studies.cells import ORACLE
from synthbio_ppl.studies.summary import interval

__all__ = ["BOUNDS", "plot_metric", "plotted_metrics"]

BOUNDS = {
    **dict.fromkeys(
        ("precision", "recall", "f1", "jaccard", "ranking_auc", "stability", "auc"), (0.0, 1.0)
    ),
    "balanced_accuracy": (0.0, 1.0),
    "coverage": (0.0, 1.0),
    "rank_correlation": (-1.0, 1.0),
    "auc_gap": (-1.0, 1.0),
    "balanced_accuracy_gap": (-1.0, 1.0),
}
"""The range of a built-in metric: a plotted interval is clipped to it."""


def plotted_metrics(table: pd.DataFrame, summary: pd.DataFrame) -> list[tuple[str, str | None]]:
    """(metric, scheme) pairs of a study with a figure of their own: each metric of the
    ``table`` (each scheme of a cross-validated one separately), then those only the
    ``summary`` holds (``stability``)."""
    out: list[tuple[str, str | None]] = []
    for metric in dict.fromkeys(table["metric"]):
        schemes = [s for s in dict.fromkeys(table.loc[table["metric"] == metric, "scheme"]) if s]
        out += [(metric, s) for s in schemes] if len(schemes) > 1 else [(metric, None)]
    out += [(m, None) for m in dict.fromkeys(summary["metric"]) if m not in set(table["metric"])]
    return [(m, s) for m, s in out if _has_values(table, summary, m)]


def _has_values(table: pd.DataFrame, summary: pd.DataFrame, metric: str) -> bool:
    """Whether any cell gave ``metric`` a number (one NaN everywhere has no figure)."""
    values = table.loc[table["metric"] == metric, "value"]
    if values.empty:
        values = summary.loc[summary["metric"] == metric, "mean"]
    return bool(np.isfinite(values.to_numpy(dtype=float)).any())


def _figure(n_panels: int, pyplot: bool) -> tuple[Any, Any]:
    size = (4.2 * n_panels, 3.4)
    if not pyplot:  # a file only: no pyplot, so the user's backend is left as it is
        from matplotlib.figure import Figure

        fig = Figure(figsize=size)
        return fig, fig.subplots(1, n_panels, squeeze=False)
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'synthbio_ppl[plot]'") from None
    return plt.subplots(1, n_panels, figsize=size, squeeze=False)


def _rows(
    table: pd.DataFrame, summary: pd.DataFrame, metric: str, scheme: str | None
) -> pd.DataFrame:
    rows = table[table["metric"] == metric]
    if rows.empty:  # a summary over replicates (stability): one value per scenario
        rows = summary[summary["metric"] == metric].rename(columns={"mean": "value"})
        rows = rows.assign(replicate=0)
    if rows.empty:
        known = ", ".join(dict.fromkeys([*table["metric"], *summary["metric"]])) or "none"
        raise SpecError("metric", metric, f"the study holds {known}")
    if scheme is not None:
        if scheme not in set(rows["scheme"]):
            known = ", ".join(s for s in dict.fromkeys(rows["scheme"]) if s) or "none"
            raise SpecError("scheme", scheme, f"{metric} was scored under: {known}")
        rows = rows[rows["scheme"].isin([scheme, ""])]  # the oracle's rows have no scheme
    return rows


def _marginal(part: pd.DataFrame, column: str | None, level: Any) -> pd.Series:
    """Per replicate, the mean over the scenarios (and parameters) at ``level`` of the
    path ``column``: the values whose spread across replicates is the Monte Carlo error
    (replicate r has the same seed in every scenario)."""
    at = part if column is None else part[part[column] == level]
    return at.groupby("replicate")["value"].mean()


def plot_metric(
    table: pd.DataFrame,
    summary: pd.DataFrame,
    axes: list[str],
    metric: str,
    scheme: str | None = None,
    pyplot: bool = True,
) -> Any:
    """One row of panels, a panel per grid path of ``axes`` (one panel without a grid): at
    each value of the path, the mean over the other paths' values and replicates, with the
    95% t interval of that mean across replicates (none for a metric with one value per
    scenario, ``stability``). A line per method (and CV scheme); the Bayes classifier
    (``oracle``) dashed. ``table``/``summary``: a study's; ``pyplot=False`` builds the
    Figure without pyplot (for a file). Returns the matplotlib Figure. Raises SpecError
    for a metric or scheme the study lacks."""
    rows = _rows(table, summary, metric, scheme)
    axes_paths = axes or [None]
    fig, panels = _figure(len(axes_paths), pyplot)
    lines = [c for c in ("method", "scheme") if rows[c].nunique() > 1 or c == "method"]
    for ax, path in zip(panels[0], axes_paths, strict=True):
        levels = list(dict.fromkeys(rows[path])) if path else ["all"]
        numeric = path is not None and all(
            isinstance(v, numbers.Number) and not isinstance(v, bool) for v in levels
        )
        where = {v: (float(v) if numeric else i) for i, v in enumerate(levels)}
        for key, part in rows.groupby(lines, sort=False):
            key = key if isinstance(key, tuple) else (key,)
            stats = [interval(_marginal(part, path, v)) for v in levels]
            xs = np.array([where[v] for v in levels], dtype=float)
            mean = np.array([s["mean"] for s in stats])
            oracle = key[0] == ORACLE
            ax.plot(
                xs,
                mean,
                "--" if oracle else "-o",
                color="black" if oracle else None,
                label=" · ".join(str(k) for k in key),
                markersize=4,
            )
            if not oracle:
                low = np.array([s["ci_low"] for s in stats])
                high = np.array([s["ci_high"] for s in stats])
                if metric in BOUNDS:  # the t interval knows nothing of the metric's range
                    low, high = np.clip(low, *BOUNDS[metric]), np.clip(high, *BOUNDS[metric])
                ax.fill_between(xs, low, high, alpha=0.15)
        if not numeric:
            ax.set_xticks(range(len(levels)), [str(v) for v in levels], rotation=20)
        elif min(levels) > 0 and max(levels) >= 10 * min(levels):  # sizes: n, p
            ax.set_xscale("log")
            ax.set_xticks(xs, [f"{v:g}" for v in levels])  # the grid's values, not decades
            ax.minorticks_off()
        ax.set_xlabel(path or "")
        ax.set_ylabel(metric + (f" ({scheme})" if scheme else ""))
        ax.grid(alpha=0.3)
    panels[0][-1].legend(fontsize=8, frameon=False)
    banded = rows["replicate"].nunique() > 1
    band = ", 95% interval over replicates" if banded else " (one value per scenario)"
    fig.suptitle(f"{metric}: mean over the other paths' values{band}")
    fig.tight_layout()
    return fig
