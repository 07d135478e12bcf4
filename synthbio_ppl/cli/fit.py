"""``synthbio fit DATA_DIR``: fit a dataset folder's own model back to it.

Registering the subcommand imports nothing heavy; JAX and NumPyro load when it runs.
Wire it with ``add_fit_parser(subparsers)``; the parsed namespace's ``run`` is the handler.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from synthbio_ppl.cli.arguments import seed
from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.fit_settings import MODEL_FIT_SETTINGS, resolve_settings


def add_fit_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``synthbio fit DATA_DIR [--method nuts|svi] ...`` (handler in ``run``)."""
    parser = subparsers.add_parser("fit", help="fit the dataset's own model back to it")
    parser.add_argument(
        "data", help="dataset folder (spec.yaml, truth.json, data.parquet or data/ of parts)"
    )
    parser.add_argument("--method", choices=["nuts", "svi"], default="nuts")
    parser.add_argument(
        "--samples", type=int, default=1000, help="draws per NUTS chain, or SVI guide draws (1000)"
    )
    helps = {
        "num_warmup": "NUTS warmup steps",
        "num_chains": "NUTS chains",
        "target_accept": "NUTS target acceptance, in (0, 1)",
        "svi_steps": "SVI Adam steps",
        "learning_rate": "SVI's first Adam step size",
    }
    for setting in MODEL_FIT_SETTINGS:  # None: not given (refused for the other method)
        kind = float if isinstance(setting.default, float) else int
        text = f"{helps[setting.name]} ({setting.default}; --method {setting.methods[0]} only)"
        parser.add_argument(setting.option, type=kind, default=None, help=text)
    parser.add_argument("--seed", type=seed, default=0, help="inference seed")
    parser.add_argument(
        "--missing",
        choices=["model", "ignore"],
        default="model",
        help="missing cells: fit the spec's mechanism (model) or the observed cells alone "
        "(ignore: biased under MNAR); an ignoring fit's files end in _ignore",
    )
    parser.add_argument(
        "--log-likelihood",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="keep log p(row | draw) for LOO and WAIC (draws × rows values); "
        "--no-log-likelihood leaves it out of a large fit",
    )
    parser.add_argument("--force", action="store_true", help="replace earlier fit files")
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")
    parser.set_defaults(run=run_fit)
    return parser


def fit_paths(directory: str | Path, method: str, missing: str = "model") -> tuple[Path, Path]:
    """``fit_<method>.nc`` and ``recovery_<method>.csv`` inside the dataset folder
    (``..._ignore`` for a fit that ignores the missing cells' mechanism)."""
    folder = Path(directory)
    tag = method if missing == "model" else f"{method}_ignore"
    return folder / f"fit_{tag}.nc", folder / f"recovery_{tag}.csv"


def run_fit(args: argparse.Namespace) -> None:
    """Handler of ``synthbio fit``: fit, then write the InferenceData and recovery table
    (refused before writing where the disk has too little room for them: OSError)."""
    from synthbio_ppl.data.dataset import load_dataset
    from synthbio_ppl.engine.budget import netcdf_bytes
    from synthbio_ppl.engine.staging import staged_files
    from synthbio_ppl.inference.fitting import fit

    given = {
        s.name: getattr(args, s.option.lstrip("-").replace("-", "_")) for s in MODEL_FIT_SETTINGS
    }
    settings = resolve_settings(MODEL_FIT_SETTINGS, args.method, given, cli=True)
    counts = {"--samples": args.samples, "--warmup": settings["num_warmup"]}
    counts |= {"--chains": settings["num_chains"], "--svi-steps": settings["svi_steps"]}
    for option, value in counts.items():
        if value is not None and not 1 <= value < 2**31:  # compiled loops count in int32
            raise SpecError(option, value, "must be from 1 to 2^31 − 1")
    data = load_dataset(args.data)
    nc_path, csv_path = fit_paths(args.data, args.method, args.missing)
    existing = [p.name for p in (nc_path, csv_path) if p.exists()]
    if existing and not args.force:
        raise SpecError(
            str(args.data),
            ", ".join(existing),
            "an earlier fit is there; pass --force to replace it",
        )
    result = fit(
        data.spec,
        data,
        args.method,
        num_samples=args.samples,
        seed=args.seed,
        **{name: value for name, value in settings.items() if value is not None},
        progress=not args.quiet,
        missing=args.missing,
        log_likelihood=args.log_likelihood,
    )
    table = result.recovery()
    text = table.to_csv().encode()
    need = netcdf_bytes(result.idata) + len(text)
    what = f"{nc_path.name} and {csv_path.name}"
    # both staged, renamed into place only when both are complete (an earlier fit's too)
    with staged_files([nc_path, csv_path], need, what, args.force) as (nc_staged, csv_staged):
        result.idata.to_netcdf(str(nc_staged))
        csv_staged.write_bytes(text)
    if not args.quiet:
        covered = table["covered"].dropna()
        share = f"{int(covered.sum())}/{len(covered)}"
        plural = "" if len(table) == 1 else "s"
        line = f"{len(table)} parameter{plural}; 90% intervals cover the truth for {share}"
        if args.method == "nuts":  # an SVI guide's draws are independent: no R̂ to report
            line += f"; max r_hat {table['r_hat'].max():.3f}"
        print(line)
        print(f"wrote {nc_path} and {csv_path}")
