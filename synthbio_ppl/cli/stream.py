"""``synthbio generate SPEC --out DIR --rows N``: the streaming path of ``generate``.

``add_stream_arguments`` adds the streaming options to the ``generate`` parser;
``wants_stream`` says whether they were given; ``stream_command`` runs the streamed write
(``engine.parquet_writer.generate_to_parquet``) and reports it. Nothing heavy is imported
until the command runs.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.engine.parquet_writer import generate_to_parquet
from synthbio_ppl.engine.staging import DATA_DIR, SPEC_FILE, TRUTH_FILE, staging_path


def add_stream_arguments(parser: Any) -> None:
    """Add ``--rows``, ``--chunk-rows``, ``--resume`` and ``--progress`` to ``generate``."""
    parser.add_argument(
        "--rows", type=int, default=None, help="total rows (class proportions kept); streams"
    )
    parser.add_argument(
        "--chunk-rows",
        type=int,
        default=None,
        help="rows per Parquet part (rounded up to a multiple of 256; default about 16M "
        "values); streams",
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue an interrupted streamed write"
    )
    parser.add_argument(
        "--progress",
        action="store_true",
        default=None,
        help="show a progress bar even when stderr is not a terminal",
    )


def wants_stream(args: Any) -> bool:
    """Whether ``synthbio generate`` was asked for the streaming path."""
    given = (getattr(args, name, None) for name in ("rows", "chunk_rows", "resume"))
    return any(value is not None and value is not False for value in given)


def stream_command(args: Any) -> None:
    """``synthbio generate SPEC --out DIR --rows N [--chunk-rows M] [--resume] [--force]``."""
    quiet = getattr(args, "quiet", False)
    started = time.monotonic()
    if args.resume and not args.force and _complete(args):
        if not quiet:
            print(f"{args.out} is complete already (the same spec, seed and rows): "
                  "nothing to resume")  # fmt: skip
        return
    flags = {"rows": "--rows", "chunk_rows": "--chunk-rows"}
    try:
        out = generate_to_parquet(
            args.spec,
            args.out,
            rows=args.rows,
            chunk_rows=args.chunk_rows,
            seed=args.seed,
            resume=args.resume,
            force=args.force,
            progress=False if quiet else getattr(args, "progress", None),
        )
    except SpecError as exc:  # the engine names its arguments; here they are flags
        if exc.path in flags:
            raise SpecError(flags[exc.path], exc.value, exc.allowed) from None
        raise
    except KeyboardInterrupt:
        where = staging_path(args.out)
        print(
            f"synthbio: interrupted; {args.out} was not written. Finished parts are kept in "
            f"{where}: run the same command with --resume to continue.",
            file=sys.stderr,
        )
        raise SystemExit(130) from None
    if not quiet:
        seconds = time.monotonic() - started
        spec_text = (out / SPEC_FILE).read_text()
        n_rows = sum(c["n"] for c in _yaml_classes(spec_text))
        parts = len(list((out / DATA_DIR).glob("part-*.parquet")))
        print(
            f"wrote {out}/: {n_rows:,} rows in {parts} part(s) under {DATA_DIR}/, "
            f"{TRUTH_FILE}, {SPEC_FILE} ({seconds:,.1f} s, {n_rows / seconds:,.0f} rows/s)"
        )


def _complete(args: Any) -> bool:
    """Whether ``--out`` already holds the finished run ``args`` ask to resume; SpecError
    when it holds the finished run of another spec, seed or row count."""
    from pathlib import Path

    from synthbio_ppl.core.errors import SpecError
    from synthbio_ppl.engine.parquet_writer import finished_folder, finished_run, run_spec

    spec = run_spec(args.spec, args.seed, args.rows)
    target = Path(args.out)
    if finished_run(target, spec):
        return True
    if finished_folder(target):
        raise SpecError(
            "--resume",
            str(target),
            "holds the finished run of another spec, seed or row count: nothing of this "
            "run to resume; pass --force to replace it",
        )
    return False


def _yaml_classes(text: str) -> list[dict[str, Any]]:
    import yaml

    return yaml.safe_load(text)["classes"]
