"""Property-based tests over random specs: valid ones generate what they declare, invalid
ones fail with a SpecError (never a JAX or pydantic traceback)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import synthbio_ppl as sb
from synthbio_ppl.families.table import FAMILY_NAMES

FAST_FAMILIES = [f for f in FAMILY_NAMES if f not in ("gamma", "student_t", "beta")]


def floats(low: float, high: float) -> st.SearchStrategy[float]:
    """Numbers in [low, high] that a float32 spec holds: one nearer 0 than float32's
    smallest normal number (which validation refuses: it would be 0) drawn as 0."""
    return st.floats(low, high).map(lambda x: 0.0 if abs(x) < 1.2e-38 else x)


@st.composite
def valid_specs(draw: st.DrawFn) -> dict[str, Any]:
    k = draw(st.integers(2, 3))
    classes = [{"name": f"c{i}", "n": draw(st.integers(1, 30))} for i in range(k)]
    family = st.sampled_from(FAST_FAMILIES)
    informative = [
        {"n": draw(st.integers(1, 3)), "effect_size": draw(floats(-3, 3)),
         "distribution": draw(family)}
        for _ in range(draw(st.integers(0, 2)))
    ]  # fmt: skip
    clusters = []
    for _ in range(draw(st.integers(0, 1))):
        n = draw(st.integers(2, 4))
        structure = draw(st.sampled_from(["equicorrelated", "toeplitz"]))
        low = -1 / (n - 1) if structure == "equicorrelated" else -1.0
        rho = draw(floats(low + 0.01, 0.99))
        clusters.append({"n": n, "structure": structure, "correlation": rho,
                         "anchor_effect": draw(floats(-2, 2))})  # fmt: skip
    noise = [{"n": draw(st.integers(1, 4)), "distribution": draw(family)}]
    spec: dict[str, Any] = {
        "seed": draw(st.integers(0, 2**32 - 1)),
        "shuffle": draw(st.booleans()),
        "classes": classes,
        "informative": informative,
        "clusters": clusters,
        "noise": noise,
    }
    if draw(st.booleans()):
        spec["pseudo_classes"] = [{"n": 1, "groups": draw(st.integers(2, 3))}]
    if draw(st.booleans()) and sum(c["n"] for c in classes) >= 2:
        spec["batches"] = {
            "n": draw(st.integers(2, min(3, sum(c["n"] for c in classes)))),
            "effect": draw(st.sampled_from(["additive", "multiplicative"])),
            "confounding": draw(floats(0, 1)),
            "granularity": draw(st.sampled_from(["per_feature", "scalar"])),
        }
    if draw(st.booleans()):
        mechanism = draw(st.sampled_from(["mcar", "mar", "mnar"]))
        entry: dict[str, Any] = {"mechanism": mechanism, "rate": draw(floats(0, 0.9))}
        if mechanism == "mar":
            entry["depends_on"] = "class"
        if mechanism != "mcar":
            entry["strength"] = draw(floats(-3, 3))
        entry["exact"] = draw(st.booleans())
        spec["missing"] = [entry]
    return spec


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_specs())
def test_valid_specs_generate_what_they_declare(spec: dict[str, Any]) -> None:
    data = sb.generate(spec)
    n = sum(c["n"] for c in spec["classes"])
    p = sum(g["n"] for key in ("informative", "clusters", "noise", "pseudo_classes")
            for g in spec.get(key, []))  # fmt: skip
    assert data.X.shape == (n, p)
    if "missing" in spec:
        assert np.isfinite(data.truth.complete.to_numpy()).all()
        assert (data.X.isna().to_numpy() == data.truth.missing.to_numpy()).all()
    else:
        assert np.isfinite(data.X.to_numpy()).all()
    assert data.truth.features.index.tolist() == data.X.columns.tolist()
    assert data.truth.class_means.shape == (p, len(spec["classes"]))
    assert data.y.value_counts().to_dict() == {c["name"]: c["n"] for c in spec["classes"]}
    if "batches" in spec:
        table = data.truth.batch["table"]
        assert table.sum(axis=1).tolist() == [c["n"] for c in spec["classes"]]
        assert table.to_numpy().sum() == n
        if spec["batches"]["effect"] == "multiplicative":
            assert (data.truth.batch["effects"].to_numpy() > 0).all()


BAD_VALUES = [-1, 0, 1.5, 2**40, "x", None, [], {}, [1, 2, 3], {"a": 1}, float("nan"), True]


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    if isinstance(node, dict):
        return [prefix] + [p for k, v in node.items() for p in _paths(v, (*prefix, k))]
    if isinstance(node, list):
        return [prefix] + [p for i, v in enumerate(node) for p in _paths(v, (*prefix, i))]
    return [prefix]


@settings(max_examples=300, deadline=None)
@given(valid_specs(), st.data())
def test_any_corrupted_spec_fails_with_a_spec_error(spec: dict[str, Any], data) -> None:
    paths = [p for p in _paths(spec) if p]
    path = data.draw(st.sampled_from(paths))
    bad = copy.deepcopy(spec)
    node = bad
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = data.draw(st.sampled_from(BAD_VALUES))
    try:
        sb.validate_spec(bad)
    except sb.SpecError as exc:
        message = str(exc)
        assert "\n" not in message and "is not allowed" in message
        assert "Traceback" not in message
