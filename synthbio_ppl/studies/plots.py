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

__all__ = ["plot_metric", "plotted_metrics"]


def plotted_metrics(table: pd.DataFrame) -> list[tuple[str, str | None]]:
    """(metric, scheme) pairs of a study's ``table`` with a figure of their own: each
    metric, and each scheme of a cross-validated one separately."""
    out = []
    for metric in dict.fromkeys(table["metric"]):
        schemes = [s for s in dict.fromkeys(table.loc[table["metric"] == metric, "scheme"]) if s]
        out += [(metric, s) for s in schemes] if len(schemes) > 1 else [(metric, None)]
    return out


def _pyplot() -> Any:
    try:
        import matplotlib

        if matplotlib.get_backend().lower().startswith("qt"):
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'synthbio_ppl[plot]'") from None
    return plt


def plot_metric(
    table: pd.DataFrame, axes: list[str], metric: str, scheme: str | None = None
) -> Any:
    """One row of panels, a panel per grid path of ``axes`` (one panel without a grid), of
    a study's tidy ``table``; returns the matplotlib Figure. Raises SpecError for a metric
    or scheme the table lacks."""
    rows = table[table["metric"] == metric]
    if rows.empty:
        known = ", ".join(dict.fromkeys(table["metric"])) or "none"
        raise SpecError("metric", metric, f"the study's table holds {known}")
    if scheme is not None:
        if scheme not in set(rows["scheme"]):
            known = ", ".join(s for s in dict.fromkeys(rows["scheme"]) if s) or "none"
            raise SpecError("scheme", scheme, f"{metric} was scored under: {known}")
        rows = rows[rows["scheme"] == scheme]
    plt = _pyplot()
    axes_paths = axes or [None]
    fig, panels = plt.subplots(
        1, len(axes_paths), figsize=(4.2 * len(axes_paths), 3.4), squeeze=False
    )
    lines = [c for c in ("method", "scheme") if rows[c].nunique() > 1 or c == "method"]
    for ax, path in zip(panels[0], axes_paths, strict=True):
        x_col = path if path is not None else "method"
        levels = list(dict.fromkeys(rows[x_col])) if path else ["all"]
        numeric = all(isinstance(v, numbers.Number) for v in levels) and path is not None
        where = {v: (float(v) if numeric else i) for i, v in enumerate(levels)}
        for key, part in rows.groupby(lines, sort=False):
            key = key if isinstance(key, tuple) else (key,)
            stats = [
                interval(part.loc[part[x_col] == v, "value"] if path else part["value"])
                for v in levels
            ]
            xs = np.array([where[v] for v in levels], dtype=float)
            mean = np.array([s["mean"] for s in stats])
            low = np.array([s["ci_low"] for s in stats])
            high = np.array([s["ci_high"] for s in stats])
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
                ax.fill_between(xs, low, high, alpha=0.15)
        if not numeric:
            ax.set_xticks(range(len(levels)), [str(v) for v in levels], rotation=20)
        elif min(levels) > 0 and max(levels) >= 10 * min(levels):  # sizes: n, p
            ax.set_xscale("log")
        ax.set_xlabel(path or "")
        ax.set_ylabel(metric + (f" ({scheme})" if scheme else ""))
        ax.grid(alpha=0.3)
    panels[0][-1].legend(fontsize=8, frameon=False)
    fig.suptitle(f"{metric}: mean over replicates and the other paths, 95% interval")
    fig.tight_layout()
    return fig
