"""``score_twin`` with missing cells: the missing-fraction comparison, and how each part
(marginals, correlations, utility, privacy) handles NaN, checked against direct formulas.

Tables are Gaussian (class 1 shifted by δ, identity covariance, 1,200 rows each) with cells
removed at known rates: ``x0`` at 5% in class 0 and 45% in class 1, ``x2`` at 20% in both.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp
from sklearn.impute import SimpleImputer
from sklearn.metrics import roc_auc_score
from sklearn.metrics.pairwise import nan_euclidean_distances
from sklearn.pipeline import make_pipeline

from synthbio_ppl.core.estimators import default_estimator
from synthbio_ppl.twins.scoring import score_twin

DELTA = np.array([1.5, 1.0, 0.0, 0.5])
RATES = {"x0": (0.05, 0.45), "x2": (0.20, 0.20)}  # (class 0, class 1)
N = 1200


def gaussian(rng: np.random.Generator, n: int = N, pooled: bool = False) -> pd.DataFrame:
    """n rows, half per class, with holes at ``RATES`` (``pooled``: x0 at the classes'
    mean rate in both, a twin that ignored the class)."""
    y = np.repeat([0, 1], [n - n // 2, n // 2])
    frame = pd.DataFrame(rng.normal(size=(n, len(DELTA))) + (y == 1)[:, None] * DELTA)
    frame.columns = [f"x{j}" for j in range(len(DELTA))]
    for column, (r0, r1) in RATES.items():
        rate = np.where(y == 1, r1, r0) if not pooled else np.full(n, (r0 + r1) / 2)
        frame.loc[rng.random(n) < rate, column] = np.nan
    frame["y"] = y
    return frame


@pytest.fixture(scope="module")
def scored():
    rng = np.random.default_rng(8)
    train, holdout, synthetic = gaussian(rng), gaussian(rng), gaussian(rng, pooled=True)
    return (train, holdout, synthetic), score_twin(train, holdout, synthetic, label="y")


def test_missing_fractions_are_compared_per_feature_and_class(scored) -> None:
    (train, _, synthetic), report = scored
    table = report.fidelity.missing
    assert table.index.names == ["feature", "class"]
    assert list(table.columns) == [
        "real_n",
        "real_missing",
        "synthetic_n",
        "synthetic_missing",
        "difference",
        "se",
    ]
    for (feature, cls), row in table.iterrows():
        real = train.loc[train.y == cls, feature]
        synth = synthetic.loc[synthetic.y == cls, feature]
        assert row["real_n"] == len(real) and row["synthetic_n"] == len(synth)
        assert row["real_missing"] == real.isna().mean()
        assert row["synthetic_missing"] == synth.isna().mean()
        assert row["difference"] == synth.isna().mean() - real.isna().mean()
        pooled = (real.isna().sum() + synth.isna().sum()) / (len(real) + len(synth))
        se = math.sqrt(pooled * (1 - pooled) * (1 / len(real) + 1 / len(synth)))
        assert row["se"] == pytest.approx(se, rel=1e-12)
    # the pooled twin misses x0's class difference: 20 points each way, ≫ 4 SE
    for cls in (0, 1):
        row = table.loc[("x0", cls)]
        assert abs(row["difference"]) > 4 * row["se"], cls
    for cls in (0, 1):  # x2 shares one rate: within 4 SE
        row = table.loc[("x2", cls)]
        assert abs(row["difference"]) < 4 * row["se"], cls
    assert report.fidelity.missing_max_abs_diff == table["difference"].abs().max()
    per_feature = report.fidelity.per_feature
    features = train.columns.drop("y")
    assert np.array_equal(per_feature["real_missing"], train[features].isna().mean())
    assert np.array_equal(per_feature["synthetic_missing"], synthetic[features].isna().mean())


def test_marginals_compare_the_observed_cells(scored) -> None:
    (train, _, synthetic), report = scored
    table = report.fidelity.per_feature
    for column in ("x0", "x1", "x2"):
        a, b = train[column].dropna(), synthetic[column].dropna()
        assert table.loc[column, "ks"] == pytest.approx(ks_2samp(a, b).statistic, abs=1e-12)
        assert table.loc[column, "real_mean"] == pytest.approx(a.mean(), rel=1e-12)
        assert table.loc[column, "synthetic_sd"] == pytest.approx(b.std(ddof=1), rel=1e-12)
    assert np.isfinite(report.fidelity.mean_ks) and np.isfinite(report.fidelity.mean_wasserstein)


def test_correlations_are_pairwise_complete(scored) -> None:
    """The same as pandas' pairwise-complete Pearson correlation (DataFrame.corr)."""
    (train, _, synthetic), report = scored
    diff = train.drop(columns="y").corr() - synthetic.drop(columns="y").corr()
    assert report.fidelity.corr_frobenius == pytest.approx(np.linalg.norm(diff), rel=1e-9)
    upper = np.triu_indices(4, k=1)
    expected = np.abs(diff.to_numpy()[upper]).mean()
    assert report.fidelity.corr_mean_abs_diff == pytest.approx(expected, rel=1e-9)


def test_utility_imputes_with_scikit_learn_and_says_so(scored) -> None:
    (train, holdout, synthetic), report = scored
    utility = report.utility
    assert utility.imputation is not None and "SimpleImputer(strategy='median'" in (
        utility.imputation
    )
    features = train.columns.drop("y")
    for fitted_on, auc in ((synthetic, utility.tstr_auc), (train, utility.trtr_auc)):
        model = make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            default_estimator(),
        ).fit(fitted_on[features], fitted_on["y"])
        expected = roc_auc_score(holdout["y"], model.predict_proba(holdout[features])[:, 1])
        assert auc == pytest.approx(expected, rel=1e-12)
    assert utility.tstr_auc > 0.8


def test_privacy_distances_are_nan_euclidean(scored) -> None:
    (train, holdout, synthetic), report = scored
    features = train.columns.drop("y")
    mean, sd = train[features].mean(), train[features].std(ddof=1)

    def nearest(reference: pd.DataFrame, queries: pd.DataFrame) -> np.ndarray:
        d = nan_euclidean_distances(((queries - mean) / sd), ((reference - mean) / sd))
        return np.where(np.isnan(d), np.inf, d).min(axis=1)

    dcr = nearest(train[features], synthetic[features])
    holdout_dcr = nearest(train[features], holdout[features])
    assert report.privacy.dcr_synthetic_median == pytest.approx(np.median(dcr), rel=1e-9)
    assert report.privacy.dcr_holdout_median == pytest.approx(np.median(holdout_dcr), rel=1e-9)
    assert report.privacy.exact_copies == 0.0


def test_a_copy_with_holes_is_still_an_exact_copy() -> None:
    rng = np.random.default_rng(3)
    train, holdout = gaussian(rng, 200), gaussian(rng, 200)
    report = score_twin(train, holdout, train.copy(), label="y")
    assert report.privacy.exact_copies == 1.0 and report.fidelity.missing_max_abs_diff == 0.0


def test_a_column_never_observed_in_the_synthetic_table_shows() -> None:
    """No silent drop: its statistics are NaN, the headline means carry NaN (None in
    JSON), its missing fraction is 1, and utility still runs (the imputer keeps it)."""
    rng = np.random.default_rng(4)
    train, holdout, synthetic = gaussian(rng, 200), gaussian(rng, 200), gaussian(rng, 200)
    synthetic["x1"] = np.nan
    report = score_twin(train, holdout, synthetic, label="y")
    assert np.isnan(report.fidelity.per_feature.loc["x1", "ks"])
    assert np.isnan(report.fidelity.mean_ks) and np.isnan(report.fidelity.max_ks)
    assert report.fidelity.per_feature.loc["x1", "synthetic_missing"] == 1.0
    assert report.fidelity.missing.loc[("x1", 0), "synthetic_missing"] == 1.0
    assert report.fidelity.missing_max_abs_diff == 1.0
    assert np.isfinite(report.utility.tstr_auc)
    document = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert document["summary"]["mean_ks"] is None


def test_report_formats_carry_the_comparison(scored) -> None:
    _, report = scored
    document = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    rows = document["fidelity"]["missing"]
    assert len(rows) == 8 and set(rows[0]) >= {"feature", "class", "real_missing", "se"}
    assert document["summary"]["missing_max_abs_diff"] == report.fidelity.missing_max_abs_diff
    assert document["utility"]["imputation"] == report.utility.imputation
    text = report.to_markdown()
    assert "### Missing fractions by class" in text
    assert "Utility: missing cells imputed by SimpleImputer" in text
    first = text.split("### Missing fractions by class")[1].splitlines()[4]
    assert first.startswith("| x0 |")  # the largest gap comes first


def test_complete_tables_report_no_missing_cells() -> None:
    rng = np.random.default_rng(5)
    frames = []
    for _ in range(3):
        frame = gaussian(rng, 100)
        frames.append(frame.fillna(0.0))
    report = score_twin(*frames, label="y")
    assert report.fidelity.missing_max_abs_diff == 0.0
    assert (report.fidelity.missing[["real_missing", "synthetic_missing"]] == 0).all().all()
    assert report.utility.imputation is None
    assert "Missing fractions" not in report.to_markdown()
