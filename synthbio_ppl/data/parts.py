"""A streamed folder's tables as folders of parts, checked as they are read.

A streamed run writes each table (``data/``, ``latents/``, ...) as ``part-000000.parquet``,
``part-000001.parquet``, ... in row order, every part but the last holding the same
number of rows (its chunk), and each table's parts holding the rows of the data's part of
the same name. Its manifest of part checksums and row ranges stays in the staging folder
and is removed when the run finishes, so a finished folder is checked by these rules (and
the rows' design by ``data.checks``): a part renamed, lost, copied in or swapped with one
of another size is named. Each part records the table's rows it holds (``ROWS_KEY``), so
parts of one size swapped, or a part cut, are named too; a part without that record where
another part of the folder has it was rewritten (pandas drops it) and is refused, as its
rows cannot be placed (where no part has it, every part rewritten, only the row design
can tell). Only footers are read, never the values twice.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from synthbio_ppl.core.errors import SpecError


def brief(exc: Exception) -> str:
    """An Arrow error's first line, cut short (schemas can run to pages), without the
    file name the message names already."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = re.sub(r"^Could not open Parquet input source '[^']*': ", "", text)
    return text if len(text) <= 160 else text[:157] + "..."


ROWS_KEY = b"synthbio.rows"
"""A streamed part's schema metadata entry: the table's rows it holds, ``b"start:stop"``."""
PART_NAME = re.compile(r"part-\d{6}\.parquet")
"""A streamed part's name: ``part-`` and its index, zero-padded to six digits."""


def part_files(path: Path) -> list[Path]:
    """The parts of a folder of parts in row order: ``part-000000.parquet``,
    ``part-000001.parquet``, ... without gaps, as a streamed run writes them. Raises
    SpecError naming the first Parquet file that is not so named, or the part missing
    where the numbering skips one and the part found in its place (a part renamed, lost
    or copied in)."""
    files = sorted(p for p in path.iterdir() if p.name.endswith(".parquet"))
    if not files:
        raise SpecError("", str(path), "holds no part-*.parquet files")
    odd = next((f for f in files if PART_NAME.fullmatch(f.name) is None), None)
    if odd is not None:
        raise SpecError(
            "",
            str(odd),
            "is not named as a part (part-NNNNNN.parquet, numbered from part-000000 in "
            "row order); was it renamed?",
        )
    for index, file in enumerate(files):
        expected = f"part-{index:06d}.parquet"
        if file.name == expected:
            continue
        before = f"follows {files[index - 1].name}" if index else "comes first"
        raise SpecError(
            "",
            str(path / expected),
            f"is missing, yet {file.name} {before}: parts are numbered from part-000000 in "
            "row order without gaps (a part renamed, lost or copied in)",
        )
    return files


def check_part_sizes(parts: list[Path], tables: list[pa.Table]) -> None:
    """Every part but the last holds the same number of rows (a streamed run's chunk),
    the last no more, and each holds the table's rows its metadata says (``ROWS_KEY``,
    written since parts carry it): SpecError naming the first part out of place, or
    without that record where another part has it (``_rewritten``)."""
    chunk, start = tables[0].num_rows, 0
    recorded = [ROWS_KEY in (table.schema.metadata or {}) for table in tables]
    for index, (part, table) in enumerate(zip(parts, tables, strict=True)):
        n, last = table.num_rows, index == len(parts) - 1
        if n > chunk or (n < chunk and not last):
            raise SpecError(
                "",
                str(part),
                f"holds {n:,} rows where {parts[0].name} holds {chunk:,}: every part but "
                "the last holds the same rows, the last no more (a part swapped, renamed or "
                "cut?)",
            )
        held = (table.schema.metadata or {}).get(ROWS_KEY)
        if held is None and any(recorded):
            raise SpecError("", str(part), _rewritten(parts[recorded.index(True)].name))
        if held is not None and held != f"{start}:{start + n}".encode():
            raise SpecError("", str(part), _misplaced(held.decode(errors="replace"), start, n))
        start += n


def _rewritten(other: str) -> str:
    """Why a part without its row record (``ROWS_KEY``) is refused where ``other`` (a
    part of the same folder) has one: every part a streamed run writes carries it, so
    the part was rewritten, and nothing tells which rows it holds."""
    return (
        f"carries no record of its rows ({ROWS_KEY.decode()} in its metadata), which "
        f"{other} carries: a streamed run writes it into every part, so this one was "
        "rewritten (pandas drops it) and its rows cannot be placed; restore the part as "
        "written (edit the loaded dataset instead)"
    )


def _misplaced(held: str, start: int, n: int) -> str:
    """How a part's recorded rows ``held`` (``"start:stop"``) part from where it lies,
    ``start`` with ``n`` rows: rows cut from it or added (its start as recorded), or the
    rows of another place (parts swapped or renamed)."""
    first, _, stop = held.partition(":")
    if first == str(start) and stop.isdigit():
        written, fewer = int(stop) - start, n < int(stop) - start
        return (
            f"holds {n:,} rows where it was written with {written:,} (rows {held} of the "
            f"table): {abs(written - n):,} rows {'fewer' if fewer else 'more'}, so rows were "
            f"{'cut from' if fewer else 'added to'} it; restore the part as written (filter "
            "rows after loading instead)"
        )
    return (
        f"holds rows {held} of the table where rows {start}:{start + n} belong: parts hold "
        "the rows in order (parts swapped or renamed?)"
    )


def part_rows(path: Path) -> list[tuple[Path, int]]:
    """A folder of parts' files with their row counts, read from the Parquet footers
    (SpecError as ``part_files``, or for an unreadable footer)."""
    out = []
    for part in part_files(path):
        try:
            out.append((part, pq.ParquetFile(part).metadata.num_rows))
        except (pa.ArrowException, OSError) as exc:
            raise SpecError("", str(part), f"not a readable Parquet part ({brief(exc)})") from None
    return out


def check_recorded(tables: list[Path]) -> None:
    """A streamed folder's tables (folders of parts; the data's first) carry their parts'
    row record (``ROWS_KEY``) all, or none (every part rewritten): SpecError naming the
    first part of a table without it where another table's parts have it (within a table
    the parts agree, ``check_part_sizes``)."""
    firsts = [part_files(table)[0] for table in tables if table.is_dir()]
    recorded = [_recorded(part) for part in firsts]
    if any(recorded) and not all(recorded):
        lacking, other = firsts[recorded.index(False)], firsts[recorded.index(True)]
        raise SpecError("", str(lacking), _rewritten(f"{other.parent.name}/{other.name}"))


def _recorded(part: Path) -> bool:
    """Whether a part carries its row record (``ROWS_KEY``), read from its footer."""
    try:
        return ROWS_KEY in (pq.read_schema(part).metadata or {})
    except (pa.ArrowException, OSError) as exc:
        raise SpecError("", str(part), f"not a readable Parquet part ({brief(exc)})") from None


def row_place(path: Path, row: int) -> str:
    """Where row ``row`` of a table lives, for a message: ``<file> row <row>``, or for a
    folder of parts ``<part> row <row in the part> (row <row> of the table)``."""
    if not path.is_dir():
        return f"{path} row {row}"
    start = 0
    for part, n in part_rows(path):
        if row < start + n:
            return f"{part} row {row - start} (row {row} of the table)"
        start += n
    return f"{path} row {row}"


def check_aligned(path: Path, data: Path) -> None:
    """A streamed table's parts are the data's: the same names, each with the rows of the
    data's part of its name (SpecError naming the first part that differs)."""
    ours, theirs = part_rows(path), part_rows(data)
    for (part, n), (other, m) in zip(ours, theirs, strict=False):
        if n != m:
            raise SpecError(
                "",
                str(part),
                f"holds {n:,} rows where {data.name}/{other.name} holds {m:,}: each part "
                f"holds the rows of the data's part of its name",
            )
    if len(ours) != len(theirs):
        more, fewer = (ours, theirs) if len(ours) > len(theirs) else (theirs, ours)
        raise SpecError(
            "",
            str(more[len(fewer)][0]),
            f"has no counterpart in {(data if more is ours else path).name}/: the data and "
            "each per-row table have the same parts",
        )
