"""Structural scenes: covariates, latent factors and biomarker formulas (DESIGN.md §3, §7).

Expectations are written out by hand from the table in DESIGN.md §7, not read from the
library; tolerances are 4 standard errors of the statistic at the sample size used.
"""

from __future__ import annotations

import copy
import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pandas as pd
import pytest
import yaml
from numpyro import handlers
from numpyro.infer.util import log_density
from scipy import integrate, stats

import synthbio_ppl as sb
from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.streams import ROWS
from synthbio_ppl.engine.draw import draw_rows
from synthbio_ppl.families.censored import CensoredLocScale
from synthbio_ppl.model.design import build_design
from synthbio_ppl.model.layout import build_layout
from synthbio_ppl.model.parameters import fixed_sites
from synthbio_ppl.model.scene import load_spec, validate_spec
from synthbio_ppl.processes.structural.model import structural
from tests.conftest import MODELS

Z = 4.0  # tolerance in standard errors
MU_X = {"rural": -1.3, "mixed": 0.0, "urban": 1.3}
MU_Y = {"rural": 0.6, "mixed": 0.0, "urban": -0.6}
SD_FACTOR = 0.4
# DESIGN.md §7: baseline, X loading, Y loading, region shifts, sex shifts, noise sd, clip
TABLE: dict[str, tuple[Any, ...]] = {
    "Height": (160, 0, 0, {}, {"male": 12}, 6.5, None),
    "Weight": (52, 12, 0, {"urban": 4, "rural": -3}, {"male": 7}, 2.8, None),  # +0.45(H-160)
    "Waist": (64, 13, 0, {"urban": 8, "rural": -6}, {}, 2.8, None),
    "Hip": (88, 7, 0, {}, {"female": 4}, 2.8, None),
    "BP_systolic": (106, 8, 0, {"urban": 16, "rural": -12}, {"male": 5}, 4.8, None),
    "BP_diastolic": (66, 6, 0, {"urban": 12, "rural": -10}, {"male": 4}, 3.8, None),
    "Pulse": (66, 0, 7, {"rural": 6}, {}, 4.0, None),
    "Hemoglobin": (13.2, 0, 0, {"rural": -1.8, "urban": 0.9}, {"male": 1.4}, 0.55, None),
    "CESD_score": (9, 0, 10, {"rural": 5}, {}, 4.0, (0, 60)),
    "PTSD_score": (7, 0, 11, {"rural": 4}, {}, 4.0, (0, 60)),
    "Cognitive_score": (102, 0, 0, {"rural": -6, "urban": -4}, {}, 9.0, (40, 130)),
    "Blood_Glucose": (5.2, 0.35, 0, {"urban": 0.15, "rural": -0.10}, {}, 0.60, (2.5, 20)),
    "Cholesterol_total": (5.0, 0.25, 0, {"urban": 0.10, "rural": -0.10}, {}, 0.70, (2, 12)),
    "Cholesterol_hdl": (1.3, -0.05, 0, {}, {"female": 0.15}, 0.20, (0.2, 4)),
    "Cholesterol_ldl": (3.0, 0.22, 0, {"urban": 0.05, "rural": -0.05}, {}, 0.60, (0.5, 10)),
    "Cholesterol_trig": (1.4, 0.18, 0, {"urban": 0.10, "rural": -0.08}, {}, 0.60, (0.2, 15)),
}


def cell_normal(name: str, region: str, sex: str) -> tuple[float, float]:
    """Mean and sd of a biomarker before its clip, given region and sex (hand formula)."""
    base, lx, ly, by_region, by_sex, noise, _ = TABLE[name]
    mean = base + lx * MU_X[region] + ly * MU_Y[region]
    mean += by_region.get(region, 0.0) + by_sex.get(sex, 0.0)
    var = (lx**2 + ly**2) * SD_FACTOR**2 + noise**2
    if name == "Weight":  # + 0.45·(Height − 160), Height | sex ~ N(160 + 12m, 6.5²)
        mean += 0.45 * (12.0 if sex == "male" else 0.0)
        var += 0.45**2 * 6.5**2
    return mean, math.sqrt(var)


def clipped_mean(mean: float, sd: float, clip: tuple[float, float] | None) -> float:
    """E[clip(N(mean, sd²), low, high)] by numerical integration."""
    if clip is None:
        return mean
    low, high = clip
    inside = integrate.quad(lambda x: x * stats.norm.pdf(x, mean, sd), low, high)[0]
    return inside + low * stats.norm.cdf(low, mean, sd) + high * stats.norm.sf(high, mean, sd)


@functools.cache
def region_expectation(name: str, region: str) -> float:
    """Population mean of a biomarker in a region (sex 50/50, independent of region)."""
    clip = TABLE[name][6]
    return float(np.mean([clipped_mean(*cell_normal(name, region, s), clip) for s in SEXES]))


SEXES = ("female", "male")


@pytest.fixture(scope="module")
def haalsi() -> sb.Dataset:
    return sb.generate(MODELS / "haalsi_like.yaml")


def test_catalogue_scene_is_the_reference_table() -> None:
    spec = load_spec(MODELS / "haalsi_like.yaml")
    assert spec.n_rows == 10_000 and spec.structure is not None
    assert list(spec.structure.biomarkers) == list(TABLE)
    for name, (*_, clip) in TABLE.items():
        given = spec.structure.biomarkers[name].clip
        assert (given is None and clip is None) or tuple(given) == clip


def test_region_means_match_the_formulas(haalsi: sb.Dataset) -> None:
    region = haalsi.covariates["region"]
    for name in TABLE:
        for level in MU_X:
            values = haalsi.X.loc[region == level, name].to_numpy(dtype=float)
            se = values.std(ddof=1) / math.sqrt(len(values))
            expected = region_expectation(name, level)
            assert abs(values.mean() - expected) < Z * se, (name, level, values.mean(), expected)


def test_truth_level_means_are_the_population_means(haalsi: sb.Dataset) -> None:
    assert haalsi.truth.structure is not None
    means = haalsi.truth.structure["level_means"]
    for name in TABLE:
        for level in MU_X:
            expected = region_expectation(name, level)
            assert means.loc[name, f"region={level}"] == pytest.approx(expected, rel=1e-4, abs=1e-4)


def test_urban_minus_rural_bp_systolic(haalsi: sb.Dataset) -> None:
    region, bp = haalsi.covariates["region"], haalsi.X["BP_systolic"].to_numpy(dtype=float)
    urban, rural = bp[region == "urban"], bp[region == "rural"]
    expected = (16 + 8 * 1.3) - (-12 + 8 * -1.3)  # 48.8
    sd = math.sqrt(4.8**2 + (8 * SD_FACTOR) ** 2 + 5**2 * 0.25)  # noise, factor, sex mix
    se = sd * math.sqrt(1 / len(urban) + 1 / len(rural))
    assert abs(urban.mean() - rural.mean() - expected) < Z * se


def test_latent_factor_means_and_sds_by_region(haalsi: sb.Dataset) -> None:
    latents, region = haalsi.truth.latents, haalsi.covariates["region"]
    assert latents is not None and list(latents.columns) == ["X", "Y"]
    for factor, means in (("X", MU_X), ("Y", MU_Y)):
        for level, mu in means.items():
            values = latents.loc[region == level, factor].to_numpy(dtype=float)
            n = len(values)
            assert abs(values.mean() - mu) < Z * SD_FACTOR / math.sqrt(n)
            assert abs(values.std(ddof=1) - SD_FACTOR) < Z * SD_FACTOR / math.sqrt(2 * (n - 1))


def test_clip_bounds_hold_and_the_clip_is_active(haalsi: sb.Dataset) -> None:
    for name, (*_, clip) in TABLE.items():
        if clip is not None:
            values = haalsi.X[name]
            assert values.min() >= clip[0] and values.max() <= clip[1], name
    # urban CESD ~ N(3, 4² + 10²·0.4²) before the clip: a share Φ(−3/√32) sits exactly at 0
    urban = haalsi.X.loc[haalsi.covariates["region"] == "urban", "CESD_score"].to_numpy()
    share = stats.norm.cdf(0.0, 3.0, math.sqrt(32.0))
    assert abs((urban == 0.0).mean() - share) < Z * math.sqrt(share * (1 - share) / len(urban))


def test_covariate_proportions(haalsi: sb.Dataset) -> None:
    n = len(haalsi.covariates)
    region, sex = haalsi.covariates["region"], haalsi.covariates["sex"]
    assert list(region.cat.categories) == ["rural", "mixed", "urban"]
    for level, p in {"rural": 0.3, "mixed": 0.4, "urban": 0.3}.items():
        assert abs((region == level).mean() - p) < Z * math.sqrt(p * (1 - p) / n)
    for level in MU_X:  # sex is independent of region: P(male | region) = 0.5
        inside = sex[region == level]
        assert abs((inside == "male").mean() - 0.5) < Z * math.sqrt(0.25 / len(inside))


def test_weight_depends_on_height_with_slope_045(haalsi: sb.Dataset) -> None:
    cov, latents = haalsi.covariates, haalsi.truth.latents
    design = np.column_stack(
        [
            np.ones(len(cov)),
            haalsi.X["Height"],
            latents["X"],
            cov["sex"] == "male",
            cov["region"] == "urban",
            cov["region"] == "rural",
        ]
    ).astype(float)
    weight = haalsi.X["Weight"].to_numpy(dtype=float)
    coef, *_ = np.linalg.lstsq(design, weight, rcond=None)
    resid = weight - design @ coef
    sigma2 = resid @ resid / (len(weight) - design.shape[1])
    se = math.sqrt(sigma2 * np.linalg.inv(design.T @ design)[1, 1])
    assert abs(coef[1] - 0.45) < Z * se
    assert math.sqrt(sigma2) == pytest.approx(2.8, rel=Z / math.sqrt(2 * len(weight)))


def test_truth_keeps_formulas_and_roles(haalsi: sb.Dataset) -> None:
    features = haalsi.truth.features
    assert (features["role"] == "biomarker").all() and not features["signal"].any()
    table = haalsi.truth.structure["biomarkers"]
    assert table.loc["Weight", "formula"].startswith("52 + 12·X + 0.45·(Height − 160)")
    assert table.loc["CESD_score", "formula"].endswith("clipped to [0, 60]")
    assert set(haalsi.y) == {"all"}


def test_the_model_is_a_likelihood_that_prefers_the_true_slope(haalsi: sb.Dataset) -> None:
    """The generator conditioned on the data scores the true Weight–Height slope highest."""
    spec, n = haalsi.spec, 2000
    layout = build_layout(spec).blocks[0].static  # the scene comes first
    assert layout is not None
    X = jnp.asarray(haalsi.X.to_numpy()[:n])
    codes = np.column_stack([haalsi.covariates[c].cat.codes for c in ("region", "sex")])
    latent = {f"haalsi.{f}": jnp.asarray(haalsi.truth.latents[f].to_numpy()[:n]) for f in "XY"}
    fixed = {k: jnp.asarray(v) for k, v in fixed_sites(spec).items()}

    def model() -> None:
        structural(layout, numpyro.plate(ROWS, n), obs=X, covariates=jnp.asarray(codes[:n]))

    @jax.jit
    def log_likelihood(coef: jax.Array) -> jax.Array:
        values = {**fixed, "haalsi.coef": coef[None], **latent}
        return log_density(handlers.condition(model, data=values), (), {}, {})[0]

    scores = {c: float(log_likelihood(jnp.float32(c))) for c in (0.35, 0.45, 0.55)}
    assert np.isfinite(list(scores.values())).all()
    assert scores[0.45] > max(scores[0.35], scores[0.55])


def test_censored_likelihood_of_a_clipped_value() -> None:
    unit = dist.Normal(0.0, 1.0)
    fn = CensoredLocScale(unit, jnp.asarray(3.0), 2.0, low=0.0, high=6.0)
    at = jnp.asarray([0.0, 2.5, 6.0])
    expected = [stats.norm.logcdf(0, 3, 2), stats.norm.logpdf(2.5, 3, 2), stats.norm.logsf(6, 3, 2)]
    np.testing.assert_allclose(np.asarray(fn.log_prob(at)), expected, rtol=1e-5)
    shifted = CensoredLocScale(unit, jnp.asarray(3.0), 2.0, 0.0, None, shift=1.0, scale=2.0)
    # obs = 1 + 2·clip(v): the bound sits at obs = 1, a density value pays the Jacobian 1/2
    np.testing.assert_allclose(
        np.asarray(shifted.log_prob(jnp.asarray([1.0, 6.0]))),
        [stats.norm.logcdf(0, 3, 2), stats.norm.logpdf(2.5, 3, 2) - math.log(2.0)],
        rtol=1e-5,
    )


COMPOSED: dict[str, Any] = {
    "name": "composed",
    "seed": 11,
    "classes": [{"name": "healthy", "n": 700}, {"name": "diseased", "n": 500}],
    "informative": [{"n": 2, "effect_size": 1.0}],
    "clusters": [{"n": 3, "correlation": 0.5, "anchor_effect": 0.5}],
    "noise": [{"n": 2}],
    "batches": {"n": 2, "strength": 5.0, "confounding": 0.3},
    "structure": {
        "name": "pop",
        "covariates": {
            "sex": {"levels": {"female": 0.5, "male": 0.5}},
            "smoker": {
                "by": "sex",
                "levels": {
                    "male": {"never": 0.4, "ever": 0.6},
                    "female": {"never": 0.8, "ever": 0.2},
                },
            },
        },
        "factors": {
            "F": {"mean": {"by": "smoker", "never": 0.0, "ever": 1.0}, "sd": 0.5},
        },
        "biomarkers": {
            "A": {"baseline": 10, "loadings": {"F": 2}, "noise": 1.0},
            "B": {
                "depends_on": {"C": {"coef": 0.5, "centre": 3}},
                "family": "student_t",
                "params": {"df": 5},
                "clip": [-2, None],
            },
            "C": {"baseline": 3, "shifts": {"smoker": {"ever": 1.5}}, "noise": 0.5},
        },
    },
}


@pytest.fixture(scope="module")
def composed() -> sb.Dataset:
    return sb.generate(COMPOSED)


def test_composed_scene_columns_labels_covariates(composed: sb.Dataset) -> None:
    assert list(composed.X.columns[:3]) == ["A", "B", "C"]
    assert composed.X.shape == (1200, 3 + 2 + 3 + 2)
    assert composed.y.value_counts().to_dict() == {"healthy": 700, "diseased": 500}
    assert list(composed.covariates.columns) == ["sex", "smoker", "batch"]
    features = composed.truth.features
    assert list(features["role"].iloc[:3]) == ["biomarker"] * 3
    assert features.loc["B", "distribution"] == "student_t"
    assert features["batch_affected"].all()


def test_conditional_covariate_follows_its_parent(composed: sb.Dataset) -> None:
    cov = composed.covariates
    for sex, p in (("male", 0.6), ("female", 0.2)):
        inside = cov.loc[cov["sex"] == sex, "smoker"]
        assert abs((inside == "ever").mean() - p) < Z * math.sqrt(p * (1 - p) / len(inside))


def test_batch_effects_shift_biomarkers_and_clip_is_biological(composed: sb.Dataset) -> None:
    offsets = composed.truth.batch["effects"]
    batch = composed.covariates["batch"].astype(str)
    a = composed.X["A"]
    parts = [a[batch == b] for b in ("batch0", "batch1")]
    # A | smoker: 10 + 2F, F ~ N(0 or 1, 0.5²), noise 1: sd ≤ √(1 + 1 + 1) over the mixture
    se = math.sqrt(3.0) * math.sqrt(sum(1 / len(p) for p in parts))
    realised = parts[1].mean() - parts[0].mean()
    expected = offsets.loc["batch1", "A"] - offsets.loc["batch0", "A"]
    assert abs(expected) > 10 * se  # strength 5: the check has power
    assert abs(realised - expected) < Z * se
    biological = composed.X["B"] - offsets["B"].reindex(batch).to_numpy()
    assert biological.min() >= -2 - 1e-4
    assert (biological < -2 + 1e-4).mean() > 0.01  # the bound is reached


def test_rows_do_not_depend_on_how_many_are_drawn(composed: sb.Dataset) -> None:
    spec = validate_spec(COMPOSED)
    layout, fixed, design = build_layout(spec), fixed_sites(spec), build_design(spec)
    full = draw_rows(layout, fixed, design, spec.seed, spec.dtype)
    part = draw_rows(layout, fixed, design, spec.seed, spec.dtype, start=300, stop=900)
    assert set(part) == {"X", "latents", "covariates"}
    for name in part:
        np.testing.assert_array_equal(part[name], full[name][300:900])
    np.testing.assert_array_equal(full["X"], composed.X.to_numpy())
    np.testing.assert_array_equal(full["latents"][:, 0], composed.truth.latents["F"])


def test_parquet_round_trip_keeps_latents_and_covariates(composed: sb.Dataset, tmp_path) -> None:
    folder = composed.to_parquet(tmp_path / "scene")
    assert (folder / "latents.parquet").is_file()
    back = sb.load_dataset(folder)
    pd.testing.assert_frame_equal(back.truth.latents, composed.truth.latents)
    pd.testing.assert_frame_equal(back.covariates, composed.covariates)
    pd.testing.assert_frame_equal(
        back.truth.structure["level_means"], composed.truth.structure["level_means"]
    )


def _structural(**changes: Any) -> dict[str, Any]:
    spec = copy.deepcopy(COMPOSED)
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = spec["structure"]
        for key in parents:
            node = node[key]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return spec


@pytest.mark.parametrize(
    ("changes", "where", "allowed"),
    [
        ({"biomarkers__C__shifts": {"smoker": {"sometimes": 1.0}}},
         "structure.biomarkers.C.shifts.smoker", "unknown level"),
        ({"biomarkers__A__loadings": {"G": 1.0}}, "structure.biomarkers.A.loadings",
         "unknown factor"),
        ({"biomarkers__C__shifts": {"region": {"urban": 1.0}}}, "structure.biomarkers.C.shifts",
         "unknown covariate"),
        ({"biomarkers__C__depends_on": {"B": 0.3}}, "structure.biomarkers.B.depends_on",
         "cycle"),
        ({"biomarkers__A__depends_on": {"A": 0.3}}, "structure.biomarkers.A.depends_on",
         "cycle"),
        ({"biomarkers__A__depends_on": {"Z": 0.3}}, "structure.biomarkers.A.depends_on",
         "unknown biomarker"),
        ({"biomarkers__B__clip": [3, 3]}, "structure.biomarkers.B.clip", "low < high"),
        ({"biomarkers__B__clip": [None, None]}, "structure.biomarkers.B.clip", "at least one"),
        ({"covariates__sex__levels": {"female": 0.5, "male": 0.6}},
         "structure.covariates.sex.levels", "sum to 1"),
        ({"covariates__smoker__levels__male": {"never": 0.4, "ever": 0.5}},
         "structure.covariates.smoker.levels.male", "sum to 1"),
        ({"covariates__smoker__levels__male": {"never": 0.4, "often": 0.6}},
         "structure.covariates.smoker.levels.female", "needs the levels"),
        ({"covariates__smoker__by": "age"}, "structure.covariates.smoker.by", "declared earlier"),
        ({"factors__F__mean": {"by": "age", "young": 1.0}}, "structure.factors.F.mean.by",
         "unknown covariate"),
        ({"factors__F__mean": {"by": "smoker", "ever": 1.0}}, "structure.factors.F.mean",
         "one entry per level"),
        ({"factors__F__sd": 0.0}, "structure.factors.F.sd", "must be > 0"),
        ({"biomarkers__A__noise": -1.0}, "structure.biomarkers.A.noise", "greater than 0"),
        ({"biomarkers__B__params": {"df": 1.5}}, "structure.biomarkers.B.params", "df"),
        ({"factors__A": {"sd": 1.0}}, "structure.biomarkers.A", "already names"),
        ({"covariates__batch": {"levels": {"a": 1.0}}}, "structure.covariates.batch", "reserved"),
        ({"n": 999}, "structure.n", "total 1200"),
    ],
)  # fmt: skip
def test_bad_structure_names_path_value_and_rule(
    changes: dict[str, Any], where: str, allowed: str
) -> None:
    with pytest.raises(SpecError) as info:
        validate_spec(_structural(**changes))
    message = str(info.value)
    assert message.startswith(where + ":"), message
    assert allowed in message, message


def test_rows_come_from_structure_n_or_from_classes() -> None:
    bare = {"structure": {"n": 7, "biomarkers": {"A": {}}}}
    spec = validate_spec(bare)
    assert spec.class_names == ["all"] and spec.n_rows == 7
    assert validate_spec(spec.model_dump()) == spec  # the dumped spec validates again
    with pytest.raises(SpecError, match=r"^structure\.n: .*number of rows"):
        validate_spec({"structure": {"biomarkers": {"A": {}}}})
    with pytest.raises(SpecError, match=r"^classes: .*two or more classes"):
        validate_spec({"classes": [{"name": "a", "n": 5}], "noise": [{"n": 2}]})
    with pytest.raises(SpecError, match=r"^informative: .*2\+ classes"):
        validate_spec({**bare, "informative": [{"n": 2}]})


def test_readme_structure_example_is_valid() -> None:
    readme = (MODELS.parent / "README.md").read_text()
    block = readme.split("## Structural scenes", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    spec = validate_spec(yaml.safe_load(block))
    assert spec.structure is not None and spec.n_rows == 10_000
    assert spec.structure.covariates["smoker"].by == "sex"


def test_a_far_clip_bound_adds_nothing_to_the_truth() -> None:
    """high = 1e300 has probability 0; squaring it raised OverflowError in the truth."""
    import warnings

    spec = {"dtype": "float64", "structure": {"n": 20, "biomarkers": {"a": {"clip": [0, 1e300]}}}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        data = sb.generate(spec)
    assert np.isfinite(data.X.to_numpy()).all() and (data.X.to_numpy() >= 0).all()
