"""The acceptance scenarios of DESIGN.md §6 that need only the core library (1, 2, 4, 5, 7)."""

from __future__ import annotations

import numpy as np
import pytest

import synthbio_ppl as sb
from synthbio_ppl.teaching.cross_validation import compare_cv
from synthbio_ppl.teaching.effect_sizes import cohens_d
from synthbio_ppl.teaching.selection import selection_scores
from tests.conftest import MODELS

SEEDS = range(10)


def _top(data: sb.Dataset, k: int) -> list[str]:
    return cohens_d(data.X, data.y).abs().sort_values(ascending=False).index[:k].tolist()


def test_1_winners_curse_noise_reaches_the_top_when_p_much_larger_than_n() -> None:
    # 1200 noise features at n = 30: sample |d| of noise has sd √(2/15) ≈ 0.37, so the
    # maximum of 1200 of them (≈ 1.2) rivals the true d = 1.2 of the 8 informative ones.
    big = [_top(sb.generate(MODELS / "winners_curse.yaml", s), 15) for s in SEEDS]
    small = [_top(sb.generate(MODELS / "winners_curse_control.yaml", s), 8) for s in SEEDS]
    noise_in_top15 = [sum(f.startswith("noise") for f in top) for top in big]
    signal_in_top8 = {
        "p>>n": np.mean([sum(f.startswith("signal") for f in top[:8]) for top in big]),
        "control": np.mean([sum(f.startswith("signal") for f in top) for top in small]),
    }
    assert min(noise_in_top15) >= 5, noise_in_top15
    # with 8 noise features the informative ones hold (nearly all of) the top 8
    assert signal_in_top8["control"] >= 7.0, signal_in_top8
    assert signal_in_top8["control"] - signal_in_top8["p>>n"] >= 2.0, signal_in_top8


def test_2_adding_noise_or_changing_its_family_leaves_informative_bit_identical() -> None:
    big = sb.generate(MODELS / "winners_curse.yaml")
    small = sb.generate(MODELS / "winners_curse_control.yaml")
    spec = sb.load_spec(MODELS / "winners_curse_control.yaml").model_dump()
    spec["noise"][0]["distribution"] = "laplace"
    laplace = sb.generate(spec)
    signal = [c for c in big.X.columns if c.startswith("signal")]
    for other in (small, laplace):
        np.testing.assert_array_equal(big.X[signal].to_numpy(), other.X[signal].to_numpy())
        assert big.y.equals(other.y)
    assert not np.array_equal(small.X["noise_0"], laplace.X["noise_0"])


@pytest.fixture(scope="module")
def clusters() -> sb.Dataset:
    return sb.generate(MODELS / "correlated_clusters.yaml")


def _within_class_corr(data: sb.Dataset, block: str, label: str) -> np.ndarray:
    x = data.X.loc[(data.y == label).to_numpy(), data.X.columns.str.startswith(block + "_")]
    return np.corrcoef(x.to_numpy(dtype=float), rowvar=False)


@pytest.mark.parametrize("label", ["healthy", "diseased"])
def test_4_equicorrelated_and_toeplitz_show_the_declared_structure(clusters, label) -> None:
    n = int((clusters.y == label).sum())
    equi = _within_class_corr(clusters, "equi", label)
    off = equi[np.triu_indices(6, 1)]
    assert np.all(np.abs(off - 0.9) < 5 * (1 - 0.81) / np.sqrt(n))
    ar = _within_class_corr(clusters, "ar", label)
    lag = np.abs(np.subtract.outer(np.arange(6), np.arange(6)))
    declared = 0.7**lag
    assert np.all(np.abs(ar - declared) < 5 * (1 - declared**2) / np.sqrt(n) + 1e-9)


def test_4_class_specific_correlation_shows_in_each_class_separately(clusters) -> None:
    for label, rho in (("healthy", 0.2), ("diseased", 0.9)):
        n = int((clusters.y == label).sum())
        off = _within_class_corr(clusters, "diffco", label)[np.triu_indices(5, 1)]
        assert np.all(np.abs(off - rho) < 5 * (1 - rho**2) / np.sqrt(n)), (label, off)
    pooled = np.corrcoef(clusters.X.filter(like="diffco_").to_numpy(dtype=float), rowvar=False)
    assert 0.45 < pooled[0, 1] < 0.65  # the mixture hides both: (0.2 + 0.9) / 2 = 0.55
    assert clusters.truth.features.loc["diffco_proxy1", "signal"]
    assert clusters.truth.features.loc["diffco_proxy1", "effect_size"] == 0.0


def _cv_means(spec: dict) -> tuple[float, float]:
    """Mean balanced accuracy of random stratified K-fold and of leave-one-batch-out CV."""
    data = sb.generate(spec)
    scores = compare_cv(data.X, data.y, data.covariates["batch"], n_splits=5, seed=0)
    means = scores.groupby("scheme")["score"].mean()
    return means["stratified_kfold"], means["leave_one_group_out"]


def test_5_confounding_makes_random_cv_optimistic_and_batch_cv_honest() -> None:
    """The gap random − leave-one-batch-out grows with confounding. One dataset's gap
    varies by about 0.06 (sd over seeds), so the gaps are averaged over 6 seeds: the mean
    difference (about 0.08) then has a standard error near 0.03."""
    spec = sb.load_spec(MODELS / "batch_confounding.yaml").model_dump()
    gaps: dict[float, list[float]] = {0.0: [], 0.7: []}
    for seed in range(6):
        for c in gaps:
            spec["batches"]["confounding"], spec["seed"] = c, seed
            random_cv, batch_cv = _cv_means(spec)
            gaps[c].append(random_cv - batch_cv)
    assert np.mean(gaps[0.7]) > np.mean(gaps[0.0]), gaps
    random_cv, batch_cv = _cv_means(sb.load_spec(MODELS / "batch_no_signal.yaml").model_dump())
    assert random_cv > 0.9  # looks like a great classifier ...
    assert batch_cv < 0.6  # ... of batches, not of disease


def test_7_a_selected_feature_set_is_scored_against_the_truth() -> None:
    data = sb.generate(MODELS / "winners_curse.yaml")
    selected = _top(data, 15)
    scores = selection_scores(selected, data.truth)
    hits = sum(f.startswith("signal") for f in selected)
    assert scores["precision"] == pytest.approx(hits / 15)
    assert scores["recall"] == pytest.approx(hits / 8)
