"""Minority oversampling inside cross-validation: synthbio_ppl.TwinOversampler against SMOTE
and ADASYN (imbalanced-learn) and no resampling.

The table: scikit-learn's breast-cancer data (shipped with scikit-learn, no download) made
imbalanced: all 357 benign rows (``target`` 1, the majority) and a fixed random subsample
(``numpy.random.default_rng(0)``) of 40 of the 212 malignant rows (``target`` 0, the
minority), 397 rows with 10.1% minority; 30 numeric features.

Each sampler runs in an imbalanced-learn ``Pipeline([("scale", StandardScaler()),
("resample", sampler), ("clf", classifier)])``, so resampling touches the training folds
only; "none" drops the resample step. Samplers: none, ``SMOTE(random_state=0)``,
``ADASYN(random_state=0)`` and ``sb.TwinOversampler(random_state=0)`` (skipped with a
note where this checkout does not have it). Classifier: ``LogisticRegression(max_iter=2000)``
(``--clf lr``, default) or ``RandomForestClassifier(n_estimators=200, random_state=0)``
(``--clf rf``). Every sampler sees the same folds: ``RepeatedStratifiedKFold(n_splits=5,
n_repeats=--repeats, random_state=0)``.

Scores on each test fold, with the minority (malignant) class as the positive class:
balanced accuracy, ROC AUC of the minority probability, minority recall and minority F1;
plus the pipeline's fit time (the first fold's fit includes any JIT compilation, so it is
also printed on its own). The table shows mean ± sd over folds.

Run: ``.venv/bin/python benchmarks/bench_oversample.py [--repeats N] [--clf lr|rf]
[--json PATH]``. Prints the date, machine, load average and versions, then a markdown
table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _machine import header as print_header
from _machine import load
from imblearn.over_sampling import ADASYN, SMOTE
from imblearn.pipeline import Pipeline
from sklearn.base import BaseEstimator, clone
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, f1_score, recall_score, roc_auc_score
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.preprocessing import StandardScaler

import synthbio_ppl as sb

LABEL = "target"
MINORITY = 0  # malignant
MAJORITY = 1  # benign
MINORITY_SHARE = 0.10
SUBSAMPLE_SEED = 0
N_SPLITS = 5
PACKAGES = (
    "synthbio_ppl",
    "jax",
    "jaxlib",
    "numpyro",
    "imbalanced-learn",
    "scikit-learn",
    "pandas",
    "numpy",
)
OURS = "synthbio_ppl TwinOversampler"

# (column header, fold key, decimals)
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("fit s per fold", "fit_s", 2),
    ("balanced accuracy", "balanced_accuracy", 3),
    ("ROC AUC", "roc_auc", 3),
    ("minority recall", "minority_recall", 3),
    ("minority F1", "minority_f1", 3),
)


def imbalanced_table() -> tuple[pd.DataFrame, pd.Series]:
    """All majority rows and a seeded subsample of the minority making 10% of the table."""
    frame = load_breast_cancer(as_frame=True).frame
    majority = frame[frame[LABEL] == MAJORITY]
    minority = frame[frame[LABEL] == MINORITY]
    n_minority = round(MINORITY_SHARE * len(majority) / (1 - MINORITY_SHARE))
    rng = np.random.default_rng(SUBSAMPLE_SEED)
    keep = rng.choice(len(minority), size=n_minority, replace=False)
    table = pd.concat([majority, minority.iloc[np.sort(keep)]]).sort_index()
    return table.drop(columns=LABEL), table[LABEL]


def _classifier(name: str) -> BaseEstimator:
    if name == "rf":
        return RandomForestClassifier(n_estimators=200, random_state=0)
    return LogisticRegression(max_iter=2000)


def _pipeline(sampler: Any, classifier: BaseEstimator) -> Pipeline:
    steps: list[tuple[str, Any]] = [("scale", StandardScaler())]
    if sampler is not None:
        steps.append(("resample", sampler))
    steps.append(("clf", classifier))
    return Pipeline(steps)


def _score_fold(pipeline: Pipeline, x_test: pd.DataFrame, y_test: pd.Series) -> dict[str, float]:
    proba = pipeline.predict_proba(x_test)
    minority_column = list(pipeline.classes_).index(MINORITY)
    predicted = pipeline.predict(x_test)
    return {
        "balanced_accuracy": balanced_accuracy_score(y_test, predicted),
        "roc_auc": roc_auc_score(y_test == MINORITY, proba[:, minority_column]),
        "minority_recall": recall_score(y_test, predicted, pos_label=MINORITY),
        "minority_f1": f1_score(y_test, predicted, pos_label=MINORITY),
    }


def _span(values: Iterable[int]) -> str:
    found = sorted(set(values))
    return str(found[0]) if len(found) == 1 else f"{found[0]}-{found[-1]}"


def _cell(values: list[float], decimals: int) -> str:
    mean = statistics.fmean(values)
    if len(values) < 2:
        return f"{mean:.{decimals}f}"
    return f"{mean:.{decimals}f} ± {statistics.stdev(values):.{decimals}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="n_repeats of the 5-fold CV")
    parser.add_argument("--clf", choices=["lr", "rf"], default="lr", help="classifier")
    parser.add_argument("--json", type=Path, default=None, help="write the raw numbers here")
    args = parser.parse_args()

    samplers: dict[str, Any] = {
        "none": None,
        "SMOTE": SMOTE(random_state=0),
        "ADASYN": ADASYN(random_state=0),
    }
    notes: list[str] = []
    if hasattr(sb, "TwinOversampler"):
        samplers[OURS] = sb.TwinOversampler(random_state=0)
    else:
        notes.append(f"{OURS} skipped: not available in this checkout")
    classifier = _classifier(args.clf)

    x, y = imbalanced_table()
    counts = y.value_counts().sort_index()
    header = print_header(
        PACKAGES,
        {
            "data": (
                f"breast cancer made imbalanced: {len(y)} rows x {x.shape[1]} features, "
                f"{counts[MAJORITY]} benign (target 1) + {counts[MINORITY]} malignant "
                f"(target 0, minority, {counts[MINORITY] / len(y):.1%}; subsample seed "
                f"{SUBSAMPLE_SEED})"
            ),
            "cv": (
                f"RepeatedStratifiedKFold(n_splits={N_SPLITS}, n_repeats={args.repeats}, "
                "random_state=0), the same folds for every sampler"
            ),
            "classifier": repr(classifier),
        },
        notes,
    )

    cv = RepeatedStratifiedKFold(n_splits=N_SPLITS, n_repeats=args.repeats, random_state=0)
    folds = list(cv.split(x, y))
    runs: list[dict[str, Any]] = []
    for name, sampler in samplers.items():
        template = _pipeline(sampler, classifier)
        for fold, (train, test) in enumerate(folds):
            pipeline = clone(template)
            t0 = time.perf_counter()
            pipeline.fit(x.iloc[train], y.iloc[train])
            fit_s = time.perf_counter() - t0
            scores = _score_fold(pipeline, x.iloc[test], y.iloc[test])
            strategy = getattr(pipeline.named_steps.get("resample"), "sampling_strategy_", None)
            runs.append(
                {
                    "sampler": name,
                    "fold": fold,
                    "n_train": len(train),
                    "n_train_minority": int((y.iloc[train] == MINORITY).sum()),
                    "n_requested": None if strategy is None else int(sum(strategy.values())),
                    "n_test_minority": int((y.iloc[test] == MINORITY).sum()),
                    "fit_s": fit_s,
                    **{k: float(v) for k, v in scores.items()},
                }
            )
    header["load_average_end"] = os.getloadavg()
    print(f"load average at end: {load(header['load_average_end'])}\n")

    print(
        f"{len(folds)} folds; training folds {_span(r['n_train'] for r in runs)} rows "
        f"({_span(r['n_train_minority'] for r in runs)} minority), test folds "
        f"{_span(len(y) - r['n_train'] for r in runs)} rows "
        f"({_span(r['n_test_minority'] for r in runs)} minority); mean ± sd over folds\n"
    )
    head = (
        "| sampler | rows to add (sampling_strategy_) | first fold fit s | "
        + " | ".join(h for h, _, _ in COLUMNS)
        + " |"
    )
    print(head)
    print("|---" * (head.count("|") - 1) + "|")
    for name in samplers:
        rows = [r for r in runs if r["sampler"] == name]
        requested = [r["n_requested"] for r in rows if r["n_requested"] is not None]
        added = f"{statistics.median(requested):.0f}" if requested else "n/a"
        cells = [_cell([r[key] for r in rows], decimals) for _, key, decimals in COLUMNS]
        print(f"| {name} | {added} | {rows[0]['fit_s']:.2f} | " + " | ".join(cells) + " |")
    if args.json is not None:
        args.json.write_text(json.dumps({"header": header, "runs": runs}, indent=2) + "\n")
        print(f"\nraw numbers written to {args.json}")


if __name__ == "__main__":
    main()
