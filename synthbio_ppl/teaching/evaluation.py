"""Teaching and evaluation helpers: effect sizes, feature rankings, selection scores,
stability, batch confounding and the cross-validation lessons (batch leakage, selection
leakage).

Effect sizes are computed for every feature at once (vectorised over columns). Two-class
statistics compare class ``b`` with class ``a`` (``b - a``), the same orientation as the
truth's ``effect_size`` (last class minus first). scikit-learn is imported only by the
cross-validation helpers (extra ``eval``).
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Iterable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency, rankdata

from synthbio_ppl.core.estimators import default_estimator
from synthbio_ppl.data.truth import Truth
from synthbio_ppl.model.design import cramers_v

__all__ = [
    "class_order",
    "cliffs_delta",
    "cohens_d",
    "compare_cv",
    "confounding",
    "default_estimator",
    "rank_features",
    "selection_cv",
    "selection_scores",
    "selection_stability",
]

Method = Literal["cohens_d", "cliffs_delta"]


# --------------------------------------------------------------------------- inputs


def _matrix(X: Any) -> tuple[np.ndarray, pd.Index]:
    """``X`` as a float64 (n, p) array and its feature names."""
    if isinstance(X, pd.DataFrame):
        names = pd.Index(X.columns)
        values = X.to_numpy(dtype=np.float64)
    else:
        values = np.asarray(X, dtype=np.float64)
        if values.ndim == 1:
            values = values[:, None]
        names = pd.RangeIndex(values.shape[1])
    if values.ndim != 2:
        raise ValueError(f"X must be 2-D (rows × features); got shape {values.shape}")
    if np.isnan(values).any():
        raise ValueError("X contains NaN; impute or drop missing values first")
    return values, names


def _labels(y: Any, n_rows: int) -> np.ndarray:
    labels = np.asarray(y, dtype=object)
    if labels.ndim != 1 or labels.shape[0] != n_rows:
        raise ValueError(f"y must have one label per row ({n_rows}); got shape {labels.shape}")
    return labels


def _codes(y: Any, n_rows: int) -> tuple[np.ndarray, list[Hashable]]:
    """Integer class codes (in ``class_order``) for scikit-learn, and the class names."""
    labels = _labels(y, n_rows)
    names = class_order(y)
    codes = pd.Index(names).get_indexer(labels)
    if (codes < 0).any():
        raise ValueError("y contains missing labels")
    return codes, names


def class_order(y: Any) -> list[Hashable]:
    """Classes present in ``y``: category order for a categorical, else sorted."""
    if isinstance(y, pd.Series) and isinstance(y.dtype, pd.CategoricalDtype):
        present = set(y.dropna().unique())
        return [c for c in y.cat.categories if c in present]
    return sorted(pd.unique(np.asarray(y, dtype=object)).tolist())


def _pair(y: Any, classes: Sequence[Hashable] | None) -> tuple[Hashable, Hashable]:
    """The two classes ``(a, b)`` to compare; statistics are oriented ``b - a``."""
    present = class_order(y)
    if classes is None:
        if len(present) != 2:
            raise ValueError(
                f"y has {len(present)} classes {present}; a two-class statistic needs "
                "exactly two, so pass classes=(a, b) to compare b with a"
            )
        return present[0], present[1]
    if len(classes) != 2 or classes[0] == classes[1]:
        raise ValueError(f"classes must name two different classes; got {classes!r}")
    missing = [c for c in classes if c not in present]
    if missing:
        raise ValueError(f"classes {missing} do not occur in y (classes present: {present})")
    return classes[0], classes[1]


def _split(
    X: Any, y: Any, classes: Sequence[Hashable] | None
) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    values, names = _matrix(X)
    labels = _labels(y, values.shape[0])
    a, b = _pair(y, classes)
    return values[labels == a], values[labels == b], names


# --------------------------------------------------------------------------- effect sizes


def cohens_d(X: Any, y: Any, classes: Sequence[Hashable] | None = None) -> pd.Series:
    """Cohen's d of every feature between two classes, with the pooled sd.

        d_j = (mean_b,j − mean_a,j) / s_j,
        s_j² = (Σ_a (x − mean_a,j)² + Σ_b (x − mean_b,j)²) / (n_a + n_b − 2).

    ``classes=(a, b)`` picks the pair (required when ``y`` has more than two classes);
    by default ``a`` and ``b`` are the two classes in category (or sorted) order.
    A feature with no spread inside either class (s_j = 0, e.g. a constant feature) gets
    d = 0 when both classes hold the same value and ±inf when they hold different values
    (perfect separation without spread), never NaN.
    """
    xa, xb, names = _split(X, y, classes)
    na, nb = xa.shape[0], xb.shape[0]
    if na < 1 or nb < 1 or na + nb < 3:
        raise ValueError(f"Cohen's d needs n_a, n_b >= 1 and n_a + n_b >= 3; got {na}, {nb}")
    # Constant columns take their value exactly, so rounding cannot fake a spread.
    flat_a = np.ptp(xa, axis=0) == 0
    flat_b = np.ptp(xb, axis=0) == 0
    mean_a = np.where(flat_a, xa[0], xa.mean(axis=0))
    mean_b = np.where(flat_b, xb[0], xb.mean(axis=0))
    ss_a = np.where(flat_a, 0.0, ((xa - mean_a) ** 2).sum(axis=0))
    ss_b = np.where(flat_b, 0.0, ((xb - mean_b) ** 2).sum(axis=0))
    sd = np.sqrt((ss_a + ss_b) / (na + nb - 2))
    diff = mean_b - mean_a
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(sd > 0, diff / sd, np.sign(diff) * np.inf)
    d = np.where((sd == 0) & (diff == 0), 0.0, d)
    return pd.Series(d, index=names, name="cohens_d")


def cliffs_delta(X: Any, y: Any, classes: Sequence[Hashable] | None = None) -> pd.Series:
    """Cliff's delta of every feature between two classes, ties counted exactly.

        δ_j = P(x_b > x_a) − P(x_b < x_a) = 2·U_b / (n_a·n_b) − 1,
        U_b = R_b − n_b(n_b + 1)/2,

    with R_b the sum of the mid-ranks of class ``b`` in the pooled column (ties share
    their mean rank, i.e. count one half). One ranking per feature: O(n log n), not the
    O(n_a·n_b) pair count. δ lies in [−1, 1]; a constant feature gives 0.
    """
    xa, xb, names = _split(X, y, classes)
    na, nb = xa.shape[0], xb.shape[0]
    if na < 1 or nb < 1:
        raise ValueError(f"Cliff's delta needs both classes present; got n_a={na}, n_b={nb}")
    ranks = rankdata(np.concatenate([xa, xb]), method="average", axis=0)
    u_b = ranks[na:].sum(axis=0) - nb * (nb + 1) / 2
    return pd.Series(2.0 * u_b / (na * nb) - 1.0, index=names, name="cliffs_delta")


def _true_effect(truth: Truth, a: Hashable, b: Hashable) -> pd.Series:
    """Population Cohen's d of ``b − a`` from the truth (last vs first class as fallback)."""
    table = truth.effect_sizes
    if f"{b} vs {a}" in table.columns:
        return table[f"{b} vs {a}"]
    if f"{a} vs {b}" in table.columns:
        return -table[f"{a} vs {b}"]
    return truth.features["effect_size"]


def rank_features(
    X: Any,
    y: Any,
    truth: Truth | None = None,
    method: Method = "cohens_d",
    classes: Sequence[Hashable] | None = None,
) -> pd.DataFrame:
    """Features sorted by |effect| (largest first), ties kept in column order.

    Columns: ``rank`` (1 = strongest), ``effect`` (signed, ``b − a``), ``abs_effect``; with
    a ``truth``: ``role``, ``signal`` and ``true_effect_size`` (population Cohen's d of the
    same pair, whatever ``method`` is).
    """
    stats = {"cohens_d": cohens_d, "cliffs_delta": cliffs_delta}
    if method not in stats:
        raise ValueError(f"method must be one of {sorted(stats)}; got {method!r}")
    effect = stats[method](X, y, classes)
    order = np.argsort(-np.abs(effect.to_numpy()), kind="stable")
    ranked = pd.DataFrame(
        {
            "rank": np.arange(1, len(effect) + 1),
            "effect": effect.to_numpy()[order],
            "abs_effect": np.abs(effect.to_numpy()[order]),
        },
        index=pd.Index(effect.index[order], name="feature"),
    )
    ranked.attrs["method"] = method
    if truth is None:
        return ranked
    missing = ranked.index.difference(truth.features.index)
    if len(missing):
        raise ValueError(f"features not in the truth: {missing[:5].tolist()} ...")
    a, b = _pair(y, classes)
    ranked["role"] = truth.features["role"].reindex(ranked.index)
    ranked["signal"] = truth.features["signal"].reindex(ranked.index).astype(bool)
    ranked["true_effect_size"] = _true_effect(truth, a, b).reindex(ranked.index).astype(float)
    return ranked


# --------------------------------------------------------------------------- selections


def _signal_of(truth: Truth | pd.Series) -> pd.Series:
    signal = truth.features["signal"] if isinstance(truth, Truth) else truth
    return signal.astype(bool)


def _as_names(selected: Any, universe: pd.Index) -> pd.Index:
    """A selection (names, or a boolean mask over ``universe``) as an Index of names."""
    arr = np.asarray(selected)
    if arr.dtype == bool:
        if arr.shape != (len(universe),):
            raise ValueError(f"a boolean selection needs one entry per feature ({len(universe)})")
        return universe[arr]
    names = pd.Index(list(dict.fromkeys(selected)))
    unknown = names.difference(universe)
    if len(unknown):
        raise ValueError(f"selected features not in the truth: {unknown[:5].tolist()}")
    return names


def selection_scores(selected: Iterable[Hashable] | np.ndarray, truth: Truth | pd.Series) -> dict:
    """Precision, recall and F1 of a selected feature set against the truth's ``signal``.

        precision = TP / |selected|,  recall = TP / |signal|,
        F1 = 2·TP / (|selected| + |signal|)  (the harmonic mean of the two).

    ``selected``: feature names, or a boolean mask over the truth's features. ``truth``: a
    Truth or a boolean Series (feature → signal). Precision is NaN for an empty selection,
    recall NaN when no feature carries signal, F1 NaN when both are empty.
    """
    signal = _signal_of(truth)
    chosen = _as_names(selected, signal.index)
    tp = int(signal.reindex(chosen).sum())
    n_sel, n_sig = len(chosen), int(signal.sum())
    return {
        "n_selected": n_sel,
        "n_signal": n_sig,
        "true_positives": tp,
        "false_positives": n_sel - tp,
        "false_negatives": n_sig - tp,
        "precision": tp / n_sel if n_sel else float("nan"),
        "recall": tp / n_sig if n_sig else float("nan"),
        "f1": 2 * tp / (n_sel + n_sig) if n_sel + n_sig else float("nan"),
    }


def selection_stability(sets: Sequence[Iterable[Hashable]], n_features: int) -> dict:
    """Agreement of feature sets selected on different resamples (mean over all pairs).

        Jaccard(A, B) = |A ∩ B| / |A ∪ B|   (two empty sets count as 1),
        Kuncheva(A, B) = (r·n − k²) / (k·(n − k)),   r = |A ∩ B|, k = |A| = |B|.

    Kuncheva's index corrects the overlap for chance (0 = chance, 1 = identical) and is
    defined only when every set has the same size k with 0 < k < n; otherwise it is NaN
    and ``note`` says why.
    """
    if len(sets) < 2:
        raise ValueError("stability needs at least two selected sets")
    lists = [list(dict.fromkeys(s)) for s in sets]
    vocab = pd.Index(list(dict.fromkeys(f for s in lists for f in s)))
    if len(vocab) > n_features:
        raise ValueError(f"the sets name {len(vocab)} features, more than n_features={n_features}")
    member = np.zeros((len(lists), len(vocab)))
    for i, s in enumerate(lists):
        member[i, vocab.get_indexer(s)] = 1.0
    inter = member @ member.T
    sizes = member.sum(axis=1)
    union = sizes[:, None] + sizes[None, :] - inter
    upper = np.triu_indices(len(lists), k=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        jaccard = np.where(union > 0, inter / union, 1.0)[upper]
    k = sizes[0]
    note = ""
    kuncheva = float("nan")
    if not np.all(sizes == k):
        note = f"Kuncheva's index needs equal set sizes; got sizes {sorted(set(sizes.astype(int)))}"
    elif not 0 < k < n_features:
        note = f"Kuncheva's index needs 0 < k < n_features; got k={int(k)}, n={n_features}"
    else:
        kuncheva = float(np.mean((inter[upper] * n_features - k**2) / (k * (n_features - k))))
    return {
        "n_sets": len(lists),
        "n_features": n_features,
        "sizes": sizes.astype(int).tolist(),
        "mean_jaccard": float(np.mean(jaccard)),
        "kuncheva": kuncheva,
        "note": note,
    }


# --------------------------------------------------------------------------- confounding


def confounding(y: Any, batch: Any) -> dict:
    """Class × batch contingency table, Cramér's V and Pearson's chi-square test.

        V = sqrt(χ² / (n · (min(K, B) − 1))),   χ² = Σ (O − E)² / E  (no continuity
        correction), with empty rows and columns dropped.

    Returns ``table`` (DataFrame, classes × batches), ``cramers_v``, ``chi2``, ``dof`` and
    ``p_value`` (chi2 0 and p 1 when the table has a single class or batch).
    """
    labels, batches = np.asarray(y, dtype=object), np.asarray(batch, dtype=object)
    if labels.shape != batches.shape or labels.ndim != 1:
        raise ValueError(
            f"y and batch must be 1-D of equal length; got {labels.shape}, {batches.shape}"
        )
    rows = pd.Categorical(labels, categories=class_order(y))
    cols = pd.Categorical(batches, categories=class_order(batch))
    table = pd.crosstab(rows, cols, rownames=["class"], colnames=["batch"], dropna=False)
    counts = table.to_numpy()
    kept = counts[counts.sum(axis=1) > 0][:, counts.sum(axis=0) > 0]
    if min(kept.shape) < 2:
        chi2, p_value, dof = 0.0, 1.0, 0
    else:
        result = chi2_contingency(kept, correction=False)
        chi2, p_value, dof = float(result.statistic), float(result.pvalue), int(result.dof)
    return {
        "table": table,
        "cramers_v": cramers_v(counts),
        "chi2": chi2,
        "dof": dof,
        "p_value": p_value,
    }


# --------------------------------------------------------------------------- cross-validation


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
    """
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import GroupKFold, LeaveOneGroupOut, StratifiedKFold

    values, _ = _matrix(X)
    labels, names = _codes(y, values.shape[0])
    group_arr = _labels(groups, values.shape[0])
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
    frame.attrs["scoring"] = scoring
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
) -> float:
    """Mean cross-validated ROC AUC with top-``k`` univariate selection inside or outside CV.

    ``inside=False`` (the leak): ``SelectKBest(score_func, k)`` sees every row, including
    the test folds, then the classifier is cross-validated on the kept columns.
    ``inside=True``: ``Pipeline([SelectKBest, estimator])`` re-selects on each training
    fold only. The folds (``StratifiedKFold(n_splits, shuffle=True, random_state=seed)``)
    are the same both ways. On pure noise the leak gives an AUC near 1, honest CV near 0.5.
    ``score_func`` defaults to the ANOVA F-test ``f_classif``; more than two classes use
    one-vs-rest AUC.
    """
    from sklearn.base import clone
    from sklearn.feature_selection import SelectKBest, f_classif
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import Pipeline

    values, _ = _matrix(X)
    labels, _ = _codes(y, values.shape[0])
    if not 1 <= k <= values.shape[1]:
        raise ValueError(f"k must lie in [1, n_features={values.shape[1]}]; got {k}")
    estimator = default_estimator() if estimator is None else estimator
    selector = SelectKBest(f_classif if score_func is None else score_func, k=k)
    folds = StratifiedKFold(n_splits, shuffle=True, random_state=seed)
    scoring = "roc_auc" if len(pd.unique(labels)) == 2 else "roc_auc_ovr"
    if inside:
        model = Pipeline([("select", selector), ("model", clone(estimator))])
        scores = cross_val_score(model, values, labels, cv=folds, scoring=scoring)
    else:
        kept = selector.fit(values, labels).transform(values)
        scores = cross_val_score(clone(estimator), kept, labels, cv=folds, scoring=scoring)
    return float(np.mean(scores))
