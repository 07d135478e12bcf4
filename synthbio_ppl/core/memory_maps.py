"""Compiled programs kept within the process's memory-map limit.

Every XLA:CPU program maps three memory regions per compiled kernel (code, read-only data,
data) for as long as JAX's caches hold it (measured once, jax 0.10.2 on CPU: about 80
regions for a table of continuous blocks, about 1,100 for a count block, whose sampler
loops compile to a few hundred kernels). Linux allows a process ``vm.max_map_count``
regions (65,530 by default), and past it LLVM's JIT crashes the process (a segmentation
fault or an abort, never an exception).
A session that builds many layouts (a simulation study, a long notebook, a test suite)
would cross it.

:func:`make_room_for_programs` runs before a new program is built: when the process holds
more than half its limit, JAX's caches are cleared, which frees every compiled program
nothing else references. Programs needed again are recompiled, or read back from the
persistent compilation cache (:mod:`synthbio_ppl.core.cache`). On systems without
``/proc`` nothing is checked.
"""

from __future__ import annotations

import functools
from pathlib import Path

LIMIT_FILE = Path("/proc/sys/vm/max_map_count")
MAPS_FILE = Path("/proc/self/maps")
SHARE = 0.5
"""Share of the limit above which compiled programs are freed."""


@functools.cache
def map_limit() -> int | None:
    """The kernel's limit on memory regions per process, or None where it is unknown."""
    try:
        return int(LIMIT_FILE.read_text())
    except (OSError, ValueError):
        return None


def mapped_regions() -> int | None:
    """Memory regions this process maps now, or None where ``/proc`` is absent.

    Reading takes time linear in the regions, so it runs only before a compilation,
    which costs far more.
    """
    try:
        with MAPS_FILE.open("rb") as maps:
            return maps.read().count(b"\n")
    except OSError:
        return None


def make_room_for_programs() -> bool:
    """Clear JAX's caches if the process maps more than ``SHARE`` of its limit.

    Returns whether they were cleared. Call it before building or compiling a program.
    """
    limit, regions = map_limit(), mapped_regions()
    if limit is None or regions is None or regions <= SHARE * limit:
        return False
    import gc

    import jax

    jax.clear_caches()
    gc.collect()  # jitted closures in reference cycles hold their executables until then
    return True
