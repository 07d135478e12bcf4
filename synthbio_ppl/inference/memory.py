"""Refuse a fit that would not fit in memory, from the compiled program's own figures.

A fit's program is compiled ahead of its run (``compiled``); XLA then reports the bytes
its arguments, outputs and temporaries take (``memory_analysis``), which on the CPU come
out of the machine's memory. The draws and the pointwise log-likelihood are then held
once more on the host (in the InferenceData), and the observed table once, beside what
the process already holds (its data, the compiled programs, the runtime: ``VmRSS``).
The total is compared with ``engine.budget.memory_limit`` (80% of physical memory, or
``SYNTHBIO_MEMORY_LIMIT``); on an accelerator the program's part is compared
with the device's own limit.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import jax

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.engine.budget import LIMIT_VARIABLE, memory_limit, readable_size

HOST_COPIES = 1
"""Host copies of a program's outputs beyond its own: the InferenceData's (NumPy views of
CPU arrays share their memory): measured in benchmarks/bench_fit_memory.py."""
_COMPILED: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_COMPILED_SIZE = 16


def compiled(program: Callable[..., Any], *args: Any) -> Any:
    """``program`` (a jitted function) compiled for the shapes of ``args``, kept for the
    next call with the same shapes (as ``jax.jit`` keeps its own)."""
    leaves, tree = jax.tree.flatten(args)
    signature = tuple((getattr(x, "shape", ()), str(getattr(x, "dtype", type(x)))) for x in leaves)
    key = (program, tree, signature)
    if key not in _COMPILED:
        _COMPILED[key] = program.lower(*args).compile()  # type: ignore[attr-defined]
        while len(_COMPILED) > _COMPILED_SIZE:
            _COMPILED.popitem(last=False)
    _COMPILED.move_to_end(key)
    return _COMPILED[key]


def program_bytes(executable: Any) -> tuple[int, int] | None:
    """(bytes the program holds while it runs, bytes of its outputs), or None where the
    backend does not say."""
    try:
        stats = executable.memory_analysis()
    except (NotImplementedError, RuntimeError, AttributeError):  # pragma: no cover
        return None
    if stats is None:  # pragma: no cover - backends without the analysis
        return None
    held = stats.argument_size_in_bytes + stats.output_size_in_bytes + stats.temp_size_in_bytes
    return int(held - stats.alias_size_in_bytes), int(stats.output_size_in_bytes)


def resident_bytes() -> int:
    """This process's resident memory now (``VmRSS``; 0 where /proc does not say)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    return 0  # pragma: no cover


def check_fit_memory(executable: Any, table_bytes: int, what: str, advice: str) -> None:
    """Raise SpecError when running ``executable`` (a compiled fit) would exceed the memory
    limit. ``table_bytes``: the observed table's host copy; ``what`` names the request
    (``"3,000,000 rows × 79 features, 1,000 draws"``); ``advice`` says what to ask for
    instead. Nothing is checked where the backend gives no memory figures."""
    figures = program_bytes(executable)
    if figures is None:  # pragma: no cover
        return
    held, outputs = figures
    resident = resident_bytes()  # the data, compiled programs, the runtime: still in use
    host = HOST_COPIES * outputs + table_bytes + resident
    device = jax.devices()[0]
    limit = memory_limit()
    device_limit = limit
    if device.platform == "cpu":
        held, host = held + host, 0
    else:  # pragma: no cover - an accelerator's memory is its own
        device_limit = (device.memory_stats() or {}).get("bytes_limit", limit)
    places = (
        (held, device_limit, "" if host == 0 else f"{device.platform} "),
        (host, limit, "host "),
    )
    for need, room, where in places:
        if need > room:
            raise SpecError(
                "fit",
                what,
                f"needs about {readable_size(need)} of {where}memory (this process holds "
                f"{readable_size(resident)} of it already), over the limit "
                f"{readable_size(room)}; {advice}, or raise {LIMIT_VARIABLE}",
            )
