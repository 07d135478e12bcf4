"""Generation never writes non-finite values: it stops, naming the parameter or block."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import synthbio_ppl as sb
from synthbio_ppl.cli.app import main
from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.engine.parquet_writer import generate_to_parquet

BASE = {"classes": [{"name": "a", "n": 50}, {"name": "b", "n": 50}]}
HUGE_FACTOR = {"n": 2, "effect": "multiplicative", "strength": 100}
OVERFLOWS = [
    ({"noise": [{"n": 2, "distribution": "lognormal", "params": {"sigma": 14}}]}, "noise[0]"),
    ({"informative": [{"n": 2, "effect_size": 1e39}]}, "informative[0].effect_size"),
    (
        {
            # log-factors ~ N(0, 100²): each of 2 × 20 overflows exp (|z| > 0.89) with
            # probability 0.37, so some does but with odds of 0.63⁴⁰ ≈ 1e-8
            "informative": [{"n": 20}],
            "batches": {"n": 2, "effect": "multiplicative", "strength": 100},
        },
        "informative[0]",
    ),
    (
        {"structure": {"n": 100, "biomarkers": {"A": {"baseline": 1e39}}}},
        "structure.biomarkers.A.baseline",
    ),
]


@pytest.mark.parametrize(("extra", "path"), OVERFLOWS)
def test_overflow_is_refused_naming_its_source(extra: dict[str, Any], path: str) -> None:
    with pytest.raises(SpecError) as info:
        sb.generate({**BASE, **extra})
    assert info.value.path == path


def test_large_but_finite_values_are_generated() -> None:
    data = sb.generate({**BASE, "informative": [{"n": 2, "effect_size": 1e30}]})
    assert np.isfinite(data.X.to_numpy()).all()


def test_streamed_and_cli_generation_refuse_overflow_too(tmp_path: Path, capsys) -> None:
    spec = {**BASE, **OVERFLOWS[0][0]}
    with pytest.raises(SpecError, match="non-finite"):
        generate_to_parquet(spec, tmp_path / "s", rows=100)
    (tmp_path / "s.yaml").write_text(sb.validate_spec(spec).to_yaml())
    assert main(["generate", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "o")]) == 2
    assert "noise[0]" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_rare_non_finite_value_is_counted_not_rounded_to_zero_percent() -> None:
    from synthbio_ppl.engine.finite import check_finite
    from synthbio_ppl.model.layout import build_layout

    spec = sb.validate_spec({"name": "f", "informative": [{"n": 2}], "classes": BASE["classes"]})
    values = np.zeros((1000, 2), np.float32)
    values[417, 1] = np.inf
    with pytest.raises(SpecError, match=r"1 of 1000 values non-finite in inf0_1"):
        check_finite(spec, build_layout(spec), values)


BEYOND_FLOAT32 = [
    (
        {"noise": [{"n": 2, "distribution": "lognormal", "params": {"sigma": 1e39}}]},
        "noise[0].params.sigma",
    ),
    ({"informative": [{"n": 2, "effect_size": 1e39}]}, "informative[0].effect_size"),
    ({"informative": [{"n": 2}], "batches": {"n": 2, "strength": 1e39}}, "batches.strength"),
    (
        {
            "informative": [{"n": 2}],
            "missing": [{"mechanism": "mnar", "rate": 0.2, "strength": -1e39}],
        },
        "missing[0].strength",
    ),
    (
        {"structure": {"n": 100, "biomarkers": {"A": {"baseline": 1, "noise": 1e39}}}},
        "structure.biomarkers.A.noise",
    ),
    (
        {
            "structure": {
                "n": 100,
                "factors": {"F": {"sd": 1.0}},
                "biomarkers": {"A": {"loadings": {"F": -3.5e38}}},
            }
        },
        "structure.biomarkers.A.loadings.F",
    ),
]


@pytest.mark.parametrize(("extra", "path"), BEYOND_FLOAT32)
def test_validation_refuses_what_generation_would_overflow(extra: dict, path: str) -> None:
    """validate (pure pydantic) names the same field generate would: every number of a
    spec becomes a value of its dtype, so one beyond float32's largest is refused there."""
    with pytest.raises(SpecError, match="largest finite float32") as info:
        sb.validate_spec({**BASE, **extra})
    assert info.value.path == path
    sb.validate_spec({**BASE, **extra, "dtype": "float64"})  # float64 holds it


def test_intercepts_beyond_the_dtype_name_the_missing_entry(recwarn) -> None:
    """A strength within float32 whose solved intercepts are not (|strength|·|z| beyond
    3.4e38) stops at the entry, with no numpy warning on the way."""
    spec = {
        **BASE,
        "informative": [{"n": 2}],
        "missing": [
            {"mechanism": "mcar", "rate": 0.1},
            {"mechanism": "mnar", "rate": 0.2, "strength": 3.4e38, "affects": ["inf0"]},
        ],
    }
    with pytest.raises(SpecError, match="solved intercept would lie beyond float32") as info:
        sb.generate(spec)
    assert (info.value.path, info.value.value) == ("missing[1].strength", 3.4e38)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


HUGE_BASELINE = {
    "dtype": "float64",
    "structure": {
        "n": 100,
        "covariates": {"sex": {"levels": {"female": 0.5, "male": 0.5}}},
        "biomarkers": {
            "H": {"baseline": 160, "noise": 1e300, "shifts": {"sex": {"male": 12}}},
            "W": {"baseline": 52, "noise": 2.8, "depends_on": {"H": {"coef": 0.45}}},
        },
    },
}


def test_a_truth_that_overflows_is_refused_in_memory_and_streamed(tmp_path: Path) -> None:
    """Values that fit float64 (a noise sd of 1e300) whose population sd the truth cannot
    compute (its variance is beyond 1e308): generation stops naming the process, as load
    would refuse the truth."""
    with pytest.raises(SpecError, match="level_sds") as info:
        sb.generate(HUGE_BASELINE)
    assert info.value.path == "structure"
    with pytest.raises(SpecError, match="level_sds"):
        generate_to_parquet(HUGE_BASELINE, tmp_path / "s", rows=300)
    assert not any(tmp_path.iterdir())  # refused before anything was staged


@pytest.mark.parametrize(
    ("params", "path"),
    [({"distribution": "lognormal", "params": {"sigma": 1e-300}}, "noise[0].params.sigma"),
     ({"distribution": "normal", "standardise": False, "params": {"scale": 1e-300}},
      "noise[0].params.scale"),
     ({"distribution": "beta", "standardise": False, "params": {"a": 1e-40}},
      "noise[0].params.a")],
)  # fmt: skip
def test_a_number_that_is_zero_in_the_dtype_is_refused_at_validation(params, path) -> None:
    """0 in float32 (a raw normal's scale of 1e-300 was an internal error at the draw);
    validate refuses it by name, as generate does."""
    with pytest.raises(SpecError, match=r"nearer 0 than 1\.175e-38") as info:
        sb.validate_spec({**BASE, "noise": [{"n": 2, **params}]})
    assert info.value.path == path
    sb.validate_spec({**BASE, "noise": [{"n": 2, **params}], "dtype": "float64"})


def test_a_scale_too_small_to_compute_with_is_not_called_an_overflow() -> None:
    """sigma 1e-20 is a normal float32, but exp(σ²) − 1 is 0 there: advice to use
    smaller values was backwards."""
    spec = {**BASE, "noise": [{"n": 2, "distribution": "lognormal", "params": {"sigma": 1e-20}}]}
    with pytest.raises(SpecError, match="a scale too small to compute with") as info:
        sb.generate(spec)
    assert info.value.path == "noise[0]" and "use smaller" not in str(info.value)


def _injected(truth: Any, where: str) -> None:
    """Put one infinity (a NaN outside a table) where ``where`` says."""
    if where == "features":
        column = truth.features.select_dtypes("number").columns[0]
        truth.features.loc[truth.features.index[1], column] = np.inf
    elif where == "class_means":
        truth.class_means.iloc[0, 0] = -np.inf
    elif where == "parameters":
        site = next(iter(truth.parameters))
        truth.parameters[site] = [float("nan")] * len(truth.parameters[site])
    else:  # the outcome's own truth, a dataclass of frames and dicts
        truth.outcome.parameters["intercept"] = -np.inf


@pytest.mark.parametrize("where", ["features", "class_means", "parameters", "outcome"])
def test_the_quick_look_misses_no_value_the_truth_refuses(where: str) -> None:
    """The truth is walked exactly only where a vectorised look finds a candidate: each
    kind of container it looks into, given one value load refuses, is refused."""
    from synthbio_ppl.engine.finite import check_truth_finite
    from synthbio_ppl.model.layout import build_layout

    spec = sb.load_spec(Path(__file__).parents[2] / "models" / "risk_score.yaml")
    data = sb.generate(spec)
    check_truth_finite(spec, build_layout(spec), data.truth)  # as generated: finite
    _injected(data.truth, where)
    with pytest.raises(SpecError, match="overflow float32 in the truth"):
        check_truth_finite(spec, build_layout(spec), data.truth)
