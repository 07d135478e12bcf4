"""A structural scene's refusals name the biomarker, the entry and the value as written."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import synthbio_ppl as sb
from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.model.parameters import fixed_sites
from synthbio_ppl.model.scene import MAX_ROWS, validate_spec


def scene(dtype: str = "float32", n: int = 200, **biomarker: Any) -> dict[str, Any]:
    return {
        "name": "overflow",
        "dtype": dtype,
        "structure": {
            "n": n,
            "covariates": {"sex": {"levels": {"female": 0.5, "male": 0.5}}},
            "factors": {"X": {"mean": {"by": "sex", "female": 0.0, "male": 1.0}}},
            "biomarkers": {"A": {"baseline": 1.0}, "B": {"baseline": 2.0, **biomarker}},
        },
    }


@pytest.mark.parametrize(
    ("biomarker", "path", "value"),
    [
        ({"clip": [-1e39, None]}, "structure.biomarkers.B.clip[0]", -1e39),
        ({"clip": [0.0, 1e39]}, "structure.biomarkers.B.clip[1]", 1e39),
        (
            {"depends_on": {"A": {"coef": 0.5, "centre": 1e300}}},
            "structure.biomarkers.B.depends_on.A.centre",
            1e300,
        ),
    ],
)
def test_constants_beyond_the_dtype_are_refused_when_validating(
    biomarker: dict[str, Any], path: str, value: float
) -> None:
    with pytest.raises(SpecError, match=r"within ±3\.403e\+38, the largest finite float32") as e:
        validate_spec(scene(**biomarker))
    assert (e.value.path, e.value.value) == (path, value)
    validate_spec(scene("float64", **biomarker))  # finite in float64: allowed there


def test_a_centre_near_the_float64_limit_generates_without_a_warning() -> None:
    spec = scene("float64", depends_on={"A": {"coef": 0.5, "centre": 1e300}})
    spec["missing"] = [
        {"mechanism": "mar", "rate": 0.2, "depends_on": "B", "affects": ["A"]},
        {"mechanism": "mnar", "rate": 0.2, "affects": ["C"]},
    ]
    spec["structure"]["biomarkers"]["C"] = {"clip": [-1e308, 1e308], "noise": 1e307}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = sb.generate(spec)
    assert np.isfinite(data.X.to_numpy(dtype=float)).sum() > 0
    means = data.truth.structure["level_means"]["all"]
    assert means["B"] == pytest.approx(2.0 + 0.5 * (1.0 - 1e300))
    assert data.truth.structure["level_sds"]["all"]["B"] == pytest.approx(1.25**0.5)


@pytest.mark.parametrize(
    ("biomarker", "path"),
    [
        ({"shifts": {"sex": {"male": 1e308}}}, "structure.biomarkers.B.shifts.sex.male"),
        ({"loadings": {"X": 1e308}}, "structure.biomarkers.B.loadings.X"),
        ({"noise": 1e308}, "structure.biomarkers.B.noise"),
        ({"baseline": 1e308}, "structure.biomarkers.B.baseline"),
        ({"depends_on": {"A": 1e308}}, "structure.biomarkers.B.depends_on.A"),
        ({"depends_on": {"A": {"coef": 1e308}}}, "structure.biomarkers.B.depends_on.A.coef"),
    ],
)
def test_an_overflowing_entry_names_its_biomarker_and_field(
    biomarker: dict[str, Any], path: str
) -> None:
    with pytest.raises(SpecError, match="largest finite float32") as info:
        fixed_sites(validate_spec(scene(**biomarker)))
    assert (info.value.path, info.value.value) == (path, 1e308)


def test_an_overflowing_level_of_a_factor_names_the_level() -> None:
    spec = scene()
    spec["structure"]["factors"]["X"]["mean"]["male"] = 1e39
    with pytest.raises(SpecError) as info:
        fixed_sites(validate_spec(spec))
    assert (info.value.path, info.value.value) == ("structure.factors.X.mean.male", 1e39)


def test_non_finite_values_name_the_biomarker_that_overflowed() -> None:
    spec = scene(depends_on={"A": {"coef": 2.0, "centre": 3e38}})
    with pytest.raises(SpecError, match="non-finite in B") as info:
        sb.generate(spec)
    assert info.value.path == "structure.biomarkers.B"


def test_rows_beyond_the_engine_limit_are_blamed_on_structure_n() -> None:
    with pytest.raises(SpecError, match=r"at most 274,877,906,944") as info:
        validate_spec(scene(n=MAX_ROWS + 1))
    assert (info.value.path, info.value.value) == ("structure.n", MAX_ROWS + 1)
