"""Evaluation helpers: hand-worked values, edge cases, and the teaching scenarios."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import synthbio_ppl as sb
from synthbio_ppl.data.truth import Truth
from synthbio_ppl.teaching.batch_confounding import confounding
from synthbio_ppl.teaching.cross_validation import compare_cv, selection_cv
from synthbio_ppl.teaching.effect_sizes import cliffs_delta, cohens_d
from synthbio_ppl.teaching.selection import (
    rank_features,
    selection_scores,
    selection_stability,
)
from tests.conftest import RANKING_SPEC

# --------------------------------------------------------------------------- helpers


def two_class(a: list[float], b: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """One feature: rows of class 'a' then class 'b'."""
    x = np.array(a + b, dtype=float)[:, None]
    y = np.array(["a"] * len(a) + ["b"] * len(b), dtype=object)
    return x, y


def small_truth(signal: dict[str, bool], d: dict[str, float] | None = None) -> Truth:
    names = list(signal)
    d = d or dict.fromkeys(names, 0.0)
    features = pd.DataFrame(
        {
            "role": ["informative" if signal[n] else "noise" for n in names],
            "block": "blk",
            "cluster": "",
            "distribution": "normal",
            "effect_size": [d[n] for n in names],
            "signal": [signal[n] for n in names],
        },
        index=pd.Index(names, name="feature"),
    )
    return Truth(
        features=features,
        effect_sizes=pd.DataFrame({"b vs a": [d[n] for n in names]}, index=names),
        class_means=pd.DataFrame(index=names),
        parameters={},
        clusters=pd.DataFrame(),
    )


# --------------------------------------------------------------------------- Cohen's d


def test_cohens_d_hand_worked_equal_sizes() -> None:
    # a = 1,2,3: mean 2, SS 2; b = 2,4,6: mean 4, SS 8; s² = (2 + 8)/4 = 2.5
    x, y = two_class([1, 2, 3], [2, 4, 6])
    assert cohens_d(x, y).iloc[0] == pytest.approx(2 / math.sqrt(2.5), rel=1e-12)


def test_cohens_d_pools_by_degrees_of_freedom_not_by_average() -> None:
    # a = 1,3: mean 2, SS 2; b = 2,3,4,7: mean 4, SS 14; pooled s² = 16/4 = 4 -> d = 1.
    # The unweighted mean of the two variances, (2 + 14/3)/2, would give d = 1.095.
    x, y = two_class([1, 3], [2, 3, 4, 7])
    d = cohens_d(x, y).iloc[0]
    assert d == pytest.approx(1.0, rel=1e-12)
    assert abs(d - 2 / math.sqrt((2 + 14 / 3) / 2)) > 0.05


def test_cohens_d_matches_the_pooled_t_statistic() -> None:
    # Independent route: Student's t (equal variances) = d / sqrt(1/n_a + 1/n_b).
    rng = np.random.default_rng(3)
    X = rng.normal(size=(37, 25)) + np.linspace(0, 2, 25)
    y = np.array([0] * 15 + [1] * 22)
    X[y == 1] += np.linspace(-1, 1, 25)
    t = stats.ttest_ind(X[y == 1], X[y == 0], axis=0).statistic
    expected = t * math.sqrt(1 / 15 + 1 / 22)
    np.testing.assert_allclose(cohens_d(X, y).to_numpy(), expected, rtol=1e-10)


def test_cohens_d_orientation_follows_category_order_and_classes() -> None:
    x, y = two_class([1, 2, 3], [2, 4, 6])
    d = cohens_d(x, y).iloc[0]
    reversed_order = pd.Series(pd.Categorical(y, categories=["b", "a"]))
    assert cohens_d(x, reversed_order).iloc[0] == pytest.approx(-d)
    assert cohens_d(x, y, classes=("b", "a")).iloc[0] == pytest.approx(-d)


def test_cohens_d_constant_and_separated_features() -> None:
    y = np.array(["a"] * 3 + ["b"] * 4, dtype=object)
    X = pd.DataFrame(
        {
            "constant": [0.1] * 7,  # 0.1 is not exact in binary: the mean must not fake spread
            "separated": [0.0] * 3 + [1.0] * 4,
            "down": [0.0] * 3 + [-2.5] * 4,
        }
    )
    d = cohens_d(X, y)
    assert d["constant"] == 0.0
    assert d["separated"] == np.inf
    assert d["down"] == -np.inf
    assert list(d.index) == ["constant", "separated", "down"]


def test_cohens_d_needs_a_pair_for_three_classes() -> None:
    X = np.arange(9, dtype=float)[:, None]
    y = np.repeat(["x", "y", "z"], 3)
    with pytest.raises(ValueError, match="3 classes"):
        cohens_d(X, y)
    # x = 0,1,2 and z = 6,7,8: both SS 2, pooled s = 1, d = 6
    assert cohens_d(X, y, classes=("x", "z")).iloc[0] == pytest.approx(6.0)
    with pytest.raises(ValueError, match="do not occur"):
        cohens_d(X, y, classes=("x", "w"))


# NaN and infinity: see test_missing_options.py


# --------------------------------------------------------------------------- Cliff's delta


def test_cliffs_delta_hand_worked_with_ties() -> None:
    # b=2 vs a=(1,2,2): 1 greater, 2 ties; b=3: 3 greater -> (4 - 0) / 6
    x, y = two_class([1, 2, 2], [2, 3])
    assert cliffs_delta(x, y).iloc[0] == pytest.approx(4 / 6, abs=1e-12)
    # b=2 vs a=(1,3,3,5): 1 greater, 3 less; b=3: 1 greater, 2 ties, 1 less -> (2 - 4)/8
    x, y = two_class([1, 3, 3, 5], [2, 3])
    assert cliffs_delta(x, y).iloc[0] == pytest.approx(-0.25, abs=1e-12)


def test_cliffs_delta_matches_brute_force_pairs() -> None:
    # Independent O(n_a·n_b) count on integer data with many ties.
    rng = np.random.default_rng(5)
    X = rng.integers(0, 4, size=(31, 12)).astype(float)
    y = np.array([0] * 13 + [1] * 18)
    a, b = X[y == 0], X[y == 1]
    brute = np.sign(b[:, None, :] - a[None, :, :]).mean(axis=(0, 1))
    np.testing.assert_allclose(cliffs_delta(X, y).to_numpy(), brute, atol=1e-12)
    # A deliberately wrong input (labels reversed) must give a different answer.
    assert not np.allclose(cliffs_delta(X, 1 - y).to_numpy(), brute)


def test_cliffs_delta_extremes() -> None:
    y = np.array([0] * 3 + [1] * 3)
    X = np.column_stack([np.full(6, 2.0), [1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1]])
    np.testing.assert_array_equal(cliffs_delta(X, y).to_numpy(), [0.0, 1.0, -1.0])


# --------------------------------------------------------------------------- ranking


def ranking_data() -> tuple[pd.DataFrame, np.ndarray]:
    # a = 1,2,3 in every feature, b = a + shift: pooled s = 1, so d = shift exactly.
    a = np.array([1.0, 2.0, 3.0])
    shifts = {"f0": 0.5, "f1": -2.0, "f2": 1.0}
    X = pd.DataFrame({k: np.concatenate([a, a + s]) for k, s in shifts.items()})
    return X, np.array(["a"] * 3 + ["b"] * 3, dtype=object)


def test_rank_features_orders_by_absolute_effect() -> None:
    X, y = ranking_data()
    ranked = rank_features(X, y)
    assert ranked.index.tolist() == ["f1", "f2", "f0"]
    assert ranked["rank"].tolist() == [1, 2, 3]
    np.testing.assert_allclose(ranked["effect"], [-2.0, 1.0, 0.5])
    np.testing.assert_allclose(ranked["abs_effect"], [2.0, 1.0, 0.5])


def test_rank_features_joins_truth() -> None:
    X, y = ranking_data()
    truth = small_truth({"f0": False, "f1": True, "f2": True}, {"f0": 0.0, "f1": -1.5, "f2": 1.0})
    ranked = rank_features(X, y, truth=truth, method="cliffs_delta")
    # Cliff's delta by hand (a = 1,2,3; b = a + shift): f1 (b = -1,0,1) loses 8 pairs and
    # ties 1 -> -8/9; f2 (b = 2,3,4) wins 6, ties 2, loses 1 -> 5/9; f0 wins 6, loses 3 -> 1/3
    assert ranked.index.tolist() == ["f1", "f2", "f0"]
    np.testing.assert_allclose(ranked["effect"], [-8 / 9, 5 / 9, 1 / 3])
    assert ranked["role"].tolist() == ["informative", "informative", "noise"]
    assert ranked["signal"].tolist() == [True, True, False]
    assert ranked.loc["f1", "true_effect_size"] == -1.5
    # class pair given the other way round flips the truth's sign too
    flipped = rank_features(X, y, truth=truth, classes=("b", "a"))
    assert flipped.loc["f1", "true_effect_size"] == 1.5
    assert flipped.loc["f1", "effect"] == pytest.approx(2.0)
    with pytest.raises(ValueError, match="method"):
        rank_features(X, y, method="t_test")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- selection


def test_selection_scores_by_hand() -> None:
    truth = small_truth({f"f{i}": i < 3 for i in range(10)})
    scores = selection_scores(["f0", "f1", "f5", "f6"], truth)
    assert (scores["true_positives"], scores["false_positives"], scores["false_negatives"]) == (
        2,
        2,
        1,
    )
    assert scores["precision"] == pytest.approx(0.5)
    assert scores["recall"] == pytest.approx(2 / 3)
    assert scores["f1"] == pytest.approx(4 / 7)  # 2·(1/2)(2/3) / (1/2 + 2/3)
    mask = np.isin(truth.features.index, ["f0", "f1", "f5", "f6"])
    assert selection_scores(mask, truth) == scores
    assert selection_scores(["f0", "f1", "f2"], truth)["f1"] == 1.0


def test_selection_scores_edge_cases() -> None:
    truth = small_truth({f"f{i}": i < 3 for i in range(10)})
    empty = selection_scores([], truth)
    assert math.isnan(empty["precision"]) and empty["recall"] == 0.0 and empty["f1"] == 0.0
    with pytest.raises(ValueError, match="not in the truth"):
        selection_scores(["f0", "nope"], truth)


def test_selection_stability_by_hand() -> None:
    # A={0,1,2}, B={1,2,3}, C=A, n=10. AB: r=2, J=2/4, K=(2·10-9)/(3·7)=11/21.
    # AC: J=1, K=1. BC = AB. Means: J=2/3, K=(11/21+1+11/21)/3=43/63.
    result = selection_stability([{0, 1, 2}, {1, 2, 3}, {0, 1, 2}], n_features=10)
    assert result["mean_jaccard"] == pytest.approx(2 / 3)
    assert result["kuncheva"] == pytest.approx(43 / 63)
    # Kuncheva corrects for chance: disjoint halves of 10 score -1, Jaccard only 0.
    disjoint = selection_stability([set(range(5)), set(range(5, 10))], n_features=10)
    assert disjoint["kuncheva"] == pytest.approx(-1.0)
    assert disjoint["mean_jaccard"] == 0.0


def test_selection_stability_unequal_sizes() -> None:
    result = selection_stability([["a", "b"], ["a", "b", "c"]], n_features=20)
    assert result["mean_jaccard"] == pytest.approx(2 / 3)
    assert math.isnan(result["kuncheva"])
    assert "equal set sizes" in result["note"]
    with pytest.raises(ValueError, match="n_features"):
        selection_stability([["a", "b"], ["c", "d"]], n_features=3)


# --------------------------------------------------------------------------- confounding


def test_confounding_by_hand() -> None:
    # table [[4, 2], [2, 4]]: every expected count 3, χ² = 4·1/3, V = sqrt(χ²/12) = 1/3
    y = ["a"] * 6 + ["b"] * 6
    batch = [0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1]  # class a: 4 + 2, class b: 2 + 4
    out = confounding(y, batch)
    np.testing.assert_array_equal(out["table"].to_numpy(), [[4, 2], [2, 4]])
    assert out["chi2"] == pytest.approx(4 / 3)
    assert out["dof"] == 1
    assert out["cramers_v"] == pytest.approx(1 / 3)
    # χ² with 1 dof: P(χ² > c) = erfc(sqrt(c/2))
    assert out["p_value"] == pytest.approx(math.erfc(math.sqrt(2 / 3)))


def test_confounding_extremes() -> None:
    y = ["a"] * 4 + ["b"] * 4
    assert confounding(y, y)["cramers_v"] == pytest.approx(1.0)
    assert confounding(y, [0, 1] * 4)["cramers_v"] == pytest.approx(0.0)
    single = confounding(y, [0] * 8)
    assert single["cramers_v"] == 0.0 and single["p_value"] == 1.0


# --------------------------------------------------------------------------- cross-validation


def test_compare_cv_single_class_training_fold_is_nan_with_note() -> None:
    pytest.importorskip("sklearn")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    y = np.array([0] * 10 + [1] * 10)
    with pytest.warns(UserWarning, match="could not be scored"):
        frame = compare_cv(X, y, groups=y, n_splits=5)
    assert list(frame.columns) == [
        "scheme",
        "fold",
        "score",
        "n_train",
        "n_test",
        "held_out",
        "note",
    ]
    random = frame[frame["scheme"] == "stratified_kfold"]
    group = frame[frame["scheme"] == "leave_one_group_out"]
    assert len(random) == 5 and random["score"].notna().all()
    assert len(group) == 2 and group["score"].isna().all()
    assert group["note"].str.contains("single class").all()
    assert ((frame["n_train"] + frame["n_test"]) == 20).all()


def test_compare_cv_group_kfold_when_many_groups() -> None:
    pytest.importorskip("sklearn")
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 4))
    y = np.tile([0, 1], 30)
    groups = np.repeat(np.arange(15), 4)  # each group holds both classes
    frame = compare_cv(X, y, groups, n_splits=3, max_logo_groups=10)
    group = frame[frame["scheme"] == "group_kfold"]
    assert len(group) == 3
    held = [g for cell in group["held_out"] for g in cell.split(",")]
    assert sorted(held, key=int) == [str(g) for g in range(15)]  # each group held out once


def test_selection_outside_cv_leaks_on_pure_noise() -> None:
    # DESIGN §6 scenario 6. With 1000 noise features, the 20 best F-scores on all 80 rows
    # sit ~3σ out, so the leak scores near 1. Honest selection is chance: the AUC's SE at
    # 40 vs 40 is sqrt((n+1)/(12·n_a·n_b)) ≈ 0.065, so ±0.2 is about 3 SE.
    pytest.importorskip("sklearn")
    rng = np.random.default_rng(11)
    X = rng.normal(size=(80, 1000))
    y = np.repeat([0, 1], 40)
    outside = selection_cv(X, y, k=20, inside=False)
    inside = selection_cv(X, y, k=20, inside=True)
    assert outside > 0.85
    assert abs(inside - 0.5) < 0.2
    with pytest.raises(ValueError, match="k must lie"):
        selection_cv(X, y, k=0)


# --------------------------------------------------------------------------- integration


@pytest.fixture(scope="module")
def strong_signal() -> sb.Dataset:
    return sb.generate(RANKING_SPEC)


def test_ranking_by_d_puts_informative_on_top(strong_signal: sb.Dataset) -> None:
    # At 100 vs 100 the SE of d is sqrt(1/100 + 1/100 + d²/400): 0.17 at d=2, 0.14 at 0.
    # The weakest of 8 informative sits > 1.5 and the largest of 54 null |d| < 0.6 with
    # overwhelming probability, so the top 8 are exactly the informative features.
    data = strong_signal
    ranked = rank_features(data.X, data.y, truth=data.truth)
    top = ranked.iloc[:8]
    assert top["role"].eq("informative").all() and top["signal"].all()
    np.testing.assert_allclose(top["true_effect_size"], 2.0, rtol=1e-6)
    # each estimate within 4 SE of the population d, with the truth's orientation
    assert np.all(np.abs(top["effect"] - top["true_effect_size"]) < 4 * 0.17)
    assert selection_scores(top.index, data.truth)["f1"] == 1.0
    # The test can fail: with shuffled labels the informative no longer take the top 8.
    shuffled = np.random.default_rng(0).permutation(data.y.to_numpy())
    wrong = rank_features(data.X, pd.Series(shuffled), truth=data.truth)
    assert not wrong.iloc[:8]["signal"].all()


NO_SIGNAL_SPEC = {
    "name": "no_signal",
    "seed": 0,
    "classes": [{"name": "control", "n": 60}, {"name": "case", "n": 60}],
    "noise": [{"n": 50}],
    "batches": {"n": 4, "strength": 2.0, "confounding": 1.0},
}


def test_random_cv_is_fooled_by_confounded_batches() -> None:
    # DESIGN §6 scenario 5. No feature carries signal; batches 0-1 are all control,
    # batches 2-3 all case. Offsets of sd 2 on 50 features put batch means ~20 sd apart,
    # so random CV learns the batch and scores ≈ 1. Leaving a batch out, the classifier
    # has one batch of the held-out class against two of the other; an unseen batch sits
    # nearer the two-batch centroid, so it is mostly called the wrong class (expected
    # score below the 0.5 of chance). Three seeds, 12 held-out batches. Over seeds 0-11
    # the per-seed leave-one-batch-out mean was 0.18 (sd 0.18): a 3-seed mean has SE ≈ 0.1,
    # so the 0.5 bound sits 3 SE above its expectation.
    pytest.importorskip("sklearn")
    random_scores, batch_scores = [], []
    for seed in range(3):
        data = sb.generate(NO_SIGNAL_SPEC, seed=seed)
        assert not data.truth.features["signal"].any()
        conf = confounding(data.y, data.covariates["batch"])
        assert conf["cramers_v"] == pytest.approx(data.truth.batch["cramers_v"])
        assert conf["cramers_v"] == pytest.approx(1.0)
        frame = compare_cv(data.X, data.y, data.covariates["batch"])
        random_scores += frame.loc[frame["scheme"] == "stratified_kfold", "score"].tolist()
        lobo = frame[frame["scheme"] == "leave_one_group_out"]
        assert len(lobo) == 4 and lobo["note"].str.contains("single class").all()
        batch_scores += lobo["score"].tolist()
    assert np.mean(random_scores) > 0.9
    assert np.mean(batch_scores) < 0.5
    assert np.mean(random_scores) - np.mean(batch_scores) > 0.4


def test_without_confounding_random_cv_sees_no_signal() -> None:
    # The control that shows the previous test can fail: same batches, confounding 0.
    # Pure noise gives chance; the SE of balanced accuracy at n = 120 is ≈ 0.046.
    pytest.importorskip("sklearn")
    spec = {**NO_SIGNAL_SPEC, "batches": {**NO_SIGNAL_SPEC["batches"], "confounding": 0.0}}
    data = sb.generate(spec, seed=0)
    assert confounding(data.y, data.covariates["batch"])["cramers_v"] == pytest.approx(0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fold may fail here
        frame = compare_cv(data.X, data.y, data.covariates["batch"])
    random = frame.loc[frame["scheme"] == "stratified_kfold", "score"]
    assert abs(random.mean() - 0.5) < 0.15
