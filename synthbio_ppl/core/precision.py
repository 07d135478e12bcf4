"""float32 by default, float64 on request, without flipping JAX's global flag."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from numbers import Real
from typing import Any

from synthbio_ppl.core.errors import SpecError


@contextlib.contextmanager
def precision(dtype: str) -> Iterator[None]:
    """Run JAX in 64-bit mode inside the block for ``dtype == "float64"``; else do nothing."""
    if dtype == "float64":
        import jax

        with jax.enable_x64(True):
            yield
    else:
        yield


LARGEST = {"float32": 3.4028234663852886e38, "float64": 1.7976931348623157e308}
"""The largest finite value of each spec dtype (numpy's ``finfo(dtype).max``, written out:
validation loads no numpy)."""
SMALLEST = {"float32": 1.1754943508222875e-38, "float64": 2.2250738585072014e-308}
"""The smallest positive normal value of each spec dtype (``finfo(dtype).tiny``)."""


def beyond_range(value: float, dtype: str) -> bool:
    """Whether ``value`` is larger in magnitude than ``dtype``'s largest finite value."""
    return abs(value) > LARGEST[dtype]


def range_phrase(dtype: str) -> str:
    """What a number must be to stay finite in ``dtype``, for a SpecError's ``allowed``."""
    wider = " or dtype: float64" if dtype == "float32" else ""
    largest = f"±{LARGEST[dtype]:.4g}, the largest finite {dtype}"
    return f"must be within {largest}; use a smaller value{wider}"


def check_learning_rate(value: Any, name: str) -> float:
    """``value`` as a float if it is a real number (a numpy scalar too, not a bool) within
    float32's normal range: beyond it a float32 fit's Adam step overflows, below it the
    step rounds to 0 and nothing is fitted. Else SpecError naming ``name`` (the argument,
    or the command line's option)."""
    low, high = SMALLEST["float32"], LARGEST["float32"]
    number = float(value) if isinstance(value, Real) and not isinstance(value, bool) else None
    if number is None or not low <= number <= high:  # compared as a float: a float16 too
        raise SpecError(
            name,
            value,
            f"must be a positive number from {low:.4g} to {high:.4g} (float32's normal "
            "range: a larger step overflows in a float32 fit, a smaller one rounds to 0)",
        )
    return number
