"""The cross-validation lessons: batch leakage (``compare_cv``: random vs group-aware CV)
and selection leakage (``selection_cv``: feature selection outside vs inside CV).

NaN in ``X`` raise by default; ``missing="complete_case"`` drops the rows holding one
before the folds are drawn, ``missing="impute"`` puts a mean ``SimpleImputer`` in front of
the estimator, so it is fitted on each training fold only. scikit-learn (extra ``eval``)
is imported only when a helper runs.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable
from typing import Any, Literal

import numpy as np
import pandas as pd

from synthbio_ppl.core.estimators import default_estimator
from synthbio_ppl.teaching.inputs import class_codes, feature_matrix, kept_complete, row_labels

__all__ = ["CV_MISSING", "CVMissing", "compare_cv", "mean_imputer", "selection_cv"]

CVMissing = Literal["raise", "complete_case", "impute"]

CV_MISSING = {
    "complete_case": "drop every row that holds a NaN before the folds are drawn",
    "impute": "mean-impute with scikit-learn's SimpleImputer, fitted on each training fold "
    "(a Pipeline step)",
}
"""The NaN choices of the cross-validation helpers, as quoted in the "raise" message."""


def mean_imputer() -> Any:
    """``SimpleImputer(strategy="mean", keep_empty_features=True)``: an all-NaN training
    column becomes 0 rather than vanishing, so column positions stay put."""
    from sklearn.impute import SimpleImputer

    return SimpleImputer(strategy="mean", keep_empty_features=True)


def _imputing(estimator: Any) -> Any:
    from sklearn.base import clone
    from sklearn.pipeline import Pipeline

    return Pipeline([("impute", mean_imputer()), ("model", clone(estimator))])


def _score_fold(
    estimator: Any,
    scorer: Any,
    X: np.ndarray,
    y: np.ndarray,
    names: list[Hashable],
    train: np.ndarray,
    test: np.ndarray,
) -> tuple[float, str]:
    from sklearn.base import clone

    train_classes = pd.unique(y[train])
    if len(train_classes) < 2:
        return float("nan"), (
            f"training fold holds a single class ({names[train_classes[0]]!r}); no classifier "
            "can be fitted, score recorded as NaN"
        )
    model = clone(estimator).fit(X[train], y[train])
    note = ""
    if len(pd.unique(y[test])) < 2:
        note = f"test fold holds a single class ({names[y[test][0]]!r})"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # single-class test folds; see note
            return float(scorer(model, X[test], y[test])), note
    except ValueError as exc:
        return float("nan"), f"{note}; cannot score: {exc}" if note else f"cannot score: {exc}"


def compare_cv(
    X: Any,
    y: Any,
    groups: Any,
    estimator: Any = None,
    n_splits: int = 5,
    seed: int = 0,
    scoring: str = "balanced_accuracy",
    group_scheme: Literal["auto", "leave_one_group_out", "group_kfold"] = "auto",
    max_logo_groups: int = 12,
    missing: CVMissing = "raise",
) -> pd.DataFrame:
    """Random stratified K-fold CV next to group-aware CV (groups = batches, sites, ...).

    The random scheme is ``StratifiedKFold(n_splits, shuffle=True, random_state=seed)``;
    the group scheme holds whole groups out: ``LeaveOneGroupOut`` when there are at most
    ``max_logo_groups`` groups (``"auto"``), else ``GroupKFold(n_splits)``. When batches
    are confounded with class, random CV rewards learning the batch; group CV does not.

    Returns one row per fold: ``scheme``, ``fold``, ``score``, ``n_train``, ``n_test``,
    ``held_out`` (groups in the test fold) and ``note``. A training fold with a single
    class is not fitted: its score is NaN, ``note`` says why, and a warning is issued.
    The default estimator is ``default_estimator()``.

    ``X``: (n, p) array or DataFrame; ``y``, ``groups``: n labels. ``missing``: "raise"
    (ValueError naming the columns with NaN and their counts), "complete_case" (the rows
    with a NaN are dropped, with their ``y`` and ``groups``; ``attrs["rows_dropped"]``
    counts them) or "impute" (``Pipeline([SimpleImputer(mean), estimator])`` per fold).
    Infinities always raise.
    """
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import GroupKFold, LeaveOneGroupOut, StratifiedKFold

    values, columns = feature_matrix(X, missing, CV_MISSING)
    labels, names = class_codes(y, values.shape[0])
    group_arr = row_labels(groups, values.shape[0], "groups")
    complete = missing == "complete_case"
    keep = kept_complete(values, columns) if complete else np.ones(len(values), bool)
    values, labels, group_arr = values[keep], labels[keep], group_arr[keep]
    n_groups = len(pd.unique(group_arr))
    if n_groups < 2:
        raise ValueError("group-aware CV needs at least two groups")
    if group_scheme == "auto":
        group_scheme = "leave_one_group_out" if n_groups <= max_logo_groups else "group_kfold"
    if group_scheme == "leave_one_group_out":
        group_splits = LeaveOneGroupOut().split(values, labels, group_arr)
    elif group_scheme == "group_kfold":
        group_splits = GroupKFold(n_splits=min(n_splits, n_groups)).split(values, labels, group_arr)
    else:
        raise ValueError(f"unknown group_scheme {group_scheme!r}")
    random_splits = StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(values, labels)
    estimator = default_estimator() if estimator is None else estimator
    if missing == "impute":
        estimator = _imputing(estimator)
    scorer = get_scorer(scoring)
    rows = []
    for scheme, splits in (("stratified_kfold", random_splits), (group_scheme, group_splits)):
        for fold, (train, test) in enumerate(splits):
            score, note = _score_fold(estimator, scorer, values, labels, names, train, test)
            held = (
                ""
                if scheme == "stratified_kfold"
                else ",".join(map(str, pd.unique(group_arr[test])))
            )
            rows.append((scheme, fold, score, len(train), len(test), held, note))
    frame = pd.DataFrame(
        rows, columns=["scheme", "fold", "score", "n_train", "n_test", "held_out", "note"]
    )
    frame.attrs.update(scoring=scoring, missing=missing, rows_dropped=int((~keep).sum()))
    failed = frame[frame["score"].isna()]
    if len(failed):
        warnings.warn(
            f"{len(failed)} fold(s) could not be scored and are NaN "
            f"({failed['scheme'].iloc[0]} fold {failed['fold'].iloc[0]}: "
            f"{failed['note'].iloc[0]}); see the 'note' column",
            UserWarning,
            stacklevel=2,
        )
    return frame


def selection_cv(
    X: Any,
    y: Any,
    k: int,
    inside: bool = True,
    estimator: Any = None,
    n_splits: int = 5,
    seed: int = 0,
    score_func: Any = None,
    missing: CVMissing = "raise",
) -> float:
    """Mean cross-validated ROC AUC with top-``k`` univariate selection inside or outside CV.

    ``inside=False`` (the leak): ``SelectKBest(score_func, k)`` sees every row, including
    the test folds, then the classifier is cross-validated on the kept columns.
    ``inside=True``: ``Pipeline([SelectKBest, estimator])`` re-selects on each training
    fold only. The folds (``StratifiedKFold(n_splits, shuffle=True, random_state=seed)``)
    are the same both ways. On pure noise the leak gives an AUC near 1, honest CV near 0.5.
    ``score_func`` defaults to the ANOVA F-test ``f_classif``; more than two classes use
    one-vs-rest AUC.

    ``X``: (n, p) array or DataFrame; ``y``: n labels. ``missing``: "raise" (ValueError
    naming the columns with NaN), "complete_case" (drop the rows with a NaN first) or
    "impute": a mean ``SimpleImputer`` is the first step of every fitted pipeline. Inside,
    ``Pipeline([impute, select, model])`` per training fold; outside, the selection is
    fitted as ``Pipeline([impute, select])`` on every row (the leak under study) and the
    model as ``Pipeline([impute, model])`` per training fold. Infinities always raise.
    """
    from sklearn.base import clone
    from sklearn.feature_selection import SelectKBest, f_classif
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import Pipeline

    values, columns = feature_matrix(X, missing, CV_MISSING)
    labels, _ = class_codes(y, values.shape[0])
    if missing == "complete_case":
        keep = kept_complete(values, columns)
        values, labels = values[keep], labels[keep]
    if not 1 <= k <= values.shape[1]:
        raise ValueError(f"k must lie in [1, n_features={values.shape[1]}]; got {k}")
    estimator = default_estimator() if estimator is None else estimator
    selector = SelectKBest(f_classif if score_func is None else score_func, k=k)
    folds = StratifiedKFold(n_splits, shuffle=True, random_state=seed)
    scoring = "roc_auc" if len(pd.unique(labels)) == 2 else "roc_auc_ovr"
    impute = [("impute", mean_imputer())] if missing == "impute" else []
    if inside:
        model = Pipeline([*impute, ("select", selector), ("model", clone(estimator))])
        scores = cross_val_score(model, values, labels, cv=folds, scoring=scoring)
    else:
        support = Pipeline([*impute, ("select", selector)]).fit(values, labels)[-1]
        kept = values[:, support.get_support()]
        model = _imputing(estimator) if impute else clone(estimator)
        scores = cross_val_score(model, kept, labels, cv=folds, scoring=scoring)
    return float(np.mean(scores))
