"""The batch-correction lesson: correct with a well-kept method, score against the truth.

``correct_batches`` wraps per-batch centring and scaling (scikit-learn's
``StandardScaler`` fitted on each batch) and ComBat (Johnson, Li & Rabinovic 2007,
*Biostatistics* 8:118, as implemented by inmoose's ``pycombat_norm``; extra ``batch``).
``score_correction`` scores corrected tables against the same rows drawn without batch
effects (``generate(spec, without=[...])``): the error cell by cell, the class effects
kept, and the batch left over.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from synthbio_ppl.data.dataset import Dataset
from synthbio_ppl.teaching.inputs import class_codes, feature_matrix, row_labels

__all__ = ["CORRECTIONS", "correct_batches", "score_correction"]

Method = Literal["center", "scale", "combat"]

CORRECTIONS = {
    "center": "per batch, subtract the batch's mean and add the overall mean",
    "scale": "per batch, standardise, then restore the overall mean and sd",
    "combat": "ComBat's empirical-Bayes location and scale (inmoose, extra 'batch')",
}
"""The methods of ``correct_batches`` and what each does."""


def correct_batches(
    X: Any, batch: Any, method: Method = "combat", covariates: Any = None
) -> pd.DataFrame:
    """``X`` with batch effects removed by ``method``: "center", "scale" or "combat"
    (``synthbio_ppl.teaching.batch_correction.CORRECTIONS`` says what each does).

    ``X``: (n, p) DataFrame or array without NaN; ``batch``: n batch labels;
    ``covariates`` (ComBat only): n categorical labels, or an (n, k) DataFrame of them,
    whose signal ComBat keeps (e.g. the class, ``data.y``): without them ComBat removes
    what the batch shares with the class. Returns an (n, p) float64 DataFrame with X's
    index and columns. Raises ValueError for an unknown method, NaN or infinite values,
    labels of the wrong length, a batch of one row, or covariates given to a method that
    does not use them; ImportError naming the extra when inmoose is missing.
    """
    if not isinstance(method, str) or method not in CORRECTIONS:
        raise ValueError(f"method must be one of {list(CORRECTIONS)}; got {method!r}")
    values, names = feature_matrix(X)
    if values.shape[1] == 0:
        raise ValueError("X has no columns")
    index = X.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(values.shape[0])
    labels = _batch_labels(_aligned(batch, index, "batch"), values.shape[0])
    if method == "combat":
        _check_varying(values, labels, names)
        covariates = None if covariates is None else _aligned(covariates, index, "covariates")
        corrected = _combat(values, labels, covariates, values.shape[0])
    elif covariates is not None:
        raise ValueError(f"covariates are used by method='combat' only, not {method!r}")
    else:
        corrected = _per_batch(values, labels, scale=method == "scale")
    bad = ~np.isfinite(corrected).all(axis=0)
    if bad.any():
        raise ValueError(
            f"method={method!r} gave non-finite values in columns {names[bad].tolist()[:5]} "
            "(a column constant within a batch, or values beyond float64's range); drop "
            "or rescale them"
        )
    return pd.DataFrame(corrected, index=index, columns=names)


def _check_varying(values: np.ndarray, labels: np.ndarray, names: pd.Index) -> None:
    """ComBat divides by each column's spread within each batch: refuse a column constant
    in a batch (ValueError naming it, batches in sorted order), which would turn every
    column NaN."""
    for level in sorted(pd.unique(labels), key=str):
        rows = values[labels == level]
        flat = np.ptp(rows, axis=0) == 0
        if flat.any():
            raise ValueError(
                f"ComBat needs every column to vary within each batch: "
                f"{names[flat].tolist()[:5]} constant in batch {str(level)!r}; drop them"
            )


def _aligned(labels: Any, index: pd.Index, name: str) -> Any:
    """A Series or DataFrame of per-row labels in the order of X's ``index`` (matched by
    label when both have one); other sequences as given. ValueError for an index that is
    not X's."""
    if not isinstance(labels, pd.Series | pd.DataFrame) or labels.index.equals(index):
        return labels
    if len(labels) == len(index) and labels.index.sort_values().equals(index.sort_values()):
        return labels.reindex(index)
    raise ValueError(f"{name}'s index is not X's: give it X's rows (or a plain list)")


def _batch_labels(batch: Any, n: int) -> np.ndarray:
    """Batch labels as strings, checked: no missing label, two or more batches of two or
    more rows, and no two labels that differ only in type (1 and "1")."""
    labels = row_labels(batch, n, "batch")
    if pd.isna(labels).any():
        raise ValueError(f"batch has {int(pd.isna(labels).sum())} missing label(s)")
    text = labels.astype(str)
    if len(pd.unique(text)) != len(pd.unique(labels)):
        raise ValueError("batch holds labels that differ only in type (such as 1 and '1')")
    levels, counts = np.unique(text, return_counts=True)
    if len(levels) < 2 or counts.min() < 2:
        raise ValueError(
            f"batch needs at least two batches of at least two rows; got sizes "
            f"{dict(zip(levels.tolist(), counts.tolist(), strict=True))}"
        )
    return text


def _per_batch(values: np.ndarray, labels: np.ndarray, scale: bool) -> np.ndarray:
    from sklearn.preprocessing import StandardScaler

    overall = StandardScaler(with_std=scale).fit(values)
    out = np.empty_like(values)
    for level in pd.unique(labels):
        rows = labels == level
        standard = StandardScaler(with_std=scale).fit_transform(values[rows])
        out[rows] = standard * (overall.scale_ if scale else 1.0) + overall.mean_
    return out


def _combat(values: np.ndarray, labels: np.ndarray, covariates: Any, n: int) -> np.ndarray:
    try:
        from inmoose.pycombat import pycombat_norm
    except ImportError:
        raise ImportError(
            "method='combat' needs inmoose: pip install 'synthbio_ppl[batch]'"
        ) from None
    covar = None
    if covariates is not None:
        if isinstance(covariates, pd.DataFrame):
            frame = covariates
        elif isinstance(covariates, pd.Series):
            frame = covariates.to_frame("covariate")
        else:
            labels_ = row_labels(covariates, n, "covariates")
            frame = pd.DataFrame({"covariate": labels_}).infer_objects()
        if len(frame) != n or frame.shape[1] == 0:
            raise ValueError(f"covariates must have one row per row of X ({n}) and a column")
        if frame.isna().any().any():
            raise ValueError(f"covariates has {int(frame.isna().sum().sum())} missing label(s)")
        continuous = [c for c in frame if pd.api.types.is_float_dtype(frame[c])]
        if continuous:
            raise ValueError(
                f"covariates {continuous} are continuous; ComBat keeps categorical labels "
                "only (the class, a sex, a site)"
            )
        covar = frame.astype(str).reset_index(drop=True)
    try:
        with warnings.catch_warnings():  # inmoose returns numpy.matrix
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            corrected = pycombat_norm(values.T, list(labels), covar_mod=covar)
    except (ValueError, np.linalg.LinAlgError) as exc:
        hint = (
            "; a covariate confounded with batch (every batch holding one class) cannot be "
            "kept: drop covariates"
            if "confounded" in str(exc)
            else ""
        )
        raise ValueError(f"ComBat could not fit ({exc}){hint}") from None
    return np.asarray(corrected, dtype=np.float64).T


def score_correction(
    corrected: pd.DataFrame | Mapping[str, pd.DataFrame],
    data: Dataset,
    n_splits: int = 5,
    seed: int = 0,
) -> pd.DataFrame:
    """Score batch-corrected tables of ``data`` against its batch-free world.

    ``corrected``: one (n, p) DataFrame with ``data.X``'s columns, or ``{name: frame}``.
    Rows: ``uncorrected`` (``data.X``; with missing values, the values before masking),
    each corrected table (columns matched to ``data.X``'s by name, rows by index label),
    and ``batch_free`` (the same rows drawn
    without batch effects: the target). Columns, over the batch-affected features:

    - ``rmse``: root mean squared error against the batch-free values; ``rmse_centred``
      the same after removing each feature's mean difference (a correction can only
      recover the batch-free values up to a per-feature constant);
    - ``class_effect_kept``: the slope of the corrected class mean differences (last
      class − first) on the batch-free ones over the features that carry signal (1: kept,
      below 1: biology removed with the batch, above: inflated; NaN when no affected
      feature carries signal);
      ``class_effect_error``: the RMSE of those differences over every affected feature
      (spurious effects on noise features count);
    - ``random_cv``, ``leave_one_batch_out``: ``compare_cv``'s mean balanced accuracy
      predicting the class (a per-batch correction made on all rows can push random CV
      below chance, and protecting the class as a ComBat covariate above the batch-free
      world's: both are leakage of the correction into the folds);
    - ``batch_auc``: a cross-validated logistic regression's one-vs-rest AUC predicting
      the batch (the batch-free row is the floor left by class–batch confounding).

    Raises ValueError when ``data`` has no batches, is itself a counterfactual world, has
    no class labels, or a table does not match ``data.X``.
    """
    from synthbio_ppl.engine.generation import generate
    from synthbio_ppl.model.layout import build_layout
    from synthbio_ppl.processes.registry import modifier_of

    # the column modifiers that assign rows (batches): their design column, the features
    # they touch, and the switches that give the world without them
    modifiers = [(s, modifier_of(s.field)) for s in build_layout(data.spec).modifiers]
    modifiers = [(s, m) for s, m in modifiers if m.design_columns(s)]
    if not modifiers:
        raise ValueError("data has no batches: generate it from a spec with `batches:`")
    static, modifier = modifiers[0]
    groups = data.covariates[next(iter(modifier.design_columns(static)))]
    n_features = len(data.X.columns)
    touched = [m.feature_columns(s, n_features) for s, m in modifiers]
    affected = data.X.columns[np.logical_or.reduce([v for t in touched for v in t.values()])]
    switches = [name for s, m in modifiers for name in m.switches(s)]
    if data.truth.world is not None:
        raise ValueError("data is a counterfactual world already; score the factual data")
    if isinstance(corrected, pd.DataFrame):
        tables = {"corrected": corrected}
    elif isinstance(corrected, Mapping):
        tables = dict(corrected)
    else:
        raise ValueError(
            "corrected must be a DataFrame with data.X's columns (correct_batches returns "
            f"one), or a dict of them; got {type(corrected).__name__}"
        )
    reserved = [name for name in tables if name in ("uncorrected", "batch_free")]
    if reserved:
        raise ValueError(f"{reserved[0]!r} names a reference row; call your table otherwise")
    labels, names = class_codes(data.y, len(data.X))
    if len(names) < 2:
        raise ValueError("score_correction needs class labels (two or more classes)")
    clean = generate(data.spec, without=switches)
    rows = {"uncorrected": _complete(data), **tables, "batch_free": _complete(clean)}
    target = rows["batch_free"][affected].to_numpy(dtype=np.float64)
    signal = data.truth.features.loc[affected, "signal"].to_numpy(dtype=bool)
    reference = _class_differences(target, labels)
    out = {}
    for name, table in rows.items():
        matched = _matching(name, table, data.X)
        values = matched[affected].to_numpy(dtype=np.float64)
        out[name] = _scores(values, target, labels, reference, signal)
        out[name].update(_cv_scores(matched, data.y, groups, n_splits, seed))
        out[name]["batch_auc"] = _batch_auc(matched, groups, n_splits, seed)
    frame = pd.DataFrame(out).T
    frame.index.name = "table"
    return frame


def _complete(data: Dataset) -> pd.DataFrame:
    """The values before masking (a scene with missing values), else X."""
    return data.X if data.truth.complete is None else data.truth.complete


def _matching(name: Hashable, table: Any, X: pd.DataFrame) -> pd.DataFrame:
    """``table`` with X's columns and rows in X's order (matched by name and index label);
    ValueError for anything else."""
    if not isinstance(table, pd.DataFrame) or table.shape != X.shape:
        shape = getattr(table, "shape", type(table).__name__)
        raise ValueError(f"{name}: needs a DataFrame shaped like data.X {X.shape}; got {shape}")
    if set(table.columns) != set(X.columns):
        raise ValueError(f"{name}: its columns are not data.X's")
    if not table.index.equals(X.index):
        if not table.index.sort_values().equals(X.index.sort_values()):
            raise ValueError(f"{name}: its rows (index) are not data.X's")
        table = table.reindex(X.index)
    table = table[X.columns]
    values = table.to_numpy(dtype=np.float64)
    if np.isnan(values).any():
        raise ValueError(f"{name}: holds NaN (impute before correcting)")
    if np.isinf(values).any():
        raise ValueError(f"{name}: holds infinite values")
    return table


def _class_differences(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    first, last = labels.min(), labels.max()
    return values[labels == last].mean(axis=0) - values[labels == first].mean(axis=0)


def _scores(
    values: np.ndarray,
    clean: np.ndarray,
    labels: np.ndarray,
    reference: np.ndarray,
    signal: np.ndarray,
) -> dict[str, float]:
    error = values - clean
    centred = error - error.mean(axis=0)
    differences = _class_differences(values, labels)
    kept = np.nan
    if signal.any():
        ref = reference[signal]
        kept = float(differences[signal] @ ref / (ref @ ref))
    return {
        "rmse": float(np.sqrt(np.mean(error**2))),
        "rmse_centred": float(np.sqrt(np.mean(centred**2))),
        "class_effect_kept": kept,
        "class_effect_error": float(np.sqrt(np.mean((differences - reference) ** 2))),
    }


def _cv_scores(
    table: pd.DataFrame, y: pd.Series, groups: pd.Series, n_splits: int, seed: int
) -> dict[str, float]:
    from synthbio_ppl.teaching.cross_validation import compare_cv

    folds = compare_cv(table, y, groups, n_splits=n_splits, seed=seed)
    means = folds.groupby("scheme")["score"].mean()
    return {
        "random_cv": float(means["stratified_kfold"]),
        "leave_one_batch_out": float(means.drop("stratified_kfold").iloc[0]),
    }


def _batch_auc(table: pd.DataFrame, batch: pd.Series, n_splits: int, seed: int) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    codes = pd.Categorical(batch).codes
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    folds = StratifiedKFold(n_splits, shuffle=True, random_state=seed)
    scores = cross_val_predict(
        model, table.to_numpy(float), codes, cv=folds, method="predict_proba"
    )
    if scores.shape[1] == 2:
        return float(roc_auc_score(codes, scores[:, 1]))
    return float(roc_auc_score(codes, scores, multi_class="ovr", average="macro"))
