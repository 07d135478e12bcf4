"""A one-line notice on stderr when compiling a program keeps the user waiting.

A new kind of block, family, layout or world compiles its programs once (seconds on a
small CPU); later tables re-use them. Without a word, that first wait looks like a hang.
The notice appears only when a compile has taken ``NOTICE_AFTER_S``, so cached programs
stay silent: one line per program that is slow to compile. In a notebook it shows under
the cell (stderr). ``SYNTHBIO_COMPILE_NOTICE=off`` silences it, and so does ``silenced()``
(the CLI's ``--quiet``, a fit's ``progress=False``).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

NOTICE_AFTER_S = 1.0
"""Seconds a compile runs before the notice appears."""
_OFF = {"0", "off", "false", "no"}
_SILENCED: ContextVar[bool] = ContextVar("synthbio_compile_notices_silenced", default=False)


def notices_on() -> bool:
    """Whether notices are shown: unless ``SYNTHBIO_COMPILE_NOTICE`` is 0/off/false/no or
    this thread is inside ``silenced()``."""
    if _SILENCED.get():
        return False
    return os.environ.get("SYNTHBIO_COMPILE_NOTICE", "on").strip().lower() not in _OFF


@contextmanager
def silenced(quiet: bool = True) -> Iterator[None]:
    """No notices from this thread inside the block (when ``quiet``)."""
    token = _SILENCED.set(_SILENCED.get() or quiet)
    try:
        yield
    finally:
        _SILENCED.reset(token)


@contextmanager
def compile_notice(what: str, after_s: float | None = None) -> Iterator[None]:
    """Print ``synthbio: compiling <what> (slow only the first time)`` as one
    whole line on stderr if the block is still running after ``after_s`` seconds (default
    ``NOTICE_AFTER_S``). One write of a whole line, so that another thread's line or a
    progress bar cannot split it; nothing when stderr is closed."""
    if not notices_on():
        yield
        return
    line = f"synthbio: compiling {what} (slow only the first time)\n"

    def show() -> None:
        stream = sys.stderr
        if stream is not None:
            with contextlib.suppress(OSError, ValueError):  # closed meanwhile
                stream.write(line)
                stream.flush()

    timer = threading.Timer(NOTICE_AFTER_S if after_s is None else after_s, show)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


class NoticedProgram:
    """A jitted program whose first call per precision (the one that traces and compiles)
    runs under ``compile_notice(what)``; later calls go straight to it."""

    def __init__(self, program: Callable[..., Any], what: str) -> None:
        self.program, self.what = program, what
        self._compiled: set[bool] = set()

    def __call__(self, *args: Any) -> Any:
        import jax

        x64 = bool(jax.config.jax_enable_x64)
        if x64 in self._compiled:
            return self.program(*args)
        with compile_notice(self.what):
            out = self.program(*args)  # dispatch returns once compiled; the run is async
        self._compiled.add(x64)
        return out
