"""Dates in a twin's input: refused before the fit, with a conversion to numbers that works.

A twin models numbers and categories, not dates. A ``datetime64`` column (naive or with a
time zone), a duration, a period or an interval is refused whatever ``types`` declares.
A column of dates that pandas holds otherwise (pyarrow timestamps or dates, ``date`` or
``datetime`` objects, text that reads as ISO dates, as a CSV holds them) is only refused
where a categorical twin would copy its values (``columns._check_not_identifier``) or where
``types`` declares it numeric. Each refusal gives the same conversion, which runs as written
on every one of these forms, with or without a time zone: days since the column's first
date, ``t = pd.to_datetime(data[col], utc=True); data[col] = (t - t.min()) /
pd.Timedelta(days=1)`` (``utc=True`` puts every time zone, and none, on one clock, so
differences are exact and no naive/aware mix is left). The twin of that column is a number
of days; ``t.min() + pd.to_timedelta(days, unit="D")`` (then ``.dt.tz_convert(tz)``) gives
dates back.
"""

from __future__ import annotations

import pandas as pd

from synthbio_ppl.core.errors import SpecError

DATE_PROBE = 50
"""How many observed cells of a text or object column are read to tell whether it holds
dates (all of them must be)."""


def days_recipe(name: str) -> str:
    """The conversion each refusal gives: days since the column's first date."""
    return (
        f"convert it to numbers first, e.g. days since its first date: "
        f"t = pd.to_datetime(data[{name!r}], utc=True); "
        f"data[{name!r}] = (t - t.min()) / pd.Timedelta(days=1)"
    )


def refuse_temporal_dtype(values: pd.Series) -> None:
    """Refuse a ``datetime64`` column (naive or time-zone aware), a duration, a period or
    an interval column: ``SpecError`` naming the column, its dtype and a conversion."""
    name, dtype = str(values.name), values.dtype
    if pd.api.types.is_datetime64_any_dtype(values):
        rule = f"a twin does not model dates, whatever types declares; {days_recipe(name)}"
    elif pd.api.types.is_timedelta64_dtype(values):
        rule = (
            "a twin does not model durations, whatever types declares; convert it to "
            f"numbers first, e.g. days: data[{name!r}] = data[{name!r}] / pd.Timedelta(days=1)"
        )
    elif isinstance(dtype, pd.PeriodDtype | pd.IntervalDtype):
        rule = (
            "periods and intervals are not modelled; convert them to numbers first (a "
            "period's start as days since the first, an interval's midpoint and length)"
        )
    else:
        return
    raise SpecError(f"data.{name}", str(dtype), rule)


def date_example(values: pd.Series) -> str | None:
    """The first observed cell, as text, when the column holds dates in another form than
    ``datetime64``: pyarrow timestamps or dates, ``date``/``datetime`` objects, or text
    that reads as ISO dates (its first ``DATE_PROBE`` observed cells); else None."""
    observed = values.dropna().iloc[:DATE_PROBE]
    if observed.empty:
        return None
    if isinstance(observed.dtype, pd.CategoricalDtype):
        observed = observed.astype(object)
    inferred = pd.api.types.infer_dtype(observed, skipna=True)
    if getattr(observed.dtype, "kind", "") == "M" or inferred in ("datetime64", "datetime", "date"):
        return str(observed.iloc[0])
    if inferred != "string":
        return None
    parsed = pd.to_datetime(observed.astype(str), format="ISO8601", utc=True, errors="coerce")
    return str(observed.iloc[0]) if bool(parsed.notna().all()) else None


def refuse_dates_as_numbers(values: pd.Series, value: object, path: str | None = None) -> None:
    """A column of dates held as text or objects used as numbers (``types`` declares it
    numeric, or ``bounds`` bound it): say it holds dates and how to convert them (the text
    ``float`` of a date is not a number). ``path`` names the use (default ``types.<col>``)
    and ``value`` is what was given there."""
    example = date_example(values)
    if example is None:
        return
    name = str(values.name)
    kept = " kept as text" if isinstance(values.dropna().iloc[0], str) else ""
    raise SpecError(
        path or f"types.{name}",
        value,
        f"column {name!r} holds dates{kept} (such as {example!r}), not numbers; "
        f"{days_recipe(name)}",
    )
