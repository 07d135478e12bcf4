"""A study's folder: ``study.json`` (what was asked, its fingerprint), one Parquet file per
finished cell under ``cells/`` (written whole, then renamed into place, so a stopped run
leaves only finished cells), and the results once every cell is in."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from synthbio_ppl.core.errors import OUTPUT_ARGUMENTS, SpecError
from synthbio_ppl.engine.staging import staged_files
from synthbio_ppl.studies.cells import COLUMNS, Cell
from synthbio_ppl.studies.plan import Plan

__all__ = ["STUDY_FILE", "CellStore"]

STUDY_FILE = "study.json"
CELL_FOLDER = "cells"
SELECTED_KEY = b"synthbio.selected"
OUR_FILES = {
    STUDY_FILE,
    CELL_FOLDER,
    "results.parquet",
    "summary.parquet",
    "summary.csv",
    "report.md",
    "plots",
}
"""What a study folder may hold; ``overwrite`` replaces only a folder holding no more."""


CELL_FILE = re.compile(r"s([0-9]{5})_r([0-9]{5})\.parquet")
PLOT_FILE = re.compile(r"[A-Za-z0-9_.-]+\.png")


def _staged(name: str) -> bool:
    """A file being written, or left by a writer that was killed (``staged_files`` writes
    hidden files beside their targets): not the user's, never a result."""
    return name.startswith(".")


def _foreign(folder: Path) -> list[str]:
    """The files and folders in a study folder that a study did not write."""
    out = []
    for path in sorted(folder.iterdir()):
        name = path.name
        if _staged(name):
            continue
        if name not in OUR_FILES or path.is_dir() != (name in (CELL_FOLDER, "plots")):
            out.append(name)
        elif path.is_dir():
            pattern = CELL_FILE if name == CELL_FOLDER else PLOT_FILE
            out += [
                f"{name}/{p.name}"
                for p in sorted(path.iterdir())
                if not _staged(p.name) and not (pattern.fullmatch(p.name) and p.is_file())
            ]
    return out


def _arguments() -> tuple[str, str]:
    """The output folder's argument and the way to replace it, as the caller spells them."""
    return (
        ("--out", "--force") if OUTPUT_ARGUMENTS.get()[0] == "--out" else ("out", "overwrite=True")
    )


def _cell_name(scenario: int, replicate: int) -> str:
    return f"s{scenario:05d}_r{replicate:05d}.parquet"


class CellStore:
    """The cells of one study in ``folder``: resumed when the folder holds the same study
    (the plan's fingerprint), refused when it holds another one or other files, unless
    ``overwrite`` (which replaces a study folder only)."""

    def __init__(self, folder: str | Path, plan: Plan, overwrite: bool = False) -> None:
        self.folder = Path(folder)
        self.cells = self.folder / CELL_FOLDER
        self.fingerprint = plan.fingerprint()
        self.expected = set(plan.cells)
        self.described = {
            "fingerprint": self.fingerprint,
            "scenarios": [{"index": s.index, "values": s.values} for s in plan.scenarios],
            "methods": {m.name: m.kind for m in plan.methods},
            "metrics": [m.name for m in plan.metrics],
            "replicates": plan.replicates,
            "seed": plan.seed,
        }
        if self.folder.exists() and not self.folder.is_dir():
            raise SpecError(
                _arguments()[0], str(self.folder), "is a file; give a folder for the study"
            )
        if self.folder.is_dir():
            self._claim(overwrite)
        self.cells.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.described, indent=1, default=str)
        record = self.folder / STUDY_FILE
        self.unchanged = record.is_file() and record.read_text() == text
        self.put(STUDY_FILE, lambda path: path.write_text(text))

    def _claim(self, overwrite: bool) -> None:
        present = [p for p in self.folder.iterdir() if not _staged(p.name)]
        if not present:
            return
        foreign = _foreign(self.folder)
        record = self.folder / STUDY_FILE
        if foreign or not record.is_file():
            shown = ", ".join(foreign[:3]) or "no study.json"
            raise SpecError(
                _arguments()[0],
                str(self.folder),
                f"holds files of its own ({shown}); give a new or empty folder",
            )
        try:
            held = json.loads(record.read_text())
        except (OSError, ValueError):
            held = {}
        held = held if isinstance(held, dict) else {}
        if held.get("fingerprint") == self.fingerprint:
            return  # the same study: resumed
        if not overwrite:
            mine = json.loads(json.dumps(self.described, default=str))
            same = ("fingerprint", "replicates")  # a study may grow by replicates
            differ = [k for k in mine if k not in same and held.get(k) != mine[k]]
            what = (
                ", ".join(differ)
                or "the scenarios' specs, the methods' parameters or a function's code"
            )
            raise SpecError(
                _arguments()[0],
                str(self.folder),
                f"holds another study's cells (its {what} differ); give a new folder, or "
                f"{_arguments()[1]} to replace it",
            )
        for path in present:  # every one written by a study (_foreign found none other)
            shutil.rmtree(path) if path.is_dir() else path.unlink()

    def finished(self) -> bool:
        """Whether the results and the report of this very study are written (not of the
        same study with another number of replicates)."""
        written = all((self.folder / n).is_file() for n in ("results.parquet", "report.md"))
        return self.unchanged and written

    def _cell_files(self) -> dict[tuple[int, int], Path]:
        """The written cells of this study's plan, by (scenario, replicate)."""
        out = {}
        for path in sorted(self.cells.glob("s*_r*.parquet")):
            match = CELL_FILE.fullmatch(path.name)
            key = (int(match[1]), int(match[2])) if match else None
            if key in self.expected:
                out[key] = path
        return out

    def done(self) -> set[tuple[int, int]]:
        """The (scenario, replicate) cells already written and readable."""
        out = set()
        for key, path in self._cell_files().items():
            try:
                pd.read_parquet(path, columns=["value"])
            except (ValueError, OSError):
                continue  # unreadable: its cell runs again
            out.add(key)
        return out

    def write(self, cell: Cell) -> None:
        """Write one finished cell whole (temporary file, then renamed into place)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(cell.table, preserve_index=False)
        meta = {**(table.schema.metadata or {}), SELECTED_KEY: json.dumps(cell.selected).encode()}
        target = self.cells / _cell_name(cell.scenario, cell.replicate)
        what = f"cell {target.name} (the finished cells are kept: run again to resume)"
        with staged_files([target], 0, what) as (path,):
            pq.write_table(table.replace_schema_metadata(meta), path)

    def read(self) -> tuple[pd.DataFrame, dict[tuple[int, int], dict[str, list[str]]]]:
        """Every written cell's rows (scenario, replicate order) and selected sets."""
        import pyarrow.parquet as pq

        frames, selected = [], {}
        for key, path in self._cell_files().items():
            table = pq.read_table(path)
            raw = (table.schema.metadata or {}).get(SELECTED_KEY, b"{}")
            selected[key] = json.loads(raw)
            frames.append(table.to_pandas())
        table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
        return table, selected

    def put(self, name: str, write: Any) -> Path:
        """Write one file of the study through ``write(path)``, renamed into place whole
        (``engine.staging.staged_files``: a full disk is named, the earlier file kept)."""
        target = self.folder / name
        with staged_files([target], 0, f"the study's {name}") as (path,):
            write(path)
        return target
