"""Missing-values lessons: rates, mean and Cohen's d against the exact truth, and
complete-case analysis vs imputation inside vs outside cross-validation.

Tolerances come from the sampling error each helper reports: ``z`` is the bias in units
of the sd MCAR would cause, so under MCAR (and MAR within its driver's levels) every |z|
stays below 4 (about 6e-5 per value); a biasing mechanism must push z past 4.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import synthbio_ppl as sb
from synthbio_ppl.teaching.effect_sizes import cohens_d
from synthbio_ppl.teaching.missing_values import (
    compare_imputation,
    effect_size_bias,
    make_imputer,
    mean_bias,
    rate_table,
)

pytest.importorskip("sklearn")
from tests.teaching.recording import SEEN, Recorder

BASE = {
    "name": "missing_lesson",
    "seed": 5,
    "classes": [{"name": "healthy", "n": 1000}, {"name": "diseased", "n": 1000}],
    "informative": [{"n": 5, "effect_size": 1.0}],
    "noise": [{"n": 5}],
}
MECHANISMS = {
    "mcar": {"mechanism": "mcar", "rate": 0.3},
    "mar": {"mechanism": "mar", "rate": 0.3, "depends_on": "class", "strength": 1.5},
    "mnar": {"mechanism": "mnar", "rate": 0.3, "strength": -2},
    "exact": {"mechanism": "mnar", "rate": 0.3, "strength": -2, "exact": True},
}
INFORMATIVE = [f"inf0_{j}" for j in range(5)]
NOISE = [f"noise0_{j}" for j in range(5)]


@pytest.fixture(scope="module")
def scenes() -> dict[str, sb.Dataset]:
    return {k: sb.generate({**BASE, "missing": [m]}) for k, m in MECHANISMS.items()}


def combined_z(frame: pd.DataFrame) -> float:
    """z of the average bias over independent columns: mean(bias) / (sqrt(Σ se²) / k)."""
    return float(frame["bias"].mean() / (np.sqrt((frame["se"] ** 2).sum()) / len(frame)))


# --------------------------------------------------------------------------- rates


def test_same_seed_same_complete_values(scenes: dict[str, sb.Dataset]) -> None:
    # The lesson compares mechanisms on one scene: the values under the mask must agree.
    first = scenes["mcar"].truth.complete
    for data in scenes.values():
        pd.testing.assert_frame_equal(data.truth.complete, first)


def test_rate_table_realised_rates_within_sampling_error(scenes: dict[str, sb.Dataset]) -> None:
    for key in ("mcar", "mar", "mnar"):
        table = rate_table(scenes[key])
        assert len(table) == 10 and (table["target"] == 0.3).all()
        assert (table["mechanism"] == MECHANISMS[key]["mechanism"]).all()
        np.testing.assert_allclose(table["se"], np.sqrt(0.3 * 0.7 / 2000))
        assert (table["z"].abs() < 4).all(), table
        realised = scenes[key].X.isna().mean()
        np.testing.assert_allclose(table["realised"], realised.loc[table.index.get_level_values(1)])
    exact = rate_table(scenes["exact"])
    assert (exact["realised"] == 600 / 2000).all()


def test_rate_table_without_missing_is_empty() -> None:
    data = sb.generate(BASE)
    assert rate_table(data).empty


# --------------------------------------------------------------------------- means


def test_mean_bias_by_hand(scenes: dict[str, sb.Dataset]) -> None:
    data = scenes["mnar"]
    table = mean_bias(data, columns=["inf0_2"])
    row = table.loc[("inf0_2", "diseased")]
    rows = (data.y == "diseased").to_numpy()
    x = data.X["inf0_2"].to_numpy(float)[rows]
    full = data.truth.complete["inf0_2"].to_numpy(float)[rows]
    k = int((~np.isnan(x)).sum())
    assert row["n"] == 1000 and row["n_observed"] == k
    assert row["observed_mean"] == pytest.approx(np.nanmean(x), rel=1e-12)
    assert row["complete_mean"] == pytest.approx(full.mean(), rel=1e-12)
    assert row["population_mean"] == data.truth.class_means.loc["inf0_2", "diseased"]
    se = full.std(ddof=1) * np.sqrt(1 / k - 1 / 1000)
    assert row["se"] == pytest.approx(se, rel=1e-12)
    assert row["z"] == pytest.approx((np.nanmean(x) - full.mean()) / se, rel=1e-12)
    pooled = mean_bias(data, by=None).loc["inf0_2"]
    means = data.truth.class_means.loc["inf0_2"]
    assert pooled["population_mean"] == pytest.approx(means.mean(), abs=1e-12)  # equal classes


def test_mcar_leaves_the_mean_unbiased(scenes: dict[str, sb.Dataset]) -> None:
    for by in ("class", None):
        table = mean_bias(scenes["mcar"], by=by)
        assert len(table) == (20 if by else 10)
        assert (table["z"].abs() < 4).all(), table


def test_mnar_low_values_missing_shift_the_mean_up(scenes: dict[str, sb.Dataset]) -> None:
    # strength -2: low values go missing, so every observed mean sits above the complete
    # mean of the same rows, by more than 4 sampling SEs (seen: z > 14 at 1000 per class).
    for by in ("class", None):
        table = mean_bias(scenes["mnar"], by=by)
        assert (table["bias"] > 0).all() and (table["z"] > 4).all(), table


def test_mar_on_class_is_unbiased_within_class_not_pooled(scenes: dict[str, sb.Dataset]) -> None:
    # strength 1.5 per class step: diseased cells go missing more often (≈ 0.45 vs 0.15).
    # Within a class the mask is MCAR; pooled, the observed rows over-represent healthy, so
    # informative means (healthy −0.5, diseased +0.5) fall, by ≈ −0.11 = −6.5 SE each.
    by_class = mean_bias(scenes["mar"])
    assert (by_class["z"].abs() < 4).all(), by_class
    rates = by_class["missing_rate"].groupby(level="class").mean()
    assert rates["diseased"] > rates["healthy"] + 0.2
    pooled = mean_bias(scenes["mar"], by=None)
    assert combined_z(pooled.loc[INFORMATIVE]) < -4
    assert (pooled.loc[INFORMATIVE, "z"] < -2).all()
    assert (pooled.loc[NOISE, "z"].abs() < 4).all()  # noise has one mean in both classes


# --------------------------------------------------------------------------- effect sizes


def test_effect_size_bias_by_hand(scenes: dict[str, sb.Dataset]) -> None:
    data = scenes["mnar"]
    table = effect_size_bias(data, columns=["inf0_1"])
    seen = data.X["inf0_1"].notna().to_numpy()
    alone = cohens_d(data.X.loc[seen, ["inf0_1"]], data.y[seen]).iloc[0]
    assert table.loc["inf0_1", "observed_d"] == pytest.approx(alone, rel=1e-12)
    full = cohens_d(data.truth.complete[["inf0_1"]], data.y).iloc[0]
    assert table.loc["inf0_1", "complete_d"] == pytest.approx(full, rel=1e-12)
    assert table.loc["inf0_1", "population_d"] == 1.0
    labels = data.y.to_numpy()
    assert table.loc["inf0_1", "n_a"] == (seen & (labels == "healthy")).sum()
    assert table.attrs["classes"] == ("healthy", "diseased")


def test_mcar_leaves_cohens_d_unbiased(scenes: dict[str, sb.Dataset]) -> None:
    table = effect_size_bias(scenes["mcar"])
    assert (table["z"].abs() < 4).all(), table
    np.testing.assert_allclose(table.loc[INFORMATIVE, "population_d"], 1.0)
    np.testing.assert_allclose(table.loc[NOISE, "population_d"], 0.0)


def test_mnar_attenuates_cohens_d(scenes: dict[str, sb.Dataset]) -> None:
    # The lower (healthy) class loses more cells and each class's low tail is cut: the
    # observed d falls below the complete d (seen: −0.08 to −0.19 per column, SE 0.03).
    # Noise columns have no class difference to distort.
    table = effect_size_bias(scenes["mnar"])
    assert combined_z(table.loc[INFORMATIVE]) < -4
    assert (table.loc[INFORMATIVE, "bias"] < 0).all()
    assert (table.loc[NOISE, "z"].abs() < 4).all()


def test_helpers_refuse_nan_without_complete_values() -> None:
    data = sb.generate(BASE)
    data.X.iloc[0, 0] = np.nan
    with pytest.raises(ValueError, match="without complete values"):
        mean_bias(data)
    with pytest.raises(ValueError, match="by must be"):
        mean_bias(data, by="batch")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- imputation and CV


def holey(seed: int = 0, n: int = 60, p: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) + np.arange(p) * 3.0
    X[rng.random((n, p)) < 0.2] = np.nan
    return X, np.tile([0, 1], n // 2)


def test_imputer_is_fitted_inside_each_training_fold() -> None:
    from sklearn.model_selection import StratifiedKFold

    X, y = holey()
    SEEN.clear()
    frame = compare_imputation(
        X, y, strategies=("mean",), where=("inside", "outside"), estimator=Recorder(), seed=3
    )
    splits = list(StratifiedKFold(5, shuffle=True, random_state=3).split(X, y))
    assert len(SEEN) == 10 and list(frame["imputer"]) == ["inside"] * 5 + ["outside"] * 5
    whole = np.nanmean(X, axis=0)
    for fold, (train, _) in enumerate(splits):
        part = X[train]
        fold_means = np.nanmean(part, axis=0)
        hole = np.isnan(part)
        inside, outside = SEEN[fold], SEEN[5 + fold]
        np.testing.assert_allclose(inside[~hole], part[~hole])
        np.testing.assert_allclose(inside[hole], np.broadcast_to(fold_means, part.shape)[hole])
        np.testing.assert_allclose(outside[hole], np.broadcast_to(whole, part.shape)[hole])
        assert not np.allclose(fold_means, whole)  # the check can tell the two apart
    assert (frame["n_train"] + frame["n_test"] == 60).all()


def test_complete_case_sees_only_complete_rows() -> None:
    X, y = holey(1, n=200)
    SEEN.clear()
    frame = compare_imputation(X, y, strategies=("complete_case",), estimator=Recorder())
    complete = int((~np.isnan(X).any(axis=1)).sum())
    assert frame.attrs["n_complete"] == complete < 200 and frame.attrs["n_rows"] == 200
    assert (frame["imputer"] == "none").all()
    assert (frame["n_train"] + frame["n_test"] == complete).all()
    assert all(not np.isnan(seen).any() for seen in SEEN)
    assert sum(len(seen) for seen in SEEN) == 4 * complete  # each row trains in 4 of 5 folds


def test_compare_imputation_frame_and_iterative_notes() -> None:
    X, y = holey(2, n=120)
    frame = compare_imputation(X, y, strategies=("median", "iterative"), max_iter=1)
    assert list(frame.columns) == [
        "strategy",
        "imputer",
        "fold",
        "score",
        "n_train",
        "n_test",
        "note",
    ]
    assert len(frame) == 20 and frame["score"].between(0, 1).all()
    assert frame.attrs["scoring"] == "roc_auc"
    iterative = frame[frame["strategy"] == "iterative"]
    assert iterative["note"].str.contains("ConvergenceWarning").all()  # one round: noted
    # same folds for every imputation strategy and both places
    sizes = frame.groupby(["strategy", "imputer"])["n_test"].apply(tuple)
    assert sizes.nunique() == 1


def test_class_mean_imputation_outside_cv_leaks_the_label(scenes: dict[str, sb.Dataset]) -> None:
    # MNAR hides 30% of each informative column. Mean imputation inside CV scores an AUC
    # of ≈ 0.8; filling each class's holes with its own class mean writes the label into
    # the features (≈ 0.94). The AUC's SE at 1000 vs 1000 is ≈ 0.01: 0.05 is 5 SE.
    data = scenes["mnar"]
    frame = compare_imputation(data.X, data.y, strategies=("mean", "class_mean"))
    score = frame.groupby(["strategy", "imputer"])["score"].mean()
    assert score[("class_mean", "outside")] > score[("mean", "inside")] + 0.05
    assert abs(score[("mean", "outside")] - score[("mean", "inside")]) < 0.02


def test_compare_imputation_errors() -> None:
    X, y = holey(3)
    with pytest.raises(ValueError, match="unknown strategy"):
        compare_imputation(X, y, strategies=("knn",))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="only outside"):
        compare_imputation(X, y, strategies=("class_mean",), where=("inside",))
    X[np.arange(55), np.arange(55) % 4] = np.nan
    with pytest.raises(ValueError, match="too few for 5 folds"):
        compare_imputation(X, y, strategies=("complete_case",))
    X[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinite"):
        compare_imputation(X, y)


def test_make_imputer() -> None:
    from sklearn.impute import IterativeImputer, SimpleImputer

    assert isinstance(make_imputer("median"), SimpleImputer)
    iterative = make_imputer("iterative", seed=4, add_indicator=True)
    assert isinstance(iterative, IterativeImputer)
    assert iterative.random_state == 4 and iterative.add_indicator
    with pytest.raises(ValueError, match="imputer strategy"):
        make_imputer("class_mean")
