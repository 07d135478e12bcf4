"""float32 by default, float64 on request, without flipping JAX's global flag."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def precision(dtype: str) -> Iterator[None]:
    """Run JAX in 64-bit mode inside the block for ``dtype == "float64"``; else do nothing."""
    if dtype == "float64":
        import jax

        with jax.enable_x64(True):
            yield
    else:
        yield
