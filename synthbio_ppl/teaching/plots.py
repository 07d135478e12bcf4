"""Teaching plots (optional extra ``plot``: matplotlib is imported inside each function).

Every function returns the matplotlib Figure; close it with ``plt.close(fig)`` when done.
Those that take an ``X`` raise on NaN unless ``missing=`` names what to do (see each).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from synthbio_ppl.data.truth import Truth
from synthbio_ppl.processes.registry import BLOCK_PROCESSES
from synthbio_ppl.teaching.batch_confounding import confounding
from synthbio_ppl.teaching.effect_sizes import cohens_d
from synthbio_ppl.teaching.inputs import (
    check_labels,
    class_order,
    feature_matrix,
    kept_complete,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "plot_class_histograms",
    "plot_cluster_correlations",
    "plot_effect_ranking",
    "plot_pca",
    "plot_posterior_vs_truth",
]

ROLE_COLOURS = {
    role: colour for process in BLOCK_PROCESSES for role, colour in process.role_colours.items()
}
"""Plot colour of each truth role, as the registered processes declare them."""


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "synthbio_ppl.teaching.plots needs matplotlib: pip install 'synthbio_ppl[plot]'"
        ) from exc
    return plt


def _frame(X: Any) -> pd.DataFrame:
    return X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=float))


def _checked(
    X: Any, y: Any, missing: str, choices: dict[str, str]
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """``X`` as a float DataFrame and ``y`` as an array (or None), NaN handled per
    ``missing``: "raise" refuses them, "complete_case" drops their rows."""
    values, names = feature_matrix(X, missing, choices)
    frame = _frame(X).astype(float)
    labels = None if y is None else np.asarray(y, dtype=object)
    if missing == "complete_case":
        keep = kept_complete(values, names)
        frame = frame.loc[keep]
        labels = None if labels is None else labels[keep]
    return frame, labels


def _rows(labels: Any, keep: np.ndarray) -> Any:
    """The kept rows of a label vector (a Series keeps its category order)."""
    return labels[keep] if isinstance(labels, pd.Series) else np.asarray(labels, object)[keep]


_AVAILABLE = {
    "complete_case": "drop every row that holds a NaN",
    "available_case": "use each column's observed cells",
}


def _grid(n: int, ncols: int) -> tuple[int, int]:
    ncols = max(1, min(ncols, n))
    return -(-n // ncols), ncols


def plot_class_histograms(
    X: Any,
    y: Any,
    features: Sequence[Hashable] | None = None,
    top: int = 6,
    classes: Sequence[Hashable] | None = None,
    bins: int = 20,
    ncols: int = 3,
    missing: str = "raise",
) -> Figure:
    """One panel per feature: a histogram per class, Cohen's d in the title.

    ``features`` default to the ``top`` features by |d|. d compares ``classes=(a, b)``
    (``b − a``); with more than two classes and no pair it compares the last class with
    the first, as the truth's ``effect_size`` does. One axis per feature. ``missing``:
    "raise" on NaN (ValueError naming the columns), "complete_case" (drop the rows with a
    NaN) or "available_case" (each column's observed cells, for d and the histograms).
    """
    plt = _pyplot()
    chosen = _frame(X) if features is None else _frame(X)[list(features)]
    frame, labels = _checked(chosen, y, missing, _AVAILABLE)  # NaN in the plotted columns
    assert labels is not None
    order = class_order(y)
    pair = classes if classes is not None else (order[0], order[-1])
    d_all = cohens_d(frame, labels, pair, "available_case" if missing != "raise" else "raise")
    if features is None:
        features = d_all.abs().sort_values(ascending=False, kind="stable").index[:top].tolist()
    features = list(features)
    if not features:
        raise ValueError("no features to plot")
    nrows, ncols = _grid(len(features), ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 2.8 * nrows), squeeze=False)
    for ax in axes.ravel()[len(features) :]:
        fig.delaxes(ax)
    for ax, name in zip(axes.ravel(), features, strict=False):
        column = frame[name].to_numpy(dtype=float)
        seen = ~np.isnan(column)
        edges = np.histogram_bin_edges(column[seen], bins=bins)
        for label in order:
            ax.hist(column[seen & (labels == label)], bins=edges, alpha=0.5, label=str(label))
        ax.set_title(f"{name} (d = {d_all[name]:.2f})", fontsize=9)
    axes.ravel()[0].legend(fontsize=8)
    fig.suptitle(f"Class-conditional histograms; d = Cohen's d of {pair[1]} − {pair[0]}")
    fig.tight_layout()
    return fig


def _pca_scores(values: np.ndarray, standardise: bool) -> tuple[np.ndarray, np.ndarray]:
    """First two principal-component scores and the variance fraction of each (via SVD)."""
    centred = values - values.mean(axis=0)
    if standardise:
        sd = centred.std(axis=0)
        centred = centred / np.where(sd > 0, sd, 1.0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    explained = s**2 / np.sum(s**2) if np.sum(s**2) > 0 else np.zeros_like(s)
    scores = u[:, :2] * s[:2]
    if scores.shape[1] < 2:
        scores = np.column_stack([scores, np.zeros(len(scores))])
        explained = np.append(explained, 0.0)
    return scores, explained[:2]


def _scatter_by(ax: Any, scores: np.ndarray, labels: Any, title: str) -> None:
    values = np.asarray(labels, dtype=object)
    for label in class_order(labels):
        mask = values == label
        ax.scatter(scores[mask, 0], scores[mask, 1], s=14, alpha=0.75, label=str(label))
    ax.legend(fontsize=8, markerscale=1.2)
    ax.set_title(title, fontsize=10)


def plot_pca(
    X: Any, y: Any, batch: Any = None, standardise: bool = True, missing: str = "raise"
) -> Figure:
    """Rows on the first two principal components, coloured by class and (beside) by batch.

    PCA of the (standardised, when ``standardise``) centred matrix by SVD; the axis labels
    give each component's share of the variance. Two axes with ``batch``, else one; the
    batch panel's title gives Cramér's V of class × batch. ``missing``: "raise" on NaN
    (ValueError naming the columns), "complete_case" (drop the rows with a NaN, with
    their ``y`` and ``batch``) or "impute" (scikit-learn's mean ``SimpleImputer`` fitted
    on the whole table: a picture, not an evaluation).
    """
    plt = _pyplot()
    choices = {"complete_case": _AVAILABLE["complete_case"], "impute": "mean-impute (figure only)"}
    values, names = feature_matrix(X, missing, choices)
    if missing == "complete_case":  # no complete row (e.g. an all-NaN column): ValueError
        keep = kept_complete(values, names)
        values, y = values[keep], _rows(y, keep)
        batch = None if batch is None else _rows(batch, keep)
    elif missing == "impute":
        from synthbio_ppl.teaching.cross_validation import mean_imputer

        values = mean_imputer().fit_transform(values)
    scores, explained = _pca_scores(values, standardise)
    panels = 1 if batch is None else 2
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 4.2), squeeze=False)
    _scatter_by(axes[0, 0], scores, y, "PCA coloured by class")
    if batch is not None:
        v = confounding(y, batch)["cramers_v"]
        _scatter_by(axes[0, 1], scores, batch, f"PCA coloured by batch (Cramér's V = {v:.2f})")
    for ax in axes.ravel():
        ax.set_xlabel(f"PC1 ({100 * explained[0]:.1f}%)")
        ax.set_ylabel(f"PC2 ({100 * explained[1]:.1f}%)")
    fig.tight_layout()
    return fig


def plot_cluster_correlations(
    X: Any,
    truth: Truth,
    y: Any = None,
    clusters: Sequence[str] | None = None,
    missing: str = "raise",
) -> Figure:
    """Correlation heatmap of each cluster's features (``truth.features['cluster']``).

    Without ``y``: one panel per cluster, all rows. With ``y``: one row of panels per
    cluster and one column per class, to show per-class correlation (differential
    co-expression). Titles set the realised correlation that the declared ρ describes
    beside the declared ρ when the truth records it (``truth.clusters``). The declared ρ is
    a within-class correlation: without ``y`` the panel pools the classes, and a class
    shift of the anchor adds to (or a class-specific ρ mixes into) its r. The r is the mean lag-1 r
    (pairs of neighbouring features) for a Toeplitz cluster, whose pairs at lag k have
    ρ^k, else the mean off-diagonal r. Feature names label both axes, every k-th when a
    cluster has over ``MAX_TICKS``. Axes: one per panel plus one shared colour bar.
    ``missing``: "raise" on NaN (ValueError naming the columns), "complete_case" (drop the
    rows with a NaN) or "available_case" (each pair's rows where both are observed).
    """
    plt = _pyplot()
    if not isinstance(truth, Truth):
        raise ValueError(
            f"truth must be a dataset's Truth (data.truth); got {type(truth).__name__}"
        )
    membership = truth.features["cluster"].fillna("")
    if isinstance(clusters, str):
        clusters = [clusters]
    names = [c for c in dict.fromkeys(membership) if c] if clusters is None else list(clusters)
    if not names:
        raise ValueError("the truth has no clusters (truth.features['cluster'] is empty)")
    shown = membership.index[membership.isin(names)].tolist()
    table = _frame(X)
    absent = [c for c in shown if c not in table.columns]
    if absent:
        raise ValueError(
            f"X lacks the clusters' columns {absent[:5]}: give the DataFrame data.X (names "
            "as in truth.features)"
        )
    if y is not None:
        check_labels(y, len(table))
    frame, labels = _checked(table[shown], y, missing, _AVAILABLE)  # the clusters' NaN
    columns: list[Hashable | None] = [None] if y is None else list(class_order(y))
    fig, axes = plt.subplots(
        len(names),
        len(columns),
        figsize=(3.6 * len(columns) + 1.0, 3.6 * len(names)),
        squeeze=False,
        layout="constrained",  # room for the feature names
    )
    image = None
    for i, cluster in enumerate(names):
        members = membership.index[membership == cluster].tolist()
        if not members:
            raise ValueError(f"no features belong to cluster {cluster!r}")
        for j, label in enumerate(columns):
            rows = frame[members]
            if label is not None:
                rows = rows.loc[labels == label]
            r = rows.corr().to_numpy()  # pairwise complete: only NaN-free without available_case
            ax = axes[i, j]
            image = ax.imshow(r, vmin=-1, vmax=1, cmap="RdBu_r")
            _label_ticks(ax, members)
            structure, declared = _declared_rho(truth, cluster, label)
            name, pairs = REALISED.get(structure, ("mean r", _off_diagonal))
            title = f"{cluster}" if label is None else f"{cluster} · {label}"
            title += f"\n{name} = {np.nanmean(pairs(r)):.2f}"
            if declared is not None:
                title += f" (declared ρ = {declared:.2f})"
            ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label="correlation")
    return fig


MAX_TICKS = 40
"""A heatmap names every feature up to this many, else every k-th (k = ⌈p / MAX_TICKS⌉)."""


def _label_ticks(ax: Any, names: Sequence[Hashable]) -> None:
    """Feature names on both axes of a (p, p) heatmap (every k-th beyond ``MAX_TICKS``)."""
    at = np.arange(0, len(names), -(-len(names) // MAX_TICKS))
    shown = [str(names[k]) for k in at]
    size = 7 if len(at) <= 12 else 5
    ax.set_xticks(at, shown, rotation=90, fontsize=size)
    ax.set_yticks(at, shown, fontsize=size)


def _off_diagonal(r: np.ndarray) -> np.ndarray:
    return r[~np.eye(len(r), dtype=bool)]


REALISED = {"toeplitz": ("lag-1 r", lambda r: np.diagonal(r, offset=1))}
"""Per cluster structure, the realised correlations its declared ρ describes: Toeplitz
(R_ij = ρ^|i−j|) declares the lag-1 correlation; any other structure (equicorrelated:
R_ij = ρ) the mean off-diagonal r."""


def _declared_rho(
    truth: Truth, cluster: str, label: Hashable | None
) -> tuple[str | None, float | None]:
    """The cluster's structure and its declared ρ (of class ``label``, or the one ρ shared
    by every class), each None where ``truth.clusters`` does not record it."""
    table = getattr(truth, "clusters", None)
    if table is None or cluster not in getattr(table, "index", ()):
        return None, None
    row = table.loc[cluster]
    structure = row.get("structure")
    keys = [k for k in row.index if str(k).startswith("correlation[")]
    if label is not None and f"correlation[{label}]" in row.index:
        return structure, float(row[f"correlation[{label}]"])
    values = {float(row[k]) for k in keys}
    return structure, (values.pop() if len(values) == 1 else None)


def plot_effect_ranking(ranking: pd.DataFrame, top: int = 30) -> Figure:
    """Horizontal bars of |effect| for the ``top`` features of ``rank_features``.

    Bars are coloured by the true role when the ranking carries the truth; black dots mark
    the population |Cohen's d| (``true_effect_size``). The title counts how many of the
    top features carry signal. One axis.
    """
    plt = _pyplot()
    if "abs_effect" not in ranking.columns:
        raise ValueError("pass the DataFrame returned by evaluation.rank_features")
    head = ranking.sort_values("abs_effect", ascending=False, kind="stable").iloc[:top]
    method = ranking.attrs.get("method", "effect")
    fig, ax = plt.subplots(figsize=(6.5, 0.25 * len(head) + 1.6))
    positions = np.arange(len(head))[::-1]
    if "role" in head.columns:
        colours = [ROLE_COLOURS.get(r, "tab:blue") for r in head["role"]]
    else:
        colours = ["tab:blue"] * len(head)
    ax.barh(positions, head["abs_effect"], color=colours)
    ax.set_yticks(positions, [str(i) for i in head.index], fontsize=7)
    ax.set_xlabel(f"|{method}|")
    title = f"Top {len(head)} features by |{method}|"
    if "role" in head.columns:
        from matplotlib.patches import Patch

        roles = list(dict.fromkeys(head["role"]))
        handles = [Patch(color=ROLE_COLOURS.get(r, "tab:blue"), label=r) for r in roles]
        if "true_effect_size" in head.columns:
            ax.scatter(head["true_effect_size"].abs(), positions, color="black", s=12, zorder=3)
            from matplotlib.lines import Line2D

            handles.append(
                Line2D([], [], marker="o", color="black", ls="", label="true |d| (population)")
            )
        ax.legend(handles=handles, fontsize=8, loc="lower right")
    if "signal" in head.columns:
        title += f": {int(head['signal'].sum())} of {len(head)} carry signal"
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_posterior_vs_truth(recovery: pd.DataFrame, level: float = 0.9) -> Figure:
    """Posterior mean and interval (``q5``..``q95``) against each parameter's true value.

    One axis: x = truth, y = posterior mean with the interval as a vertical bar; the
    identity line is perfect recovery. Intervals that miss the truth are drawn in red; the
    title gives the coverage count (about ``level`` of them should cover, for a calibrated
    posterior over many parameters).
    """
    plt = _pyplot()
    needed = {"truth", "mean", "q5", "q95"}
    missing = needed.difference(recovery.columns)
    if missing:
        raise ValueError(f"recovery needs columns {sorted(needed)}; missing {sorted(missing)}")
    truth = recovery["truth"].to_numpy(dtype=float)
    mean = recovery["mean"].to_numpy(dtype=float)
    low, high = recovery["q5"].to_numpy(dtype=float), recovery["q95"].to_numpy(dtype=float)
    covered = (low <= truth) & (truth <= high)
    fig, ax = plt.subplots(figsize=(5, 5))
    for mask, colour, label in ((covered, "tab:blue", "covers"), (~covered, "tab:red", "misses")):
        if mask.any():
            ax.vlines(truth[mask], low[mask], high[mask], color=colour, lw=1.5, alpha=0.7)
            ax.scatter(
                truth[mask],
                mean[mask],
                color=colour,
                s=16,
                zorder=3,
                label=f"interval {label} the truth",
            )
    span = np.concatenate([truth, low, high])
    lo, hi = float(np.min(span)), float(np.max(span))
    ax.plot([lo, hi], [lo, hi], color="black", lw=1, ls="--", label="perfect recovery")
    ax.set_xlabel("true value")
    ax.set_ylabel("posterior mean and interval")
    ax.legend(fontsize=8)
    ax.set_title(
        f"{int(level * 100)}% intervals cover the truth for {int(covered.sum())} of {len(truth)}",
        fontsize=10,
    )
    fig.tight_layout()
    return fig
