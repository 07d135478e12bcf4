"""A ``missing:`` entry's refused driver lists every driver the scene has, and a driver
near the float64 limit is standardised without overflowing."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.model.scene import validate_spec
from synthbio_ppl.processes.missing.solve import standardise


def scene(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "drivers",
        "classes": [{"name": "a", "n": 20}, {"name": "b", "n": 20}],
        "informative": [{"n": 30}],
        "noise": [{"name": "noise", "n": 2}],
        "pseudo_classes": [{"n": 2, "groups": 3}],
        "structure": {
            "covariates": {"sex": {"levels": {"female": 0.5, "male": 0.5}}},
            "biomarkers": {"Height": {}, "Weight": {}},
        },
        "batches": {"n": 2},
        "missing": [{"mechanism": "mar", "rate": 0.2, "affects": ["noise_0"], **entry}],
    }


@pytest.mark.parametrize("depends_on", ["nowhere", None])
def test_a_refused_driver_lists_every_driver_the_scene_accepts(depends_on: Any) -> None:
    entry = {} if depends_on is None else {"depends_on": depends_on}
    with pytest.raises(SpecError) as info:
        validate_spec(scene(entry))
    error = info.value
    assert (error.path, error.value) == ("missing[0].depends_on", depends_on)
    for driver in ("class", "batch", "sex", "pseudo0_group", "Height", "Weight", "noise_1"):
        assert driver in error.allowed, driver
    assert "inf0_0 … inf0_29" in error.allowed  # a wide block by its first and last
    for listed in ("class", "batch", "sex", "pseudo0_group", "Height", "inf0_0", "noise_1"):
        validate_spec(scene({"depends_on": listed}))  # each listed driver is accepted


def test_a_driver_near_the_float64_limit_is_standardised_without_overflow() -> None:
    rng = np.random.default_rng(0)
    values = np.stack([1e300 + 1e299 * rng.standard_normal(500), rng.standard_normal(500)], 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        centre, scale = standardise(values)
    assert centre[0] == pytest.approx(values[:, 0].mean(), rel=1e-12)
    assert scale[0] == pytest.approx((values[:, 0] / 1e300).std() * 1e300, rel=1e-12)
    with np.errstate(over="ignore"):  # the plain formulas, as before, for ordinary values
        before = (values.mean(axis=0)[1], values.std(axis=0)[1])
    assert (centre[1], scale[1]) == before  # bit for bit


def test_a_huge_block_is_described_not_listed() -> None:
    spec = scene({"depends_on": "nowhere"})
    spec["noise"].append({"name": "wide", "n": 2**40})
    with pytest.raises(SpecError, match=r"the 1,099,511,627,776 columns of wide"):
        validate_spec(spec)
