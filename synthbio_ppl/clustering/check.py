"""Does clustering find the known groups? Score clusters against the ground truth.

For every preprocessing (scaling), method and number of clusters k:

- ARI (adjusted Rand index) and NMI (normalised mutual information) between the clusters
  and the known grouping (e.g. region): ≈ 0 for unrelated partitions, 1 for identical;
- silhouette, mean of (b − a)/max(a, b) over rows (a: mean distance to its own cluster,
  b: to the nearest other), on the scaled data; BIC for Gaussian mixtures;
- stability: the mean ARI between the clusterings of pairs of bootstrap resamples, over
  the rows the two resamples share;
- ``chosen``: the k a user would pick without the truth: largest silhouette (k-means) or
  smallest BIC (GMM), per scaling and method.

scikit-learn is imported when a check runs, matplotlib when a plot is drawn.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from synthbio_ppl.clustering.options import METHODS, SCALINGS
from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.engine.progress import Progress

if TYPE_CHECKING:
    from synthbio_ppl.data.dataset import Dataset

COLUMNS = (
    "scaling", "method", "k", "ari", "nmi", "silhouette", "bic", "stability", "chosen",
    "truth_groups",
)  # fmt: skip


def scale(X: np.ndarray, how: str) -> np.ndarray:
    """Preprocess ``X``: none, zscore ((x − mean)/sd), minmax (to [0, 1]), robust
    ((x − median)/IQR) or pca_whiten (z-score, then all principal components scaled to
    unit variance, so every direction weighs the same)."""
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

    if how == "none":
        return np.asarray(X, dtype=float)
    if how == "zscore":
        return StandardScaler().fit_transform(X)
    if how == "minmax":
        return MinMaxScaler().fit_transform(X)
    if how == "robust":
        return RobustScaler().fit_transform(X)
    if how == "pca_whiten":
        return PCA(whiten=True).fit_transform(StandardScaler().fit_transform(X))
    raise SpecError("scalings", how, f"must be one of {list(SCALINGS)}")


def _cluster(method: str, X: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, float]:
    """Labels of ``X`` in k clusters, and the BIC (GMM; NaN for k-means)."""
    from sklearn.cluster import KMeans
    from sklearn.mixture import GaussianMixture

    if method == "kmeans":
        return KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(X), float("nan")
    if method == "gmm":
        model = GaussianMixture(n_components=k, random_state=seed, reg_covar=1e-5)
        labels = model.fit(X).predict(X)
        return labels, float(model.bic(X))
    raise SpecError("methods", method, f"must be one of {list(METHODS)}")


def stability(
    method: str, X: np.ndarray, k: int, n_bootstrap: int, rng: np.random.Generator
) -> float:
    """Mean pairwise ARI between clusterings of bootstrap resamples, on their common rows."""
    from sklearn.metrics import adjusted_rand_score

    if n_bootstrap < 2:
        return float("nan")
    n = X.shape[0]
    runs: list[tuple[np.ndarray, np.ndarray]] = []
    for _ in range(n_bootstrap):
        rows = np.unique(rng.integers(0, n, n))
        labels, _ = _cluster(method, X[rows], k, int(rng.integers(2**31)))
        runs.append((rows, labels))
    scores = []
    for (rows_a, lab_a), (rows_b, lab_b) in itertools.combinations(runs, 2):
        _, ia, ib = np.intersect1d(rows_a, rows_b, assume_unique=True, return_indices=True)
        scores.append(adjusted_rand_score(lab_a[ia], lab_b[ib]))
    return float(np.mean(scores))


def _inputs(
    data: Dataset | pd.DataFrame | np.ndarray,
    truth_labels: Any,
    columns: Sequence[str] | None,
) -> tuple[np.ndarray, np.ndarray]:
    X = getattr(data, "X", data)
    if isinstance(X, pd.DataFrame):
        if columns is not None:
            unknown = [c for c in columns if c not in X.columns]
            if unknown:
                raise SpecError("columns", unknown[0], "must name feature columns of the data")
            X = X[list(columns)]
        X = X.to_numpy(dtype=float)
    X = np.asarray(X, dtype=float)
    labels = truth_labels
    if isinstance(labels, str):
        labels = [labels]
    if isinstance(labels, list | tuple) and labels and all(isinstance(v, str) for v in labels):
        covariates = getattr(data, "covariates", None)
        if covariates is None:
            raise SpecError("truth_labels", labels, "names of covariates need a Dataset")
        missing = [c for c in labels if c not in covariates.columns]
        if missing:
            raise SpecError("--by", missing[0], f"must be one of {list(covariates.columns)}")
        crossed = covariates[list(labels)]
        labels = crossed.groupby(list(labels), observed=True, sort=False).ngroup().to_numpy()
    labels = np.asarray(labels)
    if labels.shape[0] != X.shape[0]:
        raise SpecError("truth_labels", labels.shape[0], f"needs one label per row ({len(X)})")
    return X, labels


def cluster_check(
    data: Dataset | pd.DataFrame | np.ndarray,
    truth_labels: Any = "region",
    k_range: Sequence[int] = (2, 3, 4, 5, 6),
    methods: Sequence[str] = METHODS,
    scalings: Sequence[str] = ("zscore", "minmax", "robust", "pca_whiten"),
    n_bootstrap: int = 3,
    seed: int = 0,
    columns: Sequence[str] | None = None,
    silhouette_rows: int = 2000,
    threads: int | None = 1,
    progress: bool | None = None,
) -> pd.DataFrame:
    """One row per (scaling, method, k): ari, nmi, silhouette, bic, stability, chosen.

    ``data`` is a Dataset (its X; ``columns`` picks features) or a feature matrix;
    ``truth_labels`` the known grouping: per-row labels, or covariate name(s) of a Dataset
    (several names are crossed, e.g. ``["region", "sex"]``). Silhouettes use a random
    subsample of ``silhouette_rows`` rows (exact below that size). ``threads`` caps the
    BLAS/OpenMP threads of each fit (None: the libraries' default); one thread per fit is
    fastest for these small problems and avoids oversubscription on a busy machine.
    ``progress``: a bar of the (scaling, method, k) settings done on stderr (None: when
    stderr is a terminal or a notebook's cell).
    """
    from threadpoolctl import threadpool_limits

    total = len(scalings) * len(methods) * len(k_range)
    bar = Progress(progress, total, 0, "cluster check", "settings")
    try:
        with threadpool_limits(limits=threads):
            return _check(
                data, truth_labels, k_range, methods, scalings, n_bootstrap, seed, columns,
                silhouette_rows, bar,
            )  # fmt: skip
    finally:
        bar.close()


def _check(
    data: Any,
    truth_labels: Any,
    k_range: Sequence[int],
    methods: Sequence[str],
    scalings: Sequence[str],
    n_bootstrap: int,
    seed: int,
    columns: Sequence[str] | None,
    silhouette_rows: int,
    bar: Progress,
) -> pd.DataFrame:
    from sklearn.metrics import (
        adjusted_rand_score,
        normalized_mutual_info_score,
        silhouette_score,
    )

    X, truth = _inputs(data, truth_labels, columns)
    n_truth = len(np.unique(truth))
    rng = np.random.default_rng(seed)
    rows = []
    for how in scalings:
        scaled = scale(X, how)
        for method in methods:
            for k in k_range:
                labels, bic = _cluster(method, scaled, int(k), seed)
                sil = float("nan")
                if len(np.unique(labels)) > 1:
                    size = None if len(X) <= silhouette_rows else silhouette_rows
                    sil = float(
                        silhouette_score(scaled, labels, sample_size=size, random_state=seed)
                    )
                rows.append(
                    {
                        "scaling": how,
                        "method": method,
                        "k": int(k),
                        "ari": adjusted_rand_score(truth, labels),
                        "nmi": normalized_mutual_info_score(truth, labels),
                        "silhouette": sil,
                        "bic": bic,
                        "stability": stability(method, scaled, int(k), n_bootstrap, rng),
                        "truth_groups": n_truth,
                    }
                )
                bar.update(1)
    table = pd.DataFrame(rows)
    table["chosen"] = False
    for _, group in table.groupby(["scaling", "method"], sort=False):
        score = -group["bic"] if group["method"].iloc[0] == "gmm" else group["silhouette"]
        if score.notna().any():
            table.loc[score.idxmax(), "chosen"] = True
    return table[list(COLUMNS)]


def chosen(table: pd.DataFrame) -> pd.DataFrame:
    """The chosen k of every (scaling, method), with its scores against the truth."""
    return table[table["chosen"]].reset_index(drop=True)


def plot_cluster_check(
    table: pd.DataFrame, metrics: Sequence[str] = ("ari", "stability"), axes: Any = None
) -> Any:
    """Each metric against k, one line per (scaling, method); the chosen k is circled.

    Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    if axes is None:
        fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.6), squeeze=False)
        axes = axes[0]
    else:
        axes = np.atleast_1d(axes)
        fig = axes[0].figure
    for ax, metric in zip(axes, metrics, strict=True):
        for (how, method), group in table.groupby(["scaling", "method"], sort=False):
            line = ax.plot(group["k"], group[metric], marker=".", label=f"{how}/{method}")[0]
            pick = group[group["chosen"]]
            ax.plot(pick["k"], pick[metric], "o", mfc="none", ms=10, color=line.get_color())
        ax.set_xlabel("k (clusters)")
        ax.set_ylabel(metric)
        ax.axhline(0.0, color="0.7", lw=0.8)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig
