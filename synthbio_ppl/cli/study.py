"""``synthbio study STUDY.yaml --out DIR``: run a simulation study from a study file
(``studies.study_file``), resuming in DIR where a stopped run ended."""

from __future__ import annotations

import argparse

from synthbio_ppl.cli.arguments import positive


def add_study_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``synthbio study``."""
    parser = sub.add_parser(
        "study",
        help="run a simulation study (scenarios × replicates × methods × metrics)",
        description="Run a study file: every scenario of its grid × replicates, each "
        "method on each dataset, each metric scored against the truth. Each finished cell "
        "is written to --out at once; the same command resumes a stopped run.",
    )
    parser.add_argument("study", help="YAML study file (base, grid, methods, metrics, ...)")
    parser.add_argument(
        "--out", required=True, help="output folder (resumed if it holds the study)"
    )
    parser.add_argument("--jobs", type=int, default=1, help="joblib workers (-1: every core)")
    parser.add_argument(
        "--scheduler", default=None, help="a Dask scheduler's address: run the cells there"
    )
    parser.add_argument(
        "--replicates", type=positive, default=None, help="override the file's replicates"
    )
    parser.add_argument(
        "--force", action="store_true", help="replace a study folder that holds another study"
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")
    parser.set_defaults(run=run_study)


def run_study(args: argparse.Namespace) -> None:
    """Handler of ``synthbio study``."""
    from synthbio_ppl.core.errors import SpecError
    from synthbio_ppl.studies.runner import study
    from synthbio_ppl.studies.study_file import load_study

    if args.jobs == 0 or args.jobs < -1:
        raise SpecError("--jobs", args.jobs, "a positive number of workers, or -1 for every core")
    spec_file, base = load_study(args.study)
    client = None
    if args.scheduler:
        from distributed import Client

        try:
            client = Client(args.scheduler, timeout="20s")
        except (OSError, ValueError, TypeError, TimeoutError) as exc:
            text = " ".join(str(exc).split())[:200]
            raise SpecError(
                "--scheduler", args.scheduler, f"no Dask scheduler answers there ({text})"
            ) from None
    try:
        result = study(
            base,
            spec_file.grid,
            spec_file.methods,
            spec_file.metrics,
            args.replicates or spec_file.replicates,
            seed=spec_file.seed,
            cv=spec_file.cv,
            out=args.out,
            overwrite=args.force,
            n_jobs=args.jobs,
            client=client,
            progress=None if not args.quiet else False,
            name=spec_file.name,
        )
    except KeyboardInterrupt:
        raise KeyboardInterrupt(
            f"the finished cells are kept in {args.out}; run the same command to resume"
        ) from None
    finally:
        if client is not None:
            client.close()
    if args.quiet:
        return
    plan = result.plan
    print(
        f"study: {len(plan.scenarios)} scenario(s) × {plan.replicates} replicate(s), "
        f"{len(plan.methods)} method(s): {len(result.table):,} rows in {result.folder}/"
    )
    for name in ("results.parquet", "summary.csv", "report.md", "plots/"):
        if (result.folder / name.rstrip("/")).exists():
            print(f"  {result.folder / name}")
