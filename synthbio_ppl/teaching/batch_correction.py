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
    """``X`` with batch effects removed by ``method`` (see ``CORRECTIONS``).

    ``X``: (n, p) DataFrame or array without NaN; ``batch``: n batch labels;
    ``covariates`` (ComBat only): n categorical labels, or an (n, k) DataFrame of them,
    whose signal ComBat keeps (e.g. the class, ``data.y``): without them ComBat removes
    what the batch shares with the class. Returns an (n, p) float64 DataFrame with X's
    index and columns. Raises ValueError for an unknown method, NaN or infinite values,
    labels of the wrong length, a batch of one row, or covariates given to a method that
    does not use them; ImportError naming the extra when inmoose is missing.
    """
    values, names = feature_matrix(X)
    labels = row_labels(batch, values.shape[0], "batch")
    if pd.isna(labels).any():
        raise ValueError(f"batch has {int(pd.isna(labels).sum())} missing label(s)")
    index = X.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(values.shape[0])
    if method not in CORRECTIONS:
        raise ValueError(f"method must be one of {list(CORRECTIONS)}; got {method!r}")
    levels, counts = np.unique(labels.astype(str), return_counts=True)
    if len(levels) < 2 or counts.min() < 2:
        raise ValueError(
            f"batch needs at least two batches of at least two rows; got sizes "
            f"{dict(zip(levels.tolist(), counts.tolist(), strict=True))}"
        )
    if method == "combat":
        corrected = _combat(values, labels, covariates, values.shape[0])
    elif covariates is not None:
        raise ValueError(f"covariates are used by method='combat' only, not {method!r}")
    else:
        corrected = _per_batch(values, labels, scale=method == "scale")
    return pd.DataFrame(corrected, index=index, columns=names)


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
            if len(covariates) != n:
                raise ValueError(f"covariates must have one row per row of X ({n})")
            covar = covariates.astype(str).reset_index(drop=True)
        else:
            covar = [str(v) for v in row_labels(covariates, n, "covariates")]
    try:
        with warnings.catch_warnings():  # inmoose returns numpy.matrix
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            corrected = pycombat_norm(values.T, [str(v) for v in labels], covar_mod=covar)
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise ValueError(
            f"ComBat could not fit ({exc}); a covariate confounded with batch (every batch "
            "holding one class) cannot be kept: drop covariates or use fewer"
        ) from None
    return np.asarray(corrected, dtype=np.float64).T


def score_correction(
    corrected: pd.DataFrame | Mapping[str, pd.DataFrame],
    data: Dataset,
    n_splits: int = 5,
    seed: int = 0,
) -> pd.DataFrame:
    """Score batch-corrected tables of ``data`` against its batch-free world.

    ``corrected``: one (n, p) DataFrame with ``data.X``'s columns, or ``{name: frame}``.
    Rows: ``uncorrected`` (``data.X``), each corrected table (its columns matched to
    ``data.X``'s by name, its rows by position), and ``batch_free`` (the same rows drawn
    without batch effects: the target). Columns, over the batch-affected features:

    - ``rmse``: root mean squared error against the batch-free values; ``rmse_centred``
      the same after removing each feature's mean difference (a correction can only
      recover the batch-free values up to a per-feature constant);
    - ``class_effect_kept``: the slope of the corrected class mean differences (last
      class − first) on the batch-free ones over the features that carry signal (1: kept,
      below 1: biology removed with the batch, above: inflated);
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

    if data.truth.batch is None or "batch" not in data.covariates:
        raise ValueError("data has no batches: generate it from a spec with `batches:`")
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
    from synthbio_ppl.model.layout import build_layout
    from synthbio_ppl.processes.registry import modifier_of

    modifiers = build_layout(data.spec).modifiers
    switches = [name for s in modifiers for name in modifier_of(s.field).switches(s)]
    clean = generate(data.spec, without=switches)
    affected = data.truth.features.index[data.truth.features["batch_affected"].to_numpy()]
    rows = {"uncorrected": data.X, **tables, "batch_free": clean.X}
    labels, names = class_codes(data.y, len(data.X))
    if len(names) < 2:
        raise ValueError("score_correction needs class labels (two or more classes)")
    signal = data.truth.features.loc[affected, "signal"].to_numpy(dtype=bool)
    reference = _class_differences(clean.X[affected].to_numpy(float), labels)
    out = {}
    for name, table in rows.items():
        values = _matching(name, table, data.X)[affected].to_numpy(dtype=np.float64)
        out[name] = _scores(values, clean.X[affected].to_numpy(float), labels, reference, signal)
        matched = _matching(name, table, data.X)
        out[name].update(_cv_scores(matched, data, n_splits, seed))
        out[name]["batch_auc"] = _batch_auc(matched, data.covariates["batch"], n_splits, seed)
    frame = pd.DataFrame(out).T
    frame.index.name = "table"
    return frame


def _matching(name: Hashable, table: Any, X: pd.DataFrame) -> pd.DataFrame:
    """``table`` with X's columns in X's order; ValueError for anything else."""
    if not isinstance(table, pd.DataFrame) or table.shape != X.shape:
        shape = getattr(table, "shape", type(table).__name__)
        raise ValueError(f"{name}: needs a DataFrame shaped like data.X {X.shape}; got {shape}")
    if set(table.columns) != set(X.columns):
        raise ValueError(f"{name}: its columns are not data.X's")
    table = table[X.columns]
    if table.isna().any().any():
        raise ValueError(f"{name}: holds NaN")
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


def _cv_scores(table: pd.DataFrame, data: Dataset, n_splits: int, seed: int) -> dict[str, float]:
    from synthbio_ppl.teaching.cross_validation import compare_cv

    folds = compare_cv(table, data.y, data.covariates["batch"], n_splits=n_splits, seed=seed)
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
