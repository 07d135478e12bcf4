"""Streamed generation: a Parquet dataset written chunk by chunk, with bounded memory.

    generate_to_parquet("models/pn_benchmark.yaml", "out/big", rows=10_000_000)

The folder holds ``data/part-000000.parquet``, ``data/part-000001.parquet``, ... (one file
of ``chunk_rows`` rows per chunk, in row order), ``truth.json``, ``spec.yaml`` (the spec
as generated, class counts rescaled to ``rows``) and, for a structural scene,
``latents/part-*.parquet`` and, with missing values, ``missing/part-*.parquet`` and
``complete/part-*.parquet`` (the mask and the complete values of the masked columns) and,
with count dropout, ``dropout/part-*.parquet``.
``load_dataset`` reads it like a ``Dataset.to_parquet`` folder.

Safe writes go through a staging folder (``engine.staging``): an interrupted run never
leaves a folder that looks finished, and ``resume=True`` continues after the last recorded
part. A row's values depend only on the spec, the seed and the row's index
(``engine.planning``), so the rows are byte-identical whatever the chunk size, however
often the run was resumed, and to ``generate`` in memory.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from synthbio_ppl.core.errors import SpecError, is_disk_full
from synthbio_ppl.data.io import fsync_path
from synthbio_ppl.data.parts import ROWS_KEY
from synthbio_ppl.engine.budget import check_disk, full_disk_named
from synthbio_ppl.engine.planning import StreamPlan, chunk_frames, plan_for, rescale_rows
from synthbio_ppl.engine.progress import Progress
from synthbio_ppl.engine.staging import (
    COMPLETE_DIR,
    DATA_DIR,
    DROPOUT_DIR,
    LATENTS_DIR,
    MISSING_DIR,
    Staging,
    digest,
    part_name,
    staging_path,
)
from synthbio_ppl.model.layout import build_layout


def generate_to_parquet(
    spec: Any,
    out_dir: str | Path,
    *,
    rows: int | None = None,
    chunk_rows: int | None = None,
    seed: int | None = None,
    resume: bool = False,
    force: bool = False,
    progress: bool | None = None,
) -> Path:
    """Generate ``spec`` straight to a Parquet dataset folder, one chunk of rows at a time.

    ``rows`` rescales the class counts to that total (proportions kept exactly, largest
    remainders). ``chunk_rows`` (rounded up to a multiple of 256; default about 16 M
    values per part) bounds the memory, which does not grow with ``rows``. ``resume``
    continues an interrupted run of the same spec, seed, rows and chunk size (a folder that
    already holds that finished run is returned as it is); ``force``
    replaces an existing dataset (which is otherwise refused). ``progress`` shows a bar on
    stderr (default: only when stderr is a terminal or a notebook's cell). Returns the folder.
    """
    from synthbio_ppl.data.io import check_target

    target = Path(out_dir)
    resolved = run_spec(spec, seed, rows)
    if resume and not force and finished_run(target, resolved):
        return target  # complete already: nothing to resume
    field = "the classes' n" if rows is None else "rows"
    written = _bytes_below(staging_path(target)) if resume else 0
    check_disk(resolved, build_layout(resolved), resolved.n_rows, target.parent, field, written)
    existed = check_target(target, force)
    with Staging(target).locked() as staging:
        if resume and chunk_rows is None:
            chunk_rows = (staging.previous() or {}).get("chunk_rows")
        plan = plan_for(resolved, chunk_rows)
        truth_json = _truth_json(plan)  # before the staging folder is touched: it may refuse
        with full_disk_named(
            staging.path,
            "the disk is full as this run starts; free some "
            "space and run again (--resume keeps what is there)",
        ):
            done = staging.start(plan, resume)
        parts = plan.parts
        todo = [i for i in range(len(parts)) if i not in done]
        initial = sum(b - a for i, (a, b) in enumerate(parts) if i in done)
        bar = Progress(progress, plan.spec.n_rows, initial, plan.spec.name)
        try:
            _write_parts(plan, staging, parts, todo, bar.update)
        except OSError as exc:
            if is_disk_full(exc):
                raise OSError(
                    errno.ENOSPC,
                    "the disk is full; the finished parts stay there: free some space and "
                    "run again with --resume (resume=True), or delete that folder",
                    str(staging.path),
                ) from exc
            raise
        except SpecError:
            # the spec's own values were refused (non-finite, overflowing counts): a rerun
            # would be refused again, so its parts are of no use; an OSError keeps them
            with contextlib.suppress(SpecError, OSError):  # a stranger's file: keep it all
                staging.discard()
            raise
        finally:
            bar.close()
        with full_disk_named(
            staging.path,
            "the disk is full as this run finishes: free some "
            "space and run again with --resume (resume=True)",
        ):
            return staging.finish(truth_json, plan.spec.to_yaml(), force, existed)


def _bytes_below(folder: Path) -> int:
    """Bytes of the plain files below ``folder`` (links not followed; 0 when absent)."""
    if folder.is_symlink() or not folder.is_dir():
        return 0
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def run_spec(spec: Any, seed: int | None, rows: int | None) -> Any:
    """The spec a streamed run writes: ``seed`` and ``rows`` (rescaled) applied."""
    from synthbio_ppl.model.scene import as_spec

    resolved = as_spec(spec).with_seed(seed)
    return resolved if rows is None else rescale_rows(resolved, rows)


def finished_folder(target: Path) -> bool:
    """Whether ``target`` holds a finished streamed write (its spec.yaml, truth.json and
    data parts, and no staging folder left beside it)."""
    from synthbio_ppl.engine.staging import DATA_DIR, SPEC_FILE, TRUTH_FILE, staging_path

    if target.is_symlink() or not target.is_dir() or staging_path(target).exists():
        return False
    if not ((target / SPEC_FILE).is_file() and (target / TRUTH_FILE).is_file()):
        return False
    parts = target / DATA_DIR
    return parts.is_dir() and any(parts.glob("part-*.parquet"))


def finished_run(target: Path, spec: Any) -> bool:
    """Whether ``target`` holds a finished write of ``spec`` itself. SpecError when it
    does by its spec.yaml but is damaged (a part missing, empty or unreadable, rows lost,
    truth.json not a truth): without its manifest it cannot be resumed, only rewritten."""
    from synthbio_ppl.engine.staging import DATA_DIR, SPEC_FILE, TRUTH_FILE

    if not finished_folder(target):
        return False
    try:
        if (target / SPEC_FILE).read_text() != spec.to_yaml():
            return False
    except (OSError, UnicodeDecodeError):
        return False
    problem = _damage(target / DATA_DIR, target / TRUTH_FILE, spec.n_rows)
    if problem:
        raise SpecError(
            "--resume",
            str(target),
            f"holds this run finished but damaged ({problem}); pass --force to write it again",
        )
    return True


def _damage(parts: Path, truth: Path, n_rows: int) -> str:
    """What is wrong with a finished folder's parts and truth, or "" (Parquet footers and
    the JSON are read, not the values)."""
    import json

    import pyarrow.parquet as pq

    try:
        if not isinstance(json.loads(truth.read_text()), dict):
            return "truth.json is not a truth"
    except (OSError, UnicodeDecodeError, ValueError):
        return "truth.json is not readable JSON"
    rows = 0
    for path in sorted(parts.glob("part-*.parquet")):
        try:
            rows += pq.ParquetFile(path).metadata.num_rows
        except Exception:  # any unreadable footer: pyarrow raises several kinds
            return f"{path.name} is not a readable Parquet file"
    return "" if rows == n_rows else f"its parts hold {rows:,} rows of {n_rows:,}"


def _chunk_tables(plan: StreamPlan, start: int, stop: int) -> dict[str, Any]:
    import pyarrow as pa

    from synthbio_ppl.data.io import table_of

    frames = chunk_frames(plan, start, stop)
    tables = {DATA_DIR: table_of(frames["X"], frames["y"], frames["covariates"])}
    for key, folder in (
        ("latents", LATENTS_DIR),
        ("missing", MISSING_DIR),
        ("complete", COMPLETE_DIR),
        ("dropout", DROPOUT_DIR),
    ):
        if key in frames:
            tables[folder] = pa.Table.from_pandas(frames[key], preserve_index=False)
    return tables


def _write_part(path: Path, table: Any) -> int:
    """Write one Parquet part under a temporary name, fsync it, move it into place; its
    size in bytes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp = path.with_name(path.name + ".tmp")
    encoded = [f.name for f in table.schema if not pa.types.is_floating(f.type)]
    pq.write_table(
        table, tmp, row_group_size=max(table.num_rows, 1), use_dictionary=encoded or False
    )
    fsync_path(tmp)
    os.replace(tmp, path)
    return path.stat().st_size


def _write_chunk(
    staging: Staging, index: int, rows: tuple[int, int], tables: dict[str, Any]
) -> None:
    """Write one chunk's files into the staging folder, then record them in the manifest."""
    files = {}
    place = {ROWS_KEY: f"{rows[0]}:{rows[1]}".encode()}  # checked on load (parts swapped)
    for sub, table in tables.items():
        folder = staging.path / sub
        folder.mkdir(exist_ok=True)
        path = folder / part_name(index)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **place})
        files[sub] = {"size": _write_part(path, table), "sha256": digest(path)}
        fsync_path(folder)
    staging.record(index, rows, files)


def _write_parts(
    plan: StreamPlan,
    staging: Staging,
    parts: list[tuple[int, int]],
    todo: list[int],
    advance: Callable[[int], None],
) -> None:
    """Draw chunk k+1 while chunk k is written (one writer thread, two chunks in memory)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="synthbio-writer") as writer:
        pending: tuple[Future[None], int] | None = None
        for index in todo:
            tables = _chunk_tables(plan, *parts[index])
            if pending is not None:
                pending[0].result()
                advance(pending[1])
            task = writer.submit(_write_chunk, staging, index, parts[index], tables)
            pending = (task, parts[index][1] - parts[index][0])
            del tables
        if pending is not None:
            pending[0].result()
            advance(pending[1])


def _truth_json(plan: StreamPlan) -> str:
    """The truth, built once for the whole dataset (it does not depend on the chunking)."""
    from synthbio_ppl.data.truth import build_truth
    from synthbio_ppl.engine.draw import population_sites
    from synthbio_ppl.engine.finite import check_truth_finite

    spec = plan.spec
    sites = population_sites(plan.layout, plan.fixed, spec.seed, spec.dtype)
    truth = build_truth(spec, plan.layout, plan.design, sites)
    check_truth_finite(spec, plan.layout, truth)
    return truth.to_json()
