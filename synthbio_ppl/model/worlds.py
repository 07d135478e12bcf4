"""A counterfactual world from ``without=`` and ``do=``: the sites it sets and their values.

``without`` names processes to switch off; each registered process says what it can switch
off and which site values do it (``switches``); mask processes hide no cell. ``do`` sets
variables the blocks name (``variable``): a structural scene's covariates (by level name),
latent factors and biomarkers, or any feature column; a value for every row, or one per
row with None/NaN where the row keeps its own. Nothing here draws: the engine draws both
worlds with the same keys.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.world import Setting, Variable, World
from synthbio_ppl.model.layout import Layout
from synthbio_ppl.processes.block import unpadded
from synthbio_ppl.processes.registry import mask_of, modifier_of, process_of, response_of


def available_switches(layout: Layout) -> dict[str, dict[str, Any]]:
    """``{name: {site: value}}`` of everything ``without=`` may switch off in this scene
    (a mask process's name maps to no site)."""
    found: dict[str, dict[str, Any]] = {}

    def add(switches: dict[str, dict[str, Any]]) -> None:
        for name, sites in switches.items():
            found.setdefault(name, {}).update(sites)

    for static in layout.modifiers:
        add(modifier_of(static.field).switches(static))
    for block in layout.blocks:
        add(process_of(block.kind).switches(block))
    if layout.response is not None:
        add(response_of(layout.response.field).switches(layout.response))
    for static in layout.masks:
        add({mask_of(static.field).switch: {}})
    return found


def find_variable(layout: Layout, name: str) -> Variable | None:
    """The variable ``name`` some block lets ``do`` set, or None."""
    for block in layout.blocks:
        variable = process_of(block.kind).variable(block, name)
        if variable is not None:
            return variable
    return None


def variable_names(layout: Layout) -> list[str]:
    """What ``do`` may set, for messages."""
    return [n for b in layout.blocks for n in process_of(b.kind).variable_names(b)]


def build_world(
    layout: Layout,
    n_rows: int,
    without: str | Sequence[str] | None = None,
    do: Mapping[str, Any] | None = None,
    dtype: str = "float32",
) -> World:
    """The world ``without`` and ``do`` describe (``World()`` when both are empty).

    A per-row value is a sequence of ``n_rows`` values (a Series is matched to the rows by
    its index, which must be 0…n_rows−1), None/NaN/pd.NA where a row keeps its own.
    Raises SpecError naming ``without[i]`` or ``do.<name>``, the value and what is allowed:
    a name the scene does not have or named twice, a level that does not exist, a value
    that is not a finite number of ``dtype`` (a count: a whole number in [0, 2^31)), or a
    per-row value whose length or index is not the rows'.
    """
    names = _names(without)
    switches = available_switches(layout)
    settings: list[Setting] = []
    values: list[tuple[Any, Any]] = []
    masks = True
    masking = {mask_of(s.field).switch for s in layout.masks}
    for i, name in enumerate(names):
        if name in names[:i]:
            raise SpecError(f"without[{i}]", name, "named twice; give each name once")
        if name not in switches:
            allowed = ", ".join(sorted(switches)) or "nothing (no batches, dropout or masks)"
            raise SpecError(f"without[{i}]", name, f"this scene can switch off: {allowed}")
        masks = masks and name not in masking
        for site, value in switches[name].items():
            settings.append(Setting(site))
            values.append((np.asarray(value), np.asarray(True)))
    intervened = np.full(n_rows, bool(names))
    if do is not None and not isinstance(do, Mapping):
        raise SpecError("do", _brief(do), "a mapping {variable: value}, e.g. {'smoker': 'never'}")
    for name, value in (do or {}).items():
        variable = find_variable(layout, str(name))
        if variable is None:
            names = variable_names(layout)
            known = ", ".join(names[:12]) + (
                f", … ({len(names)} in all)" if len(names) > 12 else ""
            )
            allowed = f"not a variable of this scene; it has: {known}"
            fixed = unpadded(str(name))
            if fixed is not None and find_variable(layout, fixed) is not None:
                allowed = f"not a variable of this scene; names are not zero-padded: {fixed}"
            raise SpecError(f"do.{name}", str(name), allowed)
        setting, pair, rows = _setting(variable, f"do.{name}", value, n_rows, dtype)
        settings.append(setting)
        values.append(pair)
        intervened |= rows
    return World(
        settings=tuple(settings),
        values=tuple(values),
        masks=masks,
        without=tuple(names),
        do=dict(do or {}),
        intervened=intervened,
    )


def do_from_text(layout: Layout, texts: Sequence[str]) -> dict[str, Any]:
    """``do`` from ``NAME=VALUE`` texts (the command line): a categorical variable's value
    stays a level name, any other's is read as a number. SpecError for a text without
    ``=`` or a number that is not one."""
    do: dict[str, Any] = {}
    for text in texts:
        name, sep, value = text.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name:
            raise SpecError("--do", text, "NAME=VALUE, e.g. smoker=never or Height=170")
        if name in do:
            raise SpecError(f"do.{name}", text, "set twice; give each variable once")
        variable = find_variable(layout, name)
        if variable is not None and variable.levels is None:
            try:
                do[name] = float(value)
            except ValueError:
                raise SpecError(f"do.{name}", value, "a finite number") from None
        else:
            do[name] = value
    return do


def _names(without: str | Sequence[str] | None) -> list[str]:
    if without is None:
        return []
    if isinstance(without, str):
        return [without]
    if not isinstance(without, Sequence):
        raise SpecError("without", _brief(without), "a name or a list of names, e.g. ['batches']")
    for i, name in enumerate(without):
        if not isinstance(name, str):
            raise SpecError(f"without[{i}]", _brief(name), "a name such as 'batches'")
    return list(without)


def _setting(
    variable: Variable, path: str, value: Any, n_rows: int, dtype: str
) -> tuple[Setting, tuple[Any, Any], np.ndarray]:
    """The setting, its (value, where) pair and the rows it touches."""
    if np.ndim(value) == 0 and not isinstance(value, list | tuple):
        code = _scalar(variable, path, value, dtype)
        return (
            Setting(variable.site, variable.column),
            (np.asarray(code), np.asarray(True)),
            np.ones(n_rows, bool),
        )
    if isinstance(value, pd.Series) and not value.index.equals(pd.RangeIndex(n_rows)):
        if len(value) != n_rows or not value.index.sort_values().equals(pd.RangeIndex(n_rows)):
            raise SpecError(path, _brief(value), f"a Series indexed by the rows 0…{n_rows - 1}")
        value = value.sort_index()
    items = list(np.asarray(value, dtype=object).ravel()) if np.ndim(value) == 1 else None
    if items is None or len(items) != n_rows:
        raise SpecError(
            path,
            _brief(value),
            f"a value for every row, or one per row ({n_rows}, None where a row keeps its own)",
        )
    values = np.asarray(items, dtype=object)
    where = ~pd.isna(values)  # None, NaN of any float type, pd.NA, NaT: the row keeps its own
    codes = _codes(variable, values[where], dtype)
    if codes is None:  # some value is not allowed: name the first, as a single value would
        for i in np.flatnonzero(where):
            _scalar(variable, f"{path}[{i}]", items[i], dtype)
    full = np.zeros(n_rows, dtype=np.int32 if variable.levels is not None else np.float64)
    full[where] = codes
    return Setting(variable.site, variable.column, per_row=True), (full, where), where


def _codes(variable: Variable, given: np.ndarray, dtype: str) -> np.ndarray | None:
    """The stored values of the given (non-blank) per-row values in one vectorised pass,
    or None when any is not allowed (``_scalar`` then names it)."""
    if variable.levels is not None:
        if pd.api.types.infer_dtype(given, skipna=False) not in ("string", "empty"):
            return None
        codes = pd.Index(variable.levels).get_indexer(given)
        return None if (codes < 0).any() else codes.astype(np.int32)
    if pd.api.types.infer_dtype(given, skipna=False) not in ("integer", "floating", "empty",
                                                             "mixed-integer-float"):  # fmt: skip
        return None
    try:
        numbers = given.astype(np.float64)
    except OverflowError:  # an int beyond float64
        return None
    largest = float(np.finfo(dtype).max)
    if not (np.isfinite(numbers) & (np.abs(numbers) <= largest)).all():
        return None
    if variable.count and not ((numbers == np.floor(numbers)) & (numbers >= 0)
                               & (numbers < COUNT_LIMIT)).all():  # fmt: skip
        return None
    return numbers


COUNT_LIMIT = 2**31


def _scalar(variable: Variable, path: str, value: Any, dtype: str = "float64") -> Any:
    if variable.levels is not None:
        if isinstance(value, str) and value in variable.levels:
            return np.int32(variable.levels.index(value))
        shown = value if isinstance(value, str) and len(value) <= 80 else _brief(value)
        raise SpecError(path, shown, f"one of the levels {list(variable.levels)}")
    number = value.item() if isinstance(value, np.generic) else value
    if isinstance(number, bool) or not isinstance(number, int | float):
        raise SpecError(path, _brief(value), "a finite number")
    largest = float(np.finfo(dtype).max)
    try:
        finite = math.isfinite(number) and abs(float(number)) <= largest
    except OverflowError:  # an int beyond float64
        finite = False
    if not finite:
        raise SpecError(path, _brief(value), f"a finite number of the scene's {dtype}")
    if variable.count and not (float(number).is_integer() and 0 <= number < COUNT_LIMIT):
        raise SpecError(path, number, "a count: a whole number in [0, 2^31)")
    return np.float64(number)


def _brief(value: Any) -> Any:
    """``value`` itself when short (a number or a name), else a cut repr."""
    if isinstance(value, int | float | str) and len(repr(value)) <= 80:
        return value
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
