"""Progress of a streamed write: a tqdm bar (rows/s, ETA) on stderr, or a plain-text line."""

from __future__ import annotations

import importlib.util
import sys
import time
from typing import Any


def interactive() -> bool:
    """Whether someone watches stderr: a terminal, or a notebook's cell (a pipe or a log
    file would only collect a bar's frames)."""
    stream = sys.stderr  # None when closed
    return (stream is not None and stream.isatty()) or "ipykernel" in sys.modules


class Progress:
    """A tqdm bar (rows/s, ETA) on stderr, a plain-text fallback, or nothing."""

    def __init__(
        self, enabled: bool | None, total: int, initial: int, desc: str, unit: str = "rows"
    ) -> None:
        if enabled is None:
            enabled = interactive()
        self.bar: Any = None
        self.enabled = enabled
        self.total, self.n, self.t0, self.n0 = total, initial, time.monotonic(), initial
        self.unit = unit
        if not enabled:
            return
        try:  # a notebook's widget bar needs ipywidgets; without it, tqdm.auto warns
            if importlib.util.find_spec("ipywidgets") is not None:
                from tqdm.auto import tqdm
            else:
                from tqdm import tqdm
        except ImportError:
            return
        self.bar = tqdm(
            total=total,
            initial=initial,
            desc=desc,
            unit=unit,
            unit_scale=unit == "rows",
            file=sys.stderr,
        )

    def update(self, rows: int) -> None:
        self.n += rows
        if self.bar is not None:
            self.bar.update(rows)
        elif self.enabled:
            rate = (self.n - self.n0) / max(time.monotonic() - self.t0, 1e-9)
            shown = f"{rate:,.0f}" if rate >= 10 else f"{rate:.2f}"
            eta = (self.total - self.n) / rate if rate > 0 else float("inf")
            print(
                f"\r{self.n:,}/{self.total:,} {self.unit}  {shown} {self.unit}/s  ETA {eta:,.0f} s",
                end="",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            print(file=sys.stderr)
