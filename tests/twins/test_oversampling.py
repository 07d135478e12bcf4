"""Model-based oversampling: imbalanced-learn's semantics, its pipeline, and the new rows.

The strategy arithmetic is checked against imbalanced-learn's own
``check_sampling_strategy`` (an independent implementation of the same rules).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import synthbio_ppl as sb
from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.twins.oversampling import target_counts

FAST = {"svi_steps": 1500}


def imbalanced(n_major: int = 300, n_minor: int = 30, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Two Gaussian classes, 4 columns, the minority shifted by 1.5 sd in every column."""
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(0.0, 1.0, (n_major, 4)), rng.normal(1.5, 1.0, (n_minor, 4))])
    y = np.repeat([0, 1], [n_major, n_minor])
    return X, y


@pytest.mark.parametrize(
    "strategy", ["auto", "minority", "not minority", "not majority", "all", 0.5, {1: 40, 2: 50}]
)
def test_target_counts_follow_imbalanced_learn(strategy: object) -> None:
    from imblearn.utils import check_sampling_strategy

    binary = isinstance(strategy, float)  # a ratio is defined for two classes only
    y = np.repeat([0, 1], [60, 20]) if binary else np.repeat([0, 1, 2], [60, 20, 35])
    expected = check_sampling_strategy(strategy, y, "over-sampling")
    ours = {k: v for k, v in target_counts(y, strategy).items() if v > 0 or k in expected}
    assert ours == {k: int(v) for k, v in expected.items()}


@pytest.mark.parametrize(
    "strategy",
    ["most", 1.5, 0.01, {7: 10}, {1: 5}, float("nan"), float("inf")],
)
def test_bad_strategies_raise_spec_error(strategy: object) -> None:
    y = np.repeat([0, 1], [60, 20])
    with pytest.raises(SpecError, match="sampling_strategy"):
        target_counts(y, strategy)


@pytest.fixture(scope="module")
def resampled() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    X, y = imbalanced()
    X_res, y_res = sb.oversample(X, y, random_state=0, **FAST)
    return X, y, X_res, y_res


def test_real_rows_first_then_the_minority_up_to_the_majority(resampled) -> None:
    X, y, X_res, y_res = resampled
    np.testing.assert_array_equal(X_res[: len(X)], X)
    np.testing.assert_array_equal(y_res[: len(y)], y)
    assert np.bincount(y_res).tolist() == [300, 300]
    assert (y_res[len(y) :] == 1).all()


def test_new_rows_follow_the_minority_distribution(resampled) -> None:
    """New minority rows: mean within 5 SE of the real minority's (SE from 30 real rows),
    and no copies of real rows (unlike a random oversampler)."""
    X, y, X_res, _ = resampled
    real, new = X[y == 1], X_res[len(X) :]
    se = real.std(axis=0, ddof=1) * np.sqrt(1 / len(real) + 1 / len(new))
    assert (np.abs(new.mean(axis=0) - real.mean(axis=0)) < 5 * se).all()
    assert (np.abs(new.mean(axis=0) - X[y == 0].mean(axis=0)) > 1.0).all()
    gaps = np.linalg.norm(new[:, None, :] - real[None], axis=-1).min(axis=1)
    assert gaps.min() > 1e-6


def test_dataframe_in_dataframe_out() -> None:
    X, y = imbalanced(seed=1)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    labels = pd.Series(np.where(y == 1, "case", "control"), name="status")
    X_res, y_res = sb.TwinOversampler(**{"twin_options": FAST}).fit_resample(frame, labels)
    assert isinstance(X_res, pd.DataFrame) and list(X_res.columns) == ["a", "b", "c", "d"]
    assert isinstance(y_res, pd.Series) and y_res.name == "status"
    assert y_res.value_counts().to_dict() == {"control": 300, "case": 300}


def test_inside_an_imbalanced_learn_pipeline_and_clone() -> None:
    from imblearn.pipeline import Pipeline
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.preprocessing import StandardScaler

    sampler = sb.TwinOversampler(random_state=3, twin_options=FAST)
    copy = clone(sampler)
    assert copy.get_params() == sampler.get_params() and copy is not sampler
    X, y = imbalanced(500, 50, seed=2)  # training folds of 367 rows pad to the fixture's 384
    pipe = Pipeline(
        [("scale", StandardScaler()), ("resample", sampler), ("clf", LogisticRegression())]
    )
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    scores = cross_val_score(pipe, X, y, cv=folds, scoring="balanced_accuracy")
    assert scores.shape == (3,) and (scores > 0.75).all()  # separable classes (d = 1.5 × 4)


def test_bad_input_raises_spec_error() -> None:
    X, y = imbalanced()
    with pytest.raises(SpecError, match="y"):
        sb.oversample(X, y[:-1])
    with pytest.raises(SpecError, match="X"):
        sb.oversample(X[:, 0], y)
    with pytest.raises(SpecError, match=r"TwinOversampler\.bogus"):
        sb.TwinOversampler().set_params(bogus=1)


@pytest.mark.parametrize(("n_minor", "strategy"), [(299, "auto"), (30, {1: 31})])
def test_one_row_to_add_adds_one_row(n_minor: int, strategy: object) -> None:
    """A single row to add is a count of one: not read as a share of 100% of the real
    table's size (which added as many rows as the table holds)."""
    X, y = imbalanced(n_minor=n_minor, seed=2)
    sampler = sb.TwinOversampler(sampling_strategy=strategy, twin_options={"svi_steps": 200})
    X_res, y_res = sampler.fit_resample(X, y)
    assert len(X_res) == len(X) + 1
    assert np.bincount(y_res).tolist() == [300, n_minor + 1]


@pytest.mark.parametrize(
    ("options", "y", "path"),
    [({"sampling_strategy": {1: "30"}}, None, "sampling_strategy.1"),
     ({"sampling_strategy": {1: float("nan")}}, None, "sampling_strategy.1"),
     ({"sampling_strategy": {1: 30.7}}, None, "sampling_strategy.1"),
     ({"random_state": -1}, None, "random_state"),
     ({"random_state": "x"}, None, "random_state"),
     ({}, "nan", "y")],
)  # fmt: skip
def test_bad_oversampler_input_is_named(options: dict, y: object, path: str) -> None:
    """These raised TypeError, ValueError, or were accepted (30.7 truncated, -1)."""
    X, labels = imbalanced(n_major=40, n_minor=10)
    if y == "nan":
        labels = labels.astype(float)
        labels[0] = np.nan
    with pytest.raises(SpecError, match=rf"^{path}: "):
        sb.TwinOversampler(**options).fit_resample(X, labels)


def test_numpy_ratios_are_ratios_rounded_down_as_imbalanced_learn_does() -> None:
    from imblearn.utils import check_sampling_strategy

    y = np.repeat([0, 1], [50, 10])
    for ratio in (np.float32(0.5), np.float64(0.43), 0.43):
        ours = target_counts(y, ratio)
        theirs = check_sampling_strategy(float(ratio), y, "over-sampling")
        assert ours == {0: 0, 1: theirs[1]}  # 0.43 × 50 = 21.5: 21 rows, 11 added


def test_a_feature_named_like_the_internal_label_is_kept(monkeypatch) -> None:
    frame = pd.DataFrame({"__class__": np.arange(14.0), "b": np.arange(14.0) % 5})
    y = np.repeat([0, 1], [9, 5])
    X_res, y_res = sb.TwinOversampler(twin_options={"svi_steps": 100}).fit_resample(frame, y)
    assert list(X_res.columns) == ["__class__", "b"] and np.bincount(y_res).tolist() == [9, 9]


def test_load_dataset_names_a_path_that_is_not_one() -> None:
    for value in (5, None):
        with pytest.raises(SpecError, match=r"^directory: .*must be a folder's path"):
            sb.load_dataset(value)
