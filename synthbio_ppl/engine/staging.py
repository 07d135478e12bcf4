"""The staging folder of a streamed write: lock, manifest of finished parts, resume, rename.

Everything goes to ``.NAME.partial/`` beside the target. Each finished part is fsync'd,
then recorded in that folder's ``manifest.json`` (replaced atomically); the folder is
renamed into place only when complete, so an interrupted run (Ctrl-C, kill -9) never
leaves a folder that looks finished. A resumed run keeps the recorded parts that are still
intact and continues after them.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.engine.planning import FORMAT

if TYPE_CHECKING:
    from synthbio_ppl.engine.planning import StreamPlan

DATA_DIR = "data"
LATENTS_DIR = "latents"
TRUTH_FILE = "truth.json"
SPEC_FILE = "spec.yaml"
MANIFEST = "manifest.json"
_LOCK = ".lock"


def part_name(index: int) -> str:
    """File name of part ``index`` (zero-padded so names sort in row order)."""
    return f"part-{index:06d}.parquet"


def staging_path(target: str | Path) -> Path:
    """Where the unfinished output for ``target`` is kept: ``.NAME.partial`` beside it."""
    target = Path(target)
    return target.parent / f".{target.name}.partial"


def fsync_path(path: Path) -> None:
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
    fsync_path(path.parent)


class Staging:
    """The ``.NAME.partial`` folder: lock, manifest of finished parts, final rename."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.path = staging_path(target)
        self.manifest: dict[str, Any] = {}
        self._lock: Any = None

    @contextlib.contextmanager
    def locked(self) -> Iterator[Staging]:
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

    def start(self, plan: StreamPlan, resume: bool) -> set[int]:
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

    def record(self, index: int, rows: tuple[int, int], sizes: dict[str, int]) -> None:
        """Record part ``index`` (its files already written and fsync'd) in the manifest."""
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
        fsync_path(self.path)
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
        fsync_path(target.parent)
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
