"""A study's metrics, scored against the truth of each generated dataset.

Feature selection (S the selected set, T the truly informative one, ``truth.features.
signal``): precision |S∩T|/|S|, recall |S∩T|/|T|, F1 2|S∩T|/(|S|+|T|), Jaccard
|S∩T|/|S∪T|; ``ranking_auc``: the probability that a truly informative feature scores
above another one (ties ½); ``rank_correlation``: Spearman's ρ between the method's score
and the true |effect size| over the truly informative features; ``stability``: the mean
pairwise Jaccard index of the sets one method selects across a scenario's replicates
(Kalousis, Prados & Hilario 2007, Knowl. Inf. Syst. 12:95), a summary over replicates.
Prediction: cross-validated ROC AUC and
balanced accuracy under each scheme, the Bayes classifier's (``oracle``) on the same table,
and the gap oracle − method. Fits: ``coverage`` (share of the parameters of interest inside
their central 90% interval), ``bias`` (posterior mean − truth, per parameter) and
``mean_z`` (mean standardised error).

A user metric is a function ``f(data, result) -> float | {name: float} | None`` of the
Dataset and the ``MethodResult``, called for every method (None: no row).
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthbio_ppl.core.errors import SpecError, short_repr
from synthbio_ppl.data.dataset import Dataset
from synthbio_ppl.studies.apply import PREDICTION_SCORES, MethodResult
from synthbio_ppl.studies.method_types import FITS, PREDICTS, SCORES, SELECTS
from synthbio_ppl.teaching.selection import selection_scores

ANY = "any"
"""A metric every method gives."""

__all__ = [
    "GAPS",
    "METRICS",
    "Metric",
    "MetricFailed",
    "Row",
    "gap_rows",
    "method_rows",
    "oracle_rows",
    "resolve_metrics",
]

Row = tuple[str, str, str, float]
"""(metric, scheme, parameter, value): one entry of a cell's tidy table."""


@dataclass(frozen=True)
class Metric:
    """A metric: its name, what a method must give for it, and how it is computed."""

    name: str
    needs: str | None
    compute: Callable[[Dataset, MethodResult], Any] | None = None
    about: str = ""


def true_set(data: Dataset) -> pd.Series:
    """Whether each feature is truly informative: it carries class signal, or an outcome
    that is ``y`` reads it (bool Series over the features)."""
    signal = data.truth.features["signal"].astype(bool)
    if data.spec.label_names != data.spec.class_names:  # an outcome is y: what it reads
        read = getattr(data.truth.outcome, "features", None) or []
        signal = signal | signal.index.isin(read)
    return signal


def _selection(data: Dataset, result: MethodResult) -> dict[str, float]:
    """Precision, recall and F1 (``teaching.selection.selection_scores``), the Jaccard
    index |S∩T|/|S∪T| (two empty sets agree: 1) and the size of the selected set."""
    scores = selection_scores(result.selected or [], true_set(data))
    hits = scores["true_positives"]
    union = scores["n_selected"] + scores["n_signal"] - hits
    return {
        **{k: scores[k] for k in ("precision", "recall", "f1")},
        "jaccard": hits / union if union else 1.0,
        "n_selected": float(scores["n_selected"]),
    }


def _ranking(data: Dataset, result: MethodResult) -> dict[str, float]:
    """``ranking_auc``: P(a random truly informative feature scores above a random other
    one), ties ½; ``rank_correlation``: Spearman's ρ of the score and the true |effect
    size| over the truly informative features (NaN below three, or when their effects are
    equal). Neither has a ceiling that moves with the number of noise features."""
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    nan = {"ranking_auc": float("nan"), "rank_correlation": float("nan")}
    if result.scores is None:
        return nan
    scores = result.scores.copy()
    scores.index = scores.index.astype(str)
    scores = scores[np.isfinite(scores.to_numpy(dtype=float))]
    signal = true_set(data).reindex(scores.index).fillna(False).astype(bool)
    out = dict(nan)
    if 0 < signal.sum() < len(signal):
        out["ranking_auc"] = float(roc_auc_score(signal, scores))
    true = data.truth.features["effect_size"].reindex(scores.index[signal]).abs()
    true = true.to_numpy(dtype=float)
    ok = np.isfinite(true)
    if ok.sum() >= 3 and np.ptp(true[ok]) > 0:
        mine = scores[signal].to_numpy(dtype=float)[ok]
        out["rank_correlation"] = float(spearmanr(mine, true[ok])[0])
    return out


def _fit_metric(name: str) -> Callable[[Dataset, MethodResult], Any]:
    def compute(data: Dataset, result: MethodResult) -> Any:
        table = result.recovery
        known = table[table["truth"].notna()]
        if name == "coverage":
            return float(known["covered"].astype(float).mean()) if len(known) else float("nan")
        if name == "mean_z":
            return float(known["z"].mean()) if len(known) else float("nan")
        return [(name, "", str(p), float(v)) for p, v in (known["mean"] - known["truth"]).items()]

    return compute


_SELECTION = ("precision", "recall", "f1", "jaccard", "n_selected")
METRICS: dict[str, Metric] = {
    **{
        m: Metric(m, SELECTS, about="of the selected set against the true informative set")
        for m in _SELECTION
    },
    "ranking_auc": Metric("ranking_auc", SCORES, about="P(a true feature outscores another)"),
    "rank_correlation": Metric(
        "rank_correlation", SCORES, about="Spearman ρ of score and true |d| over true features"
    ),
    "stability": Metric("stability", SELECTS, about="mean pairwise Jaccard over replicates"),
    **{m: Metric(m, PREDICTS, about="cross-validated, per scheme") for m in PREDICTION_SCORES},
    **{
        f"{m}_gap": Metric(f"{m}_gap", PREDICTS, about=f"oracle {m} − the method's")
        for m in PREDICTION_SCORES
    },
    **{
        m: Metric(m, FITS, _fit_metric(m), about="of the fit's parameters of interest")
        for m in ("coverage", "bias", "mean_z")
    },
    "seconds": Metric("seconds", ANY, about="the method's wall time on the dataset"),
}
"""Every built-in metric by name."""

UNTIMED = {"seconds"}
"""Metrics left out of the default: a wall time differs from run to run (and worker to
worker), the other metrics do not."""

GAPS = {f"{m}_gap": m for m in PREDICTION_SCORES}
"""Gap metric -> the score it compares with the oracle's."""


def resolve_metrics(metrics: Any, gives: set[str], replicates: int) -> list[Metric]:
    """The study's metrics: names of built-ins and user functions (None: every built-in
    the methods can be scored by, but the gaps, and stability below two replicates).
    SpecError for an unknown name, or a metric no method of the study can be scored by."""
    if metrics is None:
        metrics = [
            m
            for m in METRICS
            if (METRICS[m].needs in gives or METRICS[m].needs == ANY)
            and m not in GAPS
            and m not in UNTIMED
            and (m != "stability" or replicates > 1)
        ]
    if isinstance(metrics, str | bytes | dict) or not hasattr(metrics, "__iter__"):
        raise SpecError("metrics", metrics, "give a list of metric names or functions")
    metrics = list(metrics)
    if not metrics:
        raise SpecError(
            "metrics", metrics, "give at least one metric (None: every one that applies)"
        )
    out = []
    for i, metric in enumerate(metrics):
        if callable(metric):
            name = getattr(metric, "__name__", f"metric{i}")
            if name in METRICS or name == "<lambda>":
                name = f"custom{i}" if name == "<lambda>" else f"custom_{name}"
            out.append(Metric(name, None, metric, "a user function"))
            continue
        if not isinstance(metric, str):
            raise SpecError(
                f"metrics[{i}]", metric, "a metric's name, or a function f(data, result)"
            )
        if metric not in METRICS:
            near = difflib.get_close_matches(metric, METRICS, n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise SpecError(
                f"metrics[{i}]", metric, f"{hint}one of {', '.join(METRICS)}, or a function"
            )
        chosen = METRICS[metric]
        if chosen.needs not in gives and chosen.needs != ANY:
            word = {
                SELECTS: "a feature selector",
                SCORES: "a selector that scores features",
                PREDICTS: "a classifier",
                FITS: "a fit method (sb.FitMethod)",
            }[chosen.needs]
            raise SpecError(f"metrics[{i}]", metric, f"needs {word}; no method of the study is one")
        out.append(chosen)
    names = [m.name for m in out]
    if len(set(names)) != len(names):
        raise SpecError("metrics", names, "each metric once")
    return out


def method_rows(data: Dataset, result: MethodResult, metrics: list[Metric]) -> list[Row]:
    """The tidy rows of one method on one dataset (metrics it cannot give are skipped)."""
    rows: list[Row] = []
    gives = result.method.gives
    selection = _selection(data, result) if SELECTS in gives else {}
    if SCORES in gives:
        selection.update(_ranking(data, result))
    for metric in metrics:
        if metric.needs not in (None, ANY) and metric.needs not in gives:
            continue
        if metric.name == "seconds":
            rows.append((metric.name, "", "", result.seconds))
        elif metric.name in selection:
            rows.append((metric.name, "", "", selection[metric.name]))
        elif metric.name in PREDICTION_SCORES:
            rows += [(metric.name, s, "", v[metric.name]) for s, v in result.cv.items()]
        elif metric.compute is not None and metric.needs is not None:
            value = metric.compute(data, result)
            rows += value if isinstance(value, list) else [(metric.name, "", "", float(value))]
        elif metric.compute is not None:  # a user's function: its failure names it
            try:
                value = metric.compute(data, result)
                rows += _as_rows(metric.name, value)
            except Exception as exc:
                raise MetricFailed(metric.name, exc) from exc
    return rows


class MetricFailed(Exception):
    """A user metric that raised (or returned what is not a number): its name and error."""

    def __init__(self, name: str, error: Exception) -> None:
        self.name, self.error = name, error
        super().__init__(f"{name}: {type(error).__name__}: {error}")


def oracle_rows(data: Dataset, posterior: np.ndarray, metrics: list[Metric]) -> list[Row]:
    """The Bayes classifier's AUC and balanced accuracy on the whole table from its
    ``posterior`` (rows, levels), with no scheme (it is not trained: every scheme's gap
    is measured against the same score). Its balanced accuracy weighs the levels alike,
    so its rule is the largest posterior over prior, p(k | x) / π_k (the largest
    likelihood)."""
    from sklearn.metrics import balanced_accuracy_score, roc_auc_score

    wanted = {GAPS.get(m.name, m.name) for m in metrics} & set(PREDICTION_SCORES)
    names = [str(c) for c in data.y.cat.categories]
    y = np.asarray(data.y.astype(str))
    prior = np.array([np.mean(y == n) for n in names])
    if len(names) == 2:
        auc = roc_auc_score(y == names[1], posterior[:, 1])
    else:
        auc = roc_auc_score(y, posterior, multi_class="ovr", labels=names)
    with np.errstate(divide="ignore", invalid="ignore"):
        rule = np.argmax(posterior / prior, axis=1)
    value = {"auc": auc, "balanced_accuracy": balanced_accuracy_score(y, np.asarray(names)[rule])}
    return [(m, "", "", float(value[m])) for m in PREDICTION_SCORES if m in wanted]


def gap_rows(result: MethodResult, oracle: list[Row], metrics: list[Metric]) -> list[Row]:
    """oracle − method for each requested gap metric and scheme."""
    best = {m: v for m, _, _, v in oracle}
    rows = []
    for metric in metrics:
        base = GAPS.get(metric.name)
        if base is not None:
            rows += [(metric.name, s, "", best[base] - v[base]) for s, v in result.cv.items()]
    return rows


def _as_rows(name: str, value: Any) -> list[Row]:
    """A user metric's value as rows: a number one row; a mapping of numbers one row per
    key, named ``<metric>.<key>``; None none. TypeError for anything else."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [(f"{name}.{k}", "", "", _number(v)) for k, v in value.items()]
    return [(name, "", "", _number(value))]


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"returned {short_repr(value)}; a metric returns a number, a mapping of numbers "
            "{name: number}, or None"
        )
    return float(value)
