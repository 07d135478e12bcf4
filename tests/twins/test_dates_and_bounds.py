"""Dates and bounds the twin cannot use are refused before the fit, saying what works.

``bounds`` for a categorical column (text, boolean, category, or declared categorical) were
silently ignored; a date column's refusal said "convert to numbers" without a way that
works with a time zone (``t - pd.Timestamp("2020-01-01")`` raises on a tz-aware column).
Each date refusal now carries a conversion, which these tests run as the message writes
it and then fit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import synthbio_ppl as sb
import synthbio_ppl.twins.fitting as fitting
from synthbio_ppl.twins.columns import read_layout

FAST = {"method": "map", "svi_steps": 300, "rank": 1}  # as tests/twins/test_columns.py
RECIPE = "days since its first date: "


def table(n: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "flag": rng.random(n) > 0.5,
            "text": rng.choice(["a", "b"], n).astype(object),
            "cat": pd.Categorical(rng.choice(["u", "v"], n)),
            "count": rng.integers(0, 9, n),
            "y": np.repeat(["p", "q"], n // 2),
        }
    )


@pytest.fixture
def no_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any fit fails the test: the refusals must come before it."""

    def fit(*args: object, **kwargs: object) -> None:
        raise AssertionError("the fit ran before the refusal")

    monkeypatch.setattr(fitting, "_fit_program", fit)


# --------------------------------------------------------------------------- bounds


@pytest.mark.parametrize(
    ("column", "types", "kind"),
    [
        ("flag", None, "categorical (dtype bool)"),
        ("text", None, "categorical (dtype object)"),
        ("cat", None, "categorical (dtype category)"),
        ("count", {"count": "categorical"}, "declared categorical in types"),
    ],
)
def test_bounds_of_a_categorical_column_are_refused(no_fit, column, types, kind) -> None:
    with pytest.raises(sb.SpecError) as info:
        sb.twin(table(), label="y", types=types, bounds={column: (0, 1)}, **FAST)
    assert info.value.path == f"bounds.{column}"
    message = str(info.value)
    assert f"column {column!r} is {kind}" in message, message
    assert "bounds apply only to numeric (continuous or integer) columns" in message


def test_bounds_of_numeric_columns_still_apply() -> None:
    layout = read_layout(table(), "y", bounds={"x": (-10, 10), "count": (None, 20)})
    columns = {c.name: c for c in layout.columns}
    assert (columns["x"].low, columns["x"].high) == (-10, 10)
    assert (columns["count"].low, columns["count"].high) == (None, 20)  # given, not 0


# --------------------------------------------------------------------------- dates

BERLIN = pd.date_range("2020-03-20", periods=30, freq="31h", tz="Europe/Berlin")  # over DST


def with_dates(values: object) -> pd.DataFrame:
    return pd.DataFrame({"when": values, "y": np.repeat(["p", "q"], 15)})


def follow(message: str, data: pd.DataFrame) -> pd.DataFrame:
    """Run the conversion the message gives, as written, on a copy of ``data``."""
    assert RECIPE in message, message
    code = message.split(RECIPE, 1)[1].split(" (or declare", 1)[0]
    data = data.copy()
    exec(code, {"pd": pd, "data": data})
    return data


DATES = {
    "tz-aware datetime64": BERLIN,
    "naive datetime64": BERLIN.tz_localize(None),
    "tz-aware timestamps of two zones": pd.Series(
        [t if i % 2 else t.tz_convert("America/New_York") for i, t in enumerate(BERLIN)],
        dtype=object,
    ),
    "ISO text with offsets (a CSV)": pd.Series(BERLIN.astype(str), dtype=object),
    "pyarrow timestamps": pd.Series(BERLIN).astype("timestamp[ns, tz=UTC][pyarrow]"),
}


@pytest.mark.parametrize("types", [None, {"when": "continuous"}, {"when": "integer"}])
@pytest.mark.parametrize("form", sorted(DATES))
def test_dates_are_refused_with_a_conversion_that_works(no_fit, form: str, types) -> None:
    """Declaring a date column numeric gives the same advice (it used to say "can only be
    categorical" for text, or repeat "convert to numbers"), and the advice runs."""
    data = with_dates(DATES[form])
    with pytest.raises(sb.SpecError) as info:
        read_layout(data, "y", types)
    message = str(info.value)
    assert info.value.path in ("data.when", "types.when") and "dates" in message, message
    converted = follow(message, data)
    assert converted["when"].min() == 0 and converted["when"].max() > 30  # days, 31 h apart
    column = read_layout(converted, "y", types).columns[0]
    assert column.kind == (types or {}).get("when", "continuous")


def test_a_tz_aware_date_column_converted_as_advised_twins_and_converts_back() -> None:
    with pytest.raises(sb.SpecError) as info:
        sb.twin(with_dates(BERLIN), label="y", **FAST)
    data = follow(str(info.value), with_dates(BERLIN))
    days = sb.twin(data, label="y", **FAST).sample(200, seed=1)["when"]
    start = BERLIN.min().tz_convert("UTC")
    back = (start + pd.to_timedelta(days, unit="D")).dt.tz_convert("Europe/Berlin")
    assert str(back.dtype) == "datetime64[ns, Europe/Berlin]"
    assert back.min() >= BERLIN.min() and back.max() <= BERLIN.max()  # the observed range


def test_a_date_column_may_still_be_declared_categorical() -> None:
    """The escape hatch the refusal names (it copies the dates)."""
    layout = read_layout(
        with_dates(DATES["ISO text with offsets (a CSV)"]), "y", {"when": "categorical"}
    )
    assert layout.columns[0].kind == "categorical" and len(layout.columns[0].levels) == 30


def test_durations_are_refused_with_their_conversion(no_fit) -> None:
    data = with_dates(pd.to_timedelta(np.arange(30.0), unit="h"))
    with pytest.raises(sb.SpecError, match=r"^data\.when: 'timedelta64\[ns\]'") as info:
        sb.twin(data, label="y", **FAST)
    assert "data['when'] = data['when'] / pd.Timedelta(days=1)" in str(info.value)
    data["when"] = data["when"] / pd.Timedelta(days=1)
    assert read_layout(data, "y").columns[0].kind == "continuous"
