"""Scenarios: spec fields overridden by path, the full factorial, named refusals."""

from __future__ import annotations

import numpy as np
import pytest

import synthbio_ppl as sb
from synthbio_ppl.studies.grid import parse_path, scenarios

BASE = {
    "classes": [{"name": "a", "n": 20}, {"name": "b", "n": 20}],
    "informative": [{"n": 3, "effect_size": 0.5}],
    "noise": [{"n": 10}],
    "batches": {"n": 2, "strength": 0.5, "confounding": 0.0},
}


@pytest.fixture(scope="module")
def base() -> sb.Spec:
    return sb.validate_spec(BASE)


def test_parse_path_reads_names_and_indices() -> None:
    assert parse_path("informative[0].effect_size") == ("informative", 0, "effect_size")
    assert parse_path("batches.confounding") == ("batches", "confounding")
    assert parse_path("classes[1].n") == ("classes", 1, "n")


@pytest.mark.parametrize("bad", ["", "[0].n", "informative..n", "noise[x].n", "a b", "n[0]x"])
def test_parse_path_refuses_what_is_not_a_path(bad: str) -> None:
    with pytest.raises(sb.SpecError, match="grid"):
        parse_path(bad)


def test_full_factorial_last_path_fastest(base: sb.Spec) -> None:
    grid = {"informative[0].effect_size": [0.2, 0.8], "noise[0].n": [5, 50, 500]}
    out = scenarios(base, grid)
    assert len(out) == 6
    assert [s.values for s in out[:3]] == [
        {"informative[0].effect_size": 0.2, "noise[0].n": n} for n in (5, 50, 500)
    ]
    for s in out:  # each spec holds its own values, and the base's elsewhere
        assert s.spec.informative[0].effect_size == s.values["informative[0].effect_size"]
        assert s.spec.noise[0].n == s.values["noise[0].n"]
        assert s.spec.batches.strength == 0.5
    assert base.noise[0].n == 10  # the base is left as it was


def test_list_of_scenarios_and_nested_fields(base: sb.Spec) -> None:
    out = scenarios(base, [{"batches.confounding": 0.9}, {"classes[0].n": 30}])
    assert out[0].spec.batches.confounding == 0.9
    assert out[1].spec.classes[0].n == 30 and out[1].spec.batches.confounding == 0.0


def test_numpy_values_are_taken_as_numbers(base: sb.Spec) -> None:
    out = scenarios(
        base, {"noise[0].n": np.array([4, 8]), "informative[0].effect_size": [np.float32(0.5)]}
    )
    assert [s.spec.noise[0].n for s in out] == [4, 8]


def test_no_grid_is_the_base_alone(base: sb.Spec) -> None:
    (only,) = scenarios(base, None)
    assert only.spec == base and only.label == "base"


@pytest.mark.parametrize(
    ("grid", "match"),
    [
        (
            {"informative[0].effect_sise": [1]},
            r"grid\.informative\[0\]\.effect_sise.*no field 'effect_sise'",
        ),
        ({"informative[3].effect_size": [1]}, r"has 1 entry; index from 0 to 0"),
        ({"clusters[0].correlation": [0.5]}, r"clusters is not a list|clusters\[0\]|entries"),
        ({"noise[0].n": 5}, "give a list of the values"),
        ({"noise[0].n": []}, "at least one value"),
        ({"noise[0].n": [5, -1]}, r"scenario 1: noise\[0\]\.n=-1.*noise\[0\]\.n"),
        ({"missing_field": [1]}, "a spec has no field 'missing_field'"),
    ],
)
def test_bad_grids_are_named(base: sb.Spec, grid: dict, match: str) -> None:
    with pytest.raises(sb.SpecError, match=match):
        scenarios(base, grid)


def test_a_block_the_base_lacks_is_named() -> None:
    spec = sb.validate_spec({k: v for k, v in BASE.items() if k != "batches"})
    with pytest.raises(sb.SpecError, match="the base spec has no batches; add one"):
        scenarios(spec, {"batches.confounding": [0.5]})


def test_too_many_scenarios_are_refused(base: sb.Spec) -> None:
    grid = {"noise[0].n": list(range(1, 401)), "informative[0].n": list(range(1, 401))}
    with pytest.raises(sb.SpecError, match="160,000 scenarios"):
        scenarios(base, grid)


def test_a_value_may_be_a_list_itself(base: sb.Spec) -> None:
    classes = [
        [{"name": "a", "n": 10}, {"name": "b", "n": 30}],
        [{"name": "a", "n": 25}] * 1 + [{"name": "b", "n": 25}],
    ]
    out = scenarios(base, {"classes": classes})
    assert [[c.n for c in s.spec.classes] for s in out] == [[10, 30], [25, 25]]


def test_a_scene_whose_rows_come_from_its_outcome_varies_them_there() -> None:
    spec = sb.load_spec("models/risk_score.yaml")
    out = scenarios(spec, {"outcome.n": [300, 500]})
    assert [s.spec.n_rows for s in out] == [300, 500]
