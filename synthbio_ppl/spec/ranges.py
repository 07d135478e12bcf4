"""A spec's numbers must be finite in its dtype: the walk ``validate`` runs over all of them.

Every number a spec holds becomes a value of that dtype (a site, a constant of a formula),
so one beyond its largest finite value (1e39 in float32) would overflow to infinity when
generated. Pure Python: validation loads no numpy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from synthbio_ppl.core.errors import SpecError, format_path
from synthbio_ppl.core.locations import is_flag
from synthbio_ppl.core.precision import beyond_range, range_phrase


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
    ``dtype``'s largest finite value, naming its path."""
    for path, value in spec_numbers(data):
        if beyond_range(value, dtype):
            raise SpecError(path, value, range_phrase(dtype))
