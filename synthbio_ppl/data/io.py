"""Writing and reading dataset folders: data.parquet, truth.json, spec.yaml.

A folder is written under a temporary name beside the target and renamed into place
when complete, so an interrupted write never leaves a folder that looks finished.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from synthbio_ppl.core.errors import OUTPUT_ARGUMENTS, SpecError
from synthbio_ppl.data.parts import (
    ROWS_KEY,
    brief,
    check_aligned,
    check_part_sizes,
    part_files,
)
from synthbio_ppl.data.truth_numbers import parse_truth

DATA_FILE = "data.parquet"
DATA_DIR = "data"
"""A streamed run's data: ``data/part-*.parquet``."""
TRUTH_FILE = "truth.json"
SPEC_FILE = "spec.yaml"
LATENTS_FILE = "latents.parquet"
"""Per-row latent factor values of a structural scene (part of the truth; optional)."""
MISSING_FILE = "missing.parquet"
"""The mask of the columns a ``missing:`` entry hides (bool; part of the truth)."""
COMPLETE_FILE = "complete.parquet"
"""Those columns' values before masking (part of the truth)."""
DROPOUT_FILE = "dropout.parquet"
"""The count cells dropout or zero inflation set to 0 (bool; part of the truth)."""
EFFECTS_FILE = "effects.parquet"
"""A counterfactual world's per-row effects against the factual one (part of the truth)."""
EXTRA_FILES = (LATENTS_FILE, MISSING_FILE, COMPLETE_FILE, DROPOUT_FILE, EFFECTS_FILE)
"""Per-row parts of the truth, each optional (a folder of parts when streamed)."""
TABLE_FILES = (DATA_FILE, *EXTRA_FILES)
"""Every table of a folder: one file each, or (streamed) a folder of parts, never both."""


def check_target(directory: Path, overwrite: bool) -> bool:
    """Refuse to replace an existing dataset (or any non-empty folder) unless told to, and
    never a link or a file. Returns whether ``directory`` exists (an empty folder)."""
    name, replace = OUTPUT_ARGUMENTS.get()
    if directory.is_symlink():
        raise SpecError(name, str(directory), "is a link; give the folder itself")
    resolved = directory.resolve()
    if resolved == Path.cwd().resolve() or resolved in Path.cwd().resolve().parents:
        raise SpecError(name, str(directory), "is the current folder or holds it; name a new one")
    above = next((p for p in directory.absolute().parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise SpecError(name, str(directory), f"lies below {above}, which is a file")
    if directory.exists() and not directory.is_dir():
        raise SpecError(name, str(directory), "must be a folder, not a file")
    if directory.is_dir() and overwrite and any(directory.iterdir()) and not _ours(directory):
        held = sorted(p.name for p in directory.iterdir())
        shown = ", ".join(held[:4]) + (", ..." if len(held) > 4 else "")
        raise SpecError(
            name,
            str(directory),
            f"holds files this program did not write ({shown}); {replace} replaces only a "
            "dataset or twin folder: name a new folder, or empty this one",
        )
    if directory.is_dir() and any(directory.iterdir()) and not overwrite:
        raise SpecError(
            name,
            str(directory),
            f"the folder is not empty; pass {replace} to replace it",
        )
    return directory.is_dir()


OUR_FOLDERS = (
    (SPEC_FILE, TRUTH_FILE),
    ("report.json", "synthetic.csv"),
    ("report.json", "synthetic.parquet"),
)
"""Files that mark a folder this program wrote: a dataset's, a twin's (either table form)."""


def _ours(directory: Path) -> bool:
    """Whether ``directory`` is a folder this program wrote (``OUR_FOLDERS``)."""
    return any(all((directory / name).is_file() for name in marks) for marks in OUR_FOLDERS)


def claim_target(target: Path, overwrite: bool, existed: bool, kept: Path | None = None) -> None:
    """Check the target again just before a finished folder is moved onto it.

    Without ``overwrite`` the target must still be absent (it is then created, empty,
    atomically, so a concurrent writer sees it taken) or be the empty folder that was
    there when the run began. ``kept`` names where the finished output stays if refused.
    """
    if overwrite:
        check_target(target, overwrite)
        return
    try:
        target.mkdir()
        return
    except FileExistsError:
        pass
    if existed and target.is_dir() and not target.is_symlink() and not any(target.iterdir()):
        return
    where = f"; the finished output is kept in {kept}" if kept is not None else ""
    name, replace = OUTPUT_ARGUMENTS.get()
    raise SpecError(
        name,
        str(target),
        f"appeared or filled while this run was writing; pass {replace} to replace it{where}",
    )


def install(staging: Path, target: Path) -> Path:
    """Move a finished folder onto ``target`` (absent, an empty folder, or replaced)."""
    if target.is_dir() and not target.is_symlink() and any(target.iterdir()):
        retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.replace(target, retired / target.name)
        os.replace(staging, target)
        shutil.rmtree(retired)
    else:
        os.replace(staging, target)  # onto an empty folder: replaced atomically
    fsync_path(target.parent)
    return target


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


@contextlib.contextmanager
def staged_folder(directory: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``directory`` only if the block completes.

    The target is checked at the start and again at the rename: a folder another writer
    put there meanwhile is never replaced without ``overwrite`` (SpecError).
    """
    target = Path(directory)
    existed = check_target(target, overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the result is an ordinary folder
    try:
        yield staging
        claim_target(target, overwrite, existed)
        install(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def beside_y(outcome: pd.DataFrame | None, index: pd.Index) -> pd.DataFrame:
    """The outcome's columns the table holds beside ``y`` (time, event; none where the
    outcome is ``y`` or there is none), on ``index``."""
    if outcome is None:
        return pd.DataFrame(index=index)
    return outcome.drop(columns=[c for c in outcome.columns if c == "y"]).set_axis(index)


def table_of(X: pd.DataFrame, y: pd.Series, covariates: pd.DataFrame) -> pa.Table:
    """Arrow table: features, then ``y``, then covariate columns."""
    arrays = [pa.array(X[c].to_numpy()) for c in X.columns]
    arrays.append(pa.Array.from_pandas(y))
    arrays += [pa.Array.from_pandas(covariates[c]) for c in covariates.columns]
    names = [*map(str, X.columns), str(y.name), *map(str, covariates.columns)]
    return pa.Table.from_arrays(arrays, names=names)


def write_folder(
    directory: str | Path,
    table: pa.Table,
    truth_json: str,
    spec_yaml: str,
    overwrite: bool = False,
    extras: dict[str, pd.DataFrame] | None = None,
    check: Callable[[Path], None] | None = None,
) -> Path:
    """Write the three files of a dataset folder atomically, plus ``extras`` (``{file
    name: frame}``, e.g. latents.parquet); ``check(staging folder)``, if given, may refuse
    the written folder before it is renamed into place (nothing is left then)."""
    with staged_folder(directory, overwrite) as staging:
        pq.write_table(table, staging / DATA_FILE)
        (staging / TRUTH_FILE).write_text(truth_json)
        (staging / SPEC_FILE).write_text(spec_yaml)
        for name, frame in (extras or {}).items():
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), staging / name)
        if check is not None:
            check(staging)
    return Path(directory)


def extra_path(directory: str | Path, name: str) -> Path:
    """Where a table of the folder lives: ``name`` (one file), or the folder of its parts
    (``name`` without ``.parquet``) where only that exists, or where neither does in a
    streamed folder (its data in ``data/``): a message names where the table belongs."""
    folder = Path(directory)
    path, parts = folder / name, folder / name.removesuffix(".parquet")
    if path.is_file():
        return path
    streamed = not (folder / DATA_FILE).exists() and (folder / DATA_DIR).is_dir()
    return parts if parts.is_dir() or (streamed and not path.exists()) else path


def read_extra(directory: str | Path, name: str) -> pd.DataFrame | None:
    """One optional per-row part of the truth (``EXTRA_FILES``), or None when absent.
    SpecError naming the file or part that cannot be read, or, streamed, whose parts are
    not the data's (names and row counts)."""
    path = extra_path(directory, name)
    if not path.exists():
        return None
    try:
        table = _read_parquet(path)
    except (pa.ArrowException, OSError) as exc:
        raise SpecError("", str(path), f"not a readable Parquet table ({brief(exc)})") from None
    data = Path(directory) / DATA_DIR
    if path.is_dir() and data.is_dir():
        check_aligned(path, data)
    return table.to_pandas()


def _read_parquet(path: Path) -> pa.Table:
    """One Parquet file, or a folder of ``part-*.parquet`` files (streamed) in row order;
    SpecError naming the part that cannot be read, that is misnamed or out of place (see
    ``part_files``), or whose columns differ from the first part's (and the columns). A
    part holding the first part's columns in another order is read in the first's order,
    as a single file's columns are read in any order."""
    if not path.is_dir():
        return pq.read_table(path)
    parts = part_files(path)
    tables = []
    for part in parts:
        try:
            tables.append(pq.read_table(part))
        except (pa.ArrowException, OSError) as exc:
            raise SpecError("", str(part), f"not a readable Parquet part ({brief(exc)})") from None
    first = tables[0].schema
    for index, part in enumerate(parts[1:], start=1):
        table = _in_order(tables[index], first)
        if not table.schema.equals(first):
            raise SpecError("", str(part), _difference(table.schema, first, parts[0].name))
        tables[index] = table
    check_part_sizes(parts, tables)
    try:
        return pa.concat_tables(tables)
    except pa.ArrowException as exc:
        raise SpecError("", str(path), f"its parts cannot be joined ({brief(exc)})") from None


def _in_order(table: pa.Table, first: pa.Schema) -> pa.Table:
    """``table`` with its columns in ``first``'s order where it holds the same names, each
    once (their types are compared after); else as it is."""
    names = table.column_names
    same = sorted(names) == sorted(first.names) and len(set(names)) == len(names)
    return table.select(first.names) if same and names != first.names else table


def check_one_form(folder: Path) -> None:
    """Each table of the folder is one file (``data.parquet``) or a folder of parts
    (``data/``), never both: SpecError naming both and which one a run writes, and the
    one to remove where the folder's other tables (or the parts' metadata) tell."""
    for name in TABLE_FILES:
        file, parts = folder / name, folder / name.removesuffix(".parquet")
        if not (file.exists() and parts.exists()):
            continue
        form = _written_form(folder, name)
        advice = {
            "parts": f"this folder's other tables are parts, so remove {name}",
            "file": f"this folder's other tables are single files, so remove {parts.name}/",
            "rows": f"{parts.name}/'s parts are a streamed run's, so remove {name}",
        }.get(form, "remove the one this run did not write")
        raise SpecError(
            "",
            str(file),
            f"the folder also holds {parts}/, the same table in parts; a run writes only "
            f"one, {name} (Dataset.to_parquet, synthbio generate) or {parts.name}/ (synthbio "
            f"generate --rows or --chunk-rows): {advice}",
        )


def _written_form(folder: Path, name: str) -> str | None:
    """What a run wrote ``name`` as, told by the folder's other tables (``parts`` or
    ``file``, where they all agree) or else by the first part's row metadata (``rows``:
    a streamed run's parts carry it); None where nothing tells."""
    forms = set()
    for other in TABLE_FILES:
        single, parts = folder / other, folder / other.removesuffix(".parquet")
        if other != name and single.exists() != parts.exists():
            forms.add("file" if single.exists() else "parts")
    if len(forms) == 1:
        return forms.pop()
    try:
        first = folder / name.removesuffix(".parquet") / "part-000000.parquet"
        held = ROWS_KEY in (pq.read_schema(first).metadata or {})
    except (pa.ArrowException, OSError):
        return None
    return "rows" if held else None


def _difference(schema: pa.Schema, first: pa.Schema, name: str) -> str:
    """How a part's columns differ from the first part's, in one line: each differing
    column (three at most) with its type here and there."""
    theirs = {f.name: str(f.type) for f in first}
    ours = {f.name: str(f.type) for f in schema}
    columns = [c for c in dict.fromkeys([*theirs, *ours]) if ours.get(c) != theirs.get(c)]
    if not columns:
        twice = next((c for c in schema.names if schema.names.count(c) > 1), None)
        if twice is not None:
            return f"holds the column {twice!r} twice"
        return f"its columns differ from {name}'s in which of them may hold nulls"
    shown = ", ".join(
        f"{c!r} ({ours.get(c, 'absent')} here, {theirs.get(c, 'absent')} there)"
        for c in columns[:3]
    )
    more = f" and {len(columns) - 3} more" if len(columns) > 3 else ""
    return f"its columns differ from {name}'s at {shown}{more}"


def read_folder(directory: str | Path) -> tuple[pd.DataFrame, dict, str]:
    """The data table, the truth dict and the spec YAML text of a dataset folder.

    Raises SpecError naming the file (or part) that is missing or unreadable, a truth.json
    that is not a JSON object or holds a number the truth cannot (``truth_numbers``), a
    table held both as one file and as parts (``check_one_form``), or a streamed folder's
    parts out of order (``parts``)."""
    folder = Path(directory)
    if not folder.is_dir():
        made = "a file (a spec? make its dataset first: synthbio generate SPEC --out DIR)"
        what = made if folder.is_file() else "no such folder"
        raise SpecError("", str(folder), f"not a dataset folder: {what}")
    check_one_form(folder)
    data = folder / DATA_FILE
    if not data.is_file() and (folder / DATA_DIR).is_dir():
        data = folder / DATA_DIR  # streamed: data/part-*.parquet
    missing = [f.name for f in (data, folder / TRUTH_FILE, folder / SPEC_FILE) if not f.exists()]
    if missing:
        raise SpecError("", str(folder), f"not a dataset folder (missing {', '.join(missing)})")
    for path in (folder / TRUTH_FILE, folder / SPEC_FILE):
        if not path.is_file():  # a pipe or a device would be read forever
            raise SpecError("", str(path), "not a regular file (as written: a text file)")
    try:
        frame = _read_parquet(data).to_pandas()
    except (pa.ArrowException, OSError) as exc:
        raise SpecError("", str(data), f"not a readable Parquet table ({brief(exc)})") from None
    try:
        text = (folder / TRUTH_FILE).read_text(encoding="utf-8")
        truth = parse_truth(text, str(folder / TRUTH_FILE))
    except SpecError:
        raise
    except (ValueError, OSError, RecursionError) as exc:
        raise SpecError("", str(folder / TRUTH_FILE), f"not readable JSON ({exc})") from None
    if not isinstance(truth, dict):
        raise SpecError("", str(folder / TRUTH_FILE), "must hold the truth's JSON object")
    try:
        spec_text = (folder / SPEC_FILE).read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError) as exc:
        reason = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else exc.strerror
        raise SpecError("", str(folder / SPEC_FILE), f"cannot be read ({reason})") from None
    return frame, truth, spec_text
