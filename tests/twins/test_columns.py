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
