"""One method applied to one generated dataset: its selected features and scores (fitted
on every row), its cross-validated scores under each scheme, or its fit's recovery."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.data.dataset import Dataset
from synthbio_ppl.model.layout import Layout, build_layout
from synthbio_ppl.processes.registry import modifier_of
from synthbio_ppl.studies.method_types import FITS, PREDICTS, SCORES, SELECTS, Method
from synthbio_ppl.studies.methods import seeded

__all__ = ["SCHEMES", "CVSettings", "MethodResult", "apply_method", "batch_column"]

SCHEMES = {
    "random": "StratifiedKFold(n_splits, shuffle=True): rows drawn at random into folds",
    "group": "GroupKFold(n_splits) on the study's `groups` column (whole groups held out)",
    "leave_one_batch_out": "LeaveOneGroupOut on the batch: each batch held out once",
}
"""The cross-validation schemes a classifier is scored under."""


PREDICTION_SCORES = {"auc": "roc_auc", "balanced_accuracy": "balanced_accuracy"}
"""Metric name -> scikit-learn scorer (one-vs-rest AUC for more than two classes)."""


@dataclass(frozen=True)
class CVSettings:
    """Which schemes, how many folds, and the column ``group`` CV holds out."""

    schemes: tuple[str, ...] = ("random",)
    n_splits: int = 5
    groups: str | None = None
    scores: tuple[str, ...] = tuple(PREDICTION_SCORES)
    """The prediction scores asked for (directly or by their gap): only these are run."""


@dataclass
class MethodResult:
    """What a method gave on one dataset.

    ``selected``: the selected feature names (None: the method selects none);
    ``scores``: float Series over every feature (larger: more important), or None;
    ``cv``: ``{scheme: {metric: mean score over folds}}``; ``recovery``: the fit's
    ``Fit.recovery(nuisance=False)`` table, or None; ``seconds``: the wall time the method
    took on the dataset (its fit, selection and cross-validation).
    """

    method: Method
    selected: list[str] | None = None
    scores: pd.Series | None = None
    cv: dict[str, dict[str, float]] = field(default_factory=dict)
    recovery: pd.DataFrame | None = None
    seconds: float = float("nan")


def batch_column(layout: Layout) -> str | None:
    """The covariate holding each row's batch (the column modifiers' design column), or
    None for a layout without batches."""
    names = [c for s in layout.modifiers for c in modifier_of(s.field).design_columns(s)]
    return names[0] if names else None


def _selection(model: Any, columns: pd.Index) -> tuple[list[str], pd.Series | None]:
    names = [str(c) for c in columns]
    steps = [s for _, s in getattr(model, "steps", [])] or [model]
    head = model[:-1] if hasattr(model, "steps") and not hasattr(steps[-1], "transform") else model
    kept = list(head.get_feature_names_out(names))
    selector = next(s for s in reversed(steps) if hasattr(s, "get_support"))
    raw = getattr(selector, "scores_", None)
    if raw is None and getattr(selector, "variances_", None) is not None:
        raw = selector.variances_  # VarianceThreshold
    if raw is None and getattr(selector, "ranking_", None) is not None:
        raw = -np.asarray(selector.ranking_, dtype=float)  # RFE: rank 1 is the best
    inner = getattr(selector, "estimator_", None)
    if raw is None and inner is not None:
        raw = getattr(inner, "feature_importances_", None)
        if raw is None and getattr(inner, "coef_", None) is not None:
            raw = np.abs(np.atleast_2d(inner.coef_)).max(axis=0)
    scores = None
    if raw is not None and len(raw) == len(names):  # scored on the original columns
        scores = pd.Series(np.asarray(raw, dtype=float), index=columns)
    return [k for k in kept if k in set(names)], scores


def _called(method: Method, X: pd.DataFrame, y: pd.Series) -> tuple[list[str], pd.Series | None]:
    out = method.estimator(X, y)
    where = f"methods.{method.name}"
    scores = None
    if isinstance(out, dict):
        keys = set(out)
        if "selected" not in keys or not keys <= {"selected", "scores"}:
            raise SpecError(
                where,
                sorted(map(str, keys)),
                "returned a mapping: its keys are 'selected' (required) and 'scores'",
            )
        scores = out.get("scores")
        out = out["selected"]
        if scores is not None:
            scores = _scores(method, scores, X.columns)
    if out is None or isinstance(out, str | bytes) or not hasattr(out, "__iter__"):
        raise SpecError(
            where,
            out,
            "returned what is not a selection: a list of column names or a boolean "
            "mask over X's columns",
        )
    arr = np.asarray(list(out) if not hasattr(out, "shape") else out)
    if arr.dtype == bool:
        if arr.shape != (X.shape[1],):
            raise SpecError(
                f"methods.{method.name}",
                f"a mask of shape {arr.shape}",
                f"a boolean selection needs one entry per feature ({X.shape[1]})",
            )
        return [str(c) for c in X.columns[arr]], scores
    names = [str(v) for v in arr.ravel().tolist()]  # ``out`` may be a spent generator
    unknown = sorted(set(names) - {str(c) for c in X.columns})
    if unknown:
        raise SpecError(
            f"methods.{method.name}", unknown[:3], "selected names must be columns of X"
        )
    return list(dict.fromkeys(names)), scores


def _scores(method: Method, scores: Any, columns: pd.Index) -> pd.Series:
    """A callable's per-feature scores as a float Series over ``columns``: a Series by its
    feature names (any order), anything else by position in the X it was given."""
    where = f"methods.{method.name}"
    if isinstance(scores, pd.Series):
        names = scores.index.astype(str)
        missing = sorted(set(columns.astype(str)) - set(names))
        unknown = sorted(set(names) - set(columns.astype(str)))
        if missing or unknown or names.has_duplicates:
            raise SpecError(
                where,
                f"scores for {len(scores)} names",
                "a Series of scores is indexed by X's column names, each once"
                + (f" (missing {missing[:3]})" if missing else "")
                + (f" (unknown {unknown[:3]})" if unknown else ""),
            )
        values = pd.Series(scores.to_numpy(), index=names).reindex(columns.astype(str))
    else:
        values = np.asarray(scores)
        if values.shape != (len(columns),):
            raise SpecError(
                where,
                f"scores of shape {values.shape}",
                f"one score per column of X ({len(columns)}), in X's order",
            )
    try:
        return pd.Series(np.asarray(values, dtype=float), index=columns)
    except (TypeError, ValueError):
        raise SpecError(where, "scores", "scores must be numbers") from None


def _splits(scheme: str, data: Dataset, settings: CVSettings, seed: int) -> tuple[Any, Any]:
    from sklearn.model_selection import GroupKFold, LeaveOneGroupOut, StratifiedKFold

    if scheme == "random":
        return StratifiedKFold(settings.n_splits, shuffle=True, random_state=seed), None
    column = settings.groups if scheme == "group" else batch_column(build_layout(data.spec))
    groups = np.asarray(data.covariates[column])
    if scheme == "group":
        n_groups = len(pd.unique(groups))
        return GroupKFold(min(settings.n_splits, n_groups)), groups
    return LeaveOneGroupOut(), groups


def _cross_validated(
    method: Method, X: pd.DataFrame, data: Dataset, settings: CVSettings, seed: int
) -> dict[str, dict[str, float]]:
    from sklearn.model_selection import cross_validate

    y = np.asarray(data.y.astype(str))
    multi = len(pd.unique(y)) > 2
    scoring = {
        k: ("roc_auc_ovr" if multi and k == "auc" else v)
        for k, v in PREDICTION_SCORES.items()
        if k in settings.scores
    }
    out = {}
    for scheme in settings.schemes:
        cv, groups = _splits(scheme, data, settings, seed)
        folds = list(cv.split(X, y, groups))
        nan = dict.fromkeys(scoring, float("nan"))
        # a fold that cannot be scored leaves its scheme without a score (the mean of the
        # others would score other data): a training fold of one class fits nothing, a
        # test fold of one class has no AUC
        if any(len(np.unique(y[train])) < 2 for train, _ in folds):
            out[scheme] = nan
            continue
        one_class = any(len(np.unique(y[test])) < 2 for _, test in folds)
        wanted = {k: v for k, v in scoring.items() if not (one_class and k == "auc")}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # balanced accuracy of one class
            table = cross_validate(
                seeded(method.estimator, seed),
                X,
                y,
                groups=groups,
                cv=folds,
                scoring=wanted,
                error_score="raise",
            )
        out[scheme] = {**nan, **{k: float(np.mean(table[f"test_{k}"])) for k in wanted}}
    return out


def shuffled_columns(X: pd.DataFrame, seed: int) -> pd.DataFrame:
    """``X`` with its columns in a random order drawn from ``seed`` (names kept).

    The generator writes blocks in order, the informative ones first; a method that breaks
    ties by position (``SelectKBest`` keeps the last of equal scores, ``SelectFromModel``
    the first) would gain or lose by that order alone.
    """
    order = np.random.default_rng([seed, 1]).permutation(X.shape[1])
    return X.iloc[:, order]


def apply_method(method: Method, data: Dataset, settings: CVSettings, seed: int) -> MethodResult:
    """Run ``method`` on ``data`` with every random choice seeded by ``seed``; selectors and
    classifiers see the columns in an order drawn from ``seed`` (``shuffled_columns``), a
    fit sees the table as the model writes it. ``seconds`` holds the wall time it took."""
    start = time.perf_counter()
    result = _applied(method, data, settings, seed)
    result.seconds = time.perf_counter() - start
    return result


def _applied(method: Method, data: Dataset, settings: CVSettings, seed: int) -> MethodResult:
    result = MethodResult(method)
    if FITS in method.gives:
        from synthbio_ppl.inference.fitting import fit

        spec = method.estimator
        try:
            fitted = fit(None, data, spec.method, seed=seed, progress=False, **dict(spec.settings))
        except SpecError as exc:
            raise exc.under(f"methods.{method.name}.fit") from None
        result.recovery = fitted.recovery(nuisance=False)
        return result
    X, y = shuffled_columns(data.X, seed), data.y
    if SELECTS in method.gives and not hasattr(method.estimator, "get_params"):
        result.selected, result.scores = _called(method, X, y)
        return result
    if SELECTS in method.gives:
        # class codes 0..K−1: a regression-based selector (SelectFromModel(Lasso())) takes
        # them where it would refuse the class names
        codes = np.asarray(y.cat.codes) if hasattr(y, "cat") else np.asarray(y.astype(str))
        model = seeded(method.estimator, seed).fit(X, codes)
        result.selected, result.scores = _selection(model, X.columns)
        if SCORES not in method.gives:
            result.scores = None
    if PREDICTS in method.gives and settings.scores:  # no prediction score asked: no CV
        result.cv = _cross_validated(method, X, data, settings, seed)
    return result
