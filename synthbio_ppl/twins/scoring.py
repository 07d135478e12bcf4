"""Score a synthetic table (a "digital twin") against the real data it imitates.

Three questions, each against real tables the synthetic data was not judged on:

- **fidelity**: do the marginals, correlations and class balance match ``real_train``?
- **utility**: does a model trained on synthetic rows predict real rows as well as one
  trained on real rows (TSTR vs TRTR, both tested on ``real_holdout``)?
- **privacy**: are synthetic rows closer to the training rows than fresh real rows are
  (distance to closest record), and can an attacker tell members from non-members?

Every feature is compared in units of its real-train sd, so the numbers are unit-free.
scikit-learn (extra ``eval``) is imported only when a table is scored.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp, wasserstein_distance

from synthbio_ppl.core.estimators import default_estimator

__all__ = ["TwinFidelity", "TwinPrivacy", "TwinReport", "TwinUtility", "score_twin"]

EXACT_COPY_DISTANCE = 1e-8

SUMMARY_METRICS = (
    "tstr_auc",
    "trtr_auc",
    "auc_gap",
    "tstr_balanced_accuracy",
    "trtr_balanced_accuracy",
    "mean_ks",
    "max_ks",
    "mean_wasserstein",
    "corr_frobenius",
    "corr_mean_abs_diff",
    "dcr_synthetic_median",
    "dcr_holdout_median",
    "mia_auc",
    "exact_copies",
)


# --------------------------------------------------------------------------- report


@dataclass(frozen=True, eq=False)
class TwinFidelity:
    """How closely the synthetic table matches ``real_train``, feature by feature.

    ``per_feature`` (index ``feature``): the two-sample Kolmogorov–Smirnov statistic
    ``ks`` = sup_x |F_real(x) − F_synth(x)| and its p-value, the 1-D Wasserstein distance
    ``wasserstein`` = ∫ |F_real(x) − F_synth(x)| dx on values divided by the real-train sd
    (unit-free: 0.5 means half a real sd of mass moved), and the mean and sd (ddof 1) of
    both tables. ``corr_frobenius`` = ‖R_real − R_synth‖_F over the full Pearson
    correlation matrices (each pair counted twice, the diagonal adds 0);
    ``corr_mean_abs_diff`` = mean over pairs i < j of |R_real,ij − R_synth,ij|.
    ``label_balance`` (index ``class``): counts and shares of each class;
    ``label_total_variation`` = ½ Σ_k |share_real,k − share_synth,k|.
    """

    per_feature: pd.DataFrame
    label_balance: pd.DataFrame
    corr_frobenius: float
    corr_mean_abs_diff: float
    label_total_variation: float

    @property
    def mean_ks(self) -> float:
        """Mean KS statistic over the features."""
        return float(self.per_feature["ks"].mean())

    @property
    def max_ks(self) -> float:
        """Largest KS statistic over the features."""
        return float(self.per_feature["ks"].max())

    @property
    def mean_wasserstein(self) -> float:
        """Mean standardised Wasserstein distance over the features."""
        return float(self.per_feature["wasserstein"].mean())


@dataclass(frozen=True)
class TwinUtility:
    """Train on synthetic, test on real (TSTR) next to train on real, test on real (TRTR).

    Both models are the same estimator, tested on ``real_holdout``. AUC is the ROC AUC of
    the score of ``positive_class`` (the last class) for two classes, else the one-vs-rest
    macro mean over the classes present in the holdout. Gaps are TSTR − TRTR: near 0 means
    the synthetic rows teach what the real rows teach.
    """

    classes: tuple[Hashable, ...]
    positive_class: Hashable | None
    tstr_auc: float
    trtr_auc: float
    tstr_balanced_accuracy: float
    trtr_balanced_accuracy: float

    @property
    def auc_gap(self) -> float:
        """TSTR AUC − TRTR AUC."""
        return self.tstr_auc - self.trtr_auc

    @property
    def balanced_accuracy_gap(self) -> float:
        """TSTR balanced accuracy − TRTR balanced accuracy."""
        return self.tstr_balanced_accuracy - self.trtr_balanced_accuracy


@dataclass(frozen=True)
class TwinPrivacy:
    """Distance to closest record (DCR) and a distance-based membership-inference attack.

    Distances are Euclidean on features standardised by the real-train mean and sd.
    DCR of a synthetic row = distance to its nearest ``real_train`` row; the holdout DCRs
    (each ``real_holdout`` row to its nearest ``real_train`` row) show what fresh real data
    looks like. ``share_closer_than_holdout_p5`` is the share of synthetic rows with a DCR
    below the holdout's 5th percentile (≈ 0.05 for a twin that does not copy);
    ``exact_copies`` the share with DCR < 1e-8. The attack scores each candidate by minus
    its distance to the nearest synthetic row; members are ``real_train`` rows, non-members
    ``real_holdout`` rows, ``mia_n_per_side`` of each; ``mia_auc`` = 0.5 means the attacker
    learns nothing, 1 that every member is closer to the synthetic data than every
    non-member.
    """

    dcr_synthetic_median: float
    dcr_synthetic_p5: float
    dcr_holdout_median: float
    dcr_holdout_p5: float
    share_closer_than_holdout_p5: float
    exact_copies: float
    mia_auc: float
    mia_n_per_side: int


@dataclass(frozen=True, eq=False)
class TwinReport:
    """Fidelity, utility and privacy of one synthetic table, with the table sizes."""

    fidelity: TwinFidelity
    utility: TwinUtility
    privacy: TwinPrivacy
    label: str
    n_rows: dict[str, int]

    def summary(self) -> pd.Series:
        """The headline numbers, one row per metric."""
        values = {
            "tstr_auc": self.utility.tstr_auc,
            "trtr_auc": self.utility.trtr_auc,
            "auc_gap": self.utility.auc_gap,
            "tstr_balanced_accuracy": self.utility.tstr_balanced_accuracy,
            "trtr_balanced_accuracy": self.utility.trtr_balanced_accuracy,
            "mean_ks": self.fidelity.mean_ks,
            "max_ks": self.fidelity.max_ks,
            "mean_wasserstein": self.fidelity.mean_wasserstein,
            "corr_frobenius": self.fidelity.corr_frobenius,
            "corr_mean_abs_diff": self.fidelity.corr_mean_abs_diff,
            "dcr_synthetic_median": self.privacy.dcr_synthetic_median,
            "dcr_holdout_median": self.privacy.dcr_holdout_median,
            "mia_auc": self.privacy.mia_auc,
            "exact_copies": self.privacy.exact_copies,
        }
        return pd.Series(
            [float(values[m]) for m in SUMMARY_METRICS],
            index=pd.Index(SUMMARY_METRICS, name="metric"),
            name="value",
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain numbers, strings, lists and dicts (non-finite numbers become None), ready
        for ``json.dumps``."""
        fidelity = self.fidelity
        utility = self.utility
        privacy = self.privacy
        out = {
            "label": self.label,
            "n_rows": dict(self.n_rows),
            "summary": self.summary().to_dict(),
            "fidelity": {
                "mean_ks": fidelity.mean_ks,
                "max_ks": fidelity.max_ks,
                "mean_wasserstein": fidelity.mean_wasserstein,
                "corr_frobenius": fidelity.corr_frobenius,
                "corr_mean_abs_diff": fidelity.corr_mean_abs_diff,
                "label_total_variation": fidelity.label_total_variation,
                "per_feature": _records(fidelity.per_feature, "feature"),
                "label_balance": _records(fidelity.label_balance, "class"),
            },
            "utility": {
                "classes": list(utility.classes),
                "positive_class": utility.positive_class,
                "tstr_auc": utility.tstr_auc,
                "trtr_auc": utility.trtr_auc,
                "auc_gap": utility.auc_gap,
                "tstr_balanced_accuracy": utility.tstr_balanced_accuracy,
                "trtr_balanced_accuracy": utility.trtr_balanced_accuracy,
                "balanced_accuracy_gap": utility.balanced_accuracy_gap,
            },
            "privacy": {
                "dcr_synthetic_median": privacy.dcr_synthetic_median,
                "dcr_synthetic_p5": privacy.dcr_synthetic_p5,
                "dcr_holdout_median": privacy.dcr_holdout_median,
                "dcr_holdout_p5": privacy.dcr_holdout_p5,
                "share_closer_than_holdout_p5": privacy.share_closer_than_holdout_p5,
                "exact_copies": privacy.exact_copies,
                "mia_auc": privacy.mia_auc,
                "mia_n_per_side": privacy.mia_n_per_side,
            },
        }
        return _jsonable(out)

    def to_markdown(self, top: int = 10) -> str:
        """A short report: the headline table, then the ``top`` features by KS."""
        n = self.n_rows
        head = [
            "## Twin report",
            "",
            f"Label `{self.label}`, classes {list(self.utility.classes)}; rows: real_train "
            f"{n['real_train']}, real_holdout {n['real_holdout']}, synthetic {n['synthetic']}.",
            "",
        ]
        summary = self.summary()
        headline = _markdown_table(["metric", "value"], [[m, v] for m, v in summary.items()])
        per_feature = self.fidelity.per_feature
        ranked = per_feature.sort_values("ks", ascending=False, kind="stable").head(top)
        rows = [[name, *row] for name, row in zip(ranked.index, ranked.to_numpy(), strict=True)]
        features = _markdown_table(["feature", *ranked.columns], rows)
        title = f"### Features by KS statistic (top {len(ranked)} of {len(per_feature)})"
        return "\n".join([*head, headline, "", title, "", features, ""])


# --------------------------------------------------------------------------- scoring


def score_twin(
    real_train: pd.DataFrame,
    real_holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    label: str,
    estimator: Any = None,
    seed: int = 0,
) -> TwinReport:
    """Fidelity, utility and privacy of ``synthetic`` against two disjoint real tables.

    ``real_train`` is the data the synthetic table was made from; ``real_holdout`` real
    rows it never saw. Every column but ``label`` is a feature; all three tables need the
    same numeric, finite feature columns. ``estimator`` (a scikit-learn classifier,
    cloned for each fit; default StandardScaler + LogisticRegression(max_iter=2000)) is
    used for TSTR and TRTR. ``seed`` draws the balanced member/non-member subsample of
    the membership-inference attack. See ``TwinFidelity``, ``TwinUtility`` and
    ``TwinPrivacy`` for the formulas.
    """
    frames = {"real_train": real_train, "real_holdout": real_holdout, "synthetic": synthetic}
    features = _check_columns(frames, label)
    values = {name: _feature_values(frame, features, name) for name, frame in frames.items()}
    classes = _classes(real_train[label])
    codes = {
        name: _label_codes(frame[label], classes, name, label) for name, frame in frames.items()
    }

    mean, sd = _location_scale(values["real_train"])
    scaled = {name: (x - mean) / sd for name, x in values.items()}
    fidelity = _fidelity(values, scaled, codes, classes, features)
    utility = _utility(estimator, values, codes, classes)
    privacy = _privacy(scaled, seed)
    return TwinReport(
        fidelity=fidelity,
        utility=utility,
        privacy=privacy,
        label=label,
        n_rows={name: len(frame) for name, frame in frames.items()},
    )


def _fidelity(
    values: dict[str, np.ndarray],
    scaled: dict[str, np.ndarray],
    codes: dict[str, np.ndarray],
    classes: list[Hashable],
    features: pd.Index,
) -> TwinFidelity:
    real, synth = values["real_train"], values["synthetic"]
    with warnings.catch_warnings():  # ties (integer columns) fall back to the asymptotic p
        warnings.filterwarnings("ignore", message="ks_2samp: Exact calculation unsuccessful")
        ks = ks_2samp(real, synth, axis=0)
    wasserstein = [
        wasserstein_distance(scaled["real_train"][:, j], scaled["synthetic"][:, j])
        for j in range(real.shape[1])
    ]
    per_feature = pd.DataFrame(
        {
            "ks": np.atleast_1d(ks.statistic),
            "ks_pvalue": np.atleast_1d(ks.pvalue),
            "wasserstein": wasserstein,
            "real_mean": real.mean(axis=0),
            "synthetic_mean": synth.mean(axis=0),
            "real_sd": _sd(real),
            "synthetic_sd": _sd(synth),
        },
        index=pd.Index(features, name="feature"),
    )
    diff = _pearson(real) - _pearson(synth)
    upper = np.triu_indices(diff.shape[0], k=1)
    mean_abs = float(np.mean(np.abs(diff[upper]))) if upper[0].size else float("nan")

    n_real = np.bincount(codes["real_train"], minlength=len(classes))
    n_synth = np.bincount(codes["synthetic"], minlength=len(classes))
    balance = pd.DataFrame(
        {
            "real_n": n_real,
            "synthetic_n": n_synth,
            "real_share": n_real / n_real.sum(),
            "synthetic_share": n_synth / n_synth.sum(),
        },
        index=pd.Index(classes, name="class"),
    )
    total_variation = 0.5 * float(np.abs(balance["real_share"] - balance["synthetic_share"]).sum())
    return TwinFidelity(
        per_feature=per_feature,
        label_balance=balance,
        corr_frobenius=float(np.linalg.norm(diff)),
        corr_mean_abs_diff=mean_abs,
        label_total_variation=total_variation,
    )


def _utility(
    estimator: Any,
    values: dict[str, np.ndarray],
    codes: dict[str, np.ndarray],
    classes: list[Hashable],
) -> TwinUtility:
    from sklearn.base import clone

    model = default_estimator() if estimator is None else estimator
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
    )


def _privacy(scaled: dict[str, np.ndarray], seed: int) -> TwinPrivacy:
    from sklearn.metrics import roc_auc_score

    train, holdout, synth = scaled["real_train"], scaled["real_holdout"], scaled["synthetic"]
    dcr_synth = _nearest_distance(train, synth)
    dcr_holdout = _nearest_distance(train, holdout)
    holdout_p5 = float(np.percentile(dcr_holdout, 5))

    n_side = min(len(train), len(holdout))
    rng = np.random.default_rng(seed)
    members = train[_subsample(rng, len(train), n_side)]
    outsiders = holdout[_subsample(rng, len(holdout), n_side)]
    candidates = np.concatenate([members, outsiders])
    is_member = np.concatenate([np.ones(n_side), np.zeros(n_side)])
    attack_score = -_nearest_distance(synth, candidates)
    return TwinPrivacy(
        dcr_synthetic_median=float(np.median(dcr_synth)),
        dcr_synthetic_p5=float(np.percentile(dcr_synth, 5)),
        dcr_holdout_median=float(np.median(dcr_holdout)),
        dcr_holdout_p5=holdout_p5,
        share_closer_than_holdout_p5=float(np.mean(dcr_synth < holdout_p5)),
        exact_copies=float(np.mean(dcr_synth < EXACT_COPY_DISTANCE)),
        mia_auc=float(roc_auc_score(is_member, attack_score)),
        mia_n_per_side=n_side,
    )


# --------------------------------------------------------------------------- numerics


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


def _nearest_distance(reference: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Euclidean distance from each query row to its nearest reference row.

    The neighbour is found by scikit-learn; the distance to it is then recomputed as
    ‖q − r‖ directly, so an exact copy gives 0 rather than rounding noise.
    """
    from sklearn.neighbors import NearestNeighbors

    index = NearestNeighbors(n_neighbors=1).fit(reference)
    nearest = index.kneighbors(queries, return_distance=False)[:, 0]
    return np.linalg.norm(queries - reference[nearest], axis=1)


def _subsample(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """All ``n`` row indices when ``size == n``, else ``size`` drawn without replacement."""
    if size == n:
        return np.arange(n)
    return np.sort(rng.choice(n, size=size, replace=False))


def _location_scale(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and sds (ddof 1); a column without spread is left unscaled (sd 1)."""
    sd = _sd(x)
    return x.mean(axis=0), np.where(np.isfinite(sd) & (sd > 0), sd, 1.0)


def _sd(x: np.ndarray) -> np.ndarray:
    """Column sds with ddof 1; NaN for a single row."""
    if x.shape[0] < 2:
        return np.full(x.shape[1], np.nan)
    return x.std(axis=0, ddof=1)


def _pearson(x: np.ndarray) -> np.ndarray:
    """Pearson correlation matrix; a constant column correlates 0 with every other."""
    centred = x - x.mean(axis=0)
    norms = np.sqrt((centred**2).sum(axis=0))
    unit = np.divide(centred, norms, out=np.zeros_like(centred), where=norms > 0)
    corr = np.clip(unit.T @ unit, -1.0, 1.0)
    np.fill_diagonal(corr, 1.0)
    return corr


# --------------------------------------------------------------------------- inputs


def _check_columns(frames: dict[str, pd.DataFrame], label: str) -> pd.Index:
    """The feature columns (every non-label column, in real_train order), after checking
    that each table is a non-empty DataFrame with the label and the same features."""
    for name, frame in frames.items():
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"{name}: expected a pandas DataFrame; got {type(frame).__name__}")
        duplicated = frame.columns[frame.columns.duplicated()].unique().tolist()
        if duplicated:
            raise ValueError(f"{name}: duplicated column names {duplicated}; names must be unique")
        if label not in frame.columns:
            raise ValueError(
                f"{name}: label column {label!r} is missing; columns are {list(frame.columns)}"
            )
    features = frames["real_train"].columns.drop(label)
    if len(features) == 0:
        raise ValueError(f"real_train: no feature columns besides the label {label!r}")
    for name, frame in frames.items():
        other = frame.columns.drop(label)
        missing = [c for c in features if c not in other]
        extra = [c for c in other if c not in features]
        if missing or extra:
            raise ValueError(
                f"{name}: feature columns differ from real_train (missing {missing}, "
                f"extra {extra}); all three tables need the same feature columns"
            )
    for name, frame in frames.items():
        if len(frame) == 0:
            raise ValueError(f"{name}: the table is empty; every table needs at least one row")
    return features


def _feature_values(frame: pd.DataFrame, features: pd.Index, name: str) -> np.ndarray:
    """The features as a finite float64 (n, p) array, in ``features`` order."""
    table = frame[features]
    bad = [
        f"{c!r} ({table[c].dtype})"
        for c in features
        if not pd.api.types.is_numeric_dtype(table[c].dtype)
        or pd.api.types.is_complex_dtype(table[c].dtype)
    ]
    if bad:
        raise ValueError(
            f"{name}: feature columns {', '.join(bad)} are not numeric; only real numbers "
            "(int, float, bool) are allowed, so encode them as numbers first (e.g. one-hot)"
        )
    values = table.to_numpy(dtype=np.float64, na_value=np.nan)
    for j in np.flatnonzero(~np.isfinite(values).all(axis=0)):
        column = values[:, j]
        n_nan = int(np.isnan(column).sum())
        what = f"{n_nan} NaN" if n_nan else f"{int(np.isinf(column).sum())} infinite"
        raise ValueError(
            f"{name}: feature column {features[j]!r} has {what} values; only finite numbers "
            "are allowed, so impute or drop them first"
        )
    return values


def _classes(labels: pd.Series) -> list[Hashable]:
    """The real-train classes: category order for a categorical label, else sorted."""
    if isinstance(labels.dtype, pd.CategoricalDtype):
        present = set(labels.dropna().unique())
        return [c for c in labels.cat.categories if c in present]
    unique = pd.unique(labels.dropna()).tolist()
    try:
        return sorted(unique)
    except TypeError as exc:
        raise ValueError(
            f"real_train: label {labels.name!r} mixes values that cannot be sorted "
            f"({unique[:5]}); use one type for the labels"
        ) from exc


def _label_codes(labels: pd.Series, classes: list[Hashable], name: str, label: str) -> np.ndarray:
    """Integer codes of ``labels`` in ``classes``, after checking the classes are usable."""
    n_missing = int(labels.isna().sum())
    if n_missing:
        raise ValueError(
            f"{name}: label column {label!r} has {n_missing} missing values; every row "
            "needs a class"
        )
    values = np.asarray(labels, dtype=object)
    codes = pd.Index(classes, dtype=object).get_indexer(values)
    unknown = pd.unique(values[codes < 0]).tolist()
    if unknown:
        raise ValueError(
            f"{name}: label {label!r} has classes {unknown} that real_train does not have; "
            f"allowed classes are {classes}"
        )
    present = np.unique(codes)
    if len(present) < 2:
        raise ValueError(
            f"{name}: label {label!r} holds a single class ({classes[present[0]]!r}); "
            "at least two classes are needed to fit and score a classifier"
        )
    return codes


# --------------------------------------------------------------------------- output


def _jsonable(value: Any) -> Any:
    """``value`` with numpy scalars as Python numbers, non-finite floats as None and any
    other unknown object as its string."""
    if isinstance(value, dict):
        return {str(_jsonable(k)): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def _records(frame: pd.DataFrame, index_name: str) -> list[dict[str, Any]]:
    """One dict per row, the index stored under ``index_name``."""
    return [
        {index_name: name, **dict(zip(frame.columns, row, strict=True))}
        for name, row in zip(frame.index, frame.to_numpy(dtype=object), strict=True)
    ]


def _format(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:.3g}"
    return str(value)


def _markdown_table(header: list[Any], rows: list[list[Any]]) -> str:
    lines = [
        "| " + " | ".join(map(str, header)) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(_format(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
