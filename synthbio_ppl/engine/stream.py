"""Streamed generation: a Parquet dataset written chunk by chunk, with bounded memory.

    generate_to_parquet("models/pn_benchmark.yaml", "out/big", rows=10_000_000)

The folder holds ``data/part-000000.parquet``, ``data/part-000001.parquet``, ... (one file
of ``chunk_rows`` rows per chunk, in row order), ``truth.json``, ``spec.yaml`` (the spec
as generated, class counts rescaled to ``rows``) and, for a structural scene,
``latents/part-*.parquet``. ``load_dataset`` reads it like a ``Dataset.to_parquet`` folder.

Safe writes: everything goes to ``.NAME.partial/`` beside the target. Each finished part
is fsync'd, then recorded in that folder's ``manifest.json`` (replaced atomically); the
folder is renamed into place only when complete, so an interrupted run (Ctrl-C, kill -9)
never leaves a folder that looks finished. ``resume=True`` continues after the last
recorded part. A row's values depend only on the spec, the seed and the row's index, so
the rows are byte-identical whatever the chunk size, however often the run was resumed,
and to ``generate`` in memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthbio_ppl.core.errors import SpecError

if TYPE_CHECKING:
    import numpy as np

    from synthbio_ppl.model.scene import Spec

DATA_DIR = "data"
LATENTS_DIR = "latents"
TRUTH_FILE = "truth.json"
SPEC_FILE = "spec.yaml"
MANIFEST = "manifest.json"
_LOCK = ".lock"
FORMAT = 1
"""Version of the staging manifest; a staging folder of another version is not resumed."""
CHUNK_VALUES = 1 << 24
"""Default chunk size: about this many feature values per part (64 MB in float32)."""


def part_name(index: int) -> str:
    """File name of part ``index`` (zero-padded so names sort in row order)."""
    return f"part-{index:06d}.parquet"


def staging_path(target: str | Path) -> Path:
    """Where the unfinished output for ``target`` is kept: ``.NAME.partial`` beside it."""
    target = Path(target)
    return target.parent / f".{target.name}.partial"


def rescale_rows(spec: Spec, rows: int) -> Spec:
    """The spec with ``rows`` rows in all, class proportions kept (largest remainders)."""
    import numpy as np

    from synthbio_ppl.model.design import largest_remainder
    from synthbio_ppl.model.scene import validate_spec

    if isinstance(rows, bool) or not isinstance(rows, Integral) or rows < 1:
        raise SpecError("rows", rows, "must be a positive whole number of rows")
    counts = np.array([c.n for c in spec.classes])
    if rows == counts.sum():
        return spec
    scaled = largest_remainder(int(rows), counts)
    if (scaled < 1).any():
        raise SpecError(
            "rows", rows, f"too few to keep every class (proportions {counts.tolist()})"
        )
    data = spec.model_dump()
    for cls, n in zip(data["classes"], scaled, strict=True):
        cls["n"] = int(n)
    structure = data.get("structure")
    if isinstance(structure, dict) and structure.get("n") is not None:
        structure["n"] = int(rows)
    return validate_spec(data)


def default_chunk_rows(n_features: int, step: int) -> int:
    """About ``CHUNK_VALUES`` values per part, a multiple of the engine's ``step`` rows."""
    target = CHUNK_VALUES // max(n_features, 1)
    return max(step, target // step * step)


def checked_chunk_rows(chunk_rows: int) -> int:
    """``chunk_rows`` rounded up to a multiple of ``ROW_CHUNK`` (the key chunk)."""
    from synthbio_ppl.core.keys import ROW_CHUNK

    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, Integral):
        raise SpecError("chunk_rows", chunk_rows, "must be a positive whole number of rows")
    if chunk_rows < 1:
        raise SpecError("chunk_rows", chunk_rows, "must be a positive whole number of rows")
    return -(-int(chunk_rows) // ROW_CHUNK) * ROW_CHUNK


@dataclass
class _Plan:
    """What a streamed run writes: the spec, its row design and the part boundaries."""

    spec: Spec
    layout: Any
    fixed: dict[str, np.ndarray]
    design: Any
    columns: list[str]
    chunk_rows: int

    @property
    def parts(self) -> list[tuple[int, int]]:
        n = self.spec.n_rows
        return [(a, min(a + self.chunk_rows, n)) for a in range(0, n, self.chunk_rows)]

    def fingerprint(self) -> str:
        """Hash of everything the bytes depend on: spec, chunking, library versions."""
        import jax
        import numpyro
        import pyarrow

        from synthbio_ppl import __version__

        payload = {
            "format": FORMAT,
            "spec": self.spec.model_dump(mode="json"),
            "chunk_rows": self.chunk_rows,
            "versions": [__version__, jax.__version__, numpyro.__version__, pyarrow.__version__],
        }
        text = json.dumps(payload, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def plan_for(spec: Spec, chunk_rows: int | None) -> _Plan:
    """Layout, fixed sites, row design and chunking of a (rescaled) spec."""
    from synthbio_ppl.engine.draw import step_rows
    from synthbio_ppl.model.design import build_design
    from synthbio_ppl.model.layout import build_layout
    from synthbio_ppl.model.parameters import fixed_sites

    layout = build_layout(spec)
    if chunk_rows is None:
        chunk_rows = default_chunk_rows(layout.n_features, step_rows(layout))
    columns = layout.columns
    return _Plan(
        spec=spec,
        layout=layout,
        fixed=fixed_sites(spec),
        design=build_design(spec),
        columns=columns,
        chunk_rows=checked_chunk_rows(chunk_rows),
    )


def chunk_frames(plan: _Plan, start: int, stop: int) -> dict[str, Any]:
    """Rows [start, stop) as pandas objects: ``X``, ``y``, ``covariates`` (and ``latents``)."""
    import pandas as pd

    from synthbio_ppl.engine.draw import draw_rows
    from synthbio_ppl.engine.generation import class_labels, covariates_of
    from synthbio_ppl.model.design import Design

    spec, design = plan.spec, plan.design
    outputs = draw_rows(
        plan.layout, plan.fixed, design, spec.seed, spec.dtype, start, stop, order="F"
    )
    part = Design(
        y=design.y[start:stop],
        batch=None if design.batch is None else design.batch[start:stop],
        groups={k: v[start:stop] for k, v in design.groups.items()},
        class_batch_table=design.class_batch_table,
    )
    frames: dict[str, Any] = {
        "X": pd.DataFrame(outputs["X"], columns=pd.Index(plan.columns), copy=False),
        "y": class_labels(spec, part),
        "covariates": covariates_of(spec, part, outputs.get("covariates")),
    }
    structure = getattr(spec, "structure", None)
    if structure is not None and "latents" in outputs:
        from synthbio_ppl.processes.structural.truth import latent_frame

        frames["latents"] = latent_frame(structure, outputs["latents"])
    return frames


def _chunk_tables(plan: _Plan, start: int, stop: int) -> dict[str, Any]:
    import pyarrow as pa

    from synthbio_ppl.data.io import table_of

    frames = chunk_frames(plan, start, stop)
    tables = {DATA_DIR: table_of(frames["X"], frames["y"], frames["covariates"])}
    if "latents" in frames:
        tables[LATENTS_DIR] = pa.Table.from_pandas(frames["latents"], preserve_index=False)
    return tables


def _fsync_path(path: Path) -> None:
    """Flush a file (or, where the platform allows, a folder entry) to disk."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if path.is_dir() else os.O_RDONLY
    try:
        fd = os.open(path, flags)
    except OSError:  # folders cannot be opened on Windows
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as fh:
        json.dump(data, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_path(path.parent)


def _write_part(path: Path, table: Any) -> int:
    """Write one Parquet part under a temporary name, fsync it, move it into place."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp = path.with_name(path.name + ".tmp")
    encoded = [f.name for f in table.schema if not pa.types.is_floating(f.type)]
    pq.write_table(
        table, tmp, row_group_size=max(table.num_rows, 1), use_dictionary=encoded or False
    )
    _fsync_path(tmp)
    os.replace(tmp, path)
    return path.stat().st_size


class _Staging:
    """The ``.NAME.partial`` folder: lock, manifest of finished parts, final rename."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.path = staging_path(target)
        self.manifest: dict[str, Any] = {}
        self._lock: Any = None

    @contextlib.contextmanager
    def locked(self) -> Iterator[_Staging]:
        """Hold the folder's lock (another writer of the same target is refused)."""
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.path / _LOCK, "a+")  # noqa: SIM115 - held for the whole run
        try:
            _try_lock(self._lock, self.target)
            yield self
        finally:
            self._lock.close()
            self._lock = None

    def previous(self) -> dict[str, Any] | None:
        """The manifest of an interrupted run, if there is a readable one."""
        try:
            return json.loads((self.path / MANIFEST).read_text())
        except (OSError, ValueError):
            return None

    def start(self, plan: _Plan, resume: bool) -> set[int]:
        """Begin or continue; returns the indices of parts already written and checked."""
        previous = self.previous() if resume else None
        fingerprint = plan.fingerprint()
        if previous is not None and previous.get("fingerprint") != fingerprint:
            raise SpecError(
                "--resume",
                str(self.path),
                "the unfinished output was written from another spec, seed, row count, chunk "
                "size or library version; run without --resume to start over",
            )
        done = [] if previous is None else previous.get("done", [])
        done = [entry for entry in done if self._intact(entry)]
        self.manifest = {
            "format": FORMAT,
            "fingerprint": fingerprint,
            "n_rows": plan.spec.n_rows,
            "chunk_rows": plan.chunk_rows,
            "n_parts": len(plan.parts),
            "done": done,
        }
        self._clear_strays({entry["part"] for entry in done})
        _write_json(self.path / MANIFEST, self.manifest)
        return {entry["part"] for entry in done}

    def _intact(self, entry: dict[str, Any]) -> bool:
        name = part_name(entry["part"])
        for sub, size in entry["files"].items():
            path = self.path / sub / name
            if not path.is_file() or path.stat().st_size != size:
                return False
        return True

    def _clear_strays(self, keep: set[int]) -> None:
        """Remove everything but the lock and the parts in ``keep``."""
        names = {part_name(i) for i in keep}
        for item in self.path.iterdir():
            if item.name == _LOCK:
                continue
            if item.is_dir() and item.name in (DATA_DIR, LATENTS_DIR):
                for file in item.iterdir():
                    if file.name not in names:
                        _remove(file)
            elif item.name != MANIFEST:
                _remove(item)

    def write_part(self, index: int, rows: tuple[int, int], tables: dict[str, Any]) -> None:
        """Write one chunk's files, then record them in the manifest."""
        sizes = {}
        for sub, table in tables.items():
            folder = self.path / sub
            folder.mkdir(exist_ok=True)
            sizes[sub] = _write_part(folder / part_name(index), table)
            _fsync_path(folder)
        self.manifest["done"].append({"part": index, "rows": list(rows), "files": sizes})
        _write_json(self.path / MANIFEST, self.manifest)

    def finish(self, truth_json: str, spec_yaml: str, force: bool) -> Path:
        """Write truth and spec, then move the folder into place (replacing if ``force``)."""
        for name, text in ((TRUTH_FILE, truth_json), (SPEC_FILE, spec_yaml)):
            with open(self.path / name, "w") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
        (self.path / MANIFEST).unlink()
        (self.path / _LOCK).unlink()
        _fsync_path(self.path)
        target = self.target
        if target.exists():
            from synthbio_ppl.data.io import check_target

            check_target(target, force)
            retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, retired / target.name)
            os.replace(self.path, target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(self.path, target)
        _fsync_path(target.parent)
        return target


def _try_lock(handle: Any, target: Path) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory lock
        return
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise SpecError(
            "--out", str(target), "another process is writing this dataset right now"
        ) from None


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


class _Progress:
    """A tqdm bar (rows/s, ETA) on stderr, a plain-text fallback, or nothing."""

    def __init__(self, enabled: bool | None, total: int, initial: int, desc: str) -> None:
        if enabled is None:
            enabled = sys.stderr.isatty()
        self.bar: Any = None
        self.enabled = enabled
        self.total, self.n, self.t0, self.n0 = total, initial, time.monotonic(), initial
        if not enabled:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return
        self.bar = tqdm(
            total=total, initial=initial, desc=desc, unit="rows", unit_scale=True, file=sys.stderr
        )

    def update(self, rows: int) -> None:
        self.n += rows
        if self.bar is not None:
            self.bar.update(rows)
        elif self.enabled:
            rate = (self.n - self.n0) / max(time.monotonic() - self.t0, 1e-9)
            eta = (self.total - self.n) / rate if rate > 0 else float("inf")
            print(
                f"\r{self.n:,}/{self.total:,} rows  {rate:,.0f} rows/s  ETA {eta:,.0f} s",
                end="",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            print(file=sys.stderr)


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
    continues an interrupted run of the same spec, seed, rows and chunk size; ``force``
    replaces an existing dataset (which is otherwise refused). ``progress`` shows a bar on
    stderr (default: only when stderr is a terminal). Returns the folder.
    """
    from synthbio_ppl.data.io import check_target
    from synthbio_ppl.engine.generation import as_spec

    target = Path(out_dir)
    check_target(target, force)
    resolved = as_spec(spec).with_seed(seed)
    if rows is not None:
        resolved = rescale_rows(resolved, rows)
    with _Staging(target).locked() as staging:
        if resume and chunk_rows is None:
            chunk_rows = (staging.previous() or {}).get("chunk_rows")
        plan = plan_for(resolved, chunk_rows)
        done = staging.start(plan, resume)
        truth_json = _truth_json(plan)
        parts = plan.parts
        todo = [i for i in range(len(parts)) if i not in done]
        initial = sum(b - a for i, (a, b) in enumerate(parts) if i in done)
        bar = _Progress(progress, plan.spec.n_rows, initial, plan.spec.name)
        try:
            _write_parts(plan, staging, parts, todo, bar.update)
        finally:
            bar.close()
        return staging.finish(truth_json, plan.spec.to_yaml(), force)


def _write_parts(
    plan: _Plan,
    staging: _Staging,
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
            task = writer.submit(staging.write_part, index, parts[index], tables)
            pending = (task, parts[index][1] - parts[index][0])
            del tables
        if pending is not None:
            pending[0].result()
            advance(pending[1])


def _truth_json(plan: _Plan) -> str:
    """The truth, built once for the whole dataset (it does not depend on the chunking)."""
    from synthbio_ppl.data.truth import build_truth
    from synthbio_ppl.engine.draw import population_sites

    spec = plan.spec
    sites = population_sites(plan.layout, plan.fixed, spec.seed, spec.dtype)
    return build_truth(spec, plan.layout, plan.design, sites).to_json()


# --- command line -------------------------------------------------------------------------


def add_stream_arguments(parser: Any) -> None:
    """Add ``--rows``, ``--chunk-rows``, ``--resume`` and ``--progress`` to ``generate``."""
    parser.add_argument(
        "--rows", type=int, default=None, help="total rows (class proportions kept); streams"
    )
    parser.add_argument(
        "--chunk-rows",
        type=int,
        default=None,
        help="rows per Parquet part (a multiple of 256; default about 16M values); streams",
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
    return any(getattr(args, name, None) for name in ("rows", "chunk_rows", "resume"))


def stream_command(args: Any) -> None:
    """``synthbio generate SPEC --out DIR --rows N [--chunk-rows M] [--resume] [--force]``."""
    quiet = getattr(args, "quiet", False)
    started = time.monotonic()
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


def _yaml_classes(text: str) -> list[dict[str, Any]]:
    import yaml

    return yaml.safe_load(text)["classes"]
