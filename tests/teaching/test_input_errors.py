"""Bad input to the teaching helpers gets a one-line ValueError naming the argument, the
value and what is allowed: never a library traceback, never a silently empty table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import synthbio_ppl as sb
from synthbio_ppl.teaching.batch_confounding import confounding
from synthbio_ppl.teaching.effect_sizes import cliffs_delta, cohens_d
from synthbio_ppl.teaching.missing_values import compare_imputation, effect_size_bias, mean_bias

pytest.importorskip("sklearn")

SPEC = {
    "name": "input_errors",
    "seed": 2,
    "classes": [{"name": "healthy", "n": 60}, {"name": "diseased", "n": 60}],
    "informative": [{"n": 2, "effect_size": 1.0}],
    "noise": [{"n": 2}],
    "missing": [{"mechanism": "mcar", "rate": 0.2}],
}


@pytest.fixture(scope="module")
def data() -> sb.Dataset:
    return sb.generate(SPEC)


def table(n: int = 40, p: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    X[rng.random((n, p)) < 0.1] = np.nan
    return X, np.tile(np.array(["a", "b"], dtype=object), n // 2)


def one_line(excinfo: pytest.ExceptionInfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message and len(message) < 400
    return message


# ------------------------------------------------------------------ 1. no complete row


def test_plot_pca_complete_case_with_an_all_nan_column_names_it() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from synthbio_ppl.teaching.plots import plot_pca

    X, y = table()
    X[:, 1] = np.nan  # no row is complete
    frame = pd.DataFrame(X, columns=["g0", "g1", "g2"])
    with pytest.raises(ValueError, match=r"keeps no row .*\['g1'\] have no observed cell") as e:
        plot_pca(frame, y, missing="complete_case")
    assert "missing=" in one_line(e)
    with pytest.raises(ValueError, match="keeps no row"):  # the same check for cohens_d
        cohens_d(frame, y, missing="complete_case")


# ------------------------------------------------------------------ 2. mean_bias(by=...)


def test_mean_bias_by_refuses_anything_but_class_or_none(data: sb.Dataset) -> None:
    with pytest.raises(ValueError, match=r"by must be 'class' .* got a Series of length 120") as e:
        mean_bias(data, by=data.y)  # type: ignore[arg-type]
    one_line(e)
    with pytest.raises(ValueError, match=r"by must be .*got \['class'\]"):
        mean_bias(data, by=["class"])  # type: ignore[arg-type]
    assert mean_bias(data, by=None).index.name == "column"
    assert mean_bias(data, by="class").index.names == ["column", "class"]


# ------------------------------------------------------------------ 3. strategies, columns


def test_compare_imputation_takes_one_strategy_as_a_string() -> None:
    X, y = table()
    one = compare_imputation(X, y, strategies="mean", where="inside")  # type: ignore[arg-type]
    listed = compare_imputation(X, y, strategies=("mean",), where=("inside",))
    pd.testing.assert_frame_equal(one, listed)
    assert len(one) == 5 and set(one["strategy"]) == {"mean"}


def test_empty_strategies_where_and_columns_are_refused(data: sb.Dataset) -> None:
    X, y = table()
    with pytest.raises(ValueError, match="strategies is empty; name at least one strategy of"):
        compare_imputation(X, y, strategies=())
    with pytest.raises(ValueError, match="where is empty"):
        compare_imputation(X, y, strategies=("mean",), where=())
    with pytest.raises(ValueError, match=r"unknown strategy \['knn'\] in strategies"):
        compare_imputation(X, y, strategies="knn")  # type: ignore[arg-type]
    for helper in (mean_bias, effect_size_bias):
        with pytest.raises(ValueError, match="columns is empty"):
            helper(data, columns=[])
    name = data.X.columns[0]
    pd.testing.assert_frame_equal(mean_bias(data, columns=name), mean_bias(data, columns=[name]))


# ------------------------------------------------------------------ 4. n_splits


@pytest.mark.parametrize("n_splits", [1, 0, 21, 1000, 2.5, True])
def test_compare_imputation_checks_n_splits(n_splits: object) -> None:
    X, y = table()  # 20 rows per class
    with pytest.raises(ValueError, match=r"n_splits must be an integer from 2 to 20 \(") as e:
        compare_imputation(X, y, strategies=("mean",), n_splits=n_splits)  # type: ignore[arg-type]
    assert repr(n_splits) in one_line(e)


def test_compare_imputation_needs_two_rows_per_class() -> None:
    X, y = table()
    y = y.copy()
    y[0] = "c"  # a class of one row
    with pytest.raises(ValueError, match="smallest class, 'c', has 1 rows"):
        compare_imputation(X, y, strategies=("mean",))
    with pytest.raises(ValueError, match="single class"):
        compare_imputation(X, np.full(len(X), "a"), strategies=("mean",))


# ------------------------------------------------------------------ 5. missing labels


@pytest.mark.parametrize("hole", [None, np.nan, pd.NA], ids=["None", "nan", "NA"])
def test_missing_labels_are_refused_with_their_count(hole: object) -> None:
    X, y = table()
    X = np.nan_to_num(X)
    y = y.copy()
    y[[3, 8]] = hole
    calls = {
        "cohens_d": lambda: cohens_d(X, y),
        "cliffs_delta": lambda: cliffs_delta(X, y),
        "compare_imputation": lambda: compare_imputation(X, y, strategies=("mean",)),
        "series": lambda: cohens_d(X, pd.Series(y)),
        "categorical": lambda: cohens_d(X, pd.Series(y).astype("category")),
    }
    for name, call in calls.items():
        with pytest.raises(ValueError, match=r"y has 2 missing label\(s\) .*\[3, 8\]") as e:
            call()
        assert "every row needs a class" in one_line(e), name


def test_float_labels_with_nan_and_mixed_types() -> None:
    X, _ = table()
    X = np.nan_to_num(X)
    y = np.tile([0.0, 1.0], 20)
    y[5] = np.nan
    with pytest.raises(ValueError, match=r"y has 1 missing label"):
        compare_imputation(X, y, strategies=("mean",))
    with pytest.raises(ValueError, match="y mixes label types"):
        cohens_d(X, np.array([1, "b"] * 20, dtype=object))
    with pytest.raises(ValueError, match="batch has 1 missing label"):
        confounding(["a", "b", "a"], ["x", None, "y"])
