"""Spec validation: good specs load, bad ones name the field, the value and what is allowed."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
import yaml

import synthbio_ppl as sb
from synthbio_ppl import SpecError, load_spec, rescale_rows, spec_reference, validate_spec
from synthbio_ppl.core.errors import format_path
from synthbio_ppl.model.layout import build_layout, column_names
from tests.conftest import ROOT, two_classes


def _with(spec: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(spec)
    node: Any = out
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    last = parts[-1]
    if last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return out


@pytest.mark.parametrize(
    ("path", "value", "where", "allowed"),
    [
        ("clusters.0.correlation", 1.5, "clusters[0].correlation", "positive-definite"),
        ("clusters.0.correlation", -0.5, "clusters[0].correlation", "(-0.3333, 1)"),
        ("informative.0.effect_size", [1.0, 2.0], "informative[0].effect_size", "list of 1"),
        ("informative.0.distribution", "cauchy", "informative[0].distribution", "must be"),
        ("informative.0.n", 0, "informative[0].n", "greater than or equal to 1"),
        ("noise.0.params", {"sigma": -1}, "noise[0].params", "must be a number > 0"),
        ("noise.0.params", {"df": 3}, "noise[0].params", "unknown parameter 'df'"),
        ("batches.confounding", 1.5, "batches.confounding", "less than or equal to 1"),
        ("batches.proportions", [0.5, 0.5], "batches.proportions", "one share per batch"),
        ("batches.proportions", [0.5, 0.3, 0.3], "batches.proportions", "sum to 1"),
        ("batches.affects", ["nope"], "batches.affects[0]", "or one of their columns"),
        ("batches.effect", "exponential", "batches.effect", "additive"),
        ("classes.1.name", "healthy", "classes", "unique"),
        ("seed", -1, "seed", "greater than or equal to 0"),
        ("pseudo_classes.0.groups", 1, "pseudo_classes[0].groups", "greater than or equal to 2"),
    ],
)
def test_bad_field_names_path_value_and_rule(
    small_spec: dict[str, Any], path: str, value: Any, where: str, allowed: str
) -> None:
    with pytest.raises(SpecError) as info:
        validate_spec(_with(small_spec, path, value))
    message = str(info.value)
    assert message.startswith(where + ":"), message
    assert allowed in message
    assert "\n" not in message


def test_unknown_field_is_named(small_spec: dict[str, Any]) -> None:
    bad = _with(small_spec, "clusters.0.corelation", 0.3)
    with pytest.raises(SpecError, match=r"^clusters\[0\]\.corelation: .*unknown field") as info:
        validate_spec(bad)
    # the misspelt name is the value refused (not its 0.3), with the nearest field
    assert info.value.value == "corelation"
    assert "did you mean 'correlation'?" in info.value.allowed
    assert "structure" in info.value.allowed  # the fields a cluster takes are listed


def test_an_unknown_field_far_from_any_gets_the_list_alone(small_spec: dict[str, Any]) -> None:
    with pytest.raises(SpecError, match=r"^zzz: 'zzz' is not allowed; unknown field; the") as info:
        validate_spec({**small_spec, "zzz": 1})
    assert "did you mean" not in info.value.allowed and "informative" in info.value.allowed


def test_per_class_correlation_must_name_every_class(small_spec: dict[str, Any]) -> None:
    bad = _with(small_spec, "clusters.0.correlation", {"healthy": 0.2})
    with pytest.raises(SpecError, match=r"clusters\[0\]\.correlation.*exactly the classes"):
        validate_spec(bad)


def test_toeplitz_allows_negative_correlation_down_to_minus_one(small_spec: dict) -> None:
    spec = _with(small_spec, "clusters.0", {"n": 6, "structure": "toeplitz", "correlation": -0.9})
    assert validate_spec(spec).clusters[0].correlation == -0.9
    with pytest.raises(SpecError, match=r"\(-1, 1\)"):
        validate_spec(_with(spec, "clusters.0.correlation", -1.0))


def test_spec_needs_some_features() -> None:
    with pytest.raises(SpecError, match="at least one block"):
        validate_spec({"classes": [{"name": "a", "n": 1}, {"name": "b", "n": 1}]})


def test_yaml_round_trip_is_lossless(small_spec: dict[str, Any], tmp_path) -> None:
    spec = validate_spec(small_spec)
    path = tmp_path / "s.yaml"
    path.write_text(spec.to_yaml())
    assert load_spec(path) == spec


def test_bad_yaml_and_missing_file_are_readable(tmp_path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("classes: [\n  - {name: a\n")
    with pytest.raises(SpecError, match="not valid YAML at line"):
        load_spec(path)
    with pytest.raises(SpecError, match="cannot read the file"):
        load_spec(tmp_path / "absent.yaml")
    path.write_text("- just\n- a list\n")
    with pytest.raises(SpecError, match="mapping"):
        load_spec(path)


def test_default_block_names_and_columns(small_spec: dict[str, Any]) -> None:
    spec = validate_spec(small_spec)
    names = [b.name for b in build_layout(spec).blocks]
    assert names == ["inf0", "clu0", "noise0", "pseudo0"]
    columns = column_names(spec)
    assert columns[:4] == ["inf0_0", "inf0_1", "inf0_2", "clu0_anchor"]
    assert len(columns) == len(set(columns)) == 3 + 4 + 5 + 2


def test_duplicate_block_names_are_refused(small_spec: dict[str, Any]) -> None:
    spec = _with(small_spec, "noise.0.name", "inf0")
    with pytest.raises(SpecError, match="block names must be unique"):
        validate_spec(spec)


def test_batches_affects_accepts_block_and_column_names(small_spec: dict[str, Any]) -> None:
    spec = validate_spec(_with(small_spec, "batches.affects", ["inf0", "clu0_proxy2"]))
    layout = build_layout(spec)
    batches = layout.modifier("batches")
    assert batches is not None
    assert batches.affected == ((0, 3), (5, 6))  # anchor 3, proxy1 4, proxy2 5


def test_reference_covers_every_field_and_is_committed() -> None:
    text = spec_reference()
    for field in ("proxy_attenuation", "confounding", "standardise", "granularity", "shuffle"):
        assert f"`{field}`" in text
    committed = (ROOT / "docs" / "spec-reference.md").read_text()
    assert committed == text, "docs/spec-reference.md is stale: run `make reference`"


def test_readme_spec_example_is_valid() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## The spec", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    spec = validate_spec(yaml.safe_load(block))
    assert spec.name == "demo"


@pytest.mark.parametrize(
    ("extra", "path", "allowed"),
    [
        ({"batches": {"n": 2, "affects": 3}}, "batches.affects", "a list of block or feature"),
        ({"batches": {"n": 2, "affects": "cluster"}}, "batches.affects", "clusters"),
        ({"structure": {"n": 10, "biomarkers": {"nz_0": {}}}}, "structure.biomarkers", "clash"),
        ({"structure": {"n": 10, "biomarkers": {"y": {}}}}, "structure.biomarkers", "design"),
        ({"structure": {"n": 10, "biomarkers": {"batch": {}}}}, "structure.biomarkers", "design"),
        ({"noise": [{"name": "nz", "n": 2}, {"name": "nz", "n": 1}]}, "noise[1].name", "unique"),
    ],
)
def test_scene_wide_names_and_kinds(extra: dict[str, Any], path: str, allowed: str) -> None:
    base = {
        "classes": [{"name": "a", "n": 5}, {"name": "b", "n": 5}],
        "noise": [{"name": "nz", "n": 2}],
    }
    with pytest.raises(SpecError) as info:
        validate_spec({**base, **extra})
    assert info.value.path == path and allowed in info.value.allowed, info.value


def test_validation_never_lists_the_columns_of_a_huge_block() -> None:
    """2^40 noise features are a valid spec (too large to generate, not to validate):
    the name checks test membership and never build the column list."""
    spec = validate_spec({"classes": two_classes(5, 5), "noise": [{"n": 2**40}]})
    assert spec.noise[0].n == 2**40
    with pytest.raises(SpecError, match="clashes"):
        validate_spec(
            {
                "classes": two_classes(5, 5),
                "noise": [{"name": "big", "n": 2**40}],
                "structure": {"biomarkers": {"big_123456789012": {}}},
            }
        )


@pytest.mark.parametrize("value", [True, "5", 5.0])
def test_counts_are_whole_numbers_not_conversions(value: Any) -> None:
    with pytest.raises(SpecError) as info:
        validate_spec({"classes": [{"name": "a", "n": value}, {"name": "b", "n": 5}]})
    assert info.value.path == "classes[0].n"


@pytest.mark.parametrize(
    ("yaml_text", "path"),
    [
        ("informative: [{n: 2, effect_size: yes}]", "informative[0].effect_size"),
        ("informative: [{n: 3, effect_size: [1, on, 2]}]", "informative[0].effect_size[1]"),
        # a flag inside a mapping is named by its key
        (
            "noise: [{n: 2, distribution: lognormal, params: {sigma: true}}]",
            "noise[0].params.sigma",
        ),
        (
            "clusters: [{n: 3, correlation: {healthy: 0.2, diseased: yes}}]",
            "clusters[0].correlation.diseased",
        ),
        ("informative: [{n: 2}]\nbatches: {n: 2, strength: off}", "batches.strength"),
        (
            "informative: [{n: 2}]\nbatches: {n: 2, proportions: [yes, 0.5]}",
            "batches.proportions[0]",
        ),
        ("counts: [{n: 5, library_size: {median: yes}}]", "counts[0].library_size.median"),
        (  # a flag in a number-or-levels field: the levels' own refusal, at the level
            "structure: {n: 10, covariates: {sex: {levels: {f: 0.5, m: 0.5}}}, "
            "factors: {X: {mean: {by: sex, f: yes, m: 0}, sd: 1}}, "
            "biomarkers: {a: {baseline: 1, noise: 1}}}",
            "structure.factors.X.mean.f",
        ),
        (  # a union member's class name is not part of the path
            "structure: {n: 10, biomarkers: {a: {baseline: 1, noise: 1}, "
            "b: {baseline: 1, noise: 1, depends_on: {a: {coef: yes}}}}}",
            "structure.biomarkers.b.depends_on.a.coef",
        ),
        (
            "structure: {n: 10, covariates: {sex: {levels: {f: 0.5, m: 0.5}}}, "
            "biomarkers: {a: {baseline: 1, noise: 1, shifts: {sex: {m: yes}}}}}",
            "structure.biomarkers.a.shifts.sex.m",
        ),
        ("structure: {n: yes, biomarkers: {a: {baseline: 1, noise: 1}}}", "structure.n"),
    ],
)
def test_yaml_flags_are_refused_where_a_number_is_meant(yaml_text: str, path: str) -> None:
    """YAML 1.1 reads yes/on/true as True, which pydantic would take as 1.0."""
    head = (
        ""
        if yaml_text.startswith("structure")
        else "classes: [{name: healthy, n: 5}, {name: diseased, n: 5}]\n"
    )
    spec = yaml.safe_load(head + yaml_text)
    with pytest.raises(SpecError, match="not true/false") as info:
        validate_spec(spec)
    assert info.value.path == path


def test_a_flag_field_still_takes_true() -> None:
    spec = validate_spec(
        {
            "classes": two_classes(5, 5),
            "informative": [{"n": 2}],
            "missing": [{"mechanism": "mcar", "rate": 0.1, "exact": True}],
        }
    )
    assert spec.missing[0].exact is True


@pytest.mark.parametrize("field", ["batches", "missing"])
def test_an_empty_affects_list_is_refused_not_silently_nothing(field: str) -> None:
    entry = (
        {"n": 2, "affects": []}
        if field == "batches"
        else {"mechanism": "mcar", "rate": 0.1, "affects": []}
    )
    spec = {"classes": two_classes(5, 5), "informative": [{"n": 2}], field: entry}
    if field == "missing":
        spec[field] = [entry]
    with pytest.raises(SpecError, match="at least one") as info:
        validate_spec(spec)
    assert info.value.path == ("batches.affects" if field == "batches" else "missing[0].affects")


def test_a_key_given_twice_in_yaml_is_refused(tmp_path) -> None:
    path = tmp_path / "twice.yaml"
    path.write_text(
        "classes: [{name: a, n: 5}, {name: b, n: 5}]\nnoise: [{n: 2}]\nnoise: [{n: 3}]\n"
    )
    with pytest.raises(SpecError, match=r"'noise' is given twice \(line 3\)"):
        load_spec(path)


def test_a_billion_laughs_document_is_refused_quickly(tmp_path) -> None:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    lines.append("classes: *i")
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SpecError, match="expand to more than"):
        load_spec(path)


def test_an_error_value_is_shown_short_whatever_its_size() -> None:
    huge = [[list(range(1000))] * 1000] * 1000  # a billion elements, shared
    with pytest.raises(SpecError) as info:
        validate_spec({"classes": huge})
    assert len(str(info.value)) < 400


def test_save_spec_refuses_a_folder_and_rescale_takes_any_spec_form(tmp_path) -> None:
    spec = load_spec(ROOT / "models" / "demo.yaml")
    with pytest.raises(SpecError, match="is a folder"):
        sb.save_spec(spec, tmp_path)
    sb.save_spec(spec, tmp_path / "demo.yaml")
    assert load_spec(tmp_path / "demo.yaml") == spec
    assert sb.rescale_rows(str(tmp_path / "demo.yaml"), 10).n_rows == 10
    assert sb.rescale_rows(spec.model_dump(), 12).n_rows == 12
    with pytest.raises(SpecError):
        sb.rescale_rows(3, 10)  # type: ignore[arg-type]


def _structure(**changes: Any) -> dict[str, Any]:
    scene = {
        "n": 50,
        "covariates": {
            "sex": {"levels": {"female": 0.5, "male": 0.5}},
            "smoker": {
                "by": "sex",
                "levels": {
                    "female": {"never": 0.5, "ever": 0.5},
                    "male": {"never": 0.6, "ever": 0.4},
                },
            },
        },
        "factors": {"X": {"mean": {"by": "sex", "female": 1, "male": 0}}},
        "biomarkers": {
            "A": {"baseline": 1, "shifts": {"sex": {"male": 1}}, "loadings": {"X": 1}},
            "B": {"baseline": 1, "depends_on": {"A": 0.5}},
        },
    }
    for path, value in changes.items():
        scene = _with({"s": scene}, "s." + path, value)["s"]
    return {"name": "t", "seed": 1, "structure": scene}


@pytest.mark.parametrize(
    "path",
    [
        "covariates.smoker.levels.female.never",
        "factors.X.mean.female",
        "biomarkers.A.shifts.sex.male",
        "biomarkers.B.depends_on.A",
    ],
)
def test_flags_nested_in_a_structural_scene_are_refused(path: str) -> None:
    validate_spec(_structure())  # the scene is valid with numbers there
    with pytest.raises(SpecError, match=r"must be a number.*, not true/false \(YAML") as info:
        validate_spec(_structure(**{path: True}))
    assert info.value.path == "structure." + path


def test_numpy_booleans_are_flags_too() -> None:
    import numpy as np

    spec = {"classes": two_classes(5, 5), "informative": [{"n": 2, "effect_size": np.True_}]}
    with pytest.raises(SpecError, match="not true/false") as info:
        validate_spec(spec)
    assert info.value.path == "informative[0].effect_size"


@pytest.mark.parametrize(
    ("extra", "path"),
    [
        ({"shuffle": 1}, "shuffle"),
        ({"noise": [{"n": 2, "standardise": 0}]}, "noise[0].standardise"),
        ({"missing": [{"mechanism": "mcar", "rate": 0.1, "exact": 1}]}, "missing[0].exact"),
    ],
)
def test_switches_take_true_or_false_only(extra: dict[str, Any], path: str) -> None:
    """Every on/off field follows one rule: 1 and 0 are refused, not converted."""
    with pytest.raises(SpecError, match="boolean") as info:
        validate_spec({"classes": two_classes(5, 5), "informative": [{"n": 2}], **extra})
    assert info.value.path == path


def test_the_sklearn_entry_takes_numpy_booleans_as_scikit_learn_does() -> None:
    import numpy as np

    _, y = sb.make_biomedical_classification(n_samples=20, shuffle=np.False_, random_state=0)
    assert list(y[:10]) == [0] * 10  # not shuffled: grouped by class
    with pytest.raises(SpecError, match="shuffle"):
        sb.make_biomedical_classification(n_samples=20, shuffle=1)


def test_a_yaml_flag_as_a_key_is_named_as_a_key() -> None:
    text = (
        "structure: {n: 10, covariates: {yes: {levels: {f: 0.5, m: 0.5}}}, "
        "biomarkers: {a: {baseline: 1, noise: 1}}}"
    )
    with pytest.raises(SpecError, match=r"^structure.covariates.True: .*quote it") as info:
        validate_spec(yaml.safe_load(text))
    assert info.value.path == "structure.covariates.True"


@pytest.mark.parametrize(
    ("yaml_text", "path", "message"),
    [
        ("yes: 1\nnoise: [{n: 2}]", "True", "YAML read this key as true/false"),
        (
            "noise: [{name: m, n: 2}]\nmissing: [{mechanism: mcar, rate: 0.2, affects: [m, on]}]",
            "missing[0].affects[1]",
            "must be a block or feature name (YAML reads",
        ),
        (
            "noise: [{name: m, n: 2}]\nbatches: {n: 2, affects: yes}",
            "batches.affects",
            "not true/false",
        ),
        (
            "noise: [{name: m, n: 2}]\nbatches: {n: 2, affects: [m, 3]}",
            "batches.affects[1]",
            "a block or feature name",
        ),
    ],
)
def test_flags_as_keys_and_names_are_pointed_at(yaml_text: str, path: str, message: str) -> None:
    with pytest.raises(SpecError, match=re.escape(message)) as info:
        validate_spec(yaml.safe_load(yaml_text))
    assert info.value.path == path


def _refusal(text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        validate_spec(yaml.safe_load(text))
    assert "\n" not in str(info.value)
    return info.value


SEX = "covariates: {sex: {levels: {female: 0.5, male: 0.5}}}"


@pytest.mark.parametrize(
    ("text", "path", "allowed"),
    [
        (  # the review's example: a level of a number-or-levels field
            f"structure: {{n: 10, {SEX}, factors: {{X: {{mean: {{by: sex, female: yes}}}}}}, "
            "biomarkers: {a: {loadings: {X: 1}}}}",
            "structure.factors.X.mean.female",
            "must be a number, not true/false (YAML reads yes, no, on and off",
        ),
        (  # the field itself: a number or levels, not "a mapping of its fields" only
            f"structure: {{n: 10, {SEX}, factors: {{X: {{mean: yes}}}}, biomarkers: {{a: {{}}}}}}",
            "structure.factors.X.mean",
            "must be a number or a mapping {by: covariate, <level>: value, ...}, not true/false",
        ),
        (
            "structure: {n: 10, biomarkers: {a: {}, b: {depends_on: {a: yes}}}}",
            "structure.biomarkers.b.depends_on.a",
            "must be a number or a mapping of its fields (coef, centre), not true/false",
        ),
        (  # a number-only field does not offer "or a name"
            "structure: {n: 10, biomarkers: {a: {baseline: on}}}",
            "structure.biomarkers.a.baseline",
            "must be a number, not true/false (YAML",
        ),
        ("structure: {n: yes, biomarkers: {a: {}}}", "structure.n", "must be a whole number, not"),
        (  # a flag given for a whole entry is named there, not at a flag inside another
            "classes: [{name: a, n: 5}, {name: b, n: 5}]\nnoise: [{n: 2, standardise: false}, yes]",
            "noise[1]",
            "must be a mapping of its fields (name, n, distribution, params, standardise), not",
        ),
        (
            "classes: [{name: a, n: 5}, {name: b, n: 5}]\nnoise: [{n: 2, name: no}]",
            "noise[0].name",
            "must be a name, not true/false (YAML reads yes, no, on and off as true/false: quote",
        ),
    ],
)
def test_a_flag_where_a_number_may_stand_says_true_false_and_what_is_needed(
    text: str, path: str, allowed: str
) -> None:
    error = _refusal(text)
    assert error.path == path and allowed in error.allowed, error


@pytest.mark.parametrize(
    ("text", "path", "allowed"),
    [
        ("structure: {n: yes}", "structure.n", "must be a whole number, not true/false"),
        ("structure: {n: 2.5, biomarkers: {a: {}}}", "structure.n", "integer"),
        ("structure: yes", "structure", "must be a mapping of its fields (name, n, covariates"),
        ("structure: [1, 2]", "structure", "must be a mapping of its fields"),
        (  # `n` written as a key YAML reads as a flag: that key, not `n` missing
            "structure: {yes: 10, biomarkers: {a: {}}}",
            "structure.True",
            "YAML read this key as true/false",
        ),
        ("outcome: {kind: binary, n: yes, coefficients: {}}", "outcome.n", "whole number"),
    ],
)
def test_rows_of_a_scene_without_classes_are_named_where_the_user_wrote_them(
    text: str, path: str, allowed: str
) -> None:
    error = _refusal(text)
    assert error.path == path and allowed in error.allowed, error
    assert not error.path.startswith("classes")


@pytest.mark.parametrize(
    ("text", "path", "allowed"),
    [
        (  # the review's example
            "structure: {n: 10, biomarkers: {A: {depends_on: {B: 'x'}}, B: {}}}",
            "structure.biomarkers.A.depends_on.B",
            "must be a number or a mapping of its fields (coef, centre)",
        ),
        (
            "classes: [{name: a, n: 5}, {name: b, n: 5}]\ncounts: [{n: 2, dropout: 'x'}]",
            "counts[0].dropout",
            "must be a mapping of its fields (midpoint, slope)",
        ),
        (
            "classes: [{name: a, n: 5}, {name: b, n: 5}]\ninformative: [3]",
            "informative[0]",
            "must be a mapping of its fields (name, n, distribution, params, effect_size)",
        ),
        (  # a mapping given to a number-or-mapping field is judged as the mapping
            f"structure: {{n: 10, {SEX}, "
            "factors: {X: {mean: {by: yes, female: 1, male: 0}}}, biomarkers: {a: {}}}",
            "structure.factors.X.mean.by",
            "must be a name, not true/false",
        ),
        (  # keys the user wrote stay in the path, whatever they are called
            "structure: {n: 10, biomarkers: {Dependency: {}, float: {depends_on: "
            "{Dependency: {coef: 'x'}}}}}",
            "structure.biomarkers.float.depends_on.Dependency.coef",
            "must be a valid number",
        ),
        (
            "classes: [{name: float, n: 5}, {name: b, n: 5}]\n"
            "clusters: [{n: 3, correlation: {float: 'x', b: 0.1}}]",
            "clusters[0].correlation.float",
            "must be a valid number",
        ),
    ],
)
def test_paths_and_messages_name_no_internal_class(text: str, path: str, allowed: str) -> None:
    error = _refusal(text)
    assert error.path == path and allowed in error.allowed, error
    for name in ("Dependency", "Dropout", "InformativeGroup", "ByLevel", "instance of"):
        assert name not in str(error).replace("Dependency:", "").replace(".Dependency", "")


def _subclasses(cls: type) -> set[type]:
    return {c for sub in cls.__subclasses__() for c in {sub, *_subclasses(sub)}}


@pytest.mark.parametrize("scene", ["haalsi_like", "kitchen_sink", "survival_cohort"])
def test_no_refusal_of_a_catalogue_scene_names_a_spec_model(scene: str) -> None:
    """Every mapping and list of the scene replaced by a word or a number in turn: the
    message names the place the user wrote and never a pydantic model's class name."""
    from pydantic import BaseModel

    models = {c.__name__ for c in _subclasses(BaseModel) if c.__module__.startswith("synthbio")}
    base = yaml.safe_load((ROOT / "models" / f"{scene}.yaml").read_text())

    def places(node: Any, at: tuple[Any, ...] = ()) -> Any:
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, item in items:
            if isinstance(item, dict | list):
                yield (*at, key)
                yield from places(item, (*at, key))

    for where in places(base):
        for odd in ("x", 5):
            spec = copy.deepcopy(base)
            node = spec
            for key in where[:-1]:
                node = node[key]
            node[where[-1]] = odd
            try:
                validate_spec(spec)  # a number may stand for a list of numbers
            except SpecError as error:
                assert error.path.startswith(format_path(where)), str(error)
                words = set(re.findall(r"\w+", str(error)))
                assert not words & (models - {"Spec"}), str(error)


@pytest.mark.parametrize(
    ("text", "path", "advice"),
    [
        (  # the review's examples
            "classes: [{name: a, n: 5}, {name: b, n: 5}]\n"
            "clusters: [{n: 3, correlation: {yes: 0.5}}]",
            "clusters[0].correlation.True",
            "quote it ('yes': ...) to use the word as a name",
        ),
        ("on: 1\nnoise: [{n: 2}]", "True", "quote it to keep the word, and check it against"),
        (  # a field written as a flag: that key, not the field it lost reported missing
            "classes: [{yes: a, n: 5}, {name: b, n: 5}]\nnoise: [{n: 2}]",
            "classes[0].True",
            "check it against the field names",
        ),
        (  # a level beside `by` is a name, not a field
            "structure: {n: 10, covariates: {a: {levels: {'no': 0.5, z: 0.5}}}, "
            "factors: {X: {mean: {by: a, no: 1, z: 0}}}, biomarkers: {b: {}}}",
            "structure.factors.X.mean.False",
            "to use the word as a name",
        ),
    ],
)
def test_a_key_yaml_read_as_a_flag_says_so_and_suggests_quoting(
    text: str, path: str, advice: str
) -> None:
    error = _refusal(text)
    assert error.path == path, error
    assert "YAML read this key as true/false" in error.allowed and advice in error.allowed


@pytest.mark.parametrize(
    ("field", "value"), [("kind", []), ("kind", {}), ("baseline", {"distribution": []})]
)
def test_a_list_where_a_name_is_meant_is_a_refusal_not_a_crash(field: str, value: Any) -> None:
    outcome = {"kind": "survival", "n": 20, "coefficients": {}, field: value}
    with pytest.raises(SpecError) as info:
        validate_spec({"noise": [{"n": 2}], "outcome": outcome})
    assert info.value.path.startswith(f"outcome.{field}")


def test_yaml_exponents_without_a_dot_are_numbers(tmp_path) -> None:
    """YAML 1.2 reads 5e-2 as a number; PyYAML alone would hand the field a string."""
    path = tmp_path / "s.yaml"
    path.write_text(
        "classes: [{name: a, n: 5}, {name: b, n: 5}]\nnoise: [{n: 2}]\n"
        "missing: [{mechanism: mcar, rate: 5e-2}]\n"
        "informative: [{n: 1, effect_size: 1E-1}]\n"
    )
    spec = load_spec(path)
    assert spec.missing[0].rate == 0.05 and spec.informative[0].effect_size == 0.1
    path.write_text("classes: [{name: a, n: 1e3}, {name: b, n: 5}]\nnoise: [{n: 2}]\n")
    with pytest.raises(SpecError, match=r"^classes\[0\]\.n: 1000.0 .*1000, not 1e3"):
        load_spec(path)


def test_a_path_given_to_validate_spec_points_at_load_spec() -> None:
    with pytest.raises(SpecError, match=r"read a YAML file with sb\.load_spec"):
        validate_spec("scene.yaml")


def test_a_key_that_is_a_list_and_rows_beyond_the_engine_are_refused(tmp_path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("classes: [{name: a, n: 5}, {name: b, n: 5}]\nnoise: [{n: 2}]\n? [a, b]\n: 3\n")
    with pytest.raises(SpecError, match=r"a key is a list \(line 3\)"):  # TypeError before
        load_spec(path)
    huge = {"classes": [{"name": "a", "n": 2**63}, {"name": "b", "n": 5}], "noise": [{"n": 1}]}
    with pytest.raises(SpecError, match=r"^classes: .*must be at most 274,877,906,944"):
        validate_spec(huge)  # passed validation, then crashed in generate
    small = {"classes": [{"name": "a", "n": 5}, {"name": "b", "n": 5}], "noise": [{"n": 1}]}
    with pytest.raises(SpecError, match=r"^rows: .*at most"):  # OverflowError before
        rescale_rows(small, 10**30)


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        (
            {
                "classes": [{"name": "a", "n": 5}, {"name": "b", "n": 5}],
                "noise": [{"n": 2, "distribution": "beta", "params": {"a": 1e300, "b": 2.0}}],
            },
            "noise[0].params.a",  # was noise[0].a
        ),
        (
            {
                "structure": {
                    "n": 20,
                    "factors": {"F": {"sd": 1e308}},
                    "biomarkers": {"a": {"loadings": {"F": 1.0}}},
                }
            },
            "structure.factors.F.sd",  # was structure.F.sd
        ),
    ],
)
def test_an_overflowing_value_is_named_where_the_spec_holds_it(spec: dict, path: str) -> None:
    import synthbio_ppl as sb

    with pytest.raises(SpecError, match="largest finite float32") as info:
        sb.generate(spec)
    assert info.value.path == path
