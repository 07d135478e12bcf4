"""Named methods of a study: the four feature selectors of the lesson and a classifier,
each behind a mean imputer so that scenes with missing values run too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["PRESETS"]


def _imputed(step: Any) -> Any:
    """``step`` behind a mean imputer fitted on the rows it is given (a scene with missing
    values has NaN in X; on a complete table the imputer changes nothing)."""
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline

    impute = SimpleImputer(strategy="mean", keep_empty_features=True)
    return Pipeline([("impute", impute), ("method", step)])


def _preset_selector(k: int, score: Callable[..., Any]) -> Any:
    from sklearn.feature_selection import SelectKBest

    return _imputed(SelectKBest(score, k=k))


def _t_test(k: int = 10) -> Any:
    from sklearn.feature_selection import f_classif

    return _preset_selector(k, f_classif)  # two classes: F = t², the same ranking


def _mutual_information(k: int = 10) -> Any:
    from sklearn.feature_selection import mutual_info_classif

    return _preset_selector(k, mutual_info_classif)


def _l1_logistic(k: int = 10, C: float = 1.0) -> Any:
    from sklearn.feature_selection import SelectFromModel
    from sklearn.linear_model import LogisticRegression

    # the lasso's own selection: non-zero coefficients only, the k largest of them
    return _imputed(
        SelectFromModel(
            LogisticRegression(**_l1_penalty(), solver="liblinear", C=C),
            max_features=k,
            threshold=1e-12,
        )
    )


def _l1_penalty() -> dict[str, Any]:
    """The L1 penalty as the installed scikit-learn spells it (1.8 deprecates ``penalty``
    for ``l1_ratio``; before 1.8 ``l1_ratio`` alone is ignored)."""
    import sklearn

    major, minor = (int(p) for p in sklearn.__version__.split(".")[:2])
    return {"l1_ratio": 1.0} if (major, minor) >= (1, 8) else {"penalty": "l1"}


def _random_forest(k: int = 10, n_estimators: int = 200) -> Any:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.feature_selection import SelectFromModel

    model = RandomForestClassifier(n_estimators=n_estimators)
    return _imputed(SelectFromModel(model, max_features=k, threshold=-float("inf")))


def _logistic_regression() -> Any:
    from synthbio_ppl.core.estimators import default_estimator

    return _imputed(default_estimator())


PRESETS: dict[str, Callable[..., Any]] = {
    "t_test": _t_test,
    "l1_logistic": _l1_logistic,
    "random_forest": _random_forest,
    "mutual_information": _mutual_information,
    "logistic_regression": _logistic_regression,
}
"""Named methods, each behind a mean imputer (``_imputed``): the four selectors of the
lesson (the top ``k`` features by the univariate F-test, by |coefficient| of an L1
logistic regression (at most ``k``: its non-zero ones), by random-forest importance, by
mutual information) and the default classifier (standardise, L2 logistic regression)."""
