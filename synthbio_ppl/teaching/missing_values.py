"""Missing values, the lessons (Rubin 1976; Little & Rubin 2019).

- ``compare_imputation``: complete-case analysis against imputation (scikit-learn's
  ``SimpleImputer`` and ``IterativeImputer``, used, not rewritten) fitted inside each
  cross-validation training fold (a ``Pipeline``) or outside, on the whole table first.
- ``mean_bias``, ``effect_size_bias`` and ``rate_table`` (from ``missing_bias``): the
  mean and Cohen's d of the observed cells against the exact truth, per column, and the
  realised missing rates against the spec's. MCAR moves the first two only by sampling
  error; MNAR biases them.

scikit-learn (extra ``eval``) is imported only when a helper runs.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from synthbio_ppl.core.estimators import default_estimator
from synthbio_ppl.teaching.inputs import class_codes, complete_rows, feature_matrix, shown
from synthbio_ppl.teaching.missing_bias import effect_size_bias, mean_bias, rate_table

__all__ = ["compare_imputation", "effect_size_bias", "make_imputer", "mean_bias", "rate_table"]

Strategy = Literal["complete_case", "mean", "median", "iterative", "class_mean"]
Where = Literal["inside", "outside"]
IMPUTERS = ("mean", "median", "iterative")
"""Strategies that are a scikit-learn imputer (and so can be fitted inside CV)."""
STRATEGIES = ("complete_case", "class_mean", *IMPUTERS)


def make_imputer(
    strategy: str, seed: int = 0, add_indicator: bool = False, max_iter: int = 10
) -> Any:
    """A fresh scikit-learn imputer for ``strategy``.

    "mean" / "median": ``SimpleImputer(strategy)``; "iterative": ``IterativeImputer(
    max_iter, random_state=seed)`` (each column regressed on the others, BayesianRidge,
    round-robin). All keep all-NaN columns (as 0) so column positions stay put, and
    ``add_indicator`` appends one 0/1 column per column that had a NaN when fitted.
    Raises ValueError for another strategy.
    """
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer, SimpleImputer

    if strategy in ("mean", "median"):
        return SimpleImputer(
            strategy=strategy, add_indicator=add_indicator, keep_empty_features=True
        )
    if strategy == "iterative":
        return IterativeImputer(
            max_iter=max_iter,
            random_state=seed,
            add_indicator=add_indicator,
            keep_empty_features=True,
        )
    raise ValueError(f"imputer strategy must be one of {list(IMPUTERS)}; got {strategy!r}")


def _class_mean_fill(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each class's NaN filled with that class's column means (a ``SimpleImputer`` per
    class): it needs every row's label, the test rows' included, so it exists only
    outside CV."""
    filled = values.copy()
    for label in np.unique(labels):
        rows = labels == label
        filled[rows] = make_imputer("mean").fit_transform(values[rows])
    return filled


def _chosen(value: Any, argument: str, kind: str, allowed: Sequence[str]) -> list[str]:
    """``value`` as a non-empty list of names from ``allowed`` (a string is one name);
    ValueError naming ``argument`` otherwise."""
    choices = ", ".join(repr(a) for a in allowed)
    try:
        chosen = [value] if isinstance(value, str) else list(value)
    except TypeError:
        chosen = [value]
    if not chosen:
        raise ValueError(f"{argument} is empty; name at least one {kind} of {choices}")
    unknown = [v for v in chosen if v not in allowed]
    if unknown:
        raise ValueError(f"unknown {kind} {unknown} in {argument}; allowed: {choices}")
    return chosen


def _check_splits(n_splits: Any, labels: np.ndarray, names: list) -> None:
    """``n_splits`` must be an integer from 2 to the rows of the smallest class (each
    StratifiedKFold test fold holds every class); ValueError otherwise."""
    if len(names) < 2:
        raise ValueError(f"y holds a single class ({names[0]!r}); a classifier needs two")
    counts = np.bincount(labels, minlength=len(names))
    small = int(np.argmin(counts))
    smallest = f"the smallest class, {names[small]!r}, has {int(counts[small])} rows"
    if counts[small] < 2:
        raise ValueError(f"{smallest}: stratified CV needs at least 2 rows in every class")
    integer = isinstance(n_splits, int | np.integer) and not isinstance(n_splits, bool)
    if not integer or not 2 <= n_splits <= counts[small]:
        raise ValueError(
            f"n_splits must be an integer from 2 to {int(counts[small])} ({smallest}); "
            f"got {shown(n_splits)}"
        )


def _noted(call: Any, *args: Any) -> tuple[Any, list[str]]:
    """``call(*args)`` and the warnings it raised, as "Category: message" lines."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call(*args)
    return result, list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))


def _run_folds(
    model: Any,
    values: np.ndarray,
    labels: np.ndarray,
    splits: list,
    scorer: Any,
    notes: list[str],
) -> list[tuple[float, int, int, str]]:
    """(score, n_train, n_test, note) per fold; warnings raised while fitting go to note."""
    from sklearn.base import clone

    def one(train: np.ndarray, test: np.ndarray) -> float:
        fitted = clone(model).fit(values[train], labels[train])
        return float(scorer(fitted, values[test], labels[test]))

    out = []
    for train, test in splits:
        score, caught = _noted(one, train, test)
        out.append((score, len(train), len(test), "; ".join(dict.fromkeys(notes + caught))))
    return out


def compare_imputation(
    X: Any,
    y: Any,
    strategies: Strategy | Sequence[Strategy] = ("complete_case", "mean", "iterative"),
    where: Where | Sequence[Where] = ("inside", "outside"),
    estimator: Any = None,
    n_splits: int = 5,
    seed: int = 0,
    scoring: str | None = None,
    add_indicator: bool = False,
    max_iter: int = 10,
) -> pd.DataFrame:
    """Cross-validated scores of a classifier on a table with NaN, one row per fold.

    ``X``: (n, p) float array or DataFrame, NaN where missing (infinities raise); ``y``:
    n labels. Strategies:

    - "complete_case": drop every row with a NaN, then ``StratifiedKFold`` on the rows
      left (fewer rows, and a selected subset of the population unless MCAR);
    - "mean", "median", "iterative" (``make_imputer``): ``where="inside"`` fits
      ``Pipeline([imputer, estimator])`` on each training fold, so the test fold's
      values never shape the imputation; ``"outside"`` fits the imputer on the whole
      table first (the test folds included: a leak), then cross-validates the estimator;
    - "class_mean" (outside only): each class's NaN filled with its own class mean, which
      needs the test rows' labels: the label leaks into the features.

    Every imputation strategy uses the same folds, ``StratifiedKFold(n_splits,
    shuffle=True, random_state=seed)`` over all rows. ``scoring`` defaults to ROC AUC
    (one-vs-rest for more than two classes); ``estimator`` to ``default_estimator()``.

    Returns a DataFrame with columns ``strategy``, ``imputer`` ("inside", "outside", or
    "none" for complete_case), ``fold`` (int), ``score`` (float), ``n_train``,
    ``n_test`` (int) and ``note`` (warnings raised while fitting, e.g. an iterative
    imputer that did not converge); ``attrs`` hold ``scoring``, ``n_rows`` and
    ``n_complete``. ``strategies`` and ``where`` take one name as a string too. Raises
    ValueError for an unknown or empty ``strategies`` or ``where``, missing labels, one
    class, ``n_splits`` outside 2 to the smallest class's rows, or when the complete cases
    are too few for ``n_splits`` folds per class.
    """
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import Pipeline

    values, _ = feature_matrix(X, "keep", {"keep": "NaN are the subject here"})  # inf raise
    labels, names = class_codes(y, values.shape[0])  # missing labels raise
    strategies = _chosen(strategies, "strategies", "strategy", STRATEGIES)
    where = _chosen(where, "where", "place", ("inside", "outside"))
    _check_splits(n_splits, labels, names)
    if "class_mean" in strategies and "outside" not in where:
        raise ValueError(
            "class_mean needs the test rows' labels, so it exists only outside CV: "
            "add 'outside' to where"
        )
    if scoring is None:
        scoring = "roc_auc" if len(np.unique(labels)) == 2 else "roc_auc_ovr"
    scorer = get_scorer(scoring)
    estimator = default_estimator() if estimator is None else estimator
    folds = StratifiedKFold(n_splits, shuffle=True, random_state=seed)
    splits = list(folds.split(values, labels))
    keep = complete_rows(values)
    runs: list[tuple[str, str, Any, np.ndarray, np.ndarray, list, list[str]]] = []
    for strategy in strategies:
        if strategy == "complete_case":
            counts = np.bincount(labels[keep], minlength=labels.max() + 1)
            if counts.min() < n_splits:
                raise ValueError(
                    f"complete-case analysis keeps {int(keep.sum())} of {len(keep)} rows "
                    f"(per class {counts.tolist()}): too few for {n_splits} folds per class"
                )
            cc = list(folds.split(values[keep], labels[keep]))
            runs.append((strategy, "none", estimator, values[keep], labels[keep], cc, []))
        elif strategy == "class_mean":
            if "outside" in where:
                filled, notes = _noted(_class_mean_fill, values, labels)
                runs.append((strategy, "outside", estimator, filled, labels, splits, notes))
        else:
            make = (strategy, seed, add_indicator, max_iter)
            if "inside" in where:
                pipe = Pipeline([("impute", make_imputer(*make)), ("model", estimator)])
                runs.append((strategy, "inside", pipe, values, labels, splits, []))
            if "outside" in where:  # the imputer sees every row, the test folds too: the leak
                filled, notes = _noted(make_imputer(*make).fit_transform, values)
                runs.append((strategy, "outside", estimator, filled, labels, splits, notes))
    rows = [
        (strategy, fitted, fold, *result)
        for strategy, fitted, model, xs, ys, cv, notes in runs
        for fold, result in enumerate(_run_folds(model, xs, ys, cv, scorer, notes))
    ]
    columns = ["strategy", "imputer", "fold", "score", "n_train", "n_test", "note"]
    frame = pd.DataFrame(rows, columns=columns)
    frame.attrs.update(scoring=scoring, n_rows=len(values), n_complete=int(keep.sum()))
    return frame
