"""A finished study's files: results.parquet, summary.parquet and .csv, plots/ and a short
markdown report (the design, the methods, and each metric's mean per scenario)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from synthbio_ppl.studies.cells import ORACLE
from synthbio_ppl.studies.fingerprints import described
from synthbio_ppl.studies.plan import Plan
from synthbio_ppl.studies.store import CellStore

__all__ = ["MAX_PARAMETERS", "NAN_REASONS", "study_report", "write_outputs"]

NAN_REASONS = {
    "rank_correlation": "it needs three truly informative features of unequal true effects",
    "recall": "the scenes have no truly informative feature",
    "precision": "the methods selected nothing",
    "ranking_auc": "the methods gave no scores, or every feature (or none) is informative",
}
"""Why a built-in metric is NaN in every cell (the report says so instead of a table)."""

MAX_PARAMETERS = 30
"""A per-parameter metric (a fit's bias) shows at most this many parameters per scenario
in the report (summary.csv holds them all)."""


def _cell(mean: float, se: float) -> str:
    if pd.isna(mean):
        return "–"
    if pd.isna(se):
        return f"{mean:.3g}"
    return f"{mean:.3g} ± {se:.2g}" if se > 1e-12 * max(abs(mean), 1.0) else f"{mean:.3g} ± 0"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


def study_report(
    plan: Plan, summary: pd.DataFrame, name: str | None = None, figures: list[str] | None = None
) -> str:
    """The report's markdown text: ``plan``'s design and methods, then each metric's
    mean ± Monte Carlo se per scenario from ``summary``; ``name`` its title."""
    base = plan.scenarios[0].spec
    lines = [
        f"# {name}" if name else f"# Study on {base.name!r}",
        "",
        f"{len(plan.scenarios)} scenario(s) × {plan.replicates} replicate(s) = "
        f"{len(plan.cells)} datasets; study seed {plan.seed} (replicate r's dataset seed is "
        "the same in every scenario).",
        "",
        "## Grid",
        "",
    ]
    if plan.axes:
        for path in plan.axes:
            values = list(dict.fromkeys(str(s.values.get(path)) for s in plan.scenarios))
            lines.append(f"- `{path}`: {', '.join(values)}")
    else:
        lines.append("- the base scene alone")
    lines += ["", "## Methods", ""]
    for m in plan.methods:
        lines.append(f"- **{m.name}** ({m.kind}): `{described(m.estimator)}`")
    if plan.oracle:
        lines.append(f"- **{ORACLE}**: the Bayes classifier of the true model (the best score)")
    if any(m.kind == "classifier" for m in plan.methods):
        k = plan.cv.n_splits
        said = {
            "random": f"`random`: {k}-fold stratified CV, rows shuffled",
            "group": f"`group`: GroupKFold on `{plan.cv.groups}` ({k} folds, or one per "
            "group where there are fewer)",
            "leave_one_batch_out": "`leave_one_batch_out`: one fold per batch",
        }
        schemes = "; ".join(said[s] for s in plan.cv.schemes)
        lines += [
            "",
            f"Classifiers are scored by cross-validation ({schemes}); every method "
            "of a cell gets the same folds.",
        ]
    lines += ["", "## Results (mean ± Monte Carlo standard error over replicates)", ""]
    for metric in dict.fromkeys(summary["metric"]):
        part = summary[summary["metric"] == metric]
        keys = ["parameter"] if (part["parameter"] != "").any() else []
        columns = list(dict.fromkeys(zip(part["method"], part["scheme"], strict=True)))
        header = ["scenario", *keys, *(f"{m} ({s})" if s else m for m, s in columns)]
        rows = []
        for scenario in plan.scenarios:
            here = part[part["scenario"] == scenario.index]
            for parameter in list(dict.fromkeys(here["parameter"]))[:MAX_PARAMETERS]:
                at = here[here["parameter"] == parameter]
                cells = []
                for method, scheme in columns:
                    hit = at[(at["method"] == method) & (at["scheme"] == scheme)]
                    cells.append(_cell(*hit[["mean", "se"]].iloc[0]) if len(hit) else "–")
                rows.append([scenario.label, *([parameter] if keys else []), *cells])
        if not np.isfinite(part["mean"].to_numpy(dtype=float)).any():
            lines += [f"### {metric}", "", f"NaN in every cell: {NAN_REASONS.get(metric, '')}"]
            lines += [""]
            continue
        lines += [f"### {metric}", "", *_table(header, rows), ""]
    if figures:
        lines += ["## Figures", ""] + [f"![{f}]({f})" for f in figures]
    return "\n".join(lines) + "\n"


def write_outputs(
    plan: Plan, table: pd.DataFrame, summary: pd.DataFrame, name: str | None, store: CellStore
) -> None:
    """results.parquet, summary.parquet/.csv, plots/*.png (with matplotlib) and report.md,
    each renamed into place whole."""
    store.put("results.parquet", lambda p: table.to_parquet(p, index=False))
    store.put("summary.parquet", lambda p: summary.to_parquet(p, index=False))
    store.put("summary.csv", lambda p: summary.to_csv(p, index=False))
    figures: list[str] = []
    try:
        import matplotlib  # noqa: F401
    except ImportError:  # no plots without the extra "plot"
        pass
    else:
        from synthbio_ppl.studies.plots import plot_metric, plotted_metrics

        (store.folder / "plots").mkdir(exist_ok=True)
        for metric, scheme in plotted_metrics(table, summary):
            stem = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{metric}{'_' + scheme if scheme else ''}")
            file = f"plots/{stem}.png"
            fig = plot_metric(table, summary, plan.axes, metric, scheme, pyplot=False)
            store.put(file, lambda p, fig=fig: fig.savefig(p, dpi=110, format="png"))
            figures.append(file)
    text = study_report(plan, summary, name, figures)
    store.put("report.md", lambda p: p.write_text(text))
