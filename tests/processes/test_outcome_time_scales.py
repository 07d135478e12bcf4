"""A survival outcome's time scales that round to 0 in the spec's dtype are refused by
their own field, not blamed on the baseline hazard after the draw."""

from __future__ import annotations

from typing import Any

import pytest

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.model.scene import validate_spec


def cohort(dtype: str = "float32", **outcome: Any) -> dict[str, Any]:
    survival = {
        "kind": "survival",
        "coefficients": {"marker_0": 0.6},
        "baseline": {"distribution": "weibull", "scale": 0.08, "shape": 1.4},
        "censoring": {"end_of_study": 6.0, "fraction": 0.35},
        **outcome,
    }
    return {
        "name": "cohort",
        "dtype": dtype,
        "classes": [{"name": "control", "n": 50}, {"name": "case", "n": 50}],
        "informative": [{"name": "marker", "n": 2}],
        "outcome": survival,
    }


@pytest.mark.parametrize(
    ("outcome", "path", "value"),
    [
        ({"censoring": {"end_of_study": 1e-300}}, "outcome.censoring.end_of_study", 1e-300),
        ({"baseline": {"scale": 1e-300}}, "outcome.baseline.scale", 1e-300),
        (
            {"competing_risks": [{"name": "death", "baseline": {"scale": 1e-40}}]},
            "outcome.competing_risks[0].baseline.scale",
            1e-40,
        ),
    ],
)
def test_a_time_scale_below_the_smallest_normal_number_is_named(
    outcome: dict[str, Any], path: str, value: float
) -> None:
    with pytest.raises(SpecError, match=r"at least 1\.175e-38, the smallest normal float32") as e:
        validate_spec(cohort(**outcome))
    assert (e.value.path, e.value.value) == (path, value)


def test_float64_takes_time_scales_float32_cannot_hold() -> None:
    validate_spec(cohort("float64", censoring={"end_of_study": 1e-300}))
    with pytest.raises(SpecError, match="float64") as info:
        validate_spec(cohort("float64", censoring={"end_of_study": 1e-320}))
    assert info.value.path == "outcome.censoring.end_of_study"
