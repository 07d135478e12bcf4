"""What ``sb.study`` costs over a hand-written loop, and how often its sweep compiles.

A study of small tables (100 rows x 10 informative features + 100 or 1,000 noise features;
full run: 5 effect sizes x 2 noise sizes x 10 replicates = 100 cells), two methods
(``SelectKBest(f_classif, k=10)``; standardise + logistic regression scored by 5-fold
stratified CV) and four metrics (precision, recall, F1 of the selected set, CV ROC AUC),
timed four ways in each round, warm, the order rotated from round to round:

- ``sb.study`` in memory (``out=None, n_jobs=1``);
- ``sb.study`` with ``out=`` a fresh temporary folder (every cell written as it finishes,
  then results.parquet, the summary, plots and report.md);
- the same cells by hand: ``sb.generate(spec_dict, seed=...)`` with the study's seeds, the
  same scikit-learn selector and classifier, the metrics from ``sklearn.metrics`` and
  ``cross_val_score``; its values are checked against the study's table;
- the same hand-written loop with biomedical-data-generator 1.0.0
  (``generate_dataset(DatasetConfig)``, ``n_informative=10``, ``n_noise``,
  ``class_sep=[d]``, 50 + 50 rows).

Then the same cells once more, interleaved one by one (each cell: the study's
``run_cell``, the own loop's cell, that cell scored by AUC and balanced accuracy as the
study scores every classifier, and that cell with X as a numpy array), so that a change of
load hits every variant alike: the steadiest measure of the study's overhead.

Before the rounds, a first study in a fresh process (an empty persistent compilation
cache) counts XLA compilations per cell from JAX's compile log (``jax_log_compiles``): a
sweep over values must compile the generator once per layout (each noise size is a
layout; the effect sizes add none). After the rounds, ``n_jobs=2`` against ``n_jobs=1``:
the first parallel call starts joblib's worker processes, which import synthbio_ppl and
compile (or read from the persistent cache) their own generator; then the same workers
and ``n_jobs=1`` alternate; last, new workers with the persistent cache off.

Timings run with this process's BLAS/OpenMP pools limited to 1 thread (threadpoolctl;
``--blas-threads``), as joblib limits its workers; the study in memory and the own loop
are timed once more with the pools as they were.

Run: ``.venv/bin/python benchmarks/bench_study.py [--quick] [--rounds N]``. Prints the
machine, versions, date and load, then markdown tables.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

CACHE_ENV = "SYNTHBIO_CACHE_DIR"

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _machine import header, load  # noqa: E402
from bench_generate import compile_log, draw_cache_size, source_hash, table  # noqa: E402
from sklearn.feature_selection import SelectKBest, f_classif  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import f1_score, precision_score, recall_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import synthbio_ppl as sb  # noqa: E402
from synthbio_ppl.studies import plots, runner  # noqa: E402
from synthbio_ppl.studies.plan import cell_seed  # noqa: E402
from synthbio_ppl.studies.store import CellStore  # noqa: E402

PACKAGES = (
    "jax",
    "jaxlib",
    "numpyro",
    "numpy",
    "pandas",
    "scikit-learn",
    "joblib",
    "pyarrow",
    "matplotlib",
    "biomedical-data-generator",
)
METRICS = ["precision", "recall", "f1", "auc"]
EFFECT, NOISE = "informative[0].effect_size", "noise[0].n"


# --------------------------------------------------------------------------- the study


@dataclass(frozen=True)
class Design:
    """Rows (two equal classes), informative features, the grid's levels, replicates."""

    rows: int
    informative: int
    effects: tuple[float, ...]
    noises: tuple[int, ...]
    replicates: int
    k: int = 10
    folds: int = 5

    @property
    def cells(self) -> int:
        return len(self.effects) * len(self.noises) * self.replicates

    def grid(self) -> dict[str, list[Any]]:
        return {EFFECT: list(self.effects), NOISE: list(self.noises)}

    def describe(self) -> str:
        return (
            f"{len(self.effects)} effect sizes ({', '.join(f'{d:g}' for d in self.effects)}) x "
            f"{len(self.noises)} noise sizes ({', '.join(f'{n:,}' for n in self.noises)}) x "
            f"{self.replicates} replicates = {self.cells} cells; {self.rows} rows "
            f"({self.rows // 2} + {self.rows - self.rows // 2}), {self.informative} informative "
            f"+ noise features"
        )


FULL = Design(100, 10, (0.2, 0.4, 0.6, 0.8, 1.0), (100, 1_000), 10)
QUICK = Design(100, 10, (0.4, 1.0), (100, 1_000), 5)


def spec_dict(design: Design, effect: float, noise: int) -> dict[str, Any]:
    """The scene as a hand-written loop would write it (also the study's base)."""
    half = design.rows // 2
    return {
        "name": "study_bench",
        "seed": 1,
        "classes": [{"name": "healthy", "n": half}, {"name": "diseased", "n": design.rows - half}],
        "informative": [{"n": design.informative, "effect_size": effect}],
        "noise": [{"n": noise}],
    }


def selector(design: Design) -> Any:
    return SelectKBest(f_classif, k=design.k)


def classifier() -> Any:
    """synthbio_ppl's default classifier, written out: standardise, L2 logistic regression."""
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))


def run_study(design: Design, seed: int, out: str | None, n_jobs: int = 1) -> Any:
    return sb.study(
        spec_dict(design, design.effects[0], design.noises[0]),
        grid=design.grid(),
        methods={"kbest": selector(design), "logreg": classifier()},
        metrics=METRICS,
        replicates=design.replicates,
        seed=seed,
        cv={"n_splits": design.folds},
        out=out,
        n_jobs=n_jobs,
        progress=False,
    )


# --------------------------------------------------------------------------- instrumentation


@dataclass
class Parts:
    """Seconds inside the study's parts (n_jobs=1 only), and each cell's compilations."""

    seconds: dict[str, float] = field(default_factory=dict)
    cells: list[tuple[int, int, int, list[str]]] = field(default_factory=list)

    def add(self, part: str, seconds: float) -> None:
        self.seconds[part] = self.seconds.get(part, 0.0) + seconds


@contextmanager
def instrumented(log: Any = None) -> Iterator[Parts]:
    """Time ``build_plan``, ``run_cell``, ``CellStore.write``, ``_finish`` and, inside it,
    ``summarise``, the figures (``plots.plot_metric``) and the result files
    (``CellStore.put``: PNG files apart) of ``synthbio_ppl.studies`` (wrapped here,
    restored after; a wrapper costs about a microsecond a call), and with ``log`` (a
    ``compile_log``) count each cell's compilations. Only for ``n_jobs=1``: the wrappers
    do not travel to worker processes."""
    parts = Parts()
    saved = {n: getattr(runner, n) for n in ("build_plan", "run_cell", "_finish", "summarise")}
    saved_write, saved_put, saved_plot = CellStore.write, CellStore.put, plots.plot_metric

    def timed_part(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                parts.add(name, time.perf_counter() - start)

        return wrapper

    def cell(plan: Any, scenario: int, replicate: int) -> Any:
        before = 0 if log is None else log.compiles
        names = 0 if log is None else len(log.names)
        start = time.perf_counter()
        try:
            return saved["run_cell"](plan, scenario, replicate)
        finally:
            parts.add("cells", time.perf_counter() - start)
            if log is not None:
                parts.cells.append(
                    (scenario, replicate, log.compiles - before, list(log.names[names:]))
                )

    runner.build_plan = timed_part("plan", saved["build_plan"])
    runner.run_cell = cell
    runner._finish = timed_part("finish", saved["_finish"])
    runner.summarise = timed_part("summary", saved["summarise"])
    plots.plot_metric = timed_part("plot figures", saved_plot)
    CellStore.write = timed_part("store writes", saved_write)  # type: ignore[method-assign]

    def put(self: CellStore, name: str, write: Any) -> Any:
        start = time.perf_counter()
        try:
            return saved_put(self, name, write)
        finally:
            kind = "png files" if name.endswith(".png") else "other files"
            parts.add(kind, time.perf_counter() - start)

    CellStore.put = put  # type: ignore[method-assign]
    try:
        yield parts
    finally:
        for name, fn in saved.items():
            setattr(runner, name, fn)
        CellStore.write, CellStore.put = saved_write, saved_put  # type: ignore[method-assign]
        plots.plot_metric = saved_plot


# --------------------------------------------------------------------------- hand-written loops


def score(design: Design, X: Any, y: np.ndarray, truth: np.ndarray, seed: int) -> dict[str, float]:
    """Selector on every row, classifier by stratified k-fold CV; sklearn's metrics."""
    chosen = selector(design).fit(X, y).get_support()
    cv = StratifiedKFold(design.folds, shuffle=True, random_state=seed)
    auc = cross_val_score(classifier(), X, y, cv=cv, scoring="roc_auc")
    return {
        "precision": precision_score(truth, chosen, zero_division=np.nan),
        "recall": recall_score(truth, chosen, zero_division=np.nan),
        "f1": f1_score(truth, chosen, zero_division=np.nan),
        "auc": float(np.mean(auc)),
    }


@dataclass
class Loop:
    """A hand-written loop's results by (scenario, replicate, metric) and its split."""

    values: dict[tuple[int, int, str], float] = field(default_factory=dict)
    generate_s: float = 0.0
    methods_s: float = 0.0


def cells_in_order(design: Design) -> Iterator[tuple[int, float, int, int]]:
    """(scenario, effect, noise, replicate) in the study's order (first path slowest)."""
    scenario = 0
    for effect in design.effects:
        for noise in design.noises:
            for replicate in range(design.replicates):
                yield scenario, effect, noise, replicate
            scenario += 1


def own_loop(design: Design, seed: int) -> Loop:
    """``sb.generate`` with replicate r's study seed, then ``score``."""
    loop = Loop()
    for scenario, effect, noise, replicate in cells_in_order(design):
        cell = cell_seed(seed, replicate)
        start = time.perf_counter()
        data = sb.generate(spec_dict(design, effect, noise), seed=cell)
        X, y = data.X, np.asarray(data.y.astype(str))
        truth = data.truth.features["signal"].reindex(X.columns).to_numpy(dtype=bool)
        mid = time.perf_counter()
        found = score(design, X, y, truth, cell % 2**31)
        loop.generate_s += mid - start
        loop.methods_s += time.perf_counter() - mid
        for metric, value in found.items():
            loop.values[(scenario, replicate, metric)] = value
    return loop


def peer_config(design: Design, effect: float, noise: int, seed: int) -> Any:
    """The closest biomedical-data-generator 1.0.0 config (as in bench_generate.py)."""
    from biomedical_data_generator import DatasetConfig

    half = design.rows // 2
    return DatasetConfig.model_validate(
        {
            "n_informative": design.informative,
            "n_noise": noise,
            "class_configs": [
                {"n_samples": half, "label": "healthy"},
                {"n_samples": design.rows - half, "label": "diseased"},
            ],
            "class_sep": [effect],
            "random_state": seed,
        }
    )


def peer_loop(design: Design, seed: int) -> Loop:
    """``generate_dataset(DatasetConfig)`` (config built in the loop), then ``score``."""
    from biomedical_data_generator import generate_dataset

    loop = Loop()
    for scenario, effect, noise, replicate in cells_in_order(design):
        cell = cell_seed(seed, replicate)
        start = time.perf_counter()
        X, y, meta = generate_dataset(
            peer_config(design, effect, noise, cell), return_dataframe=True
        )
        truth = np.zeros(X.shape[1], dtype=bool)
        truth[list(meta.informative_idx)] = True
        mid = time.perf_counter()
        found = score(design, X, np.asarray(y), truth, cell % 2**31)
        loop.generate_s += mid - start
        loop.methods_s += time.perf_counter() - mid
        for metric, value in found.items():
            loop.values[(scenario, replicate, metric)] = value
    return loop


def max_difference(study_table: pd.DataFrame, loop: Loop) -> dict[str, float]:
    """Largest |study - own loop| over every (scenario, replicate), for the selection
    metrics and for the AUC apart (inf: the two hold different cells or metrics)."""
    rows = study_table[["scenario", "replicate", "metric", "value"]].itertuples(index=False)
    theirs = {(int(s), int(r), str(m)): float(v) for s, r, m, v in rows}
    if set(theirs) != set(loop.values):
        return {"selection": float("inf"), "auc": float("inf")}
    out = {}
    for group, metrics in (("selection", {"precision", "recall", "f1"}), ("auc", {"auc"})):
        diffs = [abs(theirs[k] - loop.values[k]) for k in theirs if k[2] in metrics]
        out[group] = float(np.nanmax(diffs)) if diffs else 0.0
    return out


# --------------------------------------------------------------------------- timing


@dataclass
class Run:
    """One timed call: wall and process CPU seconds, and what it returned."""

    wall: float
    cpu: float
    result: Any = None
    parts: dict[str, float] = field(default_factory=dict)


def timed(fn: Callable[[], Any]) -> Run:
    gc.collect()
    cpu, start = time.process_time(), time.perf_counter()
    result = fn()
    return Run(time.perf_counter() - start, time.process_time() - cpu, result)


def study_in_memory(design: Design, seed: int) -> Run:
    with instrumented() as parts:
        run = timed(lambda: run_study(design, seed, None))
    run.parts = dict(parts.seconds)
    return run


def study_to_folder(design: Design, seed: int) -> Run:
    folder = tempfile.mkdtemp(prefix="bench-study-out-")
    try:
        with instrumented() as parts:
            run = timed(lambda: run_study(design, seed, folder))
        run.parts = dict(parts.seconds)
        run.parts["files"] = float(sum(1 for p in Path(folder).rglob("*") if p.is_file()))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return run


VARIANTS: dict[str, Callable[[Design, int], Run]] = {
    "sb.study, in memory": study_in_memory,
    "sb.study, out= folder": study_to_folder,
    "own loop (sb.generate + sklearn)": lambda d, s: timed(lambda: own_loop(d, s)),
    "peer loop (biomedical-data-generator + sklearn)": lambda d, s: timed(lambda: peer_loop(d, s)),
}
MEM, OUT, OWN, PEER = VARIANTS


@dataclass
class Cold:
    """The first study in the process: its time and each cell's compilations."""

    run: Run
    total_compiles: int
    names: list[str]
    cells: list[tuple[int, int, int, list[str]]]
    cache_before: int | None
    cache_after: int | None
    compile_s: dict[str, float]


def cold_study(design: Design) -> Cold:
    """The first study in this process, the persistent cache empty, compilations logged."""
    before = draw_cache_size()
    with compile_log() as log, instrumented(log) as parts:
        run = timed(lambda: run_study(design, 0, None))
    run.parts = dict(parts.seconds)
    return Cold(
        run, log.compiles, list(log.names), parts.cells, before, draw_cache_size(), log.seconds
    )


def shutdown_workers() -> None:
    """Stop joblib's reusable loky workers, so that the next parallel call starts new ones."""
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)


NEW, AGAIN, OFF, ONE = (
    "n_jobs=2, new workers (persistent cache filled by this process)",
    "n_jobs=2, the same workers again",
    "n_jobs=2, new workers, persistent cache off (each compiles)",
    "n_jobs=1 (this process, warm)",
)


def parallel(design: Design, seed: int, repeats: int) -> dict[str, list[Run]]:
    """n_jobs=2 with new workers (the persistent cache shared with this process); then
    ``repeats`` times n_jobs=2 on the same workers and n_jobs=1, alternating; last n_jobs=2
    with new workers and the persistent cache off (every worker compiles)."""
    out: dict[str, list[Run]] = {NEW: [], AGAIN: [], ONE: [], OFF: []}
    shutdown_workers()
    out[NEW].append(timed(lambda: run_study(design, seed, None, n_jobs=2)))
    for _ in range(repeats):
        out[AGAIN].append(timed(lambda: run_study(design, seed, None, n_jobs=2)))
        out[ONE].append(timed(lambda: run_study(design, seed, None, n_jobs=1)))
    shutdown_workers()
    saved = os.environ[CACHE_ENV]
    os.environ[CACHE_ENV] = "off"  # read by the new workers only: this process's is set
    try:
        out[OFF].append(timed(lambda: run_study(design, seed, None, n_jobs=2)))
    finally:
        os.environ[CACHE_ENV] = saved
        shutdown_workers()
    return out


# --------------------------------------------------------------------------- paired cells


def own_cell(design: Design, cell: tuple[int, float, int, int], seed: int, how: str) -> Any:
    """One hand-written cell: ``how`` "auc" (the own loop's), "auc+ba" (scored by AUC and
    balanced accuracy in one ``cross_validate``, as the study scores every classifier) or
    "numpy" (the own loop's, X given to scikit-learn as a numpy array)."""
    from sklearn.model_selection import cross_validate

    _, effect, noise, replicate = cell
    s = cell_seed(seed, replicate)
    data = sb.generate(spec_dict(design, effect, noise), seed=s)
    X, y = data.X, np.asarray(data.y.astype(str))
    truth = data.truth.features["signal"].reindex(X.columns).to_numpy(dtype=bool)
    if how == "numpy":
        X = X.to_numpy()
    if how != "auc+ba":
        return score(design, X, y, truth, s % 2**31)
    chosen = selector(design).fit(X, y).get_support()
    cv = StratifiedKFold(design.folds, shuffle=True, random_state=s % 2**31)
    both = {"auc": "roc_auc", "balanced_accuracy": "balanced_accuracy"}
    table = cross_validate(classifier(), X, y, cv=cv, scoring=both, error_score=np.nan)
    return {
        "precision": precision_score(truth, chosen, zero_division=np.nan),
        "recall": recall_score(truth, chosen, zero_division=np.nan),
        "f1": f1_score(truth, chosen, zero_division=np.nan),
        "auc": float(np.mean(table["test_auc"])),
    }


PAIRED = {
    "study cell (`run_cell`)": "study",
    "own cell (AUC scorer only)": "auc",
    "own cell, scored by AUC and balanced accuracy": "auc+ba",
    "own cell, X as a numpy array": "numpy",
}


def paired_cells(design: Design, seed: int) -> dict[str, list[float]]:
    """Every cell of the study once per variant, the variants interleaved cell by cell in a
    rotating order (so load changes hit them alike): wall and CPU seconds summed."""
    from synthbio_ppl.studies.cells import run_cell
    from synthbio_ppl.studies.plan import build_plan

    plan = build_plan(
        spec_dict(design, design.effects[0], design.noises[0]),
        design.grid(),
        {"kbest": selector(design), "logreg": classifier()},
        METRICS,
        design.replicates,
        seed,
        {"n_splits": design.folds},
    )
    names = list(PAIRED)
    totals = {name: [0.0, 0.0] for name in names}
    for k, cell in enumerate(cells_in_order(design)):
        for name in names[k % len(names) :] + names[: k % len(names)]:
            how = PAIRED[name]
            cpu, start = time.process_time(), time.perf_counter()
            if how == "study":
                run_cell(plan, cell[0], cell[3])
            else:
                own_cell(design, cell, seed, how)
            totals[name][0] += time.perf_counter() - start
            totals[name][1] += time.process_time() - cpu
    return totals


# --------------------------------------------------------------------------- report


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    med = statistics.median(values)
    if len(values) == 1:
        return fmt.format(med)
    return f"{fmt.format(med)} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def report(
    design: Design,
    cold: Cold,
    rounds: list[dict[str, Run]],
    loads: list[str],
    diffs: list[dict[str, float]],
    par: dict[str, list[Run]] | None,
    default: list[tuple[str, Run]] | None = None,
    limit: int | None = None,
    before: str = "",
    paired: list[dict[str, list[float]]] | None = None,
) -> str:
    out: list[str] = []
    n = design.cells
    by = {name: [r[name] for r in rounds] for name in VARIANTS}
    wall = {name: [r.wall for r in runs] for name, runs in by.items()}
    own = statistics.median(wall[OWN])
    peer = statistics.median(wall[PEER])

    out += ["## Study against hand-written loops (warm, n_jobs=1)", ""]
    out += [f"- design: {design.describe()}", f"- rounds: {len(rounds)}, order rotated"]
    out += ["- methods: `SelectKBest(f_classif, k=10)`; `StandardScaler + LogisticRegression`"]
    out += [f"  by {design.folds}-fold stratified CV; metrics: {', '.join(METRICS)}"]
    out += [
        "- own loop's values against the study's table (same datasets, same folds), max "
        "|difference| per round: precision/recall/F1 "
        + ", ".join(f"{d['selection']:.1e}" for d in diffs)
        + "; AUC "
        + ", ".join(f"{d['auc']:.1e}" for d in diffs)
        + " (the study hands the classifier the columns in an order drawn per cell, "
        "`studies.apply.shuffled_columns`; the fit's floating-point sums move with it)",
        "",
    ]
    rows = []
    for name in VARIANTS:
        runs = by[name]
        w = [r.wall for r in runs]
        med = statistics.median(w)
        gen = ""
        if name in (OWN, PEER):
            g = statistics.median([r.result.generate_s for r in runs])
            gen = f"{g:.2f} ({g / med:.0%})"
        elif name in (MEM, OUT):
            c = statistics.median([r.parts.get("cells", 0.0) for r in runs])
            gen = f"cells {c:.2f} ({c / med:.0%})"
        rows.append(
            [
                name,
                spread(w),
                f"{n / med:.1f}",
                spread([r.cpu for r in runs]),
                gen,
                f"{med / own:.3f}x",
                f"{med / peer:.2f}x",
            ]
        )
    head = ["variant", "wall s, median (range)", "cells/s", "CPU s, median (range)"]
    head += ["generation s (share) / time in cells", "/ own loop", "/ peer loop"]
    out += [table(rows, head), ""]

    out += ["### Key ratios per round (wall; CPU seconds of this process in brackets)", ""]
    pairs = {
        "mem/own": (MEM, OWN),
        "out/own": (OUT, OWN),
        "mem/peer": (MEM, PEER),
        "own/peer": (OWN, PEER),
    }
    rows = []
    for i, r in enumerate(rounds):
        cells = [
            f"{r[a].wall / r[b].wall:.3f} ({r[a].cpu / r[b].cpu:.3f})" for a, b in pairs.values()
        ]
        rows.append([str(i + 1), loads[i], *cells])
    summary = []
    for a, b in pairs.values():
        w = [r[a].wall / r[b].wall for r in rounds]
        c = [r[a].cpu / r[b].cpu for r in rounds]
        summary.append(f"{spread(w, '{:.3f}')}; CPU {spread(c, '{:.3f}')}")
    rows.append(["median (range)", "", *summary])
    head = ["round", "load (1 min) at start", "study in memory / own loop"]
    head += ["study out= / own loop", "study in memory / peer loop", "own loop / peer loop"]
    out += [table(rows, head), ""]

    out += ["### Where the study's time goes (median over rounds, seconds)", ""]
    rows = []
    for name in (MEM, OUT):
        runs = by[name]
        top = ["plan", "cells", "store writes", "finish"]
        inner = ["summary", "plot figures", "png files", "other files"]
        med = {p: statistics.median([r.parts.get(p, 0.0) for r in runs]) for p in top + inner}
        total = statistics.median([r.wall for r in runs])
        rest = statistics.median([r.wall - sum(r.parts.get(p, 0.0) for p in top) for r in runs])
        rows.append([name, f"{total:.2f}", *(f"{med[p]:.3f}" for p in top + inner), f"{rest:.3f}"])
    head = ["variant", "total", "`build_plan`", "`run_cell` (all cells)", "`CellStore.write`"]
    head += ["`_finish`", "of which `summarise`", "figures (`plot_metric`)", "PNG files"]
    head += ["results, summary, report files", "rest"]
    out += [table(rows, head), ""]
    files = by[OUT][0].parts.get("files")
    if files:
        out += [f"- the out= folder held {files:.0f} files at the end", ""]
    own_methods = statistics.median([r.result.methods_s for r in by[OWN]])
    own_gen = statistics.median([r.result.generate_s for r in by[OWN]])
    in_cells = statistics.median([r.parts.get("cells", 0.0) for r in by[MEM]])
    out += [
        f"- own loop, median: generation {own_gen:.2f} s, selector + CV + metrics "
        f"{own_methods:.2f} s; the in-memory study's `run_cell` total minus both: "
        f"{in_cells - own_gen - own_methods:+.2f} s",
        "",
    ]

    if paired:
        out += ["## The same cells interleaved one by one (paired, n_jobs=1)", ""]
        out += [
            "Every cell once per variant, the variants in a rotating order within each cell, "
            f"seconds summed over the {n} cells; repeated {len(paired)} times.",
            "",
        ]
        own_key = "own cell (AUC scorer only)"
        rows = []
        for name in PAIRED:
            w = [p[name][0] for p in paired]
            c = [p[name][1] for p in paired]
            rw = [p[name][0] / p[own_key][0] for p in paired]
            rc = [p[name][1] / p[own_key][1] for p in paired]
            rows.append([name, spread(w), spread(c), spread(rw, "{:.3f}"), spread(rc, "{:.3f}")])
        head = ["variant", "wall s", "CPU s", "wall / own cell", "CPU / own cell"]
        out += [table(rows, head), ""]

    out += ["## Compilations during the first study of the process (sweep over values)", ""]
    out += [
        f"- first study (cold: empty persistent cache, first generate of the process): "
        f"{cold.run.wall:.2f} s wall ({n / cold.run.wall:.1f} cells/s), against "
        f"{statistics.median(wall[MEM]):.2f} s warm; JAX tracing "
        f"{cold.compile_s.get('trace', 0):.2f} s, lowering {cold.compile_s.get('lower', 0):.2f} s,"
        f" XLA compilation {cold.compile_s.get('compile', 0):.2f} s",
        f"- XLA compilations in all: {cold.total_compiles}, of which inside cells "
        f"{sum(c[2] for c in cold.cells)}; row programs held {cold.cache_before} -> "
        f"{cold.cache_after}",
        "",
    ]
    noise_of = {}
    effect_of = {}
    s = 0
    for effect in design.effects:
        for noise in design.noises:
            noise_of[s], effect_of[s] = noise, effect
            s += 1
    rows = []
    for noise in design.noises:
        mine = [c for c in cold.cells if noise_of[c[0]] == noise]
        first = mine[0]
        rest = mine[1:]
        later_effects = [c for c in mine if effect_of[c[0]] != design.effects[0]]
        names = sorted({x for c in mine for x in c[3]})
        rows.append(
            [
                f"noise {noise:,} ({design.informative + noise:,} features)",
                str(len(mine)),
                f"{first[2]} (scenario {first[0]}, replicate {first[1]})",
                f"**{sum(c[2] for c in rest)}**",
                f"**{sum(c[2] for c in later_effects)}**",
                ", ".join(f"`{x}`" for x in names) or "-",
            ]
        )
    head = ["layout", "cells", "compilations in its first cell", "in its other cells"]
    head += [f"in cells of the {len(design.effects) - 1} later effect sizes", "programs compiled"]
    out += [table(rows, head), ""]
    outside = sorted(set(cold.names) - {x for c in cold.cells for x in c[3]})
    if outside:
        out += [f"- compiled outside cells: {', '.join(f'`{x}`' for x in outside)}", ""]

    if par:
        out += ["## n_jobs=2 against n_jobs=1 (joblib, in memory)", ""]
        base = statistics.median([r.wall for r in par[ONE]])
        rows = []
        for name, runs in par.items():
            w = [r.wall for r in runs]
            med = statistics.median(w)
            rows.append(
                [
                    f"{name} (n={len(runs)})",
                    spread(w),
                    f"{n / med:.1f}",
                    spread([r.cpu for r in runs]),
                    f"{med / base:.2f}x",
                ]
            )
        head = ["run", "wall s, median (range)", "cells/s", "CPU s of this process"]
        head += ["/ n_jobs=1"]
        out += [table(rows, head), ""]
        ratios = [a.wall / b.wall for a, b in zip(par[AGAIN], par[ONE], strict=True)]
        out += [
            "- n_jobs=2 (same workers) / n_jobs=1, each pair run back to back: "
            + ", ".join(f"{x:.2f}" for x in ratios),
            "- joblib's workers run with BLAS/OpenMP limited to cores // n_jobs threads "
            "(here 1); this process "
            + ("as it was" if limit is None else f"limited to {limit}")
            + " for every row",
            "",
        ]
    if default:
        out += [f"## Thread pools as they were ({before}) against limited to {limit}", ""]
        rows = []
        for name, run in default:
            limited = statistics.median(wall[name])
            rows.append(
                [name, f"{run.wall:.2f}", f"{run.cpu:.2f}", f"{limited:.2f}",
                 f"{run.wall / limited:.2f}x"]
            )  # fmt: skip
        head = ["variant", "wall s, default threads", "CPU s, default threads"]
        head += [f"wall s, {limit} thread (median of rounds)", "default / limited"]
        out += [table(rows, head), ""]
    return "\n".join(out)


def blas_threads() -> str:
    """The BLAS and OpenMP thread pools' sizes in this process (threadpoolctl)."""
    from threadpoolctl import threadpool_info

    sizes = {f"{i['internal_api']} {i['num_threads']}" for i in threadpool_info()}
    return ", ".join(sorted(sizes)) or "none found"


def default_threads(design: Design, seed: int) -> list[tuple[str, Run]]:
    """The study in memory and the own loop once each with the thread pools as they
    were before ``threadpool_limits`` (scikit-learn's BLAS on every core)."""
    return [(name, VARIANTS[name](design, seed)) for name in (MEM, OWN)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 cells, 2 rounds")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds (default 3)")
    parser.add_argument(
        "--blas-threads",
        default="1",
        help="BLAS/OpenMP threads of this process during the timings (threadpoolctl), as "
        "joblib's workers get at n_jobs = cores; 'default' leaves them (default: 1)",
    )
    parser.add_argument("--no-parallel", action="store_true", help="skip the n_jobs=2 part")
    parser.add_argument("--no-default-threads", action="store_true", help="skip that part")
    args = parser.parse_args(argv)
    design = QUICK if args.quick else FULL
    n_rounds = args.rounds or (2 if args.quick else 3)
    limit = None if args.blas_threads == "default" else int(args.blas_threads)
    start = time.perf_counter()
    # a fresh persistent compilation cache, set before synthbio_ppl generates anything, so
    # the first study's compilations are real ones (bench_generate.py does the same)
    cache = tempfile.mkdtemp(prefix="bench-study-jax-cache-")
    os.environ[CACHE_ENV] = cache
    command = ".venv/bin/python benchmarks/bench_study.py" + " ".join(
        [""] + (argv if argv is not None else sys.argv[1:])
    )
    before = blas_threads()
    header(
        PACKAGES,
        {"sources hash": source_hash(), "command": command},
        [
            f"persistent compilation cache: a fresh empty folder ({CACHE_ENV})",
            f"thread pools: {before} at start; "
            + ("left as they are" if limit is None else f"limited to {limit} for the timings"),
            "timings move with the machine's load; the ratios are within one round",
        ],
    )
    warnings.filterwarnings("ignore", category=UserWarning)
    from threadpoolctl import threadpool_limits

    default = None
    try:
        with threadpool_limits(limit):
            print("[cold] first study ...", file=sys.stderr, flush=True)
            cold = cold_study(design)
            rounds: list[dict[str, Run]] = []
            loads: list[str] = []
            diffs: list[dict[str, float]] = []
            names = list(VARIANTS)
            for i in range(n_rounds):
                loads.append(f"{os.getloadavg()[0]:.2f}")
                order = names[i % len(names) :] + names[: i % len(names)]
                found: dict[str, Run] = {}
                for name in order:
                    print(f"[round {i + 1}] {name} ...", file=sys.stderr, flush=True)
                    found[name] = VARIANTS[name](design, i + 1)
                rounds.append(found)
                diffs.append(max_difference(found[MEM].result.table, found[OWN].result))
            paired = []
            for i in range(n_rounds):
                print(f"[paired {i + 1}] cell by cell ...", file=sys.stderr, flush=True)
                paired.append(paired_cells(design, 10 + i))
            par = None
            if not args.no_parallel:
                print("[parallel] n_jobs=2 ...", file=sys.stderr, flush=True)
                par = parallel(design, 1, n_rounds)
        if limit is not None and not args.no_default_threads:
            print("[threads] default thread pools ...", file=sys.stderr, flush=True)
            default = default_threads(design, 1)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    print()
    print(report(design, cold, rounds, loads, diffs, par, default, limit, before, paired))
    end = load(os.getloadavg())
    print(f"- load average at end: {end}; total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
