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
``posterior.nc``, ``parameters.csv`` and ``missing_rates.csv``. Missing feature cells
(empty CSV fields, NaN) are allowed: the twin learns each column's missing fraction per
class and reproduces it (see ``sb.twin``); a row without a class is refused. Registering
the subcommand imports nothing heavy; JAX, NumPyro and scikit-learn load when it runs.
Every bad input raises ``SpecError``. The fit settings (``--svi-steps``/``--steps``,
``--learning-rate``, ``--warmup``, ``--samples``) are ``sb.twin``'s; one given with a
method it does not apply to is refused, not ignored.

The command lives here (its parser and handler); reading and checking the input and the
options is in ``twin_inputs``, the train/holdout split in ``twin_split``, and the output
folder, reports and summary line in ``twin_output``.
"""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthbio_ppl.cli.arguments import positive, seed
from synthbio_ppl.cli.twin_inputs import (
    PARQUET_SUFFIXES,
    _check_label,
    parse_balance,
    parse_bounds,
    parse_types,
    read_table,
)
from synthbio_ppl.cli.twin_output import _summary, _write, command_line, missing_summary
from synthbio_ppl.cli.twin_split import _plain, stratified_split
from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.twins.budget import MAX_SAMPLE_ROWS, Spelling, check_sample_budget
from synthbio_ppl.twins.settings import (
    DEFAULT_METHOD,
    FIT_SETTINGS,
    METHODS,
    SETTING_NAMES,
    default_rank,
    kept_draws,
    resolve_settings,
)

if TYPE_CHECKING:  # numpy and pandas load when the command runs, not when it is registered
    import pandas as pd


def add_twin_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``synthbio twin REAL --label COL --out DIR ...`` (handler in ``run``)."""
    parser = subparsers.add_parser(
        "twin",
        help="fit a synthetic twin to a real table, sample it and score it",
        description=(
            "Split the real table into train/holdout (stratified by the label), fit the twin "
            "to the train rows, sample a synthetic table and score its fidelity, utility and "
            "privacy. Missing feature cells are reproduced at each column's rate per class. "
            "Writes DIR/synthetic.csv (.parquet for a Parquet input), report.md, "
            "report.json, posterior.nc, parameters.csv and missing_rates.csv."
        ),
    )
    parser.add_argument(
        "real", help="the real table: CSV, tab-separated (.tsv, .tab), or Parquet (.parquet, .pq)"
    )
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
        help="COL=KIND,... with KIND continuous, integer or categorical (default: text and "
        "true/false columns categorical, whole numbers integer, other numbers continuous)",
    )
    parser.add_argument(
        "--bounds",
        default=None,
        help="COL=LOW:HIGH,... (either side may be empty: unbounded); default: each numeric "
        "column's observed range",
    )
    parser.add_argument(
        "--rank",
        type=int,
        default=None,
        help="latent factors per class (default: sb.twin's, set by the numeric column count)",
    )
    parser.add_argument(
        "--method",
        choices=list(METHODS),
        default=None,
        help="nuts (full posterior, slowest), svi (mean-field) or map (point estimate); "
        "default: sb.twin's default",
    )
    fitting = parser.add_argument_group(
        "fit settings", "each applies to some methods; given with another it is refused"
    )
    fitting.add_argument(
        "--svi-steps",
        "--steps",
        dest="svi_steps",
        type=positive,
        default=None,
        metavar="N",
        help="optimisation (Adam) steps of map and svi, a whole number ≥ 1 (sb.twin's "
        f"svi_steps; default {_default('svi_steps')}): fewer fit faster, less close to the "
        "optimum",
    )
    fitting.add_argument(
        "--learning-rate",
        type=float,
        default=None,
        metavar="RATE",
        help="Adam's first step size for map and svi, decaying to a tenth of it over the "
        f"steps (sb.twin's learning_rate; default {_default('learning_rate')})",
    )
    fitting.add_argument(
        "--warmup",
        type=positive,
        default=None,
        metavar="N",
        help=f"NUTS warmup steps (sb.twin's num_warmup; default {_default('num_warmup')})",
    )
    fitting.add_argument(
        "--samples",
        type=positive,
        default=None,
        metavar="N",
        help="posterior draws of svi and nuts (sb.twin's num_samples; default "
        f"{_default('num_samples')})",
    )
    parser.add_argument(
        "--holdout",
        type=float,
        default=0.3,
        help="share of rows per class kept out of the fit for scoring, in [0, 0.9) "
        "(default 0.3; 0: fit on every row, fidelity scores only)",
    )
    parser.add_argument(
        "--seed", type=seed, default=0, help="seeds the split, the fit, the sampling and scoring"
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
    method = args.method or DEFAULT_METHOD
    settings = fit_settings(args)  # refused here, before the table is read
    real = read_table(path)
    if args.n is not None:  # before the fit, which a refused sample would waste
        check_sample_budget(args.n, real.shape[1] - 1, "--n")
    label = _check_label(real, args.label, path)
    types = parse_types(args.types, real, label)
    bounds = parse_bounds(args.bounds, real, label, types)
    from synthbio_ppl.twins.columns import read_layout

    layout = read_layout(real, label, types, bounds)  # the whole table, before the split
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
    if isinstance(balance, Mapping):  # a share that rounds to no row, named before the fit
        from synthbio_ppl.twins.balance import rows_per_class

        rows_per_class(balance, n, args.balance, ("--balance", "--n"))
    _check_fit_budget(args, layout, len(train), method, settings)  # in the options' names

    from synthbio_ppl.twins.fitting import twin

    fitted = twin(
        train,
        label,
        types=types,
        bounds=bounds,
        rank=args.rank,
        method=method,
        seed=args.seed,
        **settings,
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
        **{name: fitted.fit_settings.get(name) for name in SETTING_NAMES},  # None: unused
        "fit_seconds": round(float(fitted.fit_seconds), 3),
        "seed": args.seed,
        "holdout": args.holdout,
        "balance": args.balance,
        "scored": f"not scored ({skip})" if skip else _scored(scoring),
        "missing": missing_summary(fitted.missing_rates),
        "command": command_line(args, fitted.method),
    }
    suffix = ".parquet" if path.suffix.lower() in PARQUET_SUFFIXES else ".csv"
    _write(out, args.force, suffix, synthetic, fitted, report, metadata, scoring)
    if not args.quiet:
        print(_summary(metadata, report, scoring, out, suffix))


def _check_numbers(args: argparse.Namespace) -> None:
    if not 0.0 <= args.holdout < 0.9:  # also refuses nan
        raise SpecError("--holdout", args.holdout, "must lie in [0, 0.9)")
    if args.n is not None and not 1 <= args.n <= MAX_SAMPLE_ROWS:
        raise SpecError("--n", args.n, f"must be a whole number from 1 to {MAX_SAMPLE_ROWS:,}")
    if args.rank is not None and args.rank < 1:
        raise SpecError("--rank", args.rank, "must be ≥ 1")


CLI_NAMES = Spelling(data="REAL", rank="--rank", map="--method map", samples="--samples")
"""The options a memory refusal advises changing, as the command line spells them."""


def _default(name: str) -> Any:
    """sb.twin's default of the fit setting ``name`` (``twins.settings.FIT_SETTINGS``)."""
    return next(s.default for s in FIT_SETTINGS if s.name == name)


def fit_settings(args: argparse.Namespace) -> dict[str, Any]:
    """sb.twin's fit arguments the command line gives (the rest keep sb.twin's defaults);
    one given for a method it does not apply to is refused (``twins.settings``, the table
    sb.twin checks too), naming the option, not ignored."""
    method = args.method or DEFAULT_METHOD
    given = {s.name: getattr(args, s.option.lstrip("-").replace("-", "_")) for s in FIT_SETTINGS}
    resolve_settings(method, given, cli=True)
    return {name: value for name, value in given.items() if value is not None}


def _check_fit_budget(
    args: argparse.Namespace, layout: Any, n_rows: int, method: str, settings: dict[str, Any]
) -> None:
    """The twin's memory refusal before the fit, advising the command line's options."""
    from synthbio_ppl.twins.budget import check_twin_budget

    p = len(layout.numeric)
    if p == 0:
        return  # sb.twin refuses it
    if args.rank is not None and args.rank > p:
        raise SpecError("--rank", args.rank, f"must be between 1 and the numeric columns ({p})")
    rank = default_rank(p) if args.rank is None else args.rank
    n_levels = sum(len(c.levels) for c in layout.categorical)
    draws = kept_draws(method, resolve_settings(method, settings))
    check_twin_budget(n_rows, p, n_levels, len(layout.classes), rank, draws, CLI_NAMES)


def _score(
    train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame, label: str, seed: int
) -> Any:
    """The twin report; without holdout rows the fit rows stand in for them, and only the
    fidelity part (which never looks at the holdout) is kept."""
    from synthbio_ppl.twins.scoring import score_twin

    frames = (train, holdout if len(holdout) else train, synthetic)
    try:
        return score_twin(*frames, label=label, seed=seed)
    except (TypeError, ValueError) as exc:
        raise SpecError("scoring", "the tables", str(exc)) from exc


def _scored(scoring: bool) -> str:
    return "fidelity, utility, privacy" if scoring else "fidelity only (--holdout 0)"
