"""Refuse a request that would not fit in memory (or, streamed, on disk) before anything
is allocated.

The estimate counts what a request holds at its peak: the generated table (three copies
at most: the draws, the DataFrame handed to pandas and Arrow's buffers when written), one
compiled step's buffers (whole 256-row chunks, whatever rows are asked for), the row
design (a bounded chunk of it when streamed), per-level means, and what each column
modifier declares (``memory_bytes``: batches count their effects and the dense class ×
batch rounding programme). With mask entries (missing values) the table is held twice
more (the observed copy with NaN and the complete values) plus the mask, one byte a cell.
The limit is 80% of the machine's physical memory, or ``SYNTHBIO_MEMORY_LIMIT`` (bytes,
or a number with K, M, G or T, e.g. ``64G``). A streamed run is also refused when its
Parquet would not fit in the free space of the target's disk (``check_disk``); other
writers check theirs with ``check_free_space`` (a netCDF's bytes: ``netcdf_bytes``) and
name the folder of a disk that fills while they write (``full_disk_named``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from synthbio_ppl.core.errors import SpecError, is_disk_full
from synthbio_ppl.model.layout import Layout
from synthbio_ppl.processes.registry import modifier_of, process_of

LIMIT_VARIABLE = "SYNTHBIO_MEMORY_LIMIT"
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def memory_limit() -> int:
    """Bytes a request may use: ``SYNTHBIO_MEMORY_LIMIT`` or 80% of physical memory."""
    text = os.environ.get(LIMIT_VARIABLE, "").strip()
    if text:
        match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?", text, re.IGNORECASE)
        if match is None:
            raise SpecError(LIMIT_VARIABLE, text, "must be bytes, or a number with K, M, G or T")
        limit = float(match.group(1)) * _UNITS[match.group(2).upper()]
        if not limit < 2**62:  # beyond any memory (and a float's inf for 400 digits)
            raise SpecError(LIMIT_VARIABLE, text[:40], "must be below 2^62 bytes (4 EiB)")
        return int(limit)
    try:
        return int(0.8 * os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 2**62


def request_bytes(
    spec: Any, layout: Layout, rows: int, streamed: bool = False, paired: bool = False
) -> int:
    """Peak bytes of generating ``rows`` rows of ``spec`` (the whole table in memory, or,
    ``streamed``, one bounded chunk of rows and of the row design at a time); ``paired``: a
    counterfactual world, drawn beside the factual one, with its float64 effects."""
    from synthbio_ppl.core.streams import ROW_CHUNK
    from synthbio_ppl.engine.draw import chunks_per_step
    from synthbio_ppl.engine.masking import LEVEL_CHUNK

    itemsize = 8 if spec.dtype == "float64" else 4
    classes = len(spec.classes)
    groups = sum(1 for b in layout.blocks if process_of(b.kind).latent_levels(b))
    copies = 3 + 2 * bool(layout.masks)
    total = 0 if streamed else rows * layout.n_features * (copies * itemsize + bool(layout.masks))
    if paired:  # the second table and the effects (counterfactual − factual, float64)
        total += total + 8 * rows * layout.n_features
    # one compiled step draws whole 256-row chunks: its buffers, whatever rows are asked for
    total += copies * chunks_per_step(layout) * ROW_CHUNK * layout.n_features * itemsize
    # the row design's codes and permutation temporaries (int64): every row's in memory, a
    # bounded chunk's when streamed (the design is a rule evaluated chunk by chunk)
    design_rows = min(rows, LEVEL_CHUNK) if streamed else rows
    total += 8 * design_rows * (6 + groups + len(layout.modifiers))
    total += 8 * classes * layout.n_features * 4  # class means
    total += effect_size_bytes(classes, layout.n_features)
    for block in layout.blocks:
        total += 8 * process_of(block.kind).latent_levels(block) * block.n_features
    for static in layout.modifiers:
        total += modifier_of(static.field).memory_bytes(static, classes, layout.n_features)
    return total


def effect_size_bytes(classes: int, n_features: int) -> int:
    """The truth's effect sizes: one column per pair of classes, each a pandas column of
    about 2 KiB of its own (2,000 one-row classes peaked at 3.9 GB, measured once)."""
    pairs = classes * (classes - 1) // 2
    return pairs * (8 * n_features * 4 + 2048)


def check_budget(
    spec: Any, layout: Layout, rows: int, streamed: bool = False, paired: bool = False
) -> None:
    """Raise SpecError when the request's estimate exceeds the memory limit."""
    need, limit = request_bytes(spec, layout, rows, streamed, paired), memory_limit()
    classes = len(spec.classes)
    pairs = effect_size_bytes(classes, layout.n_features)
    if need > limit and pairs > need / 2:  # the classes alone: name them
        raise SpecError(
            "classes",
            f"{classes:,} classes",
            f"their {classes * (classes - 1) // 2:,} pairs of effect sizes need about "
            f"{readable_size(pairs)}, over the memory limit {readable_size(limit)}; use fewer "
            f"classes, or raise {LIMIT_VARIABLE}",
        )
    for static in layout.modifiers:  # a modifier that alone takes most: name its field
        modifier = modifier_of(static.field)
        own = modifier.memory_bytes(static, classes, layout.n_features)
        if need > limit and own > need / 2:
            raise SpecError(
                f"{static.field}.n",
                getattr(getattr(spec, static.field), "n", None),
                f"needs about {readable_size(own)} (the class × level rounding), over the "
                f"memory limit {readable_size(limit)}; use fewer levels, or raise "
                f"{LIMIT_VARIABLE}",
            )
    if need > limit:
        what = "rows × features" if not streamed else "levels and features"
        what += ", two worlds and their effects" if paired else ""
        raise SpecError(
            "spec",
            f"about {readable_size(need)} for {rows:,} rows × {layout.n_features:,} features",
            f"over the memory limit {readable_size(limit)} ({what}); ask for less, stream with "
            f"--rows/--chunk-rows, or raise {LIMIT_VARIABLE}",
        )


def check_disk(
    spec: Any,
    layout: Layout,
    rows: int,
    folder: Any,
    field: str = "rows",
    written: int = 0,
) -> None:
    """Raise OSError (ENOSPC, naming the folder) when ``rows`` rows of ``spec`` written as
    Parquet below ``folder`` would not fit in the free space of its disk, ``written`` bytes
    of them already there (a resumed run's parts). The environment, not the request, is at
    fault, so the CLI exits 1; ``field`` names what sets the row count in the advice. Drawn
    values are counted at their full size: random floats leave Parquet's compression next
    to nothing to remove."""
    itemsize = 8 if spec.dtype == "float64" else 4
    need = rows * (layout.n_features * itemsize + 16) - written  # 16: label, covariates
    what = f"{rows:,} rows × {layout.n_features:,} features"
    check_free_space(folder, need, what, f"ask for fewer rows ({field}) or free some space")


def check_free_space(folder: Any, need: int, what: str, advice: str = "free some space") -> None:
    """Raise OSError (ENOSPC, naming ``folder``, or the nearest folder above it that exists)
    when ``need`` bytes of ``what`` would not fit in the free space of its disk: a writer
    refused before it starts leaves nothing half-written (h5py, for one, crashes the
    process when the disk fills under it)."""
    place = Path(folder).absolute()
    while not place.exists() and place != place.parent:
        place = place.parent
    try:
        free = shutil.disk_usage(place).free
    except OSError:  # cannot tell: the writer reports a full disk when it happens
        return
    if need > free:
        raise OSError(
            errno.ENOSPC,
            f"{what} need about {readable_size(need)} more on disk, over the "
            f"{readable_size(free)} free here; {advice}",
            str(place),
        )


@contextlib.contextmanager
def full_disk_named(folder: Any, message: str) -> Iterator[None]:
    """Re-raise a full disk met inside the block as OSError(ENOSPC, ``message``, ``folder``):
    the writers' own messages name no path, or a staging file the caller removes."""
    try:
        yield
    except Exception as exc:
        if is_disk_full(exc):
            raise OSError(errno.ENOSPC, message, str(folder)) from exc
        raise


NETCDF_MARGIN = 2**20
"""Bytes added to every netCDF estimate (HDF5's superblock, headers and B-trees)."""


def netcdf_bytes(idata: Any) -> int:
    """An upper bound on the bytes of ``idata`` (ArviZ InferenceData) written as netCDF:
    its arrays' bytes, a quarter more, its attributes, 16 KiB a variable (coordinates
    included) and ``NETCDF_MARGIN``. Measured once: files took 2 to 4 KiB a variable beyond
    the arrays' bytes (a 440 KB fit 508 KB; a 11 KB one, of 38 variables, 147 KB)."""
    groups = [idata[name] for name in idata.groups()]
    arrays = sum(int(group.nbytes) for group in groups)
    attrs = sum(len(str(v)) for group in groups for v in group.attrs.values())
    variables = sum(len(group.variables) for group in groups)
    return arrays + arrays // 4 + attrs + variables * 2**14 + NETCDF_MARGIN


def readable_size(n: float) -> str:
    """Bytes as a short text with a binary unit: ``readable_size(3 * 2**30)`` is ``"3 GiB"``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} TiB"  # pragma: no cover
