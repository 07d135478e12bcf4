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


def add_fit_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``synthbio fit DATA_DIR [--method nuts|svi] ...`` (handler in ``run``)."""
    parser = subparsers.add_parser("fit", help="fit the dataset's own model back to it")
    parser.add_argument("data", help="dataset folder (data.parquet, truth.json, spec.yaml)")
    parser.add_argument("--method", choices=["nuts", "svi"], default="nuts")
    parser.add_argument("--warmup", type=int, default=1000, help="NUTS warmup steps")
    parser.add_argument("--samples", type=int, default=1000, help="draws per chain")
    parser.add_argument("--chains", type=int, default=1, help="NUTS chains")
    parser.add_argument("--svi-steps", type=int, default=5000, help="SVI optimisation steps")
    parser.add_argument("--seed", type=seed, default=0, help="inference seed")
    parser.add_argument(
        "--missing",
        choices=["model", "ignore"],
        default="model",
        help="missing cells: fit the spec's mechanism (model) or the observed cells alone "
        "(ignore: biased under MNAR); an ignoring fit's files end in _ignore",
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
    """Handler of ``synthbio fit``: fit, then write the InferenceData and recovery table."""
    from synthbio_ppl.data.dataset import load_dataset
    from synthbio_ppl.inference.fitting import fit

    for name in ("warmup", "samples", "chains", "svi_steps"):
        if getattr(args, name) < 1:
            raise SpecError(f"--{name.replace('_', '-')}", getattr(args, name), "must be ≥ 1")
    data = load_dataset(args.data)
    nc_path, csv_path = fit_paths(args.data, args.method, args.missing)
    existing = [p.name for p in (nc_path, csv_path) if p.exists()]
    if existing and not args.force:
        raise SpecError(
            str(args.data), existing, "an earlier fit is there; pass --force to replace it"
        )
    result = fit(
        data.spec,
        data,
        args.method,
        num_warmup=args.warmup,
        num_samples=args.samples,
        num_chains=args.chains,
        seed=args.seed,
        svi_steps=args.svi_steps,
        progress=not args.quiet,
        missing=args.missing,
    )
    table = result.recovery()
    result.to_netcdf(nc_path)
    table.to_csv(csv_path)
    if not args.quiet:
        covered = table["covered"].dropna()
        share = f"{int(covered.sum())}/{len(covered)}"
        print(f"{len(table)} parameters; 90% intervals cover the truth for {share}; ", end="")
        print(f"max r_hat {table['r_hat'].max():.3f}")
        print(f"wrote {nc_path} and {csv_path}")
