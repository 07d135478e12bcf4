"""``study``: every cell of a plan, run by joblib (or a Dask client), each written as it
finishes, then the tidy table, its summary, plots and a report."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.engine.progress import Progress
from synthbio_ppl.model.scene import SpecLike
from synthbio_ppl.studies.cells import Cell, run_cell
from synthbio_ppl.studies.plan import Plan, build_plan, cell_seed
from synthbio_ppl.studies.store import CellStore
from synthbio_ppl.studies.summary import summarise

__all__ = ["Study", "study"]


@dataclass
class Study:
    """A finished study.

    ``table``: the tidy results, one row per (scenario, replicate, method, metric, scheme,
    parameter), the grid's paths as columns after ``scenario``; ``summary``: mean, sd,
    Monte Carlo se and 95% interval over replicates (plus ``stability``); ``plan``: what
    ran; ``folder``: where it was written (None in memory); ``name``: the report's title
    (default: the base spec's name).
    """

    plan: Plan
    table: pd.DataFrame
    summary: pd.DataFrame
    folder: Path | None = None
    name: str | None = None
    selected: dict[tuple[int, int], dict[str, list[str]]] = field(default_factory=dict)
    """Each cell's selected feature names per selecting method, by (scenario, replicate)."""

    def dataset(self, scenario: int, replicate: int) -> Any:
        """The Dataset a cell's methods were scored on (generated again: same spec, same
        seed, the same values on the same JAX version)."""
        if not (0 <= scenario < len(self.plan.scenarios) and 0 <= replicate < self.plan.replicates):
            raise SpecError(
                "cell",
                (scenario, replicate),
                f"scenarios 0..{len(self.plan.scenarios) - 1}, replicates "
                f"0..{self.plan.replicates - 1}",
            )
        from synthbio_ppl.engine.generation import generate

        spec = self.plan.scenarios[scenario].spec
        return generate(spec, seed=cell_seed(self.plan.seed, replicate))

    def plot(self, metric: str, scheme: str | None = None) -> Any:
        """The metric against each grid path, a line per method, with 95% intervals over
        replicates (``studies.plots.plot_metric``); returns the matplotlib Figure."""
        from synthbio_ppl.studies.plots import plot_metric

        return plot_metric(self.table, self.summary, self.plan.axes, metric, scheme)

    def report(self) -> str:
        """A short markdown report: the design, the methods and the summary per scenario."""
        from synthbio_ppl.studies.report import study_report

        return study_report(self.plan, self.summary, self.name)

    def __repr__(self) -> str:
        p = self.plan
        return (
            f"Study(scenarios={len(p.scenarios)}, replicates={p.replicates}, "
            f"methods={[m.name for m in p.methods]}, rows={len(self.table)})"
        )


def _axes(plan: Plan) -> pd.DataFrame:
    """One row per scenario, a column per grid path: its values as they are where they are
    all numbers, all text or all flags (None where absent), else every one as JSON text
    (lists, mappings, or a mix that one Parquet column cannot hold)."""
    index = pd.Index([s.index for s in plan.scenarios], name="scenario")
    columns = {}
    for path in plan.axes:
        values = [s.values.get(path) for s in plan.scenarios]
        given = [v for v in values if v is not None]
        kinds = {
            bool if isinstance(v, bool) else float if isinstance(v, int | float) else type(v)
            for v in given
        }
        plain = len(kinds) <= 1 and kinds <= {bool, float, str}
        columns[path] = values if plain else [json.dumps(v) for v in values]
    return pd.DataFrame(columns, index=index)


MAX_JOBS_PER_CORE = 4
"""``n_jobs`` may ask for at most this many workers per core (each is a Python process
with JAX loaded)."""


def _check_run(n_jobs: Any, client: Any, out: Any) -> None:
    """The run's own arguments, refused by name before anything is planned or written."""
    limit = MAX_JOBS_PER_CORE * (os.cpu_count() or 1)
    whole = isinstance(n_jobs, int | np.integer) and not isinstance(n_jobs, bool)
    if not whole or n_jobs == 0 or n_jobs < -1 or n_jobs > limit:
        raise SpecError(
            "n_jobs",
            n_jobs,
            f"a number of workers from 1 to {limit} ({MAX_JOBS_PER_CORE} per core), or -1 for "
            "every core",
        )
    if client is not None and not all(hasattr(client, a) for a in ("submit", "scatter", "cancel")):
        raise SpecError("client", type(client).__name__, "a dask.distributed.Client, or None")
    if out is not None and not isinstance(out, str | os.PathLike):
        raise SpecError(
            "out", out, "a folder path (str or pathlib.Path), or None to keep it in memory"
        )


def _run(plan: Plan, todo: list[tuple[int, int]], n_jobs: int, client: Any) -> Iterator[Cell]:
    if client is not None:
        from distributed import as_completed

        shared = client.scatter(plan, broadcast=True)
        futures = [client.submit(run_cell, shared, s, r, pure=False) for s, r in todo]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            client.cancel(futures)
        return
    n_jobs = int(n_jobs)
    if n_jobs == 1:  # in this process: the compiled generators stay warm between cells
        for s, r in todo:
            yield run_cell(plan, s, r)
        return
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    yield from parallel(delayed(run_cell)(plan, s, r) for s, r in todo)


def study(
    base: SpecLike,
    grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]] | None = None,
    methods: Mapping[str, Any] | None = None,
    metrics: Sequence[Any] | None = None,
    replicates: int = 1,
    *,
    seed: int = 0,
    cv: Mapping[str, Any] | None = None,
    out: str | Path | None = None,
    overwrite: bool = False,
    n_jobs: int = 1,
    client: Any = None,
    progress: bool | None = None,
    name: str | None = None,
) -> Study:
    """Run a simulation study: every scenario of ``grid`` × ``replicates``, every method
    on each dataset, every metric scored against the dataset's truth.

    ``base``: a spec (Spec, dict or YAML path). ``grid``: ``{path: [values]}``, the full
    factorial over spec field paths (``informative[0].effect_size``, ``noise[0].n``,
    ``batches.confounding``), or a list of ``{path: value}`` scenarios. ``methods``:
    ``{name: method}``, each a scikit-learn selector or classifier (or Pipeline), a callable
    ``f(X, y) -> selected features``, a preset name (``studies.presets.PRESETS``) or
    ``FitMethod``. ``metrics``: names from ``studies.metrics.METRICS`` or functions
    ``f(data, result)``; default: every built-in metric the methods can be scored by.
    ``cv``: ``{"schemes": ["random", "group", "leave_one_batch_out"], "n_splits": 5,
    "groups": covariate}`` for the classifiers. Selectors and classifiers see X's columns
    in an order drawn per cell (names kept; ``apply.shuffled_columns``). Replicate r's
    dataset has the seed ``cell_seed(seed, r)`` in every scenario; methods' unset
    ``random_state`` is derived from it, so the table does not depend on ``n_jobs`` or the
    client.

    ``out``: a folder; each finished cell is written there at once, and a run with the
    same study and folder resumes where a stopped one ended. It gets ``results.parquet``,
    ``summary.parquet``/``.csv``, ``report.md`` and ``plots/`` when done. ``n_jobs``:
    joblib workers (1: this process); ``client``: a ``dask.distributed.Client`` instead.
    ``progress``: a bar of finished cells on stderr (None: when stderr is a terminal or a
    notebook's cell).

    Raises SpecError, before any cell runs, for a grid path the base spec lacks, a value
    its field refuses, a method that neither selects, classifies nor fits, an unknown
    metric, or a metric or scheme that needs what a scenario's scene lacks; and naming
    the method, scenario and replicate when a method fails (finished cells are kept).
    """
    _check_run(n_jobs, client, out)
    plan = build_plan(base, grid, methods, metrics, replicates, seed, cv)
    store = None if out is None else CellStore(out, plan, overwrite)
    done = set() if store is None else store.done()
    todo = [cell for cell in plan.cells if cell not in done]
    kept: list[Cell] = []
    bar = Progress(progress, len(plan.cells), len(plan.cells) - len(todo), "study", "cells")
    try:
        for cell in _run(plan, todo, n_jobs, client):
            if store is None:
                kept.append(cell)
            else:
                store.write(cell)
            bar.update(1)
    finally:
        bar.close()
    if store is None:
        table = pd.concat([c.table for c in kept], ignore_index=True)
        selected = {(c.scenario, c.replicate): c.selected for c in kept}
    else:
        table, selected = store.read()
    return _finish(plan, table, selected, store, name, fresh=bool(todo))


def _finish(
    plan: Plan,
    table: pd.DataFrame,
    selected: dict[tuple[int, int], dict[str, list[str]]],
    store: CellStore | None,
    name: str | None,
    fresh: bool,
) -> Study:
    axes = _axes(plan)
    order = {m.name: i for i, m in enumerate(plan.methods)}
    table = table.assign(_m=table["method"].map(order).fillna(-1))
    table = table.sort_values(["scenario", "replicate", "_m"], kind="stable", ignore_index=True)
    table = table.drop(columns="_m")
    table = axes.reset_index().merge(table, on="scenario", how="right")
    stability = any(m.name == "stability" for m in plan.metrics)
    summary = summarise(table.drop(columns=list(axes.columns)), selected, axes, stability)
    summary = _in_table_order(summary, table, order)
    folder = None if store is None else store.folder
    result = Study(plan, table, summary, folder, name, dict(sorted(selected.items())))
    if store is not None and (fresh or not store.finished()):
        from synthbio_ppl.studies.report import write_outputs

        write_outputs(plan, table, summary, name, store)
    return result


def _in_table_order(
    summary: pd.DataFrame, table: pd.DataFrame, methods: dict[str, int]
) -> pd.DataFrame:
    """The summary by scenario, then methods as given (the oracle first), then metrics,
    schemes and parameters as the table first holds them (summary-only metrics last)."""
    keys = {"_m": summary["method"].map(methods).fillna(-1)}
    for column in ("metric", "scheme", "parameter"):
        first = {v: i for i, v in enumerate(dict.fromkeys(table[column]))}
        keys[f"_{column}"] = summary[column].map(first).fillna(len(first))
    ordered = summary.assign(**keys).sort_values(
        ["scenario", "_m", "_metric", "_scheme", "_parameter"], kind="stable", ignore_index=True
    )
    return ordered.drop(columns=list(keys))
