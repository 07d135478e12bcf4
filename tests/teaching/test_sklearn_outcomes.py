"""The scikit-learn-style outcome front doors: shapes, targets within sampling error,
coefficients recovered by independent estimators, arguments named in errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import synthbio_ppl as sb
from synthbio_ppl.core.errors import SpecError


def test_regression_meets_its_r2_and_is_reproducible() -> None:
    """OLS on the signal columns explains r2 = 0.6 of y (the sampling sd of R² at 20,000
    rows is about 2·√R²·(1 − R²)/√n = 0.004)."""
    X, y = sb.make_biomedical_regression(n_samples=20000, n_informative=3, n_noise=2, r2=0.6)
    assert X.shape == (20000, 5) and y.shape == (20000,)
    design = np.column_stack([np.ones(len(X)), X[:, :3]])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ beta
    assert abs(1 - residual.var() / y.var() - 0.6) < 4 * 0.004
    assert np.allclose(beta[1:], 1.0, atol=4 * 0.02)  # SE of each β ≈ s/√n ≈ 0.01
    again, _ = sb.make_biomedical_regression(n_samples=20000, n_informative=3, n_noise=2, r2=0.6)
    assert np.array_equal(X, again)


def test_regression_frames_and_truth() -> None:
    X, y, truth = sb.make_biomedical_regression(
        n_samples=50, n_informative=12, coefficient=0.5, as_frame=True, return_truth=True
    )
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    assert list(X.columns[:2]) == ["signal_0", "signal_1"]
    assert set(truth.outcome.terms["value"]) == {0.5}


def test_survival_is_scikit_survival_shaped_and_meets_its_censoring() -> None:
    X, y = sb.make_biomedical_survival(n_samples=5000, n_informative=2, n_noise=1, censored=0.4)
    assert X.shape == (5000, 3) and y.dtype.names == ("event", "time")
    assert abs((~y["event"]).mean() - 0.4) < 4 * np.sqrt(0.4 * 0.6 / 5000)
    assert (y["time"] > 0).all()


def test_survival_coefficients_are_recovered_by_lifelines() -> None:
    lifelines = pytest.importorskip("lifelines")
    X, y = sb.make_biomedical_survival(
        n_samples=4000, n_informative=2, n_noise=1, coefficient=[0.8, -0.4], as_frame=True
    )
    cox = lifelines.CoxPHFitter().fit(pd.concat([X, y], axis=1), "time", "event")
    truth = pd.Series({"signal_0": 0.8, "signal_1": -0.4, "noise_0": 0.0})
    assert ((cox.params_ - truth).abs() < 4 * cox.standard_errors_).all(), cox.summary


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"censored": 1.0}, r"^censored: 1.0"),
        ({"scale": -1}, r"^scale: -1"),
        ({"baseline": "cox"}, r"^baseline: 'cox'"),
        ({"coefficient": [1, 2]}, r"^coefficient: .*a list of 5"),
        ({"coefficient": float("nan")}, r"^coefficient"),
        ({"n_informative": 0}, r"^n_informative: 0"),
        ({"n_samples": 1}, r"^n_samples: 1"),
        ({"shape": 3, "baseline": "exponential"}, r"^shape: 3"),
        ({"end_of_study": 0.01, "censored": 0.1}, r"^censored: .*end_of_study alone censors"),
    ],
)
def test_bad_survival_arguments_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        sb.make_biomedical_survival(**{"n_samples": 300, **kwargs})


def test_bad_regression_arguments_are_named() -> None:
    with pytest.raises(SpecError, match=r"^r2: 1"):
        sb.make_biomedical_regression(r2=1)
    with pytest.raises(SpecError, match=r"^n_noise: -1"):
        sb.make_biomedical_regression(n_noise=-1)


def test_numpy_integers_and_flags_as_scikit_learn_takes_them() -> None:
    X, _ = sb.make_biomedical_regression(
        n_samples=np.int64(50), n_informative=np.int32(2), n_noise=np.int8(1)
    )
    assert X.shape == (50, 3)
    for maker in (sb.make_biomedical_regression, sb.make_biomedical_survival):
        with pytest.raises(SpecError, match=r"^return_truth: 'no' .*True or False"):
            maker(return_truth="no")
        with pytest.raises(SpecError, match=r"^as_frame: 1 .*True or False"):
            maker(as_frame=1)
    with pytest.raises(SpecError, match=r"^as_frame: 'no'"):
        sb.make_biomedical_classification(as_frame="no")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"correlation": 1.5, "n_clusters": 1}, r"^correlation: 1.5"),
        ({"coefficient": 1e300}, r"^coefficient: 1e\+300 .*less than or equal to 50"),
        ({"r2": 1e-300}, r"^r2: 1e-300"),
        ({"correlation": "0.5", "n_clusters": 1}, r"^correlation: '0.5' .*a number"),
    ],
)
def test_regression_refusals_name_the_argument(kwargs: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        sb.make_biomedical_regression(n_samples=100, **kwargs)


def test_survival_refusals_name_the_argument() -> None:
    with pytest.raises(SpecError, match=r"^censored: 0.3 .*raise censored or end_of_study"):
        sb.make_biomedical_survival(end_of_study=0.05, censored=0.3)
    with pytest.raises(SpecError, match=r"^scale: '0.1' .*a number"):
        sb.make_biomedical_survival(scale="0.1")
