"""The ``synthbio`` command line. Heavy imports (JAX) happen only in commands that need them.

Bad input exits with code 2 and one line naming the field, the value and what is allowed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from synthbio_ppl.cli.arguments import positive, seed
from synthbio_ppl.core.errors import OUTPUT_ARGUMENTS, SpecError
from synthbio_ppl.engine.compile_notice import silenced


class UsageError(Exception):
    """A command line argparse refuses: printed as one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def _generate(args: argparse.Namespace) -> None:
    from synthbio_ppl.cli.stream import stream_command, wants_stream

    worlds = bool(args.without or args.do)
    if wants_stream(args):  # --rows, --chunk-rows or --resume: chunked Parquet, bounded memory
        if worlds:
            raise UsageError(
                "--without/--do draw the factual world beside the counterfactual one in "
                "memory; drop --rows/--chunk-rows/--resume (or rescale the spec's n)"
            )
        stream_command(args)
        return
    from synthbio_ppl.data.io import check_target
    from synthbio_ppl.engine.generation import generate
    from synthbio_ppl.model.layout import build_layout
    from synthbio_ppl.model.scene import as_spec
    from synthbio_ppl.model.worlds import do_from_text

    spec = as_spec(args.spec)
    do = do_from_text(build_layout(spec), args.do) if args.do else None
    out = Path(args.out)
    check_target(out, args.force)
    without = [n.strip() for text in args.without or () for n in text.split(",")]
    data = generate(spec, seed=args.seed, without=without or None, do=do)
    data.to_parquet(out, overwrite=args.force)
    if not args.quiet:
        print(data.summary())
        files = ", ".join(sorted(p.name for p in out.iterdir()))
        print(f"\nwrote {out}: {files}")


def _spec_file(source: str, command: str) -> Path:
    """The spec file ``validate``/``describe`` read: ``source``, or a dataset folder's
    ``spec.yaml``; a folder without one is refused in one line."""
    path = Path(source)
    if not path.is_dir():
        return path
    if (path / "spec.yaml").is_file():
        return path / "spec.yaml"
    raise SpecError(
        "SPEC",
        str(path),
        f"a folder without spec.yaml: {command} takes a YAML spec file or a dataset folder "
        f"(whose spec is {path / 'spec.yaml'})",
    )


def _validate(args: argparse.Namespace) -> None:
    from synthbio_ppl.model.scene import load_spec

    source = _spec_file(args.spec, "validate")
    if source.is_file() and source.suffix in (".yaml", ".yml") and _is_study(source):
        from synthbio_ppl.studies.study_file import study_plan

        plan = study_plan(source)
        print(
            f"{args.spec}: valid study ({len(plan.scenarios)} scenario(s) × "
            f"{plan.replicates} replicate(s) = {len(plan.cells)} datasets, "
            f"{len(plan.methods)} method(s), {len(plan.metrics)} metric(s))"
        )
        return
    spec = load_spec(source)
    labels = spec.label_names
    if labels is None:
        what = "a continuous outcome"
    else:
        k = len(labels)
        named = "label" if labels != spec.class_names else "class"
        what = f"{k} {named}{'' if k == 1 else ('es' if named == 'class' else 's')}"
    print(f"{args.spec}: valid ({spec.n_rows} rows, {what})")


def _is_study(path: Path) -> bool:
    """A study file (``base`` and ``methods``): read without importing the studies."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError):
        return False  # the spec reader names what is wrong
    return isinstance(data, dict) and {"base", "methods"} <= set(data)


def _describe(args: argparse.Namespace) -> None:
    from synthbio_ppl.data.describe import spec_summary
    from synthbio_ppl.model.scene import load_spec

    print(spec_summary(load_spec(_spec_file(args.spec, "describe"))))


def _reference(args: argparse.Namespace) -> None:
    from synthbio_ppl.model.reference import spec_reference

    print(spec_reference(), end="")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="synthbio", description="Synthetic biomedical data with known truth.")
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback of an unexpected error"
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    gen = sub.add_parser("generate", help="generate a dataset folder from a YAML spec")
    gen.add_argument("spec", help="YAML spec file")
    gen.add_argument("--out", required=True, help="output folder")
    gen.add_argument("--seed", type=seed, default=None, help="override the spec's seed")
    gen.add_argument("--force", action="store_true", help="replace an existing folder")
    gen.add_argument("--quiet", action="store_true", help="print nothing on success")
    gen.add_argument(
        "--without",
        action="append",
        default=None,
        metavar="PROCESS",
        help="the same rows with this process switched off (batches, dropout, missing); "
        "repeatable, or comma-separated",
    )
    gen.add_argument(
        "--do",
        action="append",
        default=None,
        metavar="NAME=VALUE",
        help="set a variable for every row (a covariate's level, a factor's, a biomarker's "
        "or a feature's value); repeatable",
    )
    from synthbio_ppl.cli.stream import add_stream_arguments

    add_stream_arguments(gen)
    gen.set_defaults(run=_generate)
    spec_help = "YAML spec file, or a dataset folder (its spec.yaml)"
    val = sub.add_parser("validate", help="check a spec (or a study file) and say what is wrong")
    val.add_argument("spec", help=spec_help + "; or a study file")
    val.set_defaults(run=_validate)
    desc = sub.add_parser("describe", help="table of blocks, roles and effect sizes")
    desc.add_argument("spec", help=spec_help)
    desc.set_defaults(run=_describe)
    ref = sub.add_parser("reference", help="print the spec field reference (markdown)")
    ref.set_defaults(run=_reference)
    _add_cluster_parser(sub)
    from synthbio_ppl.cli.fit import add_fit_parser

    add_fit_parser(sub)
    from synthbio_ppl.cli.twin import add_twin_parser

    add_twin_parser(sub)
    from synthbio_ppl.cli.study import add_study_parser

    add_study_parser(sub)
    return parser


def _cluster(args: argparse.Namespace) -> None:
    from synthbio_ppl.cli.cluster import run_cluster

    run_cluster(args)


def _add_cluster_parser(sub: argparse._SubParsersAction) -> None:
    from synthbio_ppl.clustering.options import METHODS, SCALINGS

    parser = sub.add_parser(
        "cluster", help="cluster a generated dataset and score the clusters against the truth"
    )
    parser.add_argument("data", help="dataset folder written by `synthbio generate`")
    parser.add_argument(
        "--by", nargs="+", default=["region"], help="covariate(s) that define the true groups"
    )
    parser.add_argument("--k", nargs="+", type=int, default=[2, 3, 4, 5, 6], help="k values")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument(
        "--scalings",
        nargs="+",
        default=["zscore", "minmax", "robust", "pca_whiten"],
        choices=SCALINGS,
    )
    parser.add_argument("--columns", nargs="+", default=None, help="features (default: all)")
    parser.add_argument("--bootstrap", type=positive, default=3, help="resamples for stability")
    parser.add_argument("--seed", type=seed, default=0)
    parser.add_argument("--csv", default=None, help="write the full table here")
    parser.add_argument("--plot", default=None, help="write a figure here (png, pdf, svg)")
    parser.set_defaults(run=_cluster)


def _warning_collector(
    lines: list[str],
) -> Callable[..., None]:
    """A ``warnings.showwarning`` that keeps each warning as one line, ``synthbio: warning:
    ...``, in ``lines`` (Python's format names the file and quotes the source, over two to
    four lines)."""

    def collect(message: Warning | str, *args: object, **kwargs: object) -> None:
        lines.append("synthbio: warning: " + " ".join(str(message).split()))

    return collect


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code: 0, 2 for bad input (one line naming the field),
    1 for the environment (a file or folder that cannot be read or written), 130 when
    interrupted. ``--debug`` shows the traceback of an unexpected error instead, and
    warnings in Python's format, as they come; otherwise each warning is one line on
    stderr after a command that succeeded, and left out after one that failed (whose
    one line says what to do)."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    token = OUTPUT_ARGUMENTS.set(("--out", "--force"))  # refusals name the flags
    try:
        return _main(arguments)
    finally:
        OUTPUT_ARGUMENTS.reset(token)


def _main(arguments: list[str]) -> int:
    """``main`` with its arguments, under its warning format."""
    if "--debug" in arguments:
        return _run(arguments)
    shown, lines = warnings.showwarning, []
    warnings.showwarning = _warning_collector(lines)
    try:
        code = _run(arguments)
    finally:
        warnings.showwarning = shown
    if code == 0:
        with contextlib.suppress(OSError):  # stderr closed: lost, as with Python's own
            for line, times in Counter(lines).items():  # once each (a streamed run's chunks)
                print(line + (f" (×{times})" if times > 1 else ""), file=sys.stderr)
    return code


def _run(arguments: list[str]) -> int:
    """``main`` with its arguments, under its warning format."""
    try:
        args = build_parser().parse_args(arguments)
        run: Callable[[argparse.Namespace], None] = args.run
        with silenced(getattr(args, "quiet", False)):  # --quiet: no compile notices either
            run(args)
    except (SpecError, UsageError) as exc:
        print(f"synthbio: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # a command that keeps finished work says so
        kept = str(exc) or "nothing was written"
        print(f"synthbio: interrupted; {kept}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader closed the pipe (| head): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except OSError as exc:
        if "--debug" in arguments:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"synthbio: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a fault of ours: one line, the traceback with --debug
        if "--debug" in arguments:
            raise
        text = " ".join(str(exc).split())[:300]
        print(
            f"synthbio: internal error: {type(exc).__name__}: {text} (run again with --debug "
            "for the traceback, and report it)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
