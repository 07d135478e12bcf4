"""A one-line notice on stderr when compiling a program keeps the user waiting.

A new table shape compiles its programs once (seconds on a small CPU); the same shape later
re-uses them. Without a word, that first wait looks like a hang. The notice appears only
when a compile has taken ``NOTICE_AFTER_S``, so cached programs stay silent: one line per
program that is slow to compile. In a notebook it shows under the cell (stderr).
``SYNTHBIO_COMPILE_NOTICE=off`` silences it, and so does ``silenced()`` (the CLI's
``--quiet``, a fit's ``progress=False``).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

NOTICE_AFTER_S = 1.0
"""Seconds a compile runs before the notice appears."""
_OFF = {"0", "off", "false", "no"}
_silenced = 0


def notices_on() -> bool:
    """Whether notices are shown: unless ``SYNTHBIO_COMPILE_NOTICE`` is 0/off/false/no or
    inside ``silenced()``."""
    if _silenced:
        return False
    return os.environ.get("SYNTHBIO_COMPILE_NOTICE", "on").strip().lower() not in _OFF


@contextmanager
def silenced(quiet: bool = True) -> Iterator[None]:
    """No notices inside the block (when ``quiet``)."""
    global _silenced
    _silenced += bool(quiet)
    try:
        yield
    finally:
        _silenced -= bool(quiet)


@contextmanager
def compile_notice(what: str, after_s: float | None = None) -> Iterator[None]:
    """Print ``synthbio: compiling <what>…`` on stderr if the block runs past ``after_s``
    seconds (default ``NOTICE_AFTER_S``), then `` done in <s> s`` on the same line."""
    if not notices_on():
        yield
        return
    lock, state = threading.Lock(), {"shown": False, "finished": False}
    start = time.monotonic()

    def show() -> None:
        with lock:
            if not state["finished"]:
                print(f"synthbio: compiling {what}…", end="", file=sys.stderr, flush=True)
                state["shown"] = True

    timer = threading.Timer(NOTICE_AFTER_S if after_s is None else after_s, show)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        with lock:
            state["finished"] = True
            if state["shown"]:
                took = time.monotonic() - start
                print(f" done in {took:.1f} s", file=sys.stderr, flush=True)


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
