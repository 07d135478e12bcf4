"""Synthetic twin of a real table: synthbio_ppl.twins against SDV's GaussianCopulaSynthesizer.

The real table: scikit-learn's breast-cancer data (569 rows x 30 numeric features, label
``target``: 0 malignant, 1 benign), shipped with scikit-learn, so no download. Each repeat
draws a stratified 70/30 train/holdout split (398 / 171 rows, ``random_state`` = repeat
index) and makes one synthetic table of the train table's size with each method:

- ``synthbio_ppl.twins.fitting``: ``sb.twin(train, label="target", seed=s)`` then
  ``.sample(len(train), seed=s)``; fit and sample are timed separately. The first repeat's
  fit includes JAX compilation; the per-repeat times are printed below the table.
- SDV ``GaussianCopulaSynthesizer`` (defaults), metadata detected from the train table
  with ``target`` set to categorical; ``.fit`` and ``.sample`` timed separately. SDV draws
  with its own fixed sampling seed after each fit, so its repeats differ by split only.
  Skipped, with a note, where ``sdv`` is not importable (it needs pandas < 3: see
  ``benchmarks/README.md`` for the separate ``.venv-bench``).
- copy of train: the train rows themselves, a sanity reference. Utility and fidelity are
  perfect there and the privacy checks must flag it (distance to closest record 0, every
  row an exact copy, membership-inference AUC near 1); the script checks and prints this.

Every synthetic table is scored with ``sb.score_twin(train, holdout, synthetic,
label="target", seed=s)``: TSTR/TRTR ROC AUC and balanced accuracy on the holdout,
Kolmogorov-Smirnov and correlation distances to the train table, median distance to the
closest train record (DCR, in real-train sd units) for synthetic and holdout rows,
membership-inference (MIA) AUC and exact copies (as ``score_twin`` reports them).

Run: ``.venv-bench/bin/python benchmarks/bench_twin.py [--repeats N] [--method M]
[--json PATH]``. Prints the date, machine, load average and versions, then a markdown
table (mean ± sd over repeats).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from _machine import header as print_header
from _machine import load
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

import synthbio_ppl as sb

LABEL = "target"
HOLDOUT_SHARE = 0.3
PACKAGES = (
    "synthbio_ppl",
    "jax",
    "jaxlib",
    "numpyro",
    "sdv",
    "copulas",
    "scikit-learn",
    "pandas",
    "numpy",
)
OURS = "synthbio_ppl twin"
SDV = "SDV GaussianCopula"
COPY = "copy of train"

# (column header, summary key or timing key, decimals)
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("fit s", "fit_s", 2),
    ("sample s", "sample_s", 2),
    ("TSTR AUC", "tstr_auc", 3),
    ("TRTR AUC", "trtr_auc", 3),
    ("gap", "auc_gap", 3),
    ("bal. acc TSTR", "tstr_balanced_accuracy", 3),
    ("bal. acc TRTR", "trtr_balanced_accuracy", 3),
    ("mean KS", "mean_ks", 3),
    ("corr Frobenius", "corr_frobenius", 2),
    ("DCR synth median", "dcr_synthetic_median", 2),
    ("DCR holdout median", "dcr_holdout_median", 2),
    ("MIA AUC", "mia_auc", 3),
    ("exact copies", "exact_copies", 3),
)

Synthesizer = Callable[[pd.DataFrame, int], tuple[pd.DataFrame, float, float]]


def _ours(method: str | None, rank: int | None) -> Synthesizer:
    options: dict[str, Any] = {} if method is None else {"method": method}
    if rank is not None:
        options["rank"] = rank

    def run(train: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, float, float]:
        t0 = time.perf_counter()
        twin = sb.twin(train, label=LABEL, seed=seed, **options)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        synthetic = twin.sample(len(train), seed=seed)
        return synthetic, fit_s, time.perf_counter() - t0

    return run


def _sdv() -> tuple[Synthesizer, float]:
    """The SDV runner and the seconds its import took (torch comes in through sdv)."""
    t0 = time.perf_counter()
    from sdv.metadata import Metadata
    from sdv.single_table import GaussianCopulaSynthesizer

    import_s = time.perf_counter() - t0
    table = "breast_cancer"

    def run(train: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, float, float]:
        del seed  # SDV samples with its own fixed seed after each fit
        warnings.filterwarnings("ignore", message="We strongly recommend saving the metadata")
        t0 = time.perf_counter()
        meta = Metadata.detect_from_dataframes({table: train}, infer_keys=None)
        meta.update_column(LABEL, table_name=table, sdtype="categorical")
        synthesizer = GaussianCopulaSynthesizer(meta)
        synthesizer.fit({table: train})  # SDV 2.x takes a dict of tables
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        sampled = synthesizer.sample(len(train))
        sample_s = time.perf_counter() - t0
        synthetic = sampled[table] if isinstance(sampled, dict) else sampled
        return synthetic, fit_s, sample_s

    return run, import_s


def _copy(train: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, float, float]:
    del seed
    return train.copy(), 0.0, 0.0


def _cell(values: list[float], decimals: int) -> str:
    mean = statistics.fmean(values)
    if len(values) < 2:
        return f"{mean:.{decimals}f}"
    return f"{mean:.{decimals}f} ± {statistics.stdev(values):.{decimals}f}"


def _table(runs: list[dict[str, Any]], methods: list[str]) -> None:
    head = "| method | " + " | ".join(name for name, _, _ in COLUMNS) + " |"
    print(head)
    print("|---" * (len(COLUMNS) + 1) + "|")
    for method in methods:
        rows = [r for r in runs if r["method"] == method]
        cells = [_cell([r[key] for r in rows], decimals) for _, key, decimals in COLUMNS]
        print(f"| {method} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="train/holdout splits")
    parser.add_argument("--method", default=None, help="passed as method= to sb.twin")
    parser.add_argument("--rank", type=int, default=None, help="passed as rank= to sb.twin")
    parser.add_argument("--no-peers", action="store_true", help="ours only (e.g. a rank sweep)")
    parser.add_argument("--json", type=Path, default=None, help="write the raw numbers here")
    args = parser.parse_args()

    methods: dict[str, Synthesizer] = {OURS: _ours(args.method, args.rank)}
    notes: list[str] = []
    if not args.no_peers:
        try:
            runner, import_s = _sdv()
        except ImportError as exc:
            notes.append(f"{SDV} skipped: sdv is not importable ({exc})")
        else:
            methods[SDV] = runner
            notes.append(f"sdv import (Metadata, GaussianCopulaSynthesizer): {import_s:.2f} s")
        methods[COPY] = _copy

    data = load_breast_cancer(as_frame=True).frame
    header = print_header(
        PACKAGES,
        {
            "data": (
                f"breast cancer, {len(data)} rows x {data.shape[1] - 1} features, label "
                f"{LABEL!r} (counts {data[LABEL].value_counts().sort_index().to_dict()})"
            ),
            "splits": (
                f"{args.repeats} stratified {1 - HOLDOUT_SHARE:.0%}/{HOLDOUT_SHARE:.0%} "
                "train/holdout splits, random_state = repeat index"
            ),
            "sb.twin method": args.method or "(its default)",
            "sb.twin rank": str(args.rank or "(its default)"),
        },
        notes,
    )

    runs: list[dict[str, Any]] = []
    for seed in range(args.repeats):
        train, holdout = train_test_split(
            data, test_size=HOLDOUT_SHARE, stratify=data[LABEL], random_state=seed
        )
        train, holdout = train.reset_index(drop=True), holdout.reset_index(drop=True)
        for method, synthesize in methods.items():
            synthetic, fit_s, sample_s = synthesize(train, seed)
            t0 = time.perf_counter()
            report = sb.score_twin(train, holdout, synthetic, label=LABEL, seed=seed)
            score_s = time.perf_counter() - t0
            summary = {k: float(v) for k, v in report.summary().items()}
            runs.append(
                {
                    "method": method,
                    "repeat": seed,
                    "seed": seed,
                    "n_train": len(train),
                    "n_holdout": len(holdout),
                    "n_synthetic": len(synthetic),
                    "fit_s": fit_s,
                    "sample_s": sample_s,
                    "score_s": score_s,
                    **summary,
                }
            )
    header["load_average_end"] = os.getloadavg()
    print(f"load average at end: {load(header['load_average_end'])}\n")

    n_train, n_holdout = runs[0]["n_train"], runs[0]["n_holdout"]
    print(
        f"train {n_train} rows, holdout {n_holdout} rows, synthetic = train size; "
        f"mean ± sd over {args.repeats} repeats\n"
    )
    _table(runs, list(methods))
    print()
    for method in methods:
        fits = ", ".join(f"{r['fit_s']:.2f}" for r in runs if r["method"] == method)
        print(f"- {method}: fit s per repeat {fits}")
    copies = [r for r in runs if r["method"] == COPY]
    if copies:
        flagged = all(r["dcr_synthetic_median"] == 0 and r["mia_auc"] >= 0.9 for r in copies)
        print(
            "- sanity, copy of train: privacy flagged (DCR median 0 and MIA AUC ≥ 0.9) in "
            f"every repeat: {'yes' if flagged else 'NO'}"
        )
    if args.json is not None:
        args.json.write_text(json.dumps({"header": header, "runs": runs}, indent=2) + "\n")
        print(f"\nraw numbers written to {args.json}")


if __name__ == "__main__":
    main()
