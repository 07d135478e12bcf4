"""truth.json's numbers: finite, but where a table leaves a cell blank.

The truth is written by ``json.dumps``, which writes a float's NaN and infinities as the
bare tokens ``NaN``, ``Infinity`` and ``-Infinity`` (not JSON, but Python reads them). The
truth writes NaN only as a blank cell of a table (a count block's ``base_mean`` on the rows
of other blocks' features, a biomarker without a clip limit), and no infinity at all; an
outcome's undefined score is written as null. So a folder's truth.json is refused where
it holds an infinity anywhere (or a number too large for a float, read as one), or NaN
outside a table's cells (a structural biomarker's class mean may be NaN: one beyond a clip
has none in closed form; ``data.truth_spec`` compares the cells with the spec's). The
whole truth is walked only when such a token was read.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from synthbio_ppl.core.errors import SpecError

_HUGE = re.compile(r"\d[eE]\+?0*[1-9]\d{2}")
"""An exponent of three digits: a number that may overflow a float (read as infinity)."""
ALLOWED = "truth values must be finite numbers (NaN only as a blank cell of a table)"


def parse_truth(text: str, path: str) -> Any:
    """truth.json's text as Python values; ValueError (or RecursionError) where it is not
    JSON, SpecError naming the entry and the value where it holds a number the truth
    cannot (see the module docstring)."""
    seen: list[str] = []

    def constant(token: str) -> float:
        seen.append(token)
        return float(token)

    data = json.loads(text, parse_constant=constant)
    if seen or _HUGE.search(text):
        check_truth_numbers(data, path)
    return data


def check_truth_numbers(data: Any, path: str) -> None:
    """SpecError naming the first entry of ``data`` (truth.json read) that holds an
    infinity, or NaN outside a table's cells."""
    stack: list[tuple[Any, str, bool]] = [(data, "", False)]
    while stack:
        value, where, cell = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            if cell and math.isnan(value):
                continue
            raise SpecError(f"{path} entry {where or '(the whole truth)'}", value, ALLOWED)
        if _is_table(value):
            stack += [(value["index"], f"{where}.index", False)]
            stack += [(value["columns"], f"{where}.columns", False)]
            stack += reversed(_cells(value, where))
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                stack.append((item, f"{where}.{key}" if where else str(key), False))
        elif isinstance(value, list):
            stack += [
                (item, f"{where}[{i}]", False) for i, item in reversed(list(enumerate(value)))
            ]


def _is_table(value: Any) -> bool:
    """A DataFrame as the truth writes it (pandas' ``split`` form)."""
    return (
        isinstance(value, dict)
        and set(value) == {"index", "columns", "data"}
        and isinstance(value["data"], list)
        and isinstance(value["index"], list)
        and isinstance(value["columns"], list)
    )


def _cells(table: dict[str, Any], where: str) -> list[tuple[Any, str, bool]]:
    """A table's cells that are not finite numbers or text, each with its name
    (``features['inf_0', 'base_mean']``) and whether it is a cell (NaN allowed: a nested
    list or object is walked as any other entry)."""
    index, columns = table["index"], table["columns"]
    out = []
    for i, row in enumerate(table["data"]):
        for j, cell in enumerate(row if isinstance(row, list) else [row]):
            if isinstance(cell, float) and math.isfinite(cell):
                continue
            if isinstance(cell, float | dict | list):
                name = f"{where}[{_label(index, i)!r}, {_label(columns, j)!r}]"
                out.append((cell, name, isinstance(cell, float)))
    return out


def _label(labels: list[Any], at: int) -> Any:
    return labels[at] if at < len(labels) else at
