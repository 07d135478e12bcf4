"""Pair plot: a few features against each other, one colour per class, with a legend.

matplotlib is the optional extra ``plot``, imported when a plot is drawn (as in
``teaching.plots``). The function returns the matplotlib Figure; close it with
``plt.close(fig)`` when done.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from numbers import Integral
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from synthbio_ppl.data.dataset import Dataset
from synthbio_ppl.teaching.effect_sizes import cohens_d
from synthbio_ppl.teaching.inputs import class_order, row_labels, shown
from synthbio_ppl.teaching.plots import _checked, _frame, _pyplot

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_pairs"]

MAX_BINS = 1000
"""Histogram bins on the diagonal at most (one bar per bin per class)."""
CLASS_COLOURS = "tab10"
"""The qualitative colour map of the classes: one distinct colour each, up to its 10."""

_COMPLETE = {"complete_case": "drop every row that holds a NaN in the plotted columns"}


def plot_pairs(
    data_or_X: Any,
    y: Any = None,
    columns: Sequence[Hashable] | None = None,
    top: int = 4,
    bins: int = 20,
    missing: str = "raise",
) -> Figure:
    """A grid of pairwise scatters of a few features, per-class histograms on the diagonal.

    ``data_or_X``: a ``Dataset`` (its ``X`` and class labels ``y``; then ``y`` must be
    None) or a feature table (DataFrame or (n, p) array) with ``y``, one class label per
    row. ``columns`` default to the ``top`` strongest true signals of a Dataset (the
    features with ``truth.features["signal"]``, largest population |effect_size| first,
    then the others), or, for a table, the ``top`` features by sample |Cohen's d| of the
    last class against the first (``effect_sizes.cohens_d``).

    Panel (i, j) of the k × k grid plots column j (x) against column i (y); panel (i, i)
    holds one histogram per class on shared bins. Each class keeps one colour of the
    qualitative map ``CLASS_COLOURS`` in every panel, and one figure legend names the
    classes (no colour bar). k² axes. ``missing``: "raise" on NaN in the plotted columns
    (ValueError naming them) or "complete_case" (drop those rows).

    Raises ValueError naming the argument: ``y`` missing with a table or given with a
    Dataset, or with more classes than the colour map has colours (a continuous outcome
    is no class label); ``columns`` empty or naming no column of X; ``top`` or ``bins``
    below 1; ``missing`` another value.
    """
    plt = _pyplot()
    for name, value in (("top", top), ("bins", bins)):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
            raise ValueError(f"{name} must be an integer ≥ 1; got {shown(value)}")
    if bins > MAX_BINS:
        raise ValueError(f"bins must be at most {MAX_BINS}; got {bins}")
    if missing != "raise" and missing not in _COMPLETE:
        raise ValueError(f"missing must be 'raise' or 'complete_case'; got {shown(missing)}")
    X, labels, classes, truth = _inputs(data_or_X, y)
    palette = plt.get_cmap(CLASS_COLOURS).colors
    if len(classes) > len(palette):
        raise ValueError(
            f"y has {len(classes)} distinct values; a pair plot colours at most "
            f"{len(palette)} classes (pass class labels, not a continuous outcome)"
        )
    from_truth = columns is None and truth is not None
    chosen = _columns(X, labels, classes, columns, top, truth)
    frame, values = _checked(X[chosen], labels, missing, _COMPLETE)
    assert values is not None
    k = len(chosen)
    fig, axes = plt.subplots(
        k, k, figsize=(2.3 * k + 1.4, 2.3 * k), squeeze=False, layout="constrained"
    )
    colour = dict(zip(classes, palette, strict=False))
    for i, row_name in enumerate(chosen):
        for j, column_name in enumerate(chosen):
            ax = axes[i, j]
            x = frame[column_name].to_numpy()
            if i == j:
                _histograms(ax, x, values, colour, bins)
            else:
                height = frame[row_name].to_numpy()
                for label in classes:
                    rows = values == label
                    ax.scatter(x[rows], height[rows], s=8, alpha=0.6, color=colour[label])
            ax.tick_params(labelsize=7)
            if i == k - 1:
                ax.set_xlabel(str(column_name), fontsize=8)
            if j == 0:
                ax.set_ylabel(str(row_name), fontsize=8)
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], marker="o", ls="", color=colour[label], label=str(label))
        for label in classes
    ]
    fig.legend(handles=handles, loc="outside right upper", title="class", fontsize=8)
    which = " (the strongest true signals)" if from_truth else ""
    fig.suptitle(f"Pairs of {k} features by class{which}")
    return fig


def _inputs(data_or_X: Any, y: Any) -> tuple[pd.DataFrame, np.ndarray, list[Hashable], Any]:
    """X as a DataFrame, the labels as an (n,) object array, the classes in order
    (``class_order``: a categorical's order, else sorted) and the truth (or None)."""
    if isinstance(data_or_X, Dataset):
        if y is not None:
            raise ValueError(
                "y must be None with a Dataset (it carries its labels); pass X and y to "
                "colour by other labels"
            )
        X, y, truth = data_or_X.X, data_or_X.y, data_or_X.truth
    else:
        if y is None:
            raise ValueError("y is required with a feature table: one class label per row")
        X, truth = _frame(data_or_X), None
    return X, row_labels(y, len(X)), class_order(y), truth


def _columns(
    X: pd.DataFrame,
    labels: np.ndarray,
    classes: list[Hashable],
    columns: Sequence[Hashable] | None,
    top: int,
    truth: Any,
) -> list[Hashable]:
    """The columns to plot: as given (checked), the strongest true signals, or by |d|
    (each column's observed cells)."""
    if X.columns.duplicated().any():
        twice = X.columns[X.columns.duplicated()].unique().tolist()
        raise ValueError(f"X has columns named twice {twice[:5]}: name each column once")
    if columns is not None:
        if not isinstance(columns, str | Sequence) or isinstance(columns, bytes):
            raise ValueError(f"columns must be a column name or a list of them; got {columns!r}")
        chosen = [columns] if isinstance(columns, str) else list(columns)
        unknown = [c for c in chosen if c not in X.columns]
        if not chosen or unknown:
            raise ValueError(
                f"columns must name columns of X; {unknown if chosen else 'none given'}"
            )
        return chosen
    if truth is not None:
        features = truth.features.reindex(X.columns)
        order = pd.DataFrame(
            {
                "signal": features["signal"].fillna(False).astype(bool),
                "d": features["effect_size"].abs().fillna(0.0),
            }
        )
        ranked = order.sort_values(["signal", "d"], ascending=False, kind="stable")
        return ranked.index[:top].tolist()
    if len(classes) < 2:
        raise ValueError(f"columns: y has one class {classes}; name the columns to plot")
    d = cohens_d(X, labels, (classes[0], classes[-1]), "available_case")
    return d.abs().sort_values(ascending=False, kind="stable").index[:top].tolist()


def _histograms(
    ax: Any, column: np.ndarray, labels: np.ndarray, colour: dict[Hashable, Any], bins: int
) -> None:
    """One histogram per class on bins shared by every class."""
    edges = np.histogram_bin_edges(column, bins=bins)
    for label, shade in colour.items():
        ax.hist(column[labels == label], bins=edges, alpha=0.5, color=shade)
