"""Utility of a twin: train on synthetic, test on real (TSTR) beside train on real (TRTR).

One classifier (``default_estimator()`` unless given) is fitted to the synthetic rows and,
cloned, to the real-train rows; both are tested on ``real_holdout`` by ROC AUC (one-vs-rest
macro mean beyond two classes) and balanced accuracy. See ``TwinUtility``. scikit-learn is
imported only when a table is scored.

Missing cells: when any of the three tables has a NaN feature cell, each fitted model is
``make_pipeline(SimpleImputer(strategy="median", add_indicator=True,
keep_empty_features=True), estimator)``: scikit-learn's imputer, fitted on the training
table of that model (synthetic or real_train) and applied to the holdout, so no row is
dropped and the classifier also sees which cells were missing (the indicator columns;
missingness that differs by class carries signal). ``TwinUtility.imputation`` names it.
Without missing cells the estimator is used as given.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable
from typing import Any

import numpy as np

from synthbio_ppl.core.estimators import default_estimator
from synthbio_ppl.twins.report import TwinUtility


def _utility(
    estimator: Any,
    values: dict[str, np.ndarray],
    codes: dict[str, np.ndarray],
    classes: list[Hashable],
) -> TwinUtility:
    from sklearn.base import clone

    model = default_estimator() if estimator is None else estimator
    imputation = None
    if any(np.isnan(x).any() for x in values.values()):
        model, imputation = _with_imputer(model)
    x_test, y_test = values["real_holdout"], codes["real_holdout"]
    scores = {}
    for train in ("synthetic", "real_train"):
        fitted = clone(model).fit(values[train], codes[train])
        scores[train] = _test_scores(fitted, x_test, y_test, len(classes))
    return TwinUtility(
        classes=tuple(classes),
        positive_class=classes[-1] if len(classes) == 2 else None,
        tstr_auc=scores["synthetic"][0],
        trtr_auc=scores["real_train"][0],
        tstr_balanced_accuracy=scores["synthetic"][1],
        trtr_balanced_accuracy=scores["real_train"][1],
        imputation=imputation,
    )


IMPUTER = {"strategy": "median", "add_indicator": True, "keep_empty_features": True}


def _with_imputer(estimator: Any) -> tuple[Any, str]:
    """(SimpleImputer(**IMPUTER) then ``estimator``, a one-line description of it)."""
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    settings = ", ".join(f"{k}={v!r}" for k, v in IMPUTER.items())
    return make_pipeline(SimpleImputer(**IMPUTER), estimator), f"SimpleImputer({settings})"


# --------------------------------------------------------------------------- test scores


def _test_scores(model: Any, x: np.ndarray, y: np.ndarray, n_classes: int) -> tuple[float, float]:
    """(AUC, balanced accuracy) of a fitted model on the test rows; see ``TwinUtility``."""
    from sklearn.metrics import balanced_accuracy_score, roc_auc_score

    scores = _class_scores(model, x, n_classes)
    if n_classes == 2:
        auc = roc_auc_score(y == 1, scores[:, 1])
    else:
        present = np.unique(y)
        auc = np.mean([roc_auc_score(y == k, scores[:, k]) for k in present])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        balanced = balanced_accuracy_score(y, model.predict(x))
    return float(auc), float(balanced)


def _class_scores(model: Any, x: np.ndarray, n_classes: int) -> np.ndarray:
    """One score column per class code (probabilities, else decision values); a class the
    model never saw gets a constant 0 column."""
    fitted = np.asarray(model.classes_, dtype=int)
    if hasattr(model, "predict_proba"):
        raw = model.predict_proba(x)
    else:
        raw = np.asarray(model.decision_function(x), dtype=np.float64)
        if raw.ndim == 1:
            raw = np.column_stack([-raw, raw])
    scores = np.zeros((x.shape[0], n_classes))
    scores[:, fitted] = raw
    return scores
