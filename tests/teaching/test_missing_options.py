"""The evaluation helpers' ``missing=`` argument: NaN raise by default with a message that
names the columns, their counts and the choices; "complete_case" drops exactly the rows
with a NaN; "available_case" uses each column's observed cells; "impute" fits a
SimpleImputer inside each CV training fold. Infinities are refused whatever the choice.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from synthbio_ppl.teaching.cross_validation import compare_cv, selection_cv
from synthbio_ppl.teaching.effect_sizes import cliffs_delta, cohens_d
from synthbio_ppl.teaching.selection import rank_features

pytest.importorskip("sklearn")
matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from synthbio_ppl.teaching.plots import (  # noqa: E402
    plot_class_histograms,
    plot_cluster_correlations,
    plot_pca,
)
from tests.teaching.recording import SEEN, Recorder  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def table(seed: int = 0, n: int = 80) -> tuple[pd.DataFrame, np.ndarray]:
    """Four columns with a class shift; 'b' has 3 NaN and 'd' 2 (in 5 distinct rows)."""
    rng = np.random.default_rng(seed)
    y = np.tile(np.array(["ctrl", "case"], dtype=object), n // 2)
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=list("abcd"))
    X.loc[y == "case"] += 1.0
    X.loc[[1, 6, 11], "b"] = np.nan
    X.loc[[2, 7], "d"] = np.nan
    return X, y


HELPERS = {
    "cohens_d": lambda X, y, **kw: cohens_d(X, y, **kw),
    "cliffs_delta": lambda X, y, **kw: cliffs_delta(X, y, **kw),
    "rank_features": lambda X, y, **kw: rank_features(X, y, **kw),
    "compare_cv": lambda X, y, **kw: compare_cv(X, y, groups=np.arange(len(y)) % 4, **kw),
    "selection_cv": lambda X, y, **kw: selection_cv(X, y, k=2, **kw),
    "plot_class_histograms": lambda X, y, **kw: plot_class_histograms(X, y, **kw),
    "plot_pca": lambda X, y, **kw: plot_pca(X, y, **kw),
    "plot_cluster_correlations": None,  # needs a truth: tested below
}
CHOICES = {
    "cohens_d": ("complete_case", "available_case"),
    "cliffs_delta": ("complete_case", "available_case"),
    "rank_features": ("complete_case", "available_case"),
    "compare_cv": ("complete_case", "impute"),
    "selection_cv": ("complete_case", "impute"),
    "plot_class_histograms": ("complete_case", "available_case"),
    "plot_pca": ("complete_case", "impute"),
}


@pytest.mark.parametrize("name", list(CHOICES))
def test_nan_raises_naming_columns_counts_and_choices(name: str) -> None:
    X, y = table()
    with pytest.raises(ValueError) as info:
        HELPERS[name](X, y)
    message = str(info.value)
    assert "NaN in 2 of 4 columns ('b': 3, 'd': 2); 5 of 80 rows" in message
    for choice in CHOICES[name]:
        assert f"missing={choice!r}" in message
    others = {"complete_case", "available_case", "impute"} - set(CHOICES[name])
    assert not any(f"missing={c!r}" in message for c in others)


@pytest.mark.parametrize("name", list(CHOICES))
def test_each_offered_choice_runs_and_others_are_refused(name: str) -> None:
    X, y = table()
    for choice in CHOICES[name]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # compare_cv's single-class notes
            HELPERS[name](X, y, missing=choice)
    wrong = ({"complete_case", "available_case", "impute", "drop"} - set(CHOICES[name])).pop()
    with pytest.raises(ValueError, match=re.escape(f"got {wrong!r}")):
        HELPERS[name](X, y, missing=wrong)


@pytest.mark.parametrize(
    ("name", "missing"), [(n, m) for n, offered in CHOICES.items() for m in ("raise", *offered)]
)
def test_infinity_is_refused_whatever_missing_says(name: str, missing: str) -> None:
    X, y = table()
    X.loc[3, "c"] = -np.inf
    with pytest.raises(ValueError, match="infinite values \\(columns \\['c'\\]\\)"):
        HELPERS[name](X, y, missing=missing)


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_either_infinity_is_refused_in_an_array(bad: float) -> None:
    x = np.array([[1.0], [bad], [3.0], [2.0], [4.0], [6.0]])
    with pytest.raises(ValueError, match="infinite"):
        cohens_d(x, np.repeat(["a", "b"], 3), missing="available_case")


def test_nan_message_lists_five_columns_then_counts_the_rest() -> None:
    X = pd.DataFrame(np.ones((6, 8)), columns=[f"x{j}" for j in range(8)])
    X.iloc[0, :7] = np.nan
    with pytest.raises(ValueError, match=r"'x4': 1 and 2 more\); 1 of 6 rows"):
        cohens_d(X, np.repeat(["a", "b"], 3))


# --------------------------------------------------------------------------- complete case


def test_complete_case_drops_exactly_the_rows_with_nan() -> None:
    X, y = table()
    keep = X.notna().all(axis=1).to_numpy()
    assert keep.sum() == 75
    for stat in (cohens_d, cliffs_delta):
        got = stat(X, y, missing="complete_case")
        pd.testing.assert_series_equal(got, stat(X[keep], y[keep]), check_exact=True)
        assert got.attrs["missing"] == "complete_case"
    ranked = rank_features(X, y, missing="complete_case")
    assert ranked.index.tolist() == rank_features(X[keep], y[keep]).index.tolist()
    assert selection_cv(X, y, k=2, missing="complete_case") == selection_cv(X[keep], y[keep], k=2)


def test_compare_cv_complete_case_drops_rows_with_their_groups() -> None:
    X, y = table()
    groups = np.arange(80) % 4
    frame = compare_cv(X, y, groups, missing="complete_case")
    assert frame.attrs["rows_dropped"] == 5 and frame.attrs["missing"] == "complete_case"
    assert ((frame["n_train"] + frame["n_test"]) == 75).all()
    keep = X.notna().all(axis=1).to_numpy()
    expected = compare_cv(X[keep], y[keep], groups[keep])
    pd.testing.assert_series_equal(frame["score"], expected["score"])


# --------------------------------------------------------------------------- available case


def test_available_case_uses_each_columns_observed_cells() -> None:
    X, y = table()
    for stat in (cohens_d, cliffs_delta):
        got = stat(X, y, missing="available_case")
        for column in X.columns:
            seen = X[column].notna().to_numpy()
            alone = stat(X.loc[seen, [column]], y[seen]).iloc[0]
            assert got[column] == pytest.approx(alone, rel=1e-12, abs=1e-15)
    # without NaN, available case is the plain statistic
    full = X.fillna(0.0)
    pd.testing.assert_series_equal(
        cohens_d(full, y, missing="available_case"), cohens_d(full, y), check_exact=False
    )


def test_available_case_column_without_a_class_is_nan_with_a_warning() -> None:
    X, y = table()
    X.loc[y == "case", "c"] = np.nan  # no observed 'case' cell in c
    with pytest.warns(UserWarning, match="Cohen's d is NaN for 1 column"):
        d = cohens_d(X, y, missing="available_case")
    assert np.isnan(d["c"]) and np.isfinite(d.drop("c")).all()
    with pytest.warns(UserWarning, match="Cliff's delta is NaN"):
        assert np.isnan(cliffs_delta(X, y, missing="available_case")["c"])
    with pytest.warns(UserWarning):
        ranked = rank_features(X, y, missing="available_case")
    assert ranked.index[-1] == "c"  # a NaN effect ranks last


# --------------------------------------------------------------------------- impute


def test_compare_cv_impute_fits_the_imputer_on_each_training_fold() -> None:
    from sklearn.model_selection import StratifiedKFold

    X, y = table()
    codes = np.where(y == "case", 0, 1)  # compare_cv's codes: classes sorted, 'case' first
    SEEN.clear()
    compare_cv(X, y, groups=np.arange(80) % 4, estimator=Recorder(), missing="impute", seed=2)
    values = X.to_numpy()
    splits = StratifiedKFold(5, shuffle=True, random_state=2).split(values, codes)
    for fold, (train, _) in enumerate(splits):
        part = values[train]
        hole = np.isnan(part)
        means = np.broadcast_to(np.nanmean(part, axis=0), part.shape)
        np.testing.assert_allclose(SEEN[fold][hole], means[hole])
        np.testing.assert_allclose(SEEN[fold][~hole], part[~hole])


def test_selection_cv_impute_inside_stays_at_chance_on_noise() -> None:
    # 200 noise features with 20% NaN: the honest pipeline (impute, select, model per
    # fold) stays at chance; selection outside still leaks. SE of the AUC ≈ 0.065.
    rng = np.random.default_rng(4)
    X = rng.normal(size=(80, 200))
    X[rng.random(X.shape) < 0.2] = np.nan
    y = np.repeat([0, 1], 40)
    inside = selection_cv(X, y, k=10, missing="impute")
    outside = selection_cv(X, y, k=10, inside=False, missing="impute")
    assert abs(inside - 0.5) < 0.2
    assert outside > inside + 0.2


# --------------------------------------------------------------------------- plots


def test_plots_take_the_nan_choices() -> None:
    X, y = table()
    fig = plot_class_histograms(X, y, missing="available_case", top=2)
    assert "d = " in fig.axes[0].get_title()
    assert len(plot_pca(X, y, missing="impute").axes) == 1
    assert len(plot_pca(X, y, batch=np.arange(80) % 2, missing="complete_case").axes) == 2
    # only the plotted columns matter: 'a' and 'c' have no NaN
    assert len(plot_class_histograms(X, y, features=["a", "c"]).axes) == 2


def test_cluster_correlations_with_nan() -> None:
    import synthbio_ppl as sb

    spec = {
        "seed": 2,
        "classes": [{"name": "healthy", "n": 60}, {"name": "diseased", "n": 60}],
        "clusters": [{"n": 4, "correlation": 0.8}],
        "missing": [{"mechanism": "mcar", "rate": 0.2}],
    }
    data = sb.generate(spec)
    with pytest.raises(ValueError, match="missing='available_case'"):
        plot_cluster_correlations(data.X, data.truth)
    fig = plot_cluster_correlations(data.X, data.truth, missing="available_case")
    mean_r = float(re.search(r"mean r = ([-\d.]+)", fig.axes[0].get_title()).group(1))
    assert mean_r > 0.6  # ρ = 0.8; the SE of r at ~77 pairs is ≈ 0.04
    plot_cluster_correlations(data.X, data.truth, y=data.y, missing="complete_case")
    # NaN outside the clusters do not matter
    noisy = {"mechanism": "mcar", "rate": 0.2, "affects": "noise"}
    elsewhere = sb.generate({**spec, "noise": [{"n": 3}], "missing": [noisy]})
    assert elsewhere.X.isna().any().any()
    plot_cluster_correlations(elsewhere.X, elsewhere.truth)
