"""Twin scoring: direct formulas, known-answer twins, bad inputs and the report formats.

Every data set is a Gaussian with a known truth: class 1 is shifted by a vector δ and the
within-class covariance is the identity, so the Bayes-optimal AUC is Φ(‖δ‖/√2).
Tolerances come from the sampling error of each statistic at the sizes used.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from scipy.spatial.distance import cdist

from synthbio_ppl.twins.report import SUMMARY_METRICS, TwinReport
from synthbio_ppl.twins.scoring import score_twin

DELTA = np.array([1.5, 1.0, 0.0, 0.0])

# --------------------------------------------------------------------------- helpers


def gaussian(
    rng: np.random.Generator, n: int, delta: np.ndarray = DELTA, labels: tuple = (0, 1)
) -> pd.DataFrame:
    """n rows, half per class; class 1 has mean δ, both have identity covariance."""
    y = np.repeat(np.array(labels, dtype=object), [n - n // 2, n // 2])
    shift = (y == labels[1])[:, None] * delta
    frame = pd.DataFrame(rng.normal(size=(n, len(delta))) + shift)
    frame.columns = [f"x{j}" for j in range(len(delta))]
    frame["y"] = y if not isinstance(labels[0], int) else y.astype(int)
    return frame


def tables(seed: int, n: int = 400, delta: np.ndarray = DELTA) -> tuple[pd.DataFrame, ...]:
    """real_train, real_holdout and synthetic: three independent draws of one process."""
    rng = np.random.default_rng(seed)
    return gaussian(rng, n, delta), gaussian(rng, n, delta), gaussian(rng, n, delta)


def auc_se_null(n1: int, n0: int) -> float:
    """Standard error of the Mann–Whitney AUC when both groups share one distribution."""
    return math.sqrt((n1 + n0 + 1) / (12 * n1 * n0))


def ks_bound_95(n: int, m: int) -> float:
    """The two-sample KS statistic stays below this with 95% probability under H0."""
    return 1.36 * math.sqrt((n + m) / (n * m))


def standardised(frame: pd.DataFrame, train: pd.DataFrame) -> np.ndarray:
    features = train.drop(columns="y")
    return ((frame.drop(columns="y") - features.mean()) / features.std(ddof=1)).to_numpy()


def nearest(reference: np.ndarray, queries: np.ndarray) -> np.ndarray:
    return cdist(queries, reference).min(axis=1)


def mann_whitney_auc(members: np.ndarray, outsiders: np.ndarray) -> float:
    u = stats.mannwhitneyu(members, outsiders).statistic
    return float(u / (len(members) * len(outsiders)))


@pytest.fixture(scope="module")
def fresh() -> tuple[tuple[pd.DataFrame, ...], TwinReport]:
    """A twin that is one more independent draw of the real process."""
    train, holdout, synthetic = tables(seed=1)
    return (train, holdout, synthetic), score_twin(train, holdout, synthetic, label="y")


# --------------------------------------------------------------------------- formulas


def test_ks_wasserstein_and_moments_match_direct_formulas(fresh) -> None:
    (train, _, synthetic), report = fresh
    table = report.fidelity.per_feature
    assert list(table.index) == ["x0", "x1", "x2", "x3"]
    for column in table.index:
        a, b = train[column].to_numpy(), synthetic[column].to_numpy()
        grid = np.concatenate([a, b])
        ecdf_a = (a[None, :] <= grid[:, None]).mean(axis=1)
        ecdf_b = (b[None, :] <= grid[:, None]).mean(axis=1)
        assert table.loc[column, "ks"] == pytest.approx(np.abs(ecdf_a - ecdf_b).max(), abs=1e-12)
        # equal sizes: W1 is the mean gap between the sorted samples
        w1 = np.abs(np.sort(a) - np.sort(b)).mean() / a.std(ddof=1)
        assert table.loc[column, "wasserstein"] == pytest.approx(w1, rel=1e-9)
        assert table.loc[column, "real_mean"] == pytest.approx(a.mean(), rel=1e-12)
        assert table.loc[column, "synthetic_sd"] == pytest.approx(b.std(ddof=1), rel=1e-12)


def test_correlation_distances_match_numpy(fresh) -> None:
    (train, _, synthetic), report = fresh
    diff = np.corrcoef(train.drop(columns="y").T) - np.corrcoef(synthetic.drop(columns="y").T)
    pairs = np.triu_indices(4, k=1)
    assert report.fidelity.corr_frobenius == pytest.approx(np.sqrt((diff**2).sum()), rel=1e-9)
    assert report.fidelity.corr_mean_abs_diff == pytest.approx(np.abs(diff[pairs]).mean(), rel=1e-9)


def test_dcr_and_attack_match_brute_force(fresh) -> None:
    (train, holdout, synthetic), report = fresh
    z_train, z_holdout, z_synth = (standardised(f, train) for f in (train, holdout, synthetic))
    dcr_synth, dcr_holdout = nearest(z_train, z_synth), nearest(z_train, z_holdout)
    privacy = report.privacy
    assert privacy.dcr_synthetic_median == pytest.approx(np.median(dcr_synth), rel=1e-9)
    assert privacy.dcr_synthetic_p5 == pytest.approx(np.percentile(dcr_synth, 5), rel=1e-9)
    assert privacy.dcr_holdout_median == pytest.approx(np.median(dcr_holdout), rel=1e-9)
    assert privacy.dcr_holdout_p5 == pytest.approx(np.percentile(dcr_holdout, 5), rel=1e-9)
    # equal sizes: no subsampling, every train row is a member
    assert privacy.mia_n_per_side == 400
    members, outsiders = -nearest(z_synth, z_train), -nearest(z_synth, z_holdout)
    assert privacy.mia_auc == pytest.approx(mann_whitney_auc(members, outsiders), rel=1e-12)


# --------------------------------------------------------------------------- known twins


def test_fresh_draw_looks_like_fresh_real_data(fresh) -> None:
    (train, holdout, synthetic), report = fresh
    n = len(train)
    assert report.fidelity.mean_ks < ks_bound_95(n, n)
    assert report.fidelity.label_total_variation == 0.0

    members = outsiders = n
    assert abs(report.privacy.mia_auc - 0.5) < 4 * auc_se_null(members, outsiders)

    z_train, z_holdout, z_synth = (standardised(f, train) for f in (train, holdout, synthetic))
    dcr_synth, dcr_holdout = nearest(z_train, z_synth), nearest(z_train, z_holdout)
    # Given the train set, synthetic and holdout DCRs are draws from one distribution: the
    # share of synthetic DCRs below a holdout quantile q estimates q (two binomial errors).
    for q in (0.05, 0.5):
        share = np.mean(dcr_synth < np.quantile(dcr_holdout, q))
        assert abs(share - q) < 4 * math.sqrt(q * (1 - q) * 2 / n)
    assert abs(report.privacy.share_closer_than_holdout_p5 - 0.05) < 4 * math.sqrt(
        0.05 * 0.95 * 2 / n
    )

    bayes = stats.norm.cdf(np.linalg.norm(DELTA) / math.sqrt(2))
    se = auc_se_null(n // 2, n // 2)  # larger than the AUC's error at AUC ≈ 0.9
    utility = report.utility
    assert abs(utility.trtr_auc - bayes) < 4 * se
    assert abs(utility.tstr_auc - bayes) < 4 * se
    assert abs(utility.auc_gap) < 4 * se
    assert utility.auc_gap == utility.tstr_auc - utility.trtr_auc


def test_copy_of_train_is_flagged() -> None:
    train, holdout, _ = tables(seed=2)
    report = score_twin(train, holdout, train.copy(), label="y")
    privacy = report.privacy
    assert privacy.exact_copies == 1.0
    assert privacy.dcr_synthetic_median == 0.0
    assert privacy.share_closer_than_holdout_p5 == 1.0
    # every member sits at distance 0 from the synthetic data, every non-member above 0
    assert privacy.mia_auc == 1.0
    assert report.fidelity.max_ks == 0.0
    assert report.fidelity.corr_frobenius == pytest.approx(0.0, abs=1e-12)


def test_half_copied_twin() -> None:
    # Copied members always beat a non-member; the other members are exchangeable with the
    # non-members (neither was copied), so AUC = ½·1 + ½·½ = 0.75.
    rng = np.random.default_rng(3)
    train, holdout, fresh_rows = (gaussian(rng, 400) for _ in range(3))
    copied = rng.choice(400, size=200, replace=False)
    synthetic = pd.concat([train.iloc[copied], fresh_rows.iloc[:200]], ignore_index=True)
    privacy = score_twin(train, holdout, synthetic, label="y").privacy
    assert privacy.exact_copies == 0.5
    assert privacy.dcr_synthetic_p5 == 0.0
    assert abs(privacy.mia_auc - 0.75) < 4 * auc_se_null(400, 400)


def test_mean_shift_in_one_feature() -> None:
    n, shift, scale = 2000, 0.8, 3.0
    rng = np.random.default_rng(4)
    delta = np.array([1.0, 0.0, 0.0])
    train, holdout, synthetic = (gaussian(rng, n, delta) for _ in range(3))
    train["x2"] *= scale
    holdout["x2"] *= scale
    synthetic["x2"] = scale * (synthetic["x2"] + shift)
    table = score_twin(train, holdout, synthetic, label="y").fidelity.per_feature

    # DKW: each empirical CDF is within ε of its population CDF with probability 1 − 1e-4,
    # so the KS statistic is within 2ε of the population one, 2Φ(shift/2) − 1.
    eps = math.sqrt(math.log(2 / 1e-4) / (2 * n))
    assert table["ks"].idxmax() == "x2"
    assert abs(table.loc["x2", "ks"] - (2 * stats.norm.cdf(shift / 2) - 1)) < 2 * eps
    assert table.loc["x2", "ks_pvalue"] < 1e-10
    assert (table.drop(index="x2")["ks"] < 2 * eps).all()

    # Bobkov–Ledoux: E W1(F_n, F) ≤ J/√n with J = ∫√(Φ(1 − Φ)) dx; allow 3× per sample.
    # In real-sd units the population distance is shift·scale/ŝ (the raw distance is 2.4).
    j = integrate.quad(lambda x: math.sqrt(stats.norm.cdf(x) * stats.norm.sf(x)), -40, 40)[0]
    sd_hat = train["x2"].std(ddof=1) / scale
    expected = shift / sd_hat
    assert abs(table.loc["x2", "wasserstein"] - expected) < 3 * j * 2 / math.sqrt(n) / sd_hat
    # W1 is never below the distance between the means
    mean_gap = (table["synthetic_mean"] - table["real_mean"]).abs() / table["real_sd"]
    assert (table["wasserstein"] >= mean_gap - 1e-12).all()


def test_independent_columns_miss_the_correlation() -> None:
    n, rho = 1000, 0.6
    rng = np.random.default_rng(5)
    cov = np.array([[1.0, rho], [rho, 1.0]])
    y = np.repeat([0, 1], n // 2)
    real = pd.DataFrame(rng.multivariate_normal([0, 0], cov, size=n), columns=["a", "b"])
    real["y"] = y
    holdout = pd.DataFrame(rng.multivariate_normal([0, 0], cov, size=n), columns=["a", "b"])
    holdout["y"] = y
    synthetic = pd.DataFrame(rng.normal(size=(n, 2)), columns=["a", "b"])
    synthetic["y"] = y
    fidelity = score_twin(real, holdout, synthetic, label="y").fidelity

    # sd of r_real − r_synth ≈ sqrt(((1 − ρ²)² + 1)/n); one pair appears twice in the matrix
    se = math.sqrt(((1 - rho**2) ** 2 + 1) / n)
    assert abs(fidelity.corr_mean_abs_diff - rho) < 4 * se
    assert fidelity.corr_frobenius == pytest.approx(math.sqrt(2) * fidelity.corr_mean_abs_diff)
    assert fidelity.mean_ks < ks_bound_95(n, n)


def test_shuffled_labels_teach_nothing() -> None:
    # With shuffled labels the fitted direction w is noise: AUC ≈ Φ(‖δ‖·cos θ/√2) with
    # cos θ ~ N(0, 1/p), so AUC − ½ has sd ≈ φ(0)·‖δ‖/√(2p) per draw. Average R draws.
    p, n, repeats = 20, 400, 5
    delta = np.zeros(p)
    delta[:2] = [1.5, 1.0]
    tstr, trtr = [], []
    for seed in range(repeats):
        train, holdout, synthetic = tables(seed=100 + seed, n=n, delta=delta)
        rng = np.random.default_rng(seed)
        synthetic["y"] = rng.permutation(synthetic["y"].to_numpy())
        utility = score_twin(train, holdout, synthetic, label="y").utility
        tstr.append(utility.tstr_auc)
        trtr.append(utility.trtr_auc)
    per_draw = stats.norm.pdf(0) * np.linalg.norm(delta) / math.sqrt(2 * p)
    spread = math.sqrt((per_draw**2 + auc_se_null(n // 2, n // 2) ** 2) / repeats)
    assert abs(np.mean(tstr) - 0.5) < 4 * spread
    bayes = stats.norm.cdf(np.linalg.norm(delta) / math.sqrt(2))
    assert np.mean(trtr) > bayes - 4 * auc_se_null(n // 2, n // 2) / math.sqrt(repeats)


def test_binary_auc_scores_the_last_class_and_matches_sklearn() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score, roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(6)
    labels = ("sick", "healthy")  # sorted: healthy, sick; positive = sick
    train, holdout, synthetic = (gaussian(rng, 300, labels=labels) for _ in range(3))
    utility = score_twin(train, holdout, synthetic, label="y").utility
    assert utility.classes == ("healthy", "sick")
    assert utility.positive_class == "sick"

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(train.drop(columns="y"), train["y"])
    x_test = holdout.drop(columns="y")
    sick = list(model.classes_).index("sick")
    expected = roc_auc_score(holdout["y"] == "sick", model.predict_proba(x_test)[:, sick])
    assert utility.trtr_auc == pytest.approx(expected, rel=1e-9)
    assert utility.trtr_auc > 0.5
    assert utility.trtr_balanced_accuracy == pytest.approx(
        balanced_accuracy_score(holdout["y"], model.predict(x_test)), rel=1e-12
    )


def test_multiclass_auc_matches_sklearn_one_vs_rest() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(7)

    def three_classes(n: int) -> pd.DataFrame:
        y = np.repeat(["a", "b", "c"], n // 3)
        x = rng.normal(size=(len(y), 3))
        x[:, 0] += np.select([y == "a", y == "b"], [-1.5, 0.0], 1.5)
        frame = pd.DataFrame(x, columns=["u", "v", "w"])
        frame["y"] = y
        return frame

    train, holdout, synthetic = three_classes(300), three_classes(300), three_classes(300)
    utility = score_twin(train, holdout, synthetic, label="y").utility
    assert utility.positive_class is None
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(synthetic.drop(columns="y"), synthetic["y"])
    proba = model.predict_proba(holdout.drop(columns="y"))
    expected = roc_auc_score(holdout["y"], proba, multi_class="ovr", average="macro")
    assert utility.tstr_auc == pytest.approx(expected, rel=1e-9)
    assert 0.5 < utility.tstr_auc < 1.0

    # a twin that lost a class still scores: the lost class's column is constant (AUC ½)
    two = synthetic[synthetic["y"] != "c"]
    report = score_twin(train, holdout, two, label="y")
    assert report.fidelity.label_balance.loc["c", "synthetic_share"] == 0.0
    assert report.fidelity.label_total_variation == pytest.approx(1 / 3)
    assert 0.5 < report.utility.tstr_auc < utility.tstr_auc


def test_estimator_without_probabilities_uses_decision_values() -> None:
    from sklearn.metrics import roc_auc_score
    from sklearn.svm import LinearSVC

    train, holdout, synthetic = tables(seed=8, n=200)
    utility = score_twin(train, holdout, synthetic, label="y", estimator=LinearSVC()).utility
    model = LinearSVC().fit(synthetic.drop(columns="y"), synthetic["y"])
    expected = roc_auc_score(holdout["y"], model.decision_function(holdout.drop(columns="y")))
    assert utility.tstr_auc == pytest.approx(expected, rel=1e-9)


def test_attack_subsample_is_balanced_and_seeded() -> None:
    rng = np.random.default_rng(9)
    train, holdout, synthetic = gaussian(rng, 500), gaussian(rng, 200), gaussian(rng, 300)
    first = score_twin(train, holdout, synthetic, label="y", seed=1).privacy
    again = score_twin(train, holdout, synthetic, label="y", seed=1).privacy
    other = score_twin(train, holdout, synthetic, label="y", seed=2).privacy
    assert first.mia_n_per_side == 200
    assert first == again
    assert first.mia_auc != other.mia_auc
    assert first.dcr_synthetic_median == other.dcr_synthetic_median


def test_constant_feature_gives_finite_numbers() -> None:
    train, holdout, synthetic = tables(seed=10, n=200)
    for frame in (train, holdout, synthetic):
        frame["flat"] = 2.5
    report = score_twin(train, holdout, synthetic, label="y")
    assert np.isfinite(report.summary().to_numpy()).all()
    assert report.fidelity.per_feature.loc["flat", "ks"] == 0.0
    assert report.fidelity.per_feature.loc["flat", "wasserstein"] == 0.0


# --------------------------------------------------------------------------- bad inputs


def _drop_label(t: dict) -> None:
    t["real_holdout"] = t["real_holdout"].drop(columns="y")


def _rename_feature(t: dict) -> None:
    t["synthetic"] = t["synthetic"].rename(columns={"x1": "z"})


def _text_feature(t: dict) -> None:
    t["real_train"]["x0"] = t["real_train"]["x0"].map("{:.2f}".format)


def _inf(t: dict) -> None:
    t["real_holdout"].loc[0, "x3"] = np.inf


def _minus_inf(t: dict) -> None:
    t["synthetic"].loc[[0, 1], "x1"] = np.nan  # missing cells are fine; -inf is not
    t["synthetic"].loc[2, "x1"] = -np.inf


def _empty(t: dict) -> None:
    t["synthetic"] = t["synthetic"].iloc[:0]


def _one_class(name: str):
    def mutate(t: dict) -> None:
        t[name] = t[name][t[name]["y"] == 1]

    return mutate


def _unknown_class(t: dict) -> None:
    t["synthetic"]["y"] = t["synthetic"]["y"].astype(object)
    t["synthetic"].loc[0, "y"] = "other"


def _missing_label(t: dict) -> None:
    t["real_train"]["y"] = t["real_train"]["y"].astype(float)
    t["real_train"].loc[0, "y"] = np.nan


def _label_only(t: dict) -> None:
    for name in t:
        t[name] = t[name][["y"]]


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (_drop_label, r"real_holdout: label column 'y' is missing"),
        (_rename_feature, r"synthetic: feature columns differ .*missing \['x1'\].*extra \['z'\]"),
        (_text_feature, r"real_train: feature columns 'x0' \(.*\) are not numeric.*encode"),
        (_inf, r"real_holdout: feature column 'x3' has 1 infinite values \(the first inf at row 0"),
        (_minus_inf, r"synthetic: feature column 'x1' has 1 infinite values \(the first -inf at"),
        (_empty, r"synthetic: the table is empty"),
        (_one_class("real_train"), r"real_train: label 'y' holds a single class \(1\)"),
        (_one_class("synthetic"), r"synthetic: label 'y' holds a single class"),
        (_one_class("real_holdout"), r"real_holdout: label 'y' holds a single class"),
        (_unknown_class, r"synthetic: label 'y' has classes \['other'\].*allowed classes"),
        (_missing_label, r"real_train: label column 'y' has 1 missing values"),
        (_label_only, r"real_train: no feature columns"),
    ],
)
def test_bad_inputs_name_the_table_and_column(mutate, match) -> None:
    train, holdout, synthetic = tables(seed=11, n=20)
    t = {"real_train": train, "real_holdout": holdout, "synthetic": synthetic}
    mutate(t)
    with pytest.raises(ValueError, match=match):
        score_twin(t["real_train"], t["real_holdout"], t["synthetic"], label="y")


def test_non_frame_input_is_a_type_error() -> None:
    train, holdout, synthetic = tables(seed=11, n=20)
    with pytest.raises(TypeError, match="synthetic: expected a pandas DataFrame"):
        score_twin(train, holdout, synthetic.to_numpy(), label="y")


# --------------------------------------------------------------------------- output


def test_summary_dict_and_markdown(fresh) -> None:
    _, report = fresh
    summary = report.summary()
    assert tuple(summary.index) == SUMMARY_METRICS
    assert summary["mia_auc"] == report.privacy.mia_auc
    assert summary["max_ks"] == report.fidelity.per_feature["ks"].max()

    as_dict = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert as_dict["summary"] == pytest.approx(summary.to_dict())
    assert as_dict["n_rows"] == {"real_train": 400, "real_holdout": 400, "synthetic": 400}
    assert [row["feature"] for row in as_dict["fidelity"]["per_feature"]] == list(
        report.fidelity.per_feature.index
    )
    assert as_dict["utility"]["classes"] == [0, 1]

    text = report.to_markdown()
    for metric in SUMMARY_METRICS:
        assert f"| {metric} | {summary[metric]:.3g} |" in text
    top = report.fidelity.per_feature["ks"].idxmax()
    assert text.index(f"| {top} |") < min(
        text.index(f"| {f} |") for f in report.fidelity.per_feature.index if f != top
    )


def test_repr_is_a_few_lines_of_headline_scores(fresh) -> None:
    """Printing a report gives its sizes and headline scores, never its per-feature table."""
    _, report = fresh
    text = repr(report)
    lines = text.splitlines()
    assert len(lines) == 4 and len(text) < 600, text
    assert lines[0].startswith("TwinReport for label 'y'")
    assert "real_train 400, real_holdout 400, synthetic 400" in lines[0]
    utility, fidelity, privacy = report.utility, report.fidelity, report.privacy
    assert f"TSTR AUC {utility.tstr_auc:.3f} vs TRTR {utility.trtr_auc:.3f}" in text
    assert f"KS mean {fidelity.mean_ks:.3f} (max {fidelity.max_ks:.3f})" in text
    assert f"MIA AUC {privacy.mia_auc:.3f}" in text
    assert "x0" not in text  # no feature table
    assert str(report) == text


def test_text_categorical_columns_are_scored_one_hot() -> None:
    """A categorical column kept as text (what ``pd.read_csv`` gives, and what ``sb.twin``
    takes) is scored as its 0/1 columns with the training table's levels, a missing cell
    NaN in each: the same report as for the table one-hot encoded by hand."""
    train, holdout, synthetic = tables(seed=5)
    rng = np.random.default_rng(5)
    for frame in (train, holdout, synthetic):
        frame["sex"] = rng.choice(["female", "male"], size=len(frame)).astype(object)
        frame.loc[frame.index[:3], "sex"] = None
    by_hand = []
    for frame in (train, holdout, synthetic):
        hot = frame.drop(columns="sex")
        for level in ("female", "male"):
            hot[f"sex={level}"] = np.where(frame["sex"].isna(), np.nan, frame["sex"] == level)
        by_hand.append(hot[[*train.columns.drop(["sex", "y"]), "y", "sex=female", "sex=male"]])
    report = score_twin(train, holdout, synthetic, label="y")
    expected = score_twin(*by_hand, label="y")
    assert (
        report.fidelity.per_feature.index.tolist() == expected.fidelity.per_feature.index.tolist()
    )
    assert report.fidelity.max_ks == expected.fidelity.max_ks
    assert report.privacy.dcr_synthetic_median == expected.privacy.dcr_synthetic_median


@pytest.mark.parametrize(
    ("value", "shown"),
    [(1763.4, "1,763"), (0.123456, "0.123"), (12.345, "12.3"), (-2500.0, "-2,500"),
     (2.5e12, "2.5e+12"), (3e-5, "3e-05"), (7, "7")],
)  # fmt: skip
def test_report_numbers_read_without_an_exponent_where_one_is_not_needed(value, shown) -> None:
    """A real mean of 1763.4 read 1.76e+03 in report.md."""
    from synthbio_ppl.twins.report import format_number

    assert format_number(value) == shown
