"""Every column type a user can hand the twin works with its type kept, or is refused
before fitting with the column named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import synthbio_ppl as sb

RNG = np.random.default_rng(0)
N = 60


def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "a": RNG.normal(size=N),
            "count": pd.array(RNG.integers(0, 9, N), dtype="Int64"),
            "f32": RNG.normal(size=N).astype("float32"),
            "flag": RNG.random(N) > 0.5,
            "text": RNG.choice(["x", "y"], N).astype(object),
            "string": pd.array(RNG.choice(["u", "v"], N), dtype="string"),
            "y": np.repeat(["p", "q"], N // 2),
        }
    )


def test_every_column_type_keeps_its_type_and_range() -> None:
    real = table()
    synthetic = sb.twin(real, label="y").sample(40, seed=1)
    assert list(synthetic.columns) == list(real.columns)
    for column in real.columns:
        assert synthetic[column].dtype == real[column].dtype, column
    assert set(synthetic["text"]) <= {"x", "y"} and set(synthetic["string"]) <= {"u", "v"}
    assert synthetic["count"].min() >= 0  # a non-negative integer column stays so


@pytest.mark.parametrize(
    ("change", "path", "fragment"),
    [
        (lambda f: f.set_axis(range(f.shape[1]), axis=1).rename(columns={6: "y"}),
         "data.columns", "strings"),
        (lambda f: f.rename(columns={"a": "a/b"}), "data.columns", "'/'"),
        (lambda f: f.assign(when=pd.date_range("2020-01-01", periods=N)), "data.when", "dates"),
    ],
)  # fmt: skip
def test_awkward_columns_are_refused_before_fitting(change, path: str, fragment: str) -> None:
    with pytest.raises(sb.SpecError) as info:
        sb.twin(change(table()), label="y")
    assert info.value.path == path and fragment in str(info.value)


# --------------------------------------------------------------------------- found by the fuzz
# (tests/test_fuzz.py::test_any_table_twins_or_is_refused_before_the_fit): each input
# below raised a TypeError, was refused only after the fit, or sampled wrong values.

FAST = {"method": "map", "svi_steps": 300, "rank": 1}


def one_column(values: object) -> pd.DataFrame:
    return pd.DataFrame({"a": values, "y": np.repeat(["p", "q"], 15)})


@pytest.mark.parametrize(
    ("values", "bounds", "path", "fragment"),
    [
        # TypeError: unhashable type: 'list'
        (pd.Series([[1, 0], [2]] * 15), None, "data.a", "a list at row 0"),
        # complex128 was cast to float, its imaginary part dropped without a word
        (np.arange(30) + 0.5j, None, "data.a", "complex numbers"),
        # the fit diverged: "non-finite posterior draws", refused after the fit
        (np.r_[np.arange(29.0), 1e36], None, "data.a", "1e+36 at row 29"),
        # a NaN bound was taken, and every value clipped to NaN
        (np.arange(30.0), {"a": (np.nan, None)}, "bounds.a", "cannot be NaN"),
        # ValueError: not enough values to unpack
        (np.arange(30.0), {"a": "x"}, "bounds.a", "(low, high)"),
        # identifiers were taken as a categorical and copied into the synthetic table
        ([f"patient-{i:04d}" for i in range(30)], None, "data.a", "looks like an identifier"),
        # a period column was taken as a categorical of dates, copied too
        (pd.period_range("2020-01", periods=30, freq="M"), None, "data.a", "periods"),
        (pd.interval_range(0, 30), None, "data.a", "intervals"),
    ],
)
def test_odd_columns_are_refused_before_fitting(values, bounds, path, fragment) -> None:
    with pytest.raises(sb.SpecError) as info:
        sb.twin(one_column(values), label="y", bounds=bounds, **FAST)
    assert info.value.path == path and fragment in str(info.value), str(info.value)


@pytest.mark.parametrize("dtype", ["uint8", "UInt8"])
def test_a_small_integer_dtype_is_never_overflowed(dtype: str) -> None:
    """Draws above 255 wrapped around (300 → 44) in a uint8 column and raised TypeError
    (cannot safely cast) in a UInt8 one: they stay in the observed range, within the
    dtype's."""
    real = one_column(pd.array(np.random.default_rng(1).integers(235, 256, 30), dtype=dtype))
    synthetic = sb.twin(real, label="y", **FAST).sample(2000, seed=0)["a"]
    assert synthetic.dtype == real["a"].dtype
    assert synthetic.min() >= real["a"].min() and synthetic.max() <= real["a"].max()


def test_a_float16_column_stays_finite() -> None:
    """A float16 column near its largest value (65504) sampled inf above it."""
    values = 65300.0 + 150 * np.random.default_rng(2).normal(size=30)
    real = one_column(np.minimum(values, 65504).astype(np.float16))
    synthetic = sb.twin(real, label="y", **FAST).sample(2000, seed=0)["a"]
    assert synthetic.dtype == np.float16 and np.isfinite(synthetic.to_numpy()).all()


@pytest.mark.parametrize(("shift", "unit"), [(1e9, 1.0), (1e12, 1e3), (0.0, 1e-39)])
def test_columns_far_from_zero_or_tiny_keep_their_spread(shift: float, unit: float) -> None:
    """1e9 + N(0, 1) came back constant (float32 data units round 1e9 + 0.5 to 1e9), and
    1e-39·N(0, 1) was refused after the fit (its scale underflowed float32): the model now
    runs on the standardised scale, mapped to data units in float64."""
    real = one_column(shift + unit * np.random.default_rng(3).normal(size=30))
    synthetic = sb.twin(real, label="y", **FAST).sample(2000, seed=0)["a"]
    spread = synthetic.std() / real["a"].std()
    assert 0.5 < spread < 2 and abs(synthetic.mean() - real["a"].mean()) < unit, spread


def test_a_text_column_with_few_levels_is_categorical_and_identifiers_can_be_declared() -> None:
    """The identifier rule needs more than 20 levels in more than half the cells: a text
    column of 21 levels in 30 cells is refused, of 10 levels kept; declared, both fit."""
    levels = np.array([f"l{i}" for i in range(21)] + ["l0"] * 9)

    def with_number(values: np.ndarray) -> pd.DataFrame:
        return one_column(values).assign(x=np.arange(30.0))

    with pytest.raises(sb.SpecError, match="21 distinct values in 30"):
        sb.twin(with_number(levels), label="y", **FAST)
    few = sb.twin(with_number(np.array([f"l{i % 10}" for i in range(30)])), label="y", **FAST)
    assert set(few.sample(40)["a"]) <= {f"l{i}" for i in range(10)}
    sb.twin(with_number(levels), label="y", types={"a": "categorical"}, **FAST)


def test_a_sample_too_large_is_refused_naming_n(monkeypatch) -> None:
    """--n 10**10 allocated 74.5 GiB and 10**20 overflowed: both are refused first."""
    fitted = sb.twin(one_column(np.arange(30.0)), label="y", **FAST)
    with pytest.raises(sb.SpecError, match=r"^n: .*≤ 2\^40"):
        fitted.sample(10**20)
    monkeypatch.setenv("SYNTHBIO_MEMORY_LIMIT", "1G")
    with pytest.raises(sb.SpecError, match=r"^n: '10,000,000,000 rows × 1 columns'.*memory"):
        fitted.sample(10**10)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"label": ["y"]}, "label"),  # TypeError: unhashable type
        ({"types": ["a"]}, "types"),  # ValueError: dictionary update sequence
        ({"min_rows_per_class": None}, "min_rows_per_class"),  # TypeError: '<'
        ({"svi_steps": -1}, "svi_steps"),  # a multi-line MLIRError
        ({"learning_rate": float("nan")}, "learning_rate"),  # "the fit diverged", naming data
        ({"learning_rate": -1.0}, "learning_rate"),  # accepted
    ],
)
def test_bad_arguments_are_named(change: dict, path: str) -> None:
    arguments = {"label": "y", **FAST, **change}
    with pytest.raises(sb.SpecError) as info:
        sb.twin(one_column(np.arange(30.0)), **arguments)
    assert info.value.path == path


def test_a_label_of_tuples_is_refused() -> None:
    """pandas raised 'Names should be list-like for a MultiIndex'."""
    table = one_column(np.arange(30.0)).assign(y=[(1, 2)] * 15 + [(3, 4)] * 15)
    with pytest.raises(sb.SpecError, match=r"^data\.y: 'a tuple at row 0'"):
        sb.twin(table, label="y", **FAST)
