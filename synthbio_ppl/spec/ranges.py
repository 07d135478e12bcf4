"""A spec's numbers must be finite in its dtype: the walk ``validate`` runs over all of them.

Every number a spec holds becomes a value of that dtype (a site, a constant of a formula),
so one beyond its largest finite value (1e39 in float32) would overflow to infinity when
generated, and one nearer 0 than its smallest normal value (1e-300) would be 0: a scale of
0 breaks its family. Pure Python: validation loads no numpy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from synthbio_ppl.core.errors import SpecError, format_path
from synthbio_ppl.core.locations import is_flag
from synthbio_ppl.core.precision import SMALLEST, beyond_range, range_phrase


def spec_numbers(data: Any) -> Iterator[tuple[str, float]]:
    """``(path, number)`` of every number in ``data`` (a spec as ``model_dump`` gives it:
    dicts, lists, tuples, numbers), in the order written, true/false left out; paths as
    the user wrote them (``structure.biomarkers.Height.shifts.sex.male``)."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(data, ())]
    while stack:
        value, loc = stack.pop()
        if is_flag(value):
            continue
        if isinstance(value, int | float):
            yield format_path(loc), value
        elif isinstance(value, dict):
            stack += [(item, (*loc, key)) for key, item in reversed(value.items())]
        elif isinstance(value, list | tuple):
            stack += [(item, (*loc, i)) for i, item in reversed(list(enumerate(value)))]


def check_numbers_in_range(data: Any, dtype: str) -> None:
    """Raise SpecError at the first number of ``data`` (see ``spec_numbers``) beyond
    ``dtype``'s largest finite value, or nearer 0 than its smallest normal one (but not
    0: it is 0 or loses its digits in the dtype, and a scale of 0 breaks its family),
    naming its path."""
    for path, value in spec_numbers(data):
        if beyond_range(value, dtype):
            raise SpecError(path, value, range_phrase(dtype))
        if isinstance(value, float) and 0 < abs(value) < SMALLEST[dtype]:
            raise SpecError(
                path,
                value,
                f"is nearer 0 than {SMALLEST[dtype]:.4g}, the smallest normal {dtype}: "
                "it would be 0 or lose its digits; use 0 where 0 is meant, or a larger value",
            )
