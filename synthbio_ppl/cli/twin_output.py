"""Output of ``synthbio twin``: the folder it writes, its reports and the summary it prints.

DIR is written atomically (a sibling staging folder renamed into place when complete):
the synthetic table, ``report.md``, ``report.json`` (with the run's metadata and the
command that reproduces it), ``posterior.nc``, ``parameters.csv`` and
``missing_rates.csv`` (the fraction of each feature's cells missing per class in the train
rows, which the synthetic table reproduces). With ``--holdout 0`` only the fidelity part of
the report (missing fractions included) is kept.
"""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas loads when the command runs, not when it is registered
    import pandas as pd

OUTPUT_FILES = ("report.md", "report.json", "posterior.nc", "parameters.csv", "missing_rates.csv")
FIDELITY_METRICS = (
    "mean_ks",
    "max_ks",
    "mean_wasserstein",
    "corr_frobenius",
    "corr_mean_abs_diff",
    "missing_max_abs_diff",
)


def command_line(args: argparse.Namespace, method: str) -> str:
    """The command with the method, holdout and seed spelled out, so it reproduces this
    run."""
    argv = ["synthbio", "twin", str(args.real), "--label", args.label, "--out", str(args.out)]
    for option, value in (
        ("--n", args.n),
        ("--balance", args.balance),
        ("--types", args.types),
        ("--bounds", args.bounds),
        ("--rank", args.rank),
        ("--svi-steps", args.svi_steps),
        ("--learning-rate", args.learning_rate),
        ("--warmup", args.warmup),
        ("--samples", args.samples),
    ):
        if value is not None:
            argv += [option, str(value)]
    argv += ["--method", method, "--holdout", f"{args.holdout:g}", "--seed", str(args.seed)]
    return shlex.join(argv)


def _write(
    out: Path,
    force: bool,
    suffix: str,
    synthetic: pd.DataFrame,
    fitted: Any,
    report: Any,
    metadata: dict[str, Any],
    scoring: bool,
) -> None:
    from synthbio_ppl.data.io import staged_folder
    from synthbio_ppl.engine.budget import check_free_space, full_disk_named, netcdf_bytes

    document = {"metadata": metadata, **_report_dict(report, scoring, metadata)}
    texts = {
        "report.md": _markdown(metadata, report, scoring),
        "report.json": json.dumps(document, indent=2, allow_nan=False, default=str),
        "parameters.csv": fitted.parameters().to_csv(),
        "missing_rates.csv": fitted.missing_rates.to_csv(),
    }
    files = {name: text.encode() for name, text in texts.items()}
    idata = fitted.to_inference_data()
    need = netcdf_bytes(idata) + _table_bytes(synthetic, suffix) + sum(map(len, files.values()))
    check_free_space(out.parent, need, f"the twin's files ({out.name}/)")  # nothing made yet
    with staged_folder(out, overwrite=force) as staging:  # removed whatever fails inside
        message = f"the disk is full; {out.name}/ not written, an earlier one there unchanged"
        with full_disk_named(staging.parent, message):
            if suffix == ".parquet":
                synthetic.to_parquet(staging / "synthetic.parquet", index=False)
            else:
                synthetic.to_csv(staging / "synthetic.csv", index=False)
            for name, data in files.items():
                (staging / name).write_bytes(data)
            idata.to_netcdf(str(staging / "posterior.nc"))


def _table_bytes(table: pd.DataFrame, suffix: str) -> int:
    """An upper bound on the bytes of ``table`` written as Parquet (its values, unencoded)
    or CSV (those and 25 characters a cell: a float's longest text and its comma)."""
    values = int(table.memory_usage(index=False, deep=True).sum())
    return values if suffix == ".parquet" else values + 25 * table.size


def _report_dict(report: Any, scoring: bool, metadata: dict[str, Any]) -> dict[str, Any]:
    if report is None:
        return {"summary": None, "fidelity": None, "utility": None, "privacy": None}
    full = report.to_dict()
    if scoring:
        return full
    rows = metadata["rows"]
    return {
        "label": full["label"],
        "n_rows": {"real_train": rows["train"], "real_holdout": 0, "synthetic": rows["synthetic"]},
        "summary": {m: full["summary"][m] for m in FIDELITY_METRICS},
        "fidelity": full["fidelity"],
        "utility": None,
        "privacy": None,
    }


def _markdown(metadata: dict[str, Any], report: Any, scoring: bool) -> str:
    rows = metadata["rows"]
    head = [
        "# Synthetic twin",
        "",
        f"- input: `{metadata['input']}` ({rows['input']} rows), label `{metadata['label']}`, "
        f"classes {metadata['classes']}",
        f"- rows: train {rows['train']}, holdout {rows['holdout']}, synthetic {rows['synthetic']}",
        f"- method: {metadata['method']}, rank {metadata['rank']}, "
        f"fit {metadata['fit_seconds']:.2f} s, seed {metadata['seed']}",
        f"- class balance: {metadata['balance'] or 'as in the real table'}",
        f"- scored: {metadata['scored']}",
        f"- missing cells: {_missing_line(metadata['missing'])}",
        *(
            ["- note: the marginal fidelity scores compare against the real class balance"]
            if metadata["balance"] is not None and report is not None
            else []
        ),
        f"- command: `{metadata['command']}`",
        "",
    ]
    if report is None:
        body = f"{metadata['scored'].capitalize()}.\n"
    elif scoring:
        body = report.to_markdown()
    else:
        body = _fidelity_markdown(report)
    return "\n".join(head) + "\n" + body


def _fidelity_markdown(report: Any, top: int = 10) -> str:
    """Fidelity only (no holdout): the headline distances and the features by KS."""
    from synthbio_ppl.twins.report import format_number

    summary = report.summary()
    lines = [
        "## Fidelity (no holdout)",
        "",
        "Synthetic rows against the rows the twin was fitted to. Utility (TSTR) and privacy",
        "(DCR, membership inference) need real rows the twin never saw: run with --holdout > 0.",
        "",
        "| metric | value |",
        "|---|---|",
        *(f"| {m} | {format_number(summary[m])} |" for m in FIDELITY_METRICS),
        "",
    ]
    per_feature = report.fidelity.per_feature
    ranked = per_feature.sort_values("ks", ascending=False, kind="stable").head(top)
    lines += [
        f"### Features by KS statistic (top {len(ranked)} of {len(per_feature)})",
        "",
        "| feature | ks | wasserstein | real_mean | synthetic_mean |",
        "|---|---|---|---|---|",
    ]
    for name, row in ranked.iterrows():
        values = (row["ks"], row["wasserstein"], row["real_mean"], row["synthetic_mean"])
        lines.append(f"| {name} | " + " | ".join(format_number(v) for v in values) + " |")
    missing = report.missing_markdown(top)
    return "\n".join(lines) + "\n" + ("\n" + "\n".join(missing) if missing else "")


def missing_summary(rates: pd.DataFrame) -> dict[str, Any]:
    """What ``metadata['missing']`` holds: the feature columns with a missing cell in the
    train rows and the largest fraction of any column in any class."""
    columns = [str(c) for c in rates.index[(rates.to_numpy() > 0).any(axis=1)]]
    return {"columns": columns, "max_rate": float(rates.to_numpy().max(initial=0.0))}


def _missing_line(missing: dict[str, Any]) -> str:
    columns = missing["columns"]
    if not columns:
        return "none in the train rows"
    shown = ", ".join(columns[:8]) + (", ..." if len(columns) > 8 else "")
    return (
        f"{len(columns)} column(s) ({shown}), up to {missing['max_rate']:.1%} in a class; "
        "masked at each column's class rate (missing_rates.csv)"
    )


def _summary(metadata: dict[str, Any], report: Any, scoring: bool, out: Path, suffix: str) -> str:
    rows = metadata["rows"]
    lines = [
        f"twin ({metadata['method']}, rank {metadata['rank']}) fitted to {rows['train']} of "
        f"{rows['input']} rows in {metadata['fit_seconds']:.1f} s; "
        f"{rows['synthetic']} synthetic rows sampled",
    ]
    if metadata["missing"]["columns"]:
        lines.append(f"missing cells: {_missing_line(metadata['missing'])}")
    if report is not None:
        s = report.summary()
        gap = (
            f", missing-rate |Δ| {s['missing_max_abs_diff']:.3f}"
            if metadata["missing"]["columns"]
            else ""
        )
        lines.append(
            f"fidelity: mean KS {s['mean_ks']:.3f}, max KS {s['max_ks']:.3f}, "
            f"correlation |Δ| {s['corr_mean_abs_diff']:.3f}{gap}"
        )
        if scoring:
            lines.append(
                f"utility: TSTR AUC {s['tstr_auc']:.3f} vs TRTR {s['trtr_auc']:.3f}; privacy: "
                f"MIA AUC {s['mia_auc']:.3f}, median DCR {s['dcr_synthetic_median']:.2f} "
                f"(holdout {s['dcr_holdout_median']:.2f})"
            )
    lines.append(f"wrote {out}/ (synthetic{suffix}, {', '.join(OUTPUT_FILES)})")
    return "\n".join(lines)
