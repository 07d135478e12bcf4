"""Teaching plots: each returns a Figure with the expected panels and titles."""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import synthbio_ppl as sb  # noqa: E402
from synthbio_ppl.data.truth import Truth  # noqa: E402
from synthbio_ppl.teaching.plots import (  # noqa: E402
    plot_class_histograms,
    plot_cluster_correlations,
    plot_effect_ranking,
    plot_pca,
    plot_posterior_vs_truth,
)
from synthbio_ppl.teaching.selection import rank_features  # noqa: E402
from tests.conftest import RANKING_SPEC  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def shifted() -> tuple[pd.DataFrame, np.ndarray]:
    # a = 1,2,3 and b = a + shift in each feature: pooled s = 1, so d = shift exactly.
    a = np.array([1.0, 2.0, 3.0])
    X = pd.DataFrame(
        {k: np.concatenate([a, a + s]) for k, s in {"f0": 1, "f1": 2, "f2": -0.5}.items()}
    )
    return X, np.array(["a"] * 3 + ["b"] * 3, dtype=object)


def titles(fig: Figure) -> list[str]:
    return [ax.get_title() for ax in fig.axes]


def test_class_histograms_titles_carry_d() -> None:
    X, y = shifted()
    fig = plot_class_histograms(X, y, top=2)
    assert isinstance(fig, Figure)
    assert titles(fig) == ["f1 (d = 2.00)", "f0 (d = 1.00)"]  # the two largest |d|
    fig = plot_class_histograms(X, y, features=["f2", "f0", "f1"], ncols=2)
    assert len(fig.axes) == 3  # the fourth cell of the 2×2 grid is removed
    assert titles(fig) == ["f2 (d = -0.50)", "f0 (d = 1.00)", "f1 (d = 2.00)"]
    # one histogram per class: 2 classes × the bins of each panel
    assert len(fig.axes[0].patches) == 2 * 20


def test_pca_side_by_side() -> None:
    # All variance on the first column: PC1 explains 100%.
    X = np.column_stack([[1.0, -1.0, 2.0, -2.0], np.zeros(4)])
    y = ["a", "a", "b", "b"]
    fig = plot_pca(X, y, batch=y, standardise=False)
    assert len(fig.axes) == 2
    assert "class" in fig.axes[0].get_title()
    assert "batch" in fig.axes[1].get_title() and "V = 1.00" in fig.axes[1].get_title()
    assert fig.axes[0].get_xlabel() == "PC1 (100.0%)"
    assert len(plot_pca(X, y).axes) == 1


@pytest.fixture(scope="module")
def data() -> sb.Dataset:
    return sb.generate(RANKING_SPEC)


def test_cluster_correlations_show_declared_rho(data: sb.Dataset) -> None:
    fig = plot_cluster_correlations(data.X, data.truth)
    assert len(fig.axes) == 2  # one cluster + the colour bar
    fig = plot_cluster_correlations(data.X, data.truth, y=data.y)
    assert len(fig.axes) == 3  # one cluster × two classes + the colour bar
    for title in titles(fig)[:2]:
        assert "declared ρ = 0.70" in title
        r = float(re.search(r"mean r = (-?[\d.]+)", title).group(1))
        # SE of r at n = 100 per class is (1 - ρ²)/√n ≈ 0.05; 0.15 is 3 SE
        assert abs(r - 0.7) < 0.15


def test_cluster_correlations_need_clusters() -> None:
    X, _ = shifted()
    features = pd.DataFrame({"cluster": ["", "", ""]}, index=["f0", "f1", "f2"])
    truth = Truth(features, pd.DataFrame(), pd.DataFrame(), {}, pd.DataFrame())
    with pytest.raises(ValueError, match="no clusters"):
        plot_cluster_correlations(X, truth)


def test_effect_ranking_highlights_roles(data: sb.Dataset) -> None:
    ranking = rank_features(data.X, data.y, truth=data.truth)
    fig = plot_effect_ranking(ranking, top=10)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert len(ax.patches) == 10
    # 8 informative at d = 2 then 2 null features (see test_evaluation for the margins)
    assert ax.get_title().endswith("8 of 10 carry signal")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "informative" in legend and "true |d| (population)" in legend
    X, y = shifted()
    bare = plot_effect_ranking(rank_features(X, y), top=2)
    assert len(bare.axes[0].patches) == 2 and "carry signal" not in bare.axes[0].get_title()


def test_posterior_vs_truth_counts_coverage() -> None:
    recovery = pd.DataFrame(
        {
            "truth": [0.0, 1.0, 2.0, 3.0],
            "mean": [0.1, 1.2, 1.9, 4.0],
            "q5": [-0.5, 0.5, 1.0, 3.5],  # the last interval [3.5, 4.5] misses 3.0
            "q95": [0.5, 1.5, 2.5, 4.5],
        },
        index=["a", "b", "c", "d"],
    )
    fig = plot_posterior_vs_truth(recovery)
    assert len(fig.axes) == 1
    assert fig.axes[0].get_title() == "90% intervals cover the truth for 3 of 4"
    with pytest.raises(ValueError, match="q95"):
        plot_posterior_vs_truth(recovery.drop(columns="q95"))
