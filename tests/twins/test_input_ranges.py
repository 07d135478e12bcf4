"""Inputs the float32 twin cannot hold, and inputs of the wrong type, refused by name.

A column of values near 1e300 fitted (its standardisation runs in float64) and then broke
the scoring with overflow warnings; a learning rate of 1e300 overflowed inside JAX and the
fit "diverged, naming data", one of 1e-300 rounded to 0 and fitted nothing;
``np.float32(0.1)`` was refused as a learning rate; a share given as text was read as a
number, and a share too small for one row left its class out. Each is now refused (or
accepted) before the fit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import synthbio_ppl as sb
from synthbio_ppl.core.precision import LARGEST
from synthbio_ppl.twins.columns import read_layout
from synthbio_ppl.twins.posterior import Twin
from tests.twins.test_fit_settings import Fitted, no_fit  # noqa: F401 (a fixture used below)

N = 30


def table(scale: float = 1.0) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    return pd.DataFrame(
        {
            "x": rng.normal(size=N) * scale,
            "when": pd.date_range("2021-01-01", periods=N).astype(str).astype(object),
            "y": np.repeat(["p", "q"], N // 2),
        }
    )


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize("scale", [1e300, -1e39])
def test_values_beyond_float32_are_refused_naming_the_column(scale: float) -> None:
    with pytest.raises(sb.SpecError) as info:
        read_layout(table(scale).drop(columns="when"), "y")
    assert info.value.path == "data.x"
    message = str(info.value)
    assert "at row" in message and "float32" in message and "rescale the column" in message


def test_values_within_float32_are_kept() -> None:
    column = read_layout(table(1e37).drop(columns="when"), "y").columns[0]
    assert column.kind == "continuous" and abs(column.high) < LARGEST["float32"]


def test_the_fit_refuses_a_feature_beyond_its_dtype() -> None:
    """``synthbio fit`` cast a 1e300 cell to float32 with an overflow warning and then
    blamed the learning rate; a float64 spec holds it."""
    from synthbio_ppl.inference.observed_table import feature_matrix

    frame = pd.DataFrame({"a": [0.5, 1e300, 2.0]})
    with pytest.raises(sb.SpecError) as info:
        feature_matrix(frame, ["a"], set(), "float32")
    assert info.value.path == "X.a" and "1e+300 at row 1" in str(info.value)
    assert "dtype: float64" in str(info.value)
    assert feature_matrix(frame, ["a"], set(), "float64")[1, 0] == 1e300


# --------------------------------------------------------------------------- learning rate


@pytest.mark.usefixtures("no_fit")
@pytest.mark.parametrize("rate", [1e300, 1e-300, 5e-324, "0.1", True, np.bool_(True)])
def test_learning_rates_outside_float32_or_not_numbers_are_refused(rate) -> None:
    with pytest.raises(sb.SpecError) as info:
        sb.twin(table().drop(columns="when"), label="y", method="map", learning_rate=rate)
    assert info.value.path == "learning_rate"
    assert "1.175e-38 to 3.403e+38" in str(info.value)


@pytest.mark.usefixtures("no_fit")
@pytest.mark.parametrize("rate", [np.float32(0.1), np.float64(0.05), np.int64(1), 0.01])
def test_numpy_learning_rates_are_accepted(rate) -> None:
    with pytest.raises(Fitted):
        sb.twin(table().drop(columns="when"), label="y", method="svi", learning_rate=rate)


@pytest.mark.parametrize("rate", [1e300, 1e-300, np.float64(1e39)])
def test_the_spec_fit_refuses_the_same_learning_rates(rate: float) -> None:
    from synthbio_ppl.inference.fitting import fit

    with pytest.raises(sb.SpecError) as info:  # checked before the data
        fit(None, pd.DataFrame(), "svi", learning_rate=rate)
    assert info.value.path == "learning_rate"


# --------------------------------------------------------------------------- bounds


def test_bounds_of_dates_kept_as_text_say_so_and_how_to_convert() -> None:
    """They were called categorical columns (dtype object)."""
    with pytest.raises(sb.SpecError) as info:
        read_layout(table(), "y", bounds={"when": (0, 1)})
    message = str(info.value)
    assert info.value.path == "bounds.when"
    assert "holds dates kept as text (such as '2021-01-01')" in message, message
    assert "t = pd.to_datetime(data['when'], utc=True)" in message


# --------------------------------------------------------------------------- balance


@pytest.fixture(scope="module")
def fitted() -> Twin:
    """A Twin whose class counts are known (counts needs no draws)."""
    layout = read_layout(table().drop(columns="when"), "y")
    counts = {"p": 15, "q": 15}
    return Twin(layout, None, {}, "map", counts, {}, 0.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("share", ["0.5", True, None, [0.5]])
def test_a_share_that_is_not_a_number_is_refused_naming_its_class(fitted, share) -> None:
    with pytest.raises(sb.SpecError) as info:
        fitted.counts(10, {"p": share, "q": 0.5})
    assert info.value.path == "balance.p" and "a share must be a number" in str(info.value)


def test_a_share_too_small_for_one_row_is_refused_saying_what_would_do(fitted) -> None:
    with pytest.raises(sb.SpecError) as info:
        fitted.counts(70, {"p": 1e-300, "q": 1})
    message = str(info.value)
    assert info.value.path == "balance"
    assert "70 rows give class 'p' 7e-299 of a row, which rounds to none" in message, message
    assert "a share of at least 1/70 of the total (0 leaves a class out)" in message
    with pytest.raises(sb.SpecError, match=r"50 rows give class 'p' 0\.33 of a row.*or n ≥ 150$"):
        fitted.counts(50, {"p": 1, "q": 149})
    assert fitted.counts(50, {"p": 1, "q": 99}) == {"p": 1, "q": 49}  # half a row rounds up
    assert fitted.counts(70, {"p": 1, "q": 69}) == {"p": 1, "q": 69}  # exactly one row
    assert fitted.counts(70, {"p": 0, "q": 1}) == {"p": 0, "q": 70}  # left out
    assert fitted.counts(70, {"p": np.float32(1), "q": np.int64(3)}) == {"p": 18, "q": 52}


def test_a_float16_learning_rate_of_zero_is_refused() -> None:
    """np.float16(1e-8) is 0.0: it was compared in float16 (with a cast warning) and let
    through."""
    from synthbio_ppl.core.precision import check_learning_rate

    with pytest.raises(sb.SpecError, match=r"^learning_rate: "):
        check_learning_rate(np.float16(1e-8), "learning_rate")
    assert check_learning_rate(np.float16(0.01), "learning_rate") == pytest.approx(0.01, 1e-3)
