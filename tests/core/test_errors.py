"""A key that is not a name is refused as the key, not as its value."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.model.scene import validate_spec

SCENE = "structure: {n: 10, covariates: {sex: {levels: LEVELS}}, biomarkers: {A: {}}}"


@pytest.mark.parametrize(
    ("levels", "path"),
    [
        ("{1: 0.5}", "structure.covariates.sex.levels.1"),
        ("{1: 0.5, male: 0.5}", "structure.covariates.sex.levels.1"),
        ("{female: 0.5, 2: 0.5}", "structure.covariates.sex.levels.2"),
    ],
)
def test_a_number_as_a_level_is_blamed_as_the_key(levels: str, path: str) -> None:
    with pytest.raises(SpecError) as info:
        validate_spec(yaml.safe_load(SCENE.replace("LEVELS", levels)))
    error = info.value
    assert (error.path, error.value) == (path, int(path.rsplit(".", 1)[1]))
    assert "keys of this mapping must be names" in error.allowed
    assert "quote it" in error.allowed
    assert "must be a number" not in error.allowed and "more problem" not in error.allowed


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("structure: {n: 10, factors: {X: {mean: {by: s, 1: 0.5}}}, biomarkers: {A: {}}}",
         "structure.factors.X.mean.1"),
        ("structure: {n: 10, biomarkers: {A: {loadings: {7: 1.0}}}}",
         "structure.biomarkers.A.loadings.7"),
        ("clusters: [{n: 3, correlation: {1: 0.5}}]", "clusters[0].correlation.1"),
    ],
)  # fmt: skip
def test_every_mapping_of_names_says_so_of_a_number_key(text: str, path: str) -> None:
    with pytest.raises(SpecError, match="keys of this mapping must be names") as info:
        validate_spec(yaml.safe_load(text))
    assert info.value.path == path


def test_a_number_as_a_field_name_says_a_field_name_is_needed() -> None:
    spec: dict[Any, Any] = {"informative": [{"n": 2, 3: 1}]}
    with pytest.raises(SpecError, match="must be a field name") as info:
        validate_spec(spec)
    assert (info.value.path, info.value.value) == ("informative[0].3", 3)


def test_the_other_problems_are_placed() -> None:
    """One line still, but the user learns where else to look (it said "and 1 more
    problem" only, so each fix took a run)."""
    spec = {"classes": [{"name": "a", "n": 50}, {"name": "b", "n": -4}],
            "informative": [{"n": 2, "efect_size": 1.0}]}  # fmt: skip
    with pytest.raises(SpecError) as info:
        validate_spec(spec)
    assert info.value.path == "classes[1].n"
    assert info.value.allowed.endswith("(and 1 more problem, at informative[0].efect_size)")
