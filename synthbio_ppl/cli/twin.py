"""``synthbio twin REAL.csv --label COL --out DIR``: a synthetic twin of a real table, scored.

The real table (CSV, or Parquet by extension) is split into train and holdout rows,
stratified by the label (``--holdout``, default 0.3). The twin is fitted to the train rows
only, sampled (default: as many rows as the train table, so the synthetic and train tables
are compared at equal size) and scored by ``score_twin(train, holdout, synthetic)``. With
``--holdout 0`` every row is used for the fit; the utility and privacy scores need rows
the twin never saw, so only the fidelity scores (synthetic against the fitted rows) are
reported.

DIR is written atomically (a sibling staging folder renamed into place when complete) and
holds ``synthetic.csv`` (``.parquet`` for a Parquet input), ``report.md``, ``report.json``,
``posterior.nc`` and ``parameters.csv``. Registering the subcommand imports nothing heavy;
JAX, NumPyro and scikit-learn load when it runs. Every bad input raises ``SpecError``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import shlex
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthbio_ppl.core.errors import SpecError

if TYPE_CHECKING:  # numpy and pandas load when the command runs, not when it is registered
    import pandas as pd

PARQUET_SUFFIXES = (".parquet", ".pq")
OUTPUT_FILES = ("report.md", "report.json", "posterior.nc", "parameters.csv")
FIDELITY_METRICS = ("mean_ks", "max_ks", "mean_wasserstein", "corr_frobenius", "corr_mean_abs_diff")


def add_twin_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``synthbio twin REAL --label COL --out DIR ...`` (handler in ``run``)."""
    parser = subparsers.add_parser(
        "twin",
        help="fit a synthetic twin to a real table, sample it and score it",
        description=(
            "Split the real table into train/holdout (stratified by the label), fit the twin "
            "to the train rows, sample a synthetic table and score its fidelity, utility and "
            "privacy. Writes DIR/synthetic.csv (.parquet for a Parquet input), report.md, "
            "report.json, posterior.nc and parameters.csv."
        ),
    )
    parser.add_argument("real", help="the real table: CSV, or Parquet (.parquet, .pq)")
    parser.add_argument("--label", required=True, help="the class column")
    parser.add_argument("--out", required=True, help="output folder (written atomically)")
    parser.add_argument(
        "--n",
        type=int,
        default=None,
        help="synthetic rows (default: as many as the train rows; all rows with --holdout 0)",
    )
    parser.add_argument(
        "--balance",
        default=None,
        help="'equal', or CLASS=SHARE,... (relative shares, normalised; an omitted class "
        "gets none); default: the real class balance",
    )
    parser.add_argument(
        "--types",
        default=None,
        help="COL=KIND,... with KIND continuous, integer or categorical (needed for "
        "non-numeric columns)",
    )
    parser.add_argument(
        "--bounds",
        default=None,
        help="COL=LOW:HIGH,... (either side may be empty: unbounded); columns never below 0 "
        "are bounded below by 0 unless given here",
    )
    parser.add_argument(
        "--rank",
        type=int,
        default=None,
        help="latent factors per class (default: sb.twin's, set by the numeric column count)",
    )
    parser.add_argument(
        "--method",
        choices=["nuts", "svi", "map"],
        default=None,
        help="nuts (full posterior, slowest), svi (mean-field) or map (point estimate); "
        "default: sb.twin's default",
    )
    parser.add_argument(
        "--holdout",
        type=float,
        default=0.3,
        help="share of rows per class kept out of the fit for scoring, in [0, 0.9) "
        "(default 0.3; 0: fit on every row, fidelity scores only)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seeds the split, the fit, the sampling and scoring"
    )
    parser.add_argument("--force", action="store_true", help="replace an existing folder")
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")
    parser.set_defaults(run=run_twin)
    return parser


# --------------------------------------------------------------------------- the command


def run_twin(args: argparse.Namespace) -> None:
    """Handler of ``synthbio twin``: read, split, fit, sample, score, write."""
    from synthbio_ppl.data.io import check_target

    path = Path(args.real)
    out = Path(args.out)
    check_target(out, args.force)  # before the fit, so a refusal costs nothing
    _check_numbers(args)
    real = read_table(path)
    label = _check_label(real, args.label, path)
    types = parse_types(args.types, real, label)
    bounds = parse_bounds(args.bounds, real, label, types)
    _check_feature_types(real, label, types)
    balance = parse_balance(args.balance, real[label])
    scoring = args.holdout > 0
    has_sklearn = importlib.util.find_spec("sklearn") is not None
    if scoring and not has_sklearn:
        raise SpecError(
            "--holdout",
            args.holdout,
            "scoring needs scikit-learn (pip install 'synthbio_ppl[eval]'); or pass --holdout 0",
        )
    if scoring and isinstance(balance, Mapping) and sum(v > 0 for v in balance.values()) < 2:
        raise SpecError(
            "--balance", args.balance, "scoring needs at least two classes with a share above 0"
        )
    train, holdout = stratified_split(real, label, args.holdout, args.seed)
    n = len(train) if args.n is None else args.n

    from synthbio_ppl.twins.fitting import twin

    method = {} if args.method is None else {"method": args.method}
    fitted = twin(
        train,
        label,
        types=types,
        bounds=bounds,
        rank=args.rank,
        seed=args.seed,
        **method,
    )
    synthetic = fitted.sample(n, seed=args.seed + 1, balance=balance)
    one_class = synthetic[label].nunique() < 2
    if scoring and one_class:
        raise SpecError("--n", n, "scoring needs synthetic rows of at least two classes")
    skip = None if has_sklearn else "scikit-learn is not installed"
    skip = "the synthetic table holds one class" if one_class else skip
    report = None if skip else _score(train, holdout, synthetic, label, args.seed)
    metadata = {
        "input": str(path),
        "label": label,
        "rows": {
            "input": len(real),
            "train": len(train),
            "holdout": len(holdout),
            "synthetic": len(synthetic),
        },
        "classes": [_plain(c) for c in fitted.layout.classes],
        "method": fitted.method,
        "rank": fitted.shape.rank,
        "fit_seconds": round(float(fitted.fit_seconds), 3),
        "seed": args.seed,
        "holdout": args.holdout,
        "balance": args.balance,
        "scored": f"not scored ({skip})" if skip else _scored(scoring),
        "command": command_line(args, fitted.method),
    }
    suffix = ".parquet" if path.suffix.lower() in PARQUET_SUFFIXES else ".csv"
    _write(out, args.force, suffix, synthetic, fitted, report, metadata, scoring)
    if not args.quiet:
        print(_summary(metadata, report, scoring, out, suffix))


def _check_numbers(args: argparse.Namespace) -> None:
    if not 0.0 <= args.holdout < 0.9:  # also refuses nan
        raise SpecError("--holdout", args.holdout, "must lie in [0, 0.9)")
    if args.n is not None and args.n < 1:
        raise SpecError("--n", args.n, "must be ≥ 1")
    if args.rank is not None and args.rank < 1:
        raise SpecError("--rank", args.rank, "must be ≥ 1")


def _score(
    train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame, label: str, seed: int
) -> Any:
    """The twin report; without holdout rows the fit rows stand in for them, and only the
    fidelity part (which never looks at the holdout) is kept."""
    from synthbio_ppl.twins.scoring import score_twin

    frames = scoring_frames(label, train, holdout if len(holdout) else train, synthetic)
    try:
        return score_twin(*frames, label=label, seed=seed)
    except (TypeError, ValueError) as exc:
        raise SpecError("scoring", "the tables", str(exc)) from exc


def _scored(scoring: bool) -> str:
    return "fidelity, utility, privacy" if scoring else "fidelity only (--holdout 0)"


# --------------------------------------------------------------------------- input


def read_table(path: Path) -> pd.DataFrame:
    """The real table from a CSV or Parquet file; every failure is a SpecError."""
    import pandas as pd

    if not path.exists():
        raise SpecError("REAL", str(path), "no such file")
    if not path.is_file():
        raise SpecError("REAL", str(path), "must be a CSV or Parquet file, not a folder")
    parquet = path.suffix.lower() in PARQUET_SUFFIXES
    try:
        frame = pd.read_parquet(path) if parquet else pd.read_csv(path)
    except (OSError, ValueError) as exc:  # parser, decoding, empty-file and Arrow errors
        kind = "Parquet" if parquet else "CSV"
        reason = " ".join(str(exc).split())[:120]
        raise SpecError("REAL", str(path), f"cannot be read as {kind} ({reason})") from exc
    if frame.empty:
        raise SpecError("REAL", str(path), "the table has no rows")
    if frame.columns.duplicated().any():
        dup = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise SpecError("REAL", dup, "column names must be unique")
    return frame


def _check_label(frame: pd.DataFrame, label: str, path: Path) -> str:
    if label not in frame.columns:
        columns = [str(c) for c in frame.columns]
        shown = ", ".join(columns[:8]) + (", ..." if len(columns) > 8 else "")
        raise SpecError("--label", label, f"must be a column of {path.name} ({shown})")
    missing = int(frame[label].isna().sum())
    if missing:
        raise SpecError("--label", label, f"{missing} row(s) have no class; drop them first")
    return label


def _split_items(text: str, option: str, form: str) -> list[tuple[str, str, str]]:
    """``A=x,B=y`` → [(token, key, value)]; a token without ``=`` or a key raises."""
    items = []
    seen: set[str] = set()
    for token in text.split(","):
        key, sep, value = token.strip().rpartition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise SpecError(option, token, f"each item must be {form}")
        if key in seen:
            raise SpecError(option, token, f"{key!r} is given twice")
        seen.add(key)
        items.append((token, key, value))
    return items


def _feature(frame: pd.DataFrame, label: str, option: str, token: str, name: str) -> str:
    if name == label:
        raise SpecError(option, token, f"names the label {label!r}; name a feature column")
    if name not in frame.columns:
        raise SpecError(option, token, f"{name!r} is not a column of the table")
    return name


def parse_types(text: str | None, frame: pd.DataFrame, label: str) -> dict[str, str]:
    """``--types COL=KIND,...`` → {column: kind}."""
    from synthbio_ppl.twins.columns import KINDS

    if text is None:
        return {}
    form = f"COL=KIND with KIND one of {', '.join(KINDS)}"
    types = {}
    for token, key, value in _split_items(text, "--types", form):
        if value not in KINDS:
            raise SpecError("--types", token, f"{value!r} is not a kind; use {', '.join(KINDS)}")
        types[_feature(frame, label, "--types", token, key)] = value
    return types


def parse_bounds(
    text: str | None, frame: pd.DataFrame, label: str, types: Mapping[str, str]
) -> dict[str, tuple[float | None, float | None]]:
    """``--bounds COL=LOW:HIGH,...`` → {column: (low, high)}; an empty side (or ±inf) is
    unbounded, so ``COL=:`` removes the default lower bound of 0."""
    if text is None:
        return {}
    form = "COL=LOW:HIGH (LOW or HIGH may be empty)"
    bounds: dict[str, tuple[float | None, float | None]] = {}
    for token, key, value in _split_items(text, "--bounds", form):
        column = _feature(frame, label, "--bounds", token, key)
        if types.get(column) == "categorical":
            raise SpecError("--bounds", token, f"{column!r} is categorical; bounds are for numbers")
        low_text, sep, high_text = value.partition(":")
        if not sep:
            raise SpecError("--bounds", token, f"each item must be {form}")
        low, high = _bound(low_text, token), _bound(high_text, token)
        if low is not None and high is not None and not low < high:
            raise SpecError("--bounds", token, "LOW must be below HIGH")
        bounds[column] = (low, high)
    return bounds


def _bound(text: str, token: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise SpecError("--bounds", token, f"{text!r} is not a number") from None
    if math.isnan(value):
        raise SpecError("--bounds", token, "a bound cannot be nan")
    return None if math.isinf(value) else value


def _check_feature_types(frame: pd.DataFrame, label: str, types: Mapping[str, str]) -> None:
    """A non-numeric feature needs a declared kind; say so in CLI terms before the fit."""
    import pandas as pd

    for name in frame.columns:
        if name == label or name in types:
            continue
        values = frame[name]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if not numeric:
            raise SpecError(
                "--types",
                f"{name} ({values.dtype})",
                f"column {name!r} is not numeric; declare it, e.g. --types {name}=categorical",
            )


def parse_balance(text: str | None, labels: pd.Series) -> str | dict[Hashable, float] | None:
    """``--balance``: None (the real balance), ``"equal"``, or CLASS=SHARE,... as shares
    normalised to sum to 1 (so they are never read as row counts). CLASS is matched to the
    label values by their text, or numerically (``1`` matches ``1.0``)."""
    import pandas as pd

    if text is None:
        return None
    if text.strip() == "equal":
        return "equal"
    classes = sorted(pd.unique(labels).tolist(), key=str)
    form = "CLASS=SHARE (or the word 'equal')"
    shares: dict[Hashable, float] = {}
    for token, key, value in _split_items(text, "--balance", form):
        cls = _match_class(key, classes)
        if cls is None:
            shown = ", ".join(str(c) for c in classes[:8])
            raise SpecError("--balance", token, f"{key!r} is not a class; classes are {shown}")
        if cls in shares:
            raise SpecError("--balance", token, f"class {cls!r} is given twice")
        try:
            share = float(value)
        except ValueError:
            raise SpecError("--balance", token, f"{value!r} is not a number") from None
        if not math.isfinite(share) or share < 0:
            raise SpecError("--balance", token, "a share must be a finite number ≥ 0")
        shares[cls] = share
    total = sum(shares.values())
    if total <= 0:
        raise SpecError("--balance", text, "at least one share must be above 0")
    return {cls: share / total for cls, share in shares.items()}


def _match_class(key: str, classes: list[Hashable]) -> Hashable | None:
    import numpy as np

    for cls in classes:
        if str(cls) == key:
            return cls
    try:
        number = float(key)
    except ValueError:
        return None
    for cls in classes:
        numeric = isinstance(cls, int | float | np.number) and not isinstance(cls, bool)
        if numeric and float(cls) == number:
            return cls
    return None


def stratified_split(
    frame: pd.DataFrame, label: str, share: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, holdout): in each class ``round(share·n_c)`` rows (at least 1 when
    ``share`` > 0) drawn at random go to the holdout; both keep the input's row order."""
    import numpy as np
    import pandas as pd

    from synthbio_ppl.twins.columns import MIN_ROWS_PER_CLASS

    if share == 0:
        return frame.reset_index(drop=True), frame.iloc[:0].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    codes, _ = pd.factorize(frame[label], sort=True)
    held = np.zeros(len(frame), dtype=bool)
    for code in range(codes.max() + 1):
        rows = np.flatnonzero(codes == code)
        k = max(1, round(share * len(rows)))
        if len(rows) - k < MIN_ROWS_PER_CLASS:
            cls = frame[label].iloc[rows[0]]
            raise SpecError(
                "--holdout",
                share,
                f"leaves class {_plain(cls)!r} {len(rows) - k} training row(s) of {len(rows)}; "
                f"the twin needs at least {MIN_ROWS_PER_CLASS}: lower --holdout",
            )
        held[rng.choice(rows, size=k, replace=False)] = True
    return frame[~held].reset_index(drop=True), frame[held].reset_index(drop=True)


def scoring_frames(label: str, *frames: pd.DataFrame) -> list[pd.DataFrame]:
    """The tables as ``score_twin`` needs them: every non-numeric feature (a categorical
    column) one-hot encoded as 0/1 columns ``COL=LEVEL``, levels taken from the first."""
    import numpy as np
    import pandas as pd

    first = frames[0]
    encoded = [
        name
        for name in first.columns
        if name != label
        and not (
            pd.api.types.is_numeric_dtype(first[name]) or pd.api.types.is_bool_dtype(first[name])
        )
    ]
    if not encoded:
        return list(frames)
    out = []
    for frame in frames:
        columns: dict[str, Any] = {}
        for name in frame.columns:
            if name not in encoded:
                columns[name] = frame[name]
                continue
            text = frame[name].astype(str)
            for level in sorted(first[name].astype(str).unique()):
                columns[f"{name}={level}"] = (text == level).astype(np.float64)
        out.append(pd.DataFrame(columns, index=frame.index))
    return out


# --------------------------------------------------------------------------- output


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

    with staged_folder(out, overwrite=force) as staging:
        if suffix == ".parquet":
            synthetic.to_parquet(staging / "synthetic.parquet", index=False)
        else:
            synthetic.to_csv(staging / "synthetic.csv", index=False)
        (staging / "report.md").write_text(_markdown(metadata, report, scoring))
        document = {"metadata": metadata, **_report_dict(report, scoring, metadata)}
        (staging / "report.json").write_text(
            json.dumps(document, indent=2, allow_nan=False, default=str)
        )
        fitted.to_inference_data().to_netcdf(str(staging / "posterior.nc"))
        fitted.parameters().to_csv(staging / "parameters.csv")


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
    summary = report.summary()
    lines = [
        "## Fidelity (no holdout)",
        "",
        "Synthetic rows against the rows the twin was fitted to. Utility (TSTR) and privacy",
        "(DCR, membership inference) need real rows the twin never saw: run with --holdout > 0.",
        "",
        "| metric | value |",
        "|---|---|",
        *(f"| {m} | {summary[m]:.3g} |" for m in FIDELITY_METRICS),
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
        lines.append(f"| {name} | " + " | ".join(f"{v:.3g}" for v in values) + " |")
    return "\n".join(lines) + "\n"


def _summary(metadata: dict[str, Any], report: Any, scoring: bool, out: Path, suffix: str) -> str:
    rows = metadata["rows"]
    lines = [
        f"twin ({metadata['method']}, rank {metadata['rank']}) fitted to {rows['train']} of "
        f"{rows['input']} rows in {metadata['fit_seconds']:.1f} s; "
        f"{rows['synthetic']} synthetic rows sampled",
    ]
    if report is not None:
        s = report.summary()
        lines.append(
            f"fidelity: mean KS {s['mean_ks']:.3f}, max KS {s['max_ks']:.3f}, "
            f"correlation |Δ| {s['corr_mean_abs_diff']:.3f}"
        )
        if scoring:
            lines.append(
                f"utility: TSTR AUC {s['tstr_auc']:.3f} vs TRTR {s['trtr_auc']:.3f}; privacy: "
                f"MIA AUC {s['mia_auc']:.3f}, median DCR {s['dcr_synthetic_median']:.2f} "
                f"(holdout {s['dcr_holdout_median']:.2f})"
            )
    lines.append(f"wrote {out}/ (synthetic{suffix}, {', '.join(OUTPUT_FILES)})")
    return "\n".join(lines)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python number it holds (for JSON and messages)."""
    import numpy as np

    return value.item() if isinstance(value, np.generic) else value
