"""The staging folder of a streamed write: lock, manifest of finished parts, resume, rename.

Everything goes to ``.NAME.partial/`` beside the target. Each finished part is fsync'd,
then recorded with its size and SHA-256 in that folder's ``manifest.json`` (replaced
atomically); the folder is renamed into place only when complete, so an interrupted run
(Ctrl-C, kill -9) never leaves a folder that looks finished. A resumed run keeps the
recorded parts whose bytes still match and continues after them.

Nothing here follows a link or removes what this program did not write: a staging folder
that is a link, or that holds anything but our own files, is refused, and the target is
checked again at the moment of the rename (``data.io.install``).

A few files written together (a fit's netCDF and recovery table) are staged under hidden
names beside their targets instead, and renamed into place only when all are complete
(``staged_files``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthbio_ppl.core.errors import OUTPUT_ARGUMENTS, SpecError
from synthbio_ppl.data.io import fsync_path
from synthbio_ppl.engine.budget import check_free_space, full_disk_named
from synthbio_ppl.engine.planning import FORMAT

if TYPE_CHECKING:
    from synthbio_ppl.engine.planning import StreamPlan

DATA_DIR = "data"
LATENTS_DIR = "latents"
MISSING_DIR = "missing"
COMPLETE_DIR = "complete"
DROPOUT_DIR = "dropout"
PART_DIRS = (DATA_DIR, LATENTS_DIR, MISSING_DIR, COMPLETE_DIR, DROPOUT_DIR)
"""Folders of per-chunk parts (all but the first optional; see ``data.io.EXTRA_FILES``)."""
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
        self._discarded = False

    @contextlib.contextmanager
    def locked(self) -> Iterator[Staging]:
        """Hold the folder's lock (another writer of the same target is refused)."""
        if self.path.is_symlink() or (self.path.exists() and not self.path.is_dir()):
            raise SpecError(
                "--out", str(self.path), "the staging path is a link or a file; remove it first"
            )
        created = not self.path.exists()
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.path / _LOCK, "a+")  # noqa: SIM115 - held for the whole run
        try:
            _try_lock(self._lock, self.target)
            yield self
        finally:
            self._lock.close()
            self._lock = None
            # a run refused before its first part, or discarded, leaves no staging folder
            only_lock = self.path.is_dir() and [p.name for p in self.path.iterdir()] == [_LOCK]
            if (created or self._discarded) and only_lock:
                (self.path / _LOCK).unlink()
                self.path.rmdir()

    def previous(self) -> dict[str, Any] | None:
        """The manifest of an interrupted run, if there is a readable, well-formed one."""
        try:
            manifest = json.loads((self.path / MANIFEST).read_text())
        except (OSError, ValueError):
            return None
        done = manifest.get("done", []) if isinstance(manifest, dict) else None
        well_formed = isinstance(done, list) and all(
            isinstance(e, dict)
            and isinstance(e.get("part"), int)
            and isinstance(e.get("rows"), list)
            and isinstance(e.get("files"), dict)
            for e in done
        )
        return manifest if well_formed else None

    def start(self, plan: StreamPlan, resume: bool) -> set[int]:
        """Begin or continue; returns the indices of parts already written and checked."""
        previous = self.previous() if resume else None
        if resume and previous is None and (self.path / MANIFEST).exists():
            raise SpecError(
                "--resume",
                str(self.path / MANIFEST),
                "the manifest is damaged; run without --resume to start over",
            )
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
        """Whether every file of a recorded part has its recorded size and SHA-256."""
        name = part_name(entry["part"])
        for sub, recorded in entry["files"].items():
            path = self.path / sub / name
            if not isinstance(recorded, dict) or path.is_symlink() or not path.is_file():
                return False
            if path.stat().st_size != recorded.get("size") or digest(path) != recorded.get(
                "sha256"
            ):
                return False
        return True

    def _clear_strays(self, keep: set[int]) -> None:
        """Remove our own files but the lock and the parts in ``keep``; refuse anything else
        (a link, a file we did not write), so nothing of the user's is ever removed."""
        names = {part_name(i) for i in keep}
        for item in sorted(self.path.iterdir()):
            if item.name in (_LOCK, MANIFEST):
                continue
            if item.name in PART_DIRS and item.is_dir() and not item.is_symlink():
                for file in sorted(item.iterdir()):
                    if not _ours(file, PARTS):
                        _refuse(file)
                    if file.name not in names:
                        file.unlink()
            elif _ours(item, OWN_FILES):
                item.unlink()
            else:
                _refuse(item)

    def discard(self) -> None:
        """Remove every part and the manifest this program wrote (nothing else), for a run
        that can never finish."""
        (self.path / MANIFEST).unlink(missing_ok=True)  # first: it must never list a lost part
        self._clear_strays(set())
        for sub in PART_DIRS:
            folder = self.path / sub
            if folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir()):
                folder.rmdir()
        self._discarded = True

    def record(self, index: int, rows: tuple[int, int], files: dict[str, dict[str, Any]]) -> None:
        """Record part ``index`` (its files already written and fsync'd, with their size and
        SHA-256) in the manifest."""
        self.manifest["done"].append({"part": index, "rows": list(rows), "files": files})
        _write_json(self.path / MANIFEST, self.manifest)

    def finish(self, truth_json: str, spec_yaml: str, force: bool, existed: bool) -> Path:
        """Write truth and spec, then move the folder into place (replacing if ``force``).

        ``existed``: whether the target was an empty folder when the run began. If the
        target appeared or filled meanwhile, SpecError, and the finished parts stay staged
        with their manifest (``--resume --force`` completes without redrawing them).
        """
        from synthbio_ppl.data.io import claim_target, install

        for name, text in ((TRUTH_FILE, truth_json), (SPEC_FILE, spec_yaml)):
            with open(self.path / name, "w") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
        claim_target(self.target, force, existed, kept=self.path)
        (self.path / MANIFEST).unlink()
        (self.path / _LOCK).unlink()
        fsync_path(self.path)
        return install(self.path, self.target)


@contextlib.contextmanager
def staged_files(
    targets: Sequence[Path], need: int, what: str, replace: bool = True
) -> Iterator[list[Path]]:
    """Yield a new hidden file beside each of ``targets`` (all in one folder) to write; when
    the block completes, each is flushed and renamed onto its target.

    First the folder's free space is checked against ``need`` bytes (OSError ENOSPC naming
    the folder, nothing written). Whatever fails, every staged file is removed and nothing
    else: an earlier version of the targets stays as it was; a full disk is re-raised as
    OSError naming the folder. Without ``replace`` a target that appeared meanwhile is
    refused (SpecError) rather than replaced. ``what`` names the files in the messages.
    """
    folder = Path(targets[0]).parent
    check_free_space(folder, need, what)
    staged: list[Path] = []
    umask = os.umask(0)
    os.umask(umask)
    message = f"the disk is full; {what} not written, earlier files there unchanged"
    try:
        with full_disk_named(folder, message):
            for target in targets:
                handle, name = tempfile.mkstemp(
                    prefix=f".{Path(target).name}.", suffix=Path(target).suffix, dir=folder
                )
                os.close(handle)
                staged.append(Path(name))
                os.chmod(name, 0o666 & ~umask)  # mkstemp's are private; these are ordinary
            yield staged
            for path in staged:
                fsync_path(path)
            present = [Path(t).name for t in targets if Path(t).exists()]
            if present and not replace:
                replace_them = OUTPUT_ARGUMENTS.get()[1]
                raise SpecError(
                    str(folder),
                    present,
                    f"appeared while this run was writing; pass {replace_them}",
                )
            for target in targets:
                os.replace(staged[0], target)
                del staged[0]  # in place: no longer ours to remove
            fsync_path(folder)
    finally:
        for path in staged:
            path.unlink(missing_ok=True)


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


PARTS = re.compile(r"part-\d{6}\.parquet(\.tmp)?")
"""A part file this program writes (or left half-written)."""
OWN_FILES = re.compile(r"truth\.json|spec\.yaml|manifest\.json\.tmp")
"""The other files this program writes into a staging folder."""


def _ours(path: Path, names: re.Pattern[str]) -> bool:
    return not path.is_symlink() and path.is_file() and names.fullmatch(path.name) is not None


def _refuse(path: Path) -> None:
    raise SpecError(
        "--out",
        path.name,
        f"is in the staging folder {path.parent} but was not written by this program (a "
        "link or an unknown file); move it away or remove the folder",
    )


def digest(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks."""
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()
