"""Outcomes from features: targets met within sampling error, coefficients recovered by
independent estimators (scikit-learn, scipy, lifelines), best scores against Monte Carlo,
isolation, streaming and the bad input of the issue."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import synthbio_ppl as sb
from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.processes.outcomes.truth import expected_auc, realised_auc, true_concordance
from tests.conftest import MODELS


def binary(n: int = 20000, **outcome: object) -> dict:
    return {
        "name": "risk",
        "seed": 11,
        "noise": [{"name": "bio", "n": 4}],
        "outcome": {
            "kind": "binary",
            "n": n,
            "prevalence": 0.3,
            "coefficients": {"bio_0": 1.0, "bio_1": -0.5, "bio_2": 0.25},
            **outcome,
        },
    }


def survival(n: int = 6000, **outcome: object) -> dict:
    return {
        "name": "cohort",
        "seed": 12,
        "noise": [{"name": "bio", "n": 3}],
        "outcome": {
            "kind": "survival",
            "n": n,
            "coefficients": {"bio_0": 0.7, "bio_1": -0.4},
            "baseline": {"distribution": "weibull", "scale": 0.05, "shape": 1.5},
            **outcome,
        },
    }


# ------------------------------------------------------------------ binary


@pytest.fixture(scope="module")
def risk() -> sb.Dataset:
    return sb.generate(binary())


def test_prevalence_is_met_within_sampling_error(risk: sb.Dataset) -> None:
    """Realised share of y = 1 vs the target 0.3: SE √(0.3·0.7/20000) = 0.0032."""
    share = float((risk.y == "positive").mean())
    assert abs(share - 0.3) < 4 * np.sqrt(0.3 * 0.7 / 20000), share
    assert list(risk.y.cat.categories) == ["negative", "positive"]
    assert list(risk.outcome.columns) == ["y"] and risk.outcome["y"].equals(risk.y)


def test_logistic_coefficients_are_recovered_by_an_unpenalised_regression(
    risk: sb.Dataset,
) -> None:
    """scikit-learn's unpenalised logistic regression on the data; each estimate within 4
    standard errors (from the Fisher information at the estimate) of the truth."""
    from sklearn.linear_model import LogisticRegression

    X = risk.X.to_numpy(dtype=np.float64)
    y = (risk.y == "positive").to_numpy().astype(int)
    model = LogisticRegression(C=np.inf, max_iter=1000).fit(X, y)
    p = model.predict_proba(X)[:, 1]
    design = np.column_stack([np.ones(len(X)), X])
    se = np.sqrt(np.diag(np.linalg.inv(design.T @ (design * (p * (1 - p))[:, None]))))
    truth = risk.truth.outcome.coefficients()
    expected = np.array([truth["outcome.coefficients[bio_0]"], -0.5, 0.25, 0.0])
    intercept = risk.truth.outcome.parameters["outcome.intercept"]
    assert np.all(np.abs(model.coef_[0] - expected) < 4 * se[1:]), (model.coef_, se)
    assert abs(model.intercept_[0] - intercept) < 4 * se[0]


def test_expected_auc_matches_brute_force_and_monte_carlo() -> None:
    """The ratio-of-expectations formula against all pairs (with ties), and the mean AUC
    of p over 400 Bernoulli draws of y (its sd over draws / √400 bounds the gap)."""
    rng = np.random.default_rng(0)
    p = np.round(rng.uniform(0.02, 0.98, 300), 2)  # ties on purpose
    i, j = np.meshgrid(np.arange(300), np.arange(300), indexing="ij")
    off = i != j
    w = p[i] * (1 - p[j])
    brute = (w * ((p[i] > p[j]) + 0.5 * (p[i] == p[j])))[off].sum() / w[off].sum()
    assert expected_auc(p) == pytest.approx(brute, rel=1e-12)
    draws = np.array([realised_auc(rng.random(300) < p, p) for _ in range(400)])
    assert abs(draws.mean() - expected_auc(p)) < 4 * draws.std() / np.sqrt(400) + 0.005


def test_bayes_auc_of_the_truth_matches_a_monte_carlo_estimate(risk: sb.Dataset) -> None:
    """The reported Bayes AUC against the AUC of the true P(y = 1 | x) on fresh outcome
    draws for the same rows (the realised one is one such draw)."""
    p = risk.truth.latents["outcome.probability"].to_numpy()
    rng = np.random.default_rng(1)
    draws = np.array([realised_auc(rng.random(len(p)) < p, p) for _ in range(50)])
    reported = risk.truth.outcome.scores["bayes_auc"]
    assert abs(draws.mean() - reported) < 4 * draws.std() / np.sqrt(50) + 1e-3
    assert abs(risk.truth.outcome.scores["realised_bayes_auc"] - reported) < 4 * draws.std()


def test_an_exact_count_of_cases_uses_a_latent_threshold() -> None:
    data = sb.generate(binary(n=500, prevalence=None, cases=120, link="probit"))
    assert int((data.y == "positive").sum()) == 120
    eta = data.truth.latents["outcome.linear_predictor"].to_numpy()
    # the cases are the rows whose score cleared the threshold: their η is higher on average
    assert eta[data.y == "positive"].mean() > eta[data.y == "negative"].mean()
    p = data.truth.latents["outcome.probability"].to_numpy()
    assert abs(p.sum() - 120) < 4 * np.sqrt((p * (1 - p)).sum())


def test_xor_is_invisible_to_a_linear_model() -> None:
    """y depends on the XOR of two features only: the Bayes AUC is high, a linear
    logistic regression (cross-validated) stays near chance."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    spec = binary(n=4000, coefficients={}, xor=[{"features": ["bio_0", "bio_1"], "coefficient": 4}])
    data = sb.generate(spec)
    auc = cross_val_score(LogisticRegression(), data.X, data.y, cv=5, scoring="roc_auc").mean()
    assert data.truth.outcome.scores["bayes_auc"] > 0.8
    assert abs(auc - 0.5) < 0.05  # sd of a 5-fold AUC at chance with 4000 rows ≈ 0.01


# ------------------------------------------------------------------ continuous


def test_continuous_r2_is_met_and_noise_solved() -> None:
    """Realised R² of η vs 0.6; its sampling sd ≈ 2·√R²·(1 − R²)/√n·√(1+...) < 0.01 here."""
    spec = {
        "name": "reg",
        "seed": 3,
        "clusters": [{"name": "c", "n": 4, "structure": "equicorrelated", "correlation": 0.5}],
        "outcome": {
            "kind": "continuous",
            "n": 20000,
            "r2": 0.6,
            "coefficients": {"c": 0.5},
            "thresholds": [{"feature": "c_anchor", "at": 0.5, "coefficient": 1.0}],
        },
    }
    data = sb.generate(spec)
    assert data.y.dtype.kind == "f" and data.y.name == "y"
    eta = data.truth.latents["outcome.linear_predictor"].to_numpy()
    residual = data.y.to_numpy() - eta
    r2 = 1 - residual.var() / data.y.to_numpy().var()
    assert abs(r2 - 0.6) < 4 * 2 * np.sqrt(0.6) * 0.4 / np.sqrt(20000)
    sd = data.truth.outcome.parameters["outcome.noise_sd"]
    assert sd == pytest.approx(np.sqrt(eta.var() * 0.4 / 0.6), rel=0.02)
    assert abs(residual.std() - sd) < 4 * sd / np.sqrt(2 * 20000)


# ------------------------------------------------------------------ survival


def test_weibull_shape_and_scale_are_recovered_by_scipy() -> None:
    """No covariate effect and no censoring: T ~ Weibull(shape ν, scale λ^(−1/ν)); scipy's
    maximum likelihood fit, and a KS test against the declared law."""
    data = sb.generate(survival(coefficients={"bio_0": 0.0}))
    t = data.outcome["time"].to_numpy(dtype=np.float64)
    assert (data.outcome["event"] == 1).all()
    shape, _, scale = stats.weibull_min.fit(t, floc=0)
    n = len(t)
    assert abs(shape - 1.5) < 4 * 0.78 * 1.5 / np.sqrt(n)  # SE of ν̂: 0.78·ν/√n
    assert abs(scale - 0.05 ** (-1 / 1.5)) < 4 * 1.11 * scale / (1.5 * np.sqrt(n))
    assert stats.kstest(t, stats.weibull_min(1.5, scale=0.05 ** (-1 / 1.5)).cdf).pvalue > 1e-3


def test_gompertz_and_exponential_times_follow_their_laws() -> None:
    """KS tests: Gompertz H(t) = λ(e^{αt} − 1)/α is scipy's gompertz(c = λ/α, scale 1/α)."""
    for baseline, law in (
        (
            {"distribution": "gompertz", "scale": 0.02, "shape": 0.3},
            stats.gompertz(0.02 / 0.3, scale=1 / 0.3),
        ),
        ({"distribution": "exponential", "scale": 0.2, "shape": 1.0}, stats.expon(scale=5.0)),
    ):
        data = sb.generate(survival(n=4000, coefficients={"bio_0": 0.0}, baseline=baseline))
        assert stats.kstest(data.outcome["time"].to_numpy(np.float64), law.cdf).pvalue > 1e-3


@pytest.fixture(scope="module")
def cohort() -> sb.Dataset:
    return sb.generate(survival(censoring={"end_of_study": 12, "fraction": 0.35}))


def test_the_censored_fraction_is_met(cohort: sb.Dataset) -> None:
    """Realised censored share vs 0.35: SE √(0.35·0.65/6000) = 0.006; every time ≤ 12."""
    event = cohort.outcome["event"].to_numpy()
    assert abs((event == 0).mean() - 0.35) < 4 * np.sqrt(0.35 * 0.65 / 6000)
    assert cohort.outcome["time"].max() <= 12.0
    latent = cohort.truth.latents
    observed = np.minimum(
        latent["outcome.event_time"], np.minimum(latent["outcome.censoring_time"], 12)
    )
    assert np.allclose(cohort.outcome["time"], observed)


def test_cox_coefficients_are_recovered_by_lifelines(cohort: sb.Dataset) -> None:
    """lifelines' Cox model on the censored cohort: each β within 4 of its standard errors."""
    lifelines = pytest.importorskip("lifelines")
    frame = pd.concat([cohort.X, cohort.outcome], axis=1)
    cox = lifelines.CoxPHFitter().fit(frame, duration_col="time", event_col="event")
    truth = pd.Series({"bio_0": 0.7, "bio_1": -0.4, "bio_2": 0.0})
    gap = (cox.params_ - truth).abs()
    assert (gap < 4 * cox.standard_errors_).all(), cox.summary


def test_true_c_index_matches_the_concordance_of_latent_times(cohort: sb.Dataset) -> None:
    """Harrell's C of η against the uncensored latent event times (lifelines) on the rows,
    vs the reported C-index (its sampling sd at 6000 rows is below 0.005)."""
    lifelines = pytest.importorskip("lifelines")
    eta = cohort.truth.latents["outcome.linear_predictor"].to_numpy()
    times = cohort.truth.latents["outcome.event_time"].to_numpy()
    harrell = lifelines.utils.concordance_index(times, -eta)
    assert abs(harrell - cohort.truth.outcome.scores["c_index"]) < 0.02
    assert true_concordance(np.zeros(50)) == pytest.approx(0.5)


def test_the_population_survival_curve_matches_kaplan_meier(cohort: sb.Dataset) -> None:
    lifelines = pytest.importorskip("lifelines")
    km = lifelines.KaplanMeierFitter().fit(cohort.outcome["time"], cohort.outcome["event"])
    curve = cohort.truth.outcome.curve
    estimate = km.survival_function_at_times(curve["time"]).to_numpy()
    assert (
        np.abs(estimate - curve["event_free_survival"].to_numpy()).max()
        < 4 * 0.5 / np.sqrt(6000) * 1.5
    )


def test_competing_risks_share_events_as_their_hazards() -> None:
    """Two exponential causes and no covariate effect: P(cause 1) = λ₁/(λ₁ + λ₂) = 0.75."""
    spec = survival(
        n=8000,
        coefficients={"bio_0": 0.0},
        baseline={"distribution": "exponential", "scale": 0.3, "shape": 1.0},
        competing_risks=[
            {
                "name": "death",
                "baseline": {"distribution": "exponential", "scale": 0.1, "shape": 1.0},
            }
        ],
    )
    data = sb.generate(spec)
    event = data.outcome["event"].to_numpy()
    assert set(np.unique(event)) == {1, 2}
    assert abs((event == 1).mean() - 0.75) < 4 * np.sqrt(0.75 * 0.25 / 8000)
    assert (
        stats.kstest(
            data.outcome["time"].to_numpy(np.float64), stats.expon(scale=1 / 0.4).cdf
        ).pvalue
        > 1e-3
    )


def test_administrative_censoring_that_exceeds_the_target_is_refused() -> None:
    with pytest.raises(
        SpecError, match=r"outcome.censoring.fraction: .*end_of_study alone censors"
    ):
        sb.generate(survival(n=500, censoring={"end_of_study": 0.5, "fraction": 0.1}))


# ------------------------------------------------------------------ composition


def test_the_outcome_reads_the_features_before_batch_effects() -> None:
    """η = Σβ x with x the values before the batch offsets: the offsets (from the truth)
    added per row give the table's values back."""
    spec = {
        "name": "mix",
        "seed": 4,
        "classes": [{"name": "control", "n": 300}, {"name": "case", "n": 300}],
        "informative": [{"name": "sig", "n": 2, "effect_size": 1.0}],
        "batches": {"n": 3, "strength": 2.0, "granularity": "per_feature"},
        "outcome": {"kind": "survival", "coefficients": {"sig_0": 1.0, "class=case": 0.5}},
    }
    data = sb.generate(spec)
    eta = data.truth.latents["outcome.linear_predictor"].to_numpy()
    case = (data.y == "case").to_numpy()
    biology = eta - 0.5 * case  # β = 1 on sig_0
    shift = data.X["sig_0"].to_numpy() - biology
    by_batch = pd.Series(shift).groupby(data.covariates["batch"].to_numpy()).agg(["std", "mean"])
    assert (by_batch["std"] < 1e-4).all(), by_batch  # one offset per batch, nothing else
    assert by_batch["mean"].abs().max() > 0.1  # the batches do shift sig_0


def test_outcomes_leave_the_features_bit_identical() -> None:
    base = {
        "name": "iso",
        "seed": 5,
        "classes": [{"name": "a", "n": 200}, {"name": "b", "n": 200}],
        "informative": [{"n": 3, "effect_size": 0.8}],
        "noise": [{"n": 4}],
        "batches": {"n": 2},
    }
    plain = sb.generate(base)
    with_outcome = sb.generate(
        {
            **base,
            "outcome": {"kind": "survival", "coefficients": {"inf0": 0.5}, "batch_effect": 0.5},
        }
    )
    assert np.array_equal(plain.X.to_numpy(), with_outcome.X.to_numpy())
    assert plain.y.equals(with_outcome.y)
    one = sb.generate(binary(n=300))
    other = sb.generate(binary(n=300, prevalence=0.6, link="probit"))
    assert np.array_equal(one.X.to_numpy(), other.X.to_numpy())


def test_streamed_and_in_memory_outcomes_agree(tmp_path: Path) -> None:
    spec = survival(n=3000, censoring={"end_of_study": 10, "fraction": 0.3})
    memory = sb.generate(spec)
    memory.to_parquet(tmp_path / "memory")
    sb.generate_to_parquet(spec, tmp_path / "streamed", chunk_rows=1024)
    for folder in ("memory", "streamed"):
        loaded = sb.load_dataset(tmp_path / folder)
        assert np.array_equal(loaded.outcome.to_numpy(), memory.outcome.to_numpy())
        assert loaded.truth.outcome.scores == pytest.approx(memory.truth.outcome.scores)
    loaded = sb.load_dataset(tmp_path / "memory")
    assert loaded.truth.outcome.curve.equals(memory.truth.outcome.curve)


def test_binary_and_continuous_outcomes_round_trip(tmp_path: Path) -> None:
    for spec in (
        binary(n=200),
        {
            **binary(n=200),
            "outcome": {"kind": "continuous", "n": 200, "coefficients": {"bio": 1.0}},
        },
    ):
        data = sb.generate(spec)
        data.to_parquet(tmp_path / spec["outcome"]["kind"])
        loaded = sb.load_dataset(tmp_path / spec["outcome"]["kind"])
        assert loaded.y.equals(data.y) and loaded.outcome.equals(data.outcome)
        assert "y" not in loaded.covariates


def test_exact_cases_refuse_to_stream(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"outcome.cases: 100 .*generate in memory"):
        sb.generate_to_parquet(binary(n=600, prevalence=None, cases=100), tmp_path / "x")


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"coefficients": {"bio_9": 1.0}},
            r"outcome.coefficients.bio_9: 'bio_9' .*names no feature column",
        ),
        (
            {"coefficients": {"smoker=current": 1.0}},
            r"outcome.coefficients.smoker=current: .*names no",
        ),
        (
            {"interactions": [{"features": ["bio_0", "nope"], "coefficient": 1}]},
            r"outcome.interactions\[0\].features: 'nope'",
        ),
        ({"prevalence": 1.0}, r"outcome.prevalence: 1.0 .*less than 1"),
        ({"prevalence": 0}, r"outcome.prevalence"),
        ({"coefficients": {"bio_0": float("nan")}}, r"outcome.coefficients.bio_0"),
        ({"coefficients": {"bio_0": float("inf")}}, r"outcome.coefficients.bio_0"),
        ({"coefficients": {"bio_0": True}}, r"outcome.coefficients"),
        ({"coefficients": {}}, r"outcome.coefficients: .*at least one term"),
        ({"cases": 20000}, r"outcome.cases"),
        ({"r2": 0.5}, r"outcome.r2: .*applies to kind: continuous, not binary"),
        (
            {"coefficients": {"bio_0": 60}},
            r"outcome.coefficients.bio_0: 60 .*less than or equal to 50",
        ),
        (
            {"coefficients": {"bio": 1.0, "bio_0": 0.5}},
            r"outcome.coefficients.bio_0: .*a term already",
        ),
        (
            {"xor": [{"features": ["bio_0", "bio_0"], "coefficient": 1}]},
            r"outcome.xor\[0\].features",
        ),
        (
            {"xor": [{"features": ["bio_0", "bio_1"], "at": [1e30, 0], "coefficient": 1}]},
            r"outcome.xor\[0\].at\[0\]",
        ),
        ({"n": 0}, r"outcome.n: 0"),
        ({"n": 1}, r"outcome.n: 1"),
        ({"batch_effect": 1.0}, r"outcome.batch_effect: 1.0 .*add batches"),
        ({"labels": ["a", "a"]}, r"outcome.labels"),
        ({"kind": "hazard"}, r"outcome.kind"),
    ],
)
def test_bad_outcomes_are_named(change: dict, message: str) -> None:
    spec = binary()
    spec["outcome"] = {**spec["outcome"], **change}
    with pytest.raises(SpecError, match=message):
        sb.validate_spec(spec)


def test_survival_fields_name_their_path() -> None:
    with pytest.raises(SpecError, match=r"outcome.intercept: .*binary or continuous, not survival"):
        sb.validate_spec(survival(intercept=1.0))
    with pytest.raises(SpecError, match=r"outcome.times: .*distinct"):
        sb.validate_spec(survival(times=[1, 1]))
    spec = survival(competing_risks=[{"name": "bio"}])
    with pytest.raises(SpecError, match=r"outcome.competing_risks\[0\].name: 'bio'"):
        sb.validate_spec(spec)
    spec = {**binary(n=100), "missing": [{"name": "outcome", "mechanism": "mcar", "rate": 0.2}]}
    with pytest.raises(SpecError, match=r"outcome.name: 'outcome' .*missing entry"):
        sb.validate_spec(spec)
    spec = survival(censoring={"end_of_study": 10, "fraction": True})
    with pytest.raises(SpecError, match=r"outcome.censoring.fraction"):
        sb.validate_spec(spec)
    with pytest.raises(SpecError, match=r"outcome.censoring: True .*mapping"):
        sb.validate_spec(survival(censoring=True))
    with pytest.raises(SpecError, match=r"outcome.coefficients.class=case: False"):
        sb.validate_spec(
            {
                **survival(),
                "outcome": {**survival()["outcome"], "coefficients": {"class=case": False}},
            }
        )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"coefficients": {"bio_0": 40}}, r"outcome.baseline: .*times are 0"),
        (
            {"baseline": {"distribution": "weibull", "scale": 1e-30, "shape": 0.05}},
            r"outcome.baseline: .*(infinite|0)",
        ),
        (
            {
                "baseline": {"distribution": "weibull", "scale": 1e-300, "shape": 1.5},
                "censoring": {"fraction": 0.3},
            },
            r"outcome.baseline.scale: 1e-300 .*the smallest normal float32",
        ),
        (
            {"censoring": {"end_of_study": 1, "fraction": 0}},
            r"outcome.censoring.fraction: 0(\.0)? .*end_of_study alone censors",
        ),
    ],
)
def test_outcomes_that_overflow_or_miss_their_target_are_refused(
    change: dict, message: str
) -> None:
    with pytest.raises(SpecError, match=message):
        sb.generate(survival(n=300, **change))


def test_heavy_tailed_times_still_solve_the_censoring_rate() -> None:
    """Times spread over many decades (Weibull shape 0.3, float64): the bracket of the
    censoring rate's root is set from the times themselves."""
    spec = {
        **survival(
            n=2000,
            baseline={"distribution": "weibull", "scale": 0.1, "shape": 0.3},
            censoring={"fraction": 0.9},
        ),
        "dtype": "float64",
    }
    data = sb.generate(spec)
    censored = (data.outcome["event"] == 0).mean()
    assert abs(censored - 0.9) < 4 * np.sqrt(0.9 * 0.1 / 2000)


def test_a_one_level_binary_outcome_is_refused() -> None:
    with pytest.raises(SpecError, match=r"outcome.prevalence: 'every row y = positive'"):
        sb.generate(binary(n=200, prevalence=None, intercept=50.0))


def test_a_float64_survival_truth_is_computed_in_float64() -> None:
    spec = {
        **survival(n=500, coefficients={"bio_0": 30.0}, censoring={"end_of_study": 5}),
        "dtype": "float64",
    }
    data = sb.generate(spec)
    curve = data.truth.outcome.curve["event_free_survival"].to_numpy()
    assert np.isfinite(curve).all() and (np.diff(curve) <= 0).all()


def test_tampered_outcome_columns_are_named_on_load_and_fit(tmp_path: Path) -> None:
    data = sb.generate(survival(n=300, censoring={"end_of_study": 10}))
    frame = data.to_frame().astype({"time": np.float64})
    for column, value, message in (
        ("time", -1.0, r"time: '1 of 300 values'"),
        ("time", 1e300, r"time: '1 of 300 values' .*float32's range"),
        ("event", 7, r"event: '1 of 300 values \(\[7\]\)'"),
    ):
        bad = frame.copy()
        bad.loc[3, column] = value
        with pytest.raises(SpecError, match=message):
            sb.fit(data.spec, bad, method="svi", svi_steps=5)
    data.to_parquet(tmp_path / "d")
    table = pd.read_parquet(tmp_path / "d" / "data.parquet")
    table.loc[0, "event"] = 9
    table.to_parquet(tmp_path / "d" / "data.parquet")
    with pytest.raises(SpecError, match=r"data.parquet' .*column event: 1 of 300 values \(\[9\]\)"):
        sb.load_dataset(tmp_path / "d")


def test_binary_outcomes_fit_from_labels_numbers_or_flags() -> None:
    data = sb.generate(binary(n=200))
    frame = data.to_frame()
    codes = (data.y == "positive").to_numpy()
    for given in (codes, codes.astype(float), codes.astype(int)):
        problem_frame = frame.assign(y=given)
        result = sb.fit(data.spec, problem_frame, method="svi", svi_steps=10, num_samples=5)
        assert "outcome.intercept" in result.recovery().index
    with pytest.raises(SpecError, match=r"labels: '10 labels'"):
        sb.fit(data.spec, frame.drop(columns=["y"]), labels=list(data.y)[:10])


@pytest.mark.parametrize(
    ("censoring", "message"),
    [
        ({"fraction": 1.0}, r"outcome.censoring.fraction: 1.0"),
        ({"fraction": 1.5}, r"outcome.censoring.fraction"),
        ({"end_of_study": 0}, r"outcome.censoring.end_of_study"),
        ({"end_of_study": float("nan")}, r"outcome.censoring.end_of_study"),
    ],
)
def test_bad_censoring_is_named(censoring: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        sb.validate_spec(survival(censoring=censoring))


def test_a_binary_outcome_beside_classes_is_ambiguous() -> None:
    spec = {**binary(), "classes": [{"name": "a", "n": 10}, {"name": "b", "n": 10}]}
    del spec["outcome"]["n"]
    with pytest.raises(SpecError, match=r"outcome.kind: .*replaces the classes"):
        sb.validate_spec(spec)
    with pytest.raises(SpecError, match=r"outcome.n: .*give them once"):
        sb.validate_spec(
            {**survival(n=30), "classes": [{"name": "a", "n": 10}, {"name": "b", "n": 10}]}
        )


def test_the_cli_names_a_bad_outcome_in_one_line(tmp_path: Path) -> None:
    import yaml

    spec = binary(n=100)
    spec["outcome"]["coefficients"] = {"ghost": 1.0}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(spec))
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "synthbio_ppl.cli",
            "generate",
            str(path),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    assert "outcome.coefficients.ghost" in run.stderr and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


# ------------------------------------------------------------------ calibration


@pytest.mark.parametrize(
    "spec",
    [
        survival(
            n=150,
            censoring={"end_of_study": 4, "fraction": 0.5},
            competing_risks=[{"name": "death", "coefficients": {"bio_2": 0.5}}],
        ),
        binary(n=150, prevalence=None, intercept=-0.5, link="probit"),
    ],
    ids=["survival", "binary"],
)
def test_the_censored_likelihood_calibrates(spec: dict) -> None:
    """SBC of the outcome's own model (20 simulations, NUTS): every parameter's ranks are
    uniform at α = 0.01 and no simulation diverges."""
    result = sb.calibrate(spec, n_sims=20, num_warmup=200, num_samples=198, n_draws=99, seed=3)
    assert result.passes(alpha=0.01), result.verdict()
    assert result.ranks.shape[1] >= 3


# ------------------------------------------------------------------ review: the whole path


def test_scenes_with_empty_sites_fit() -> None:
    """One-class scenes give empty class-step sites (a cluster's anchor effect), an XOR-only
    outcome has no linear coefficients, a competing cause may have none: all fit."""
    risk = sb.generate(sb.rescale_rows(MODELS / "risk_score.yaml", 300))
    xor = sb.generate(
        binary(n=300, coefficients={}, xor=[{"features": ["bio_0", "bio_1"], "coefficient": 3}])
    )
    cohort = sb.generate(survival(n=300, competing_risks=[{"name": "death"}]))
    for data, site in ((risk, "outcome.intercept"), (xor, "outcome.xor"), (cohort, "death.scale")):
        table = sb.fit(None, data, method="svi", svi_steps=50, num_samples=10).recovery()
        assert (table["site"] == site).any(), table


def test_dask_and_anndata_carry_the_outcome() -> None:
    spec = sb.rescale_rows(MODELS / "survival_cohort.yaml", 600)
    memory = sb.generate(spec)
    frame = sb.to_dask(spec, chunk_rows=256).compute()
    assert np.array_equal(frame[["time", "event"]].to_numpy(), memory.outcome.to_numpy())
    obs = memory.to_anndata().obs
    assert np.array_equal(obs[["time", "event"]].to_numpy(), memory.outcome.to_numpy())
    risk = sb.to_dask(sb.rescale_rows(MODELS / "risk_score.yaml", 300), chunk_rows=256).compute()
    assert list(risk["y"].cat.categories) == ["negative", "positive"]


def test_outcome_columns_may_not_be_feature_names() -> None:
    spec = {
        "name": "clash",
        "structure": {"n": 100, "biomarkers": {"time": {"baseline": 1.0, "noise": 1.0}}},
        "outcome": {"kind": "survival", "coefficients": {"time": 0.5}},
    }
    with pytest.raises(SpecError, match=r"time.* is a column of the outcome"):
        sb.validate_spec(spec)


def test_steps_on_batch_affected_columns_need_fixed_batch_sites() -> None:
    spec = {
        **binary(n=400, thresholds=[{"feature": "bio_2", "at": 0.5, "coefficient": 1.0}]),
        "batches": {"n": 2, "strength": 0.8},
    }
    data = sb.generate(spec)
    with pytest.raises(SpecError, match=r"fixed: .*threshold or XOR term .*batch effects"):
        sb.fit(None, data, method="svi", svi_steps=5)
    fixed = {k: np.asarray(v) for k, v in data.truth.parameters.items() if k.startswith("batch.")}
    table = sb.fit(None, data, method="svi", svi_steps=50, num_samples=10, fixed=fixed).recovery()
    assert (table["site"] == "outcome.thresholds").any()


def test_a_batch_level_term_and_a_batch_effect_cannot_both_be_given() -> None:
    spec = {**survival(coefficients={"batch=batch1": 0.4}, batch_effect=0.5), "batches": {"n": 2}}
    with pytest.raises(SpecError, match=r"outcome.coefficients.batch=batch1: .*use one"):
        sb.validate_spec(spec)


def test_baseline_shapes_default_per_family() -> None:
    spec = sb.validate_spec(survival(baseline={"distribution": "exponential", "scale": 0.1}))
    assert spec.outcome.baseline.shape == 1.0
    spec = sb.validate_spec(survival(baseline={"distribution": "gompertz", "scale": 0.1}))
    assert spec.outcome.baseline.shape == 0.1


def test_cumulative_incidence_matches_the_latent_times() -> None:
    """Competing Weibull and Gompertz causes: the truth's cumulative incidence of each cause
    against the share of rows whose first latent failure is that cause by t (SE ≤ 0.005 at
    10,000 rows); event-free survival and the incidences add up to 1."""
    spec = survival(
        n=10000,
        competing_risks=[
            {
                "name": "death",
                "baseline": {"distribution": "gompertz", "scale": 0.02, "shape": 0.2},
                "coefficients": {"bio_2": 0.5},
            }
        ],
        times=[1.0, 3.0, 6.0],
    )
    data = sb.generate(spec)
    curve = data.truth.outcome.curve
    latent = data.truth.latents
    own, death = latent["outcome.event_time"].to_numpy(), latent["death.event_time"].to_numpy()
    first = np.minimum(own, death)
    for i, t in enumerate(curve["time"]):
        for name, wins in (("outcome", own <= death), ("death", death < own)):
            share = ((first <= t) & wins).mean()
            expected = curve[f"cumulative_incidence_{name}"].iloc[i]
            assert abs(share - expected) < 4 * np.sqrt(expected * (1 - expected) / 10000) + 1e-3
    total = curve.drop(columns="time").sum(axis=1)
    assert np.allclose(total, 1.0, atol=2e-3)


@pytest.mark.parametrize("missing", ["model", "ignore"])
def test_an_outcome_reading_hidden_cells_draws_them_in_the_fit(missing: str) -> None:
    """30% of bio_0 hidden (MCAR): the fit draws the hidden cells the outcome reads, so
    its parameters are recovered (posterior mean within 4 sd of the truth) whether the
    mask is modelled or ignored."""
    spec = {
        **binary(n=600),
        "missing": [{"mechanism": "mcar", "rate": 0.3, "affects": ["bio_0"]}],
        "outcome": {
            "kind": "continuous",
            "n": 600,
            "r2": 0.7,
            "coefficients": {"bio_0": 1.0, "bio_1": 0.5},
        },
    }
    data = sb.generate(spec)
    assert data.X["bio_0"].isna().mean() > 0.2
    table = sb.fit(None, data, num_warmup=300, num_samples=300, progress=False, missing=missing)
    rows = table.recovery()
    rows = rows[rows["site"].str.startswith("outcome.")]  # the residual sd too: with the
    # placeholders read as values, the hidden rows' unexplained β·x inflates it to ≈ 0.9
    assert len(rows) == 4 and (((rows["mean"] - rows["truth"]) / rows["sd"]).abs() < 4).all(), rows


def test_hidden_counts_the_outcome_reads_are_refused_in_a_fit() -> None:
    spec = {
        "name": "counts",
        "seed": 5,
        "classes": [{"name": "a", "n": 100}, {"name": "b", "n": 100}],
        "counts": [{"name": "g", "n": 4, "library_size": {"median": 2000}}],
        "missing": [{"mechanism": "mcar", "rate": 0.2, "affects": ["g_0"]}],
        "outcome": {"kind": "survival", "coefficients": {"g_0": 0.01}},
    }
    data = sb.generate(spec)
    for missing in ("model", "ignore"):
        with pytest.raises(SpecError, match=r"missing: 'hidden cells of g that the outcome reads'"):
            sb.fit(None, data, method="svi", svi_steps=5, missing=missing)


def test_cumulative_incidence_holds_at_far_apart_times() -> None:
    """A Weibull cause with shape 0.5 (its density infinite at 0) and times 10⁻⁹ to 10⁶:
    the incidences and the event-free survival still add up to 1."""
    spec = survival(
        n=500,
        coefficients={"bio_0": 0.0},
        baseline={"distribution": "exponential", "scale": 0.1},
        competing_risks=[
            {"name": "tox", "baseline": {"distribution": "weibull", "scale": 0.005, "shape": 0.5}}
        ],
        times=[1e-9, 0.5, 1e6],
    )
    curve = sb.generate(spec).truth.outcome.curve
    assert np.allclose(curve.drop(columns="time").sum(axis=1), 1.0, atol=1e-3)
    # at t = 0.5 with η = 0: F_tox = 1 − exp(−0.005·√0.5) ≈ 0.00353, less the deaths before it
    assert 0.0030 < curve["cumulative_incidence_tox"].iloc[1] < 0.0036


def test_a_time_after_the_end_of_study_is_named_before_the_fit() -> None:
    """A time of 100 where the study ends at 6: the fit failed with a NaN loss, advising
    a lower learning rate."""
    from tests.conftest import MODELS

    data = sb.generate(sb.load_spec(MODELS / "survival_cohort.yaml"))
    data.outcome.loc[data.outcome.index[5], "time"] = 100.0
    with pytest.raises(
        sb.SpecError, match=r"^time: '1 of 1200 values after 6 \(the first at row 5"
    ):
        sb.fit(None, data, "svi", svi_steps=5, num_samples=2, progress=False)
