"""Teaching plots: each returns a Figure with the expected panels and titles."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import synthbio_ppl as sb  # noqa: E402
from synthbio_ppl.data.truth import Truth  # noqa: E402
from synthbio_ppl.teaching.pair_plots import plot_pairs  # noqa: E402
from synthbio_ppl.teaching.plots import (  # noqa: E402
    MAX_TICKS,
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


def tick_labels(ax: plt.Axes) -> tuple[list[str], list[str]]:
    return [t.get_text() for t in ax.get_xticklabels()], [
        t.get_text() for t in ax.get_yticklabels()
    ]


def test_cluster_heatmaps_name_their_features(data: sb.Dataset) -> None:
    members = ["clu0_anchor", "clu0_proxy1", "clu0_proxy2", "clu0_proxy3"]
    fig = plot_cluster_correlations(data.X, data.truth, y=data.y)
    for ax in fig.axes[:2]:
        assert tick_labels(ax) == (members, members)
    # past MAX_TICKS features, every k-th: 45 features, k = ⌈45 / 40⌉ = 2, 23 labels
    names = [f"g{i}" for i in range(MAX_TICKS + 5)]
    X = pd.DataFrame(np.random.default_rng(0).normal(size=(50, len(names))), columns=names)
    features = pd.DataFrame({"cluster": ["big"] * len(names)}, index=names)
    truth = Truth(features, pd.DataFrame(), pd.DataFrame(), {}, pd.DataFrame())
    ax = plot_cluster_correlations(X, truth).axes[0]
    assert tick_labels(ax) == (names[::2], names[::2])


TOEPLITZ_SPEC = {
    "name": "toeplitz",
    "seed": 3,
    "classes": [{"name": "a", "n": 200}, {"name": "b", "n": 200}],
    "clusters": [{"n": 6, "structure": "toeplitz", "correlation": 0.7}],
    "noise": [{"n": 2}],
}


def test_toeplitz_panels_compare_the_lag_one_correlation_with_rho() -> None:
    # Pairs at lag k have ρ^k: the mean over all pairs of 6 features is 0.48 at ρ = 0.7,
    # so only the lag-1 r estimates the declared ρ. The SE of one r is (1 − ρ²)/√n (the
    # mean of five is no noisier): 3 SE, plus 0.005 for the title's rounding.
    toeplitz = sb.generate(TOEPLITZ_SPEC)
    for y, n in ((None, 400), (toeplitz.y, 200)):
        fig = plot_cluster_correlations(toeplitz.X, toeplitz.truth, y=y)
        for title in titles(fig)[:-1]:  # the last axes is the colour bar
            found = re.search(r"lag-1 r = (-?[\d.]+) \(declared ρ = (-?[\d.]+)\)", title)
            assert found, title
            realised, declared = map(float, found.groups())
            assert declared == 0.7
            assert abs(realised - declared) <= 3 * (1 - 0.7**2) / np.sqrt(n) + 0.005


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


def legend_texts(fig: Figure) -> list[str]:
    (legend,) = fig.legends
    return [t.get_text() for t in legend.get_texts()]


def no_colour_bar(fig: Figure) -> bool:
    """No colour-bar axes, and no scatter coloured through a colour map (codes)."""
    mapped = [c for ax in fig.axes for c in ax.collections if c.get_array() is not None]
    return not any(hasattr(ax, "_colorbar") for ax in fig.axes) and not mapped


def test_pairs_of_a_dataset_show_its_strongest_signals_by_class(data: sb.Dataset) -> None:
    fig = plot_pairs(data, top=3)
    assert isinstance(fig, Figure)
    assert legend_texts(fig) == ["healthy", "diseased"]  # the classes, in category order
    assert len(fig.axes) == 9 and no_colour_bar(fig)
    grid = np.array(fig.axes).reshape(3, 3)
    # the first three of the 8 informative features (all d = 2), on the outer axes
    assert [ax.get_xlabel() for ax in grid[-1]] == ["inf0_0", "inf0_1", "inf0_2"]
    assert [ax.get_ylabel() for ax in grid[:, 0]] == ["inf0_0", "inf0_1", "inf0_2"]
    assert "true signals" in fig.get_suptitle()
    # off the diagonal one scatter per class, one colour each; on it one histogram per class
    scatters = grid[0, 1].collections
    assert len(scatters) == 2 and len({tuple(c.get_facecolor()[0]) for c in scatters}) == 2
    assert len(grid[1, 1].patches) == 2 * 20


def test_pairs_of_a_table_rank_by_sample_d() -> None:
    X, y = shifted()
    fig = plot_pairs(X, y, top=2)
    assert legend_texts(fig) == ["a", "b"] and len(fig.axes) == 4 and no_colour_bar(fig)
    assert [ax.get_xlabel() for ax in fig.axes[2:]] == ["f1", "f0"]  # |d| = 2, then 1
    fig = plot_pairs(X.to_numpy(), y, columns=[2, 0])
    assert [ax.get_ylabel() for ax in fig.axes[::2]] == ["2", "0"]


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"y": None}, "y is required"),
        ({"columns": ["f9"]}, "columns must name columns"),
        ({"columns": []}, "columns must name columns"),
        ({"top": 0}, "top"),
        ({"missing": "impute"}, "missing"),
    ],
)
def test_pairs_refuse_bad_arguments(arguments: dict[str, Any], named: str) -> None:
    X, y = shifted()
    with pytest.raises(ValueError, match=named):
        plot_pairs(X, **{"y": y, **arguments})


def test_pairs_refuse_labels_beside_a_dataset_or_a_continuous_outcome(data: sb.Dataset) -> None:
    with pytest.raises(ValueError, match="y must be None with a Dataset"):
        plot_pairs(data, data.y)
    X = np.random.default_rng(0).normal(size=(12, 2))
    with pytest.raises(ValueError, match=r"y has 12 distinct values; .* at most 10 classes"):
        plot_pairs(X, np.arange(12.0), columns=[0, 1])


def test_plots_name_what_is_wrong_with_their_inputs() -> None:
    import numpy as np
    import pytest

    import synthbio_ppl as sb
    from synthbio_ppl.teaching.pair_plots import plot_pairs
    from synthbio_ppl.teaching.plots import plot_cluster_correlations

    data = sb.generate(
        {
            "classes": [{"name": "a", "n": 30}, {"name": "b", "n": 30}],
            "informative": [{"n": 2}],
            "clusters": [{"name": "c", "n": 3, "correlation": 0.5}],
        }
    )
    cases = [
        (lambda: plot_pairs(data, columns=5), "columns must be a column name"),
        (lambda: plot_pairs(data, bins=10**12), "bins must be at most"),
        (lambda: plot_pairs(data.X.assign(s="x"), data.y, columns=["s"]), "not numbers: \\['s'\\]"),
        (lambda: plot_cluster_correlations(data.X.to_numpy(), data.truth), "X lacks"),
        (lambda: plot_cluster_correlations(data.X, data.truth, data.y[:5]), "one class label"),
        (lambda: plot_cluster_correlations(data.X, None), "truth must be"),  # type: ignore[arg-type]
        (
            lambda: plot_cluster_correlations(data.X, data.truth, np.arange(60.0)),
            "distinct values",
        ),
    ]
    for call, words in cases:
        with pytest.raises(ValueError, match=words):
            call()
