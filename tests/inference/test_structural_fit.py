"""Fitting a structural scene back: covariate codes observed, per-row factors latent.

One NUTS fit of a 300-row scene with two covariates, one region-dependent factor, four
biomarkers (loadings, shifts, a Height → Weight dependency, a clipped BP). Every scalar
parameter's 90% interval should hold the truth; across 20 parameters the count covered is
Binomial(20, 0.9) (mean 18, sd 1.3), so fewer than 15 is a failure at ≈ 1% false alarm.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpyro.distributions as dist
import pytest

import synthbio_ppl as sb
from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.inference.fitting import Fit, fit
from synthbio_ppl.inference.problem import build_problem

SCENE = {
    "name": "structural_fit",
    "seed": 3,
    "structure": {
        "name": "scene",
        "n": 300,
        "covariates": {
            "region": {"levels": {"rural": 0.4, "urban": 0.6}},
            "sex": {"levels": {"female": 0.5, "male": 0.5}},
        },
        "factors": {"X": {"mean": {"by": "region", "rural": -1.0, "urban": 1.0}, "sd": 0.5}},
        "biomarkers": {
            "Height": {"baseline": 160, "shifts": {"sex": {"male": 12}}, "noise": 6.0},
            "Weight": {
                "baseline": 52,
                "loadings": {"X": 8},
                "depends_on": {"Height": {"coef": 0.45, "centre": 160}},
                "shifts": {"region": {"urban": 4}},
                "noise": 3.0,
            },
            "Waist": {"baseline": 70, "loadings": {"X": 10}, "noise": 3.0},
            "BP": {
                "baseline": 110,
                "loadings": {"X": 6},
                "shifts": {"region": {"urban": 10}, "sex": {"male": 5}},
                "noise": 5.0,
                "clip": [95, None],
            },
        },
    },
}
NUTS = {"num_warmup": 500, "num_samples": 1000, "seed": 1, "progress": False}
SVI = {"method": "svi", "svi_steps": 50, "num_samples": 10, "progress": False}
"""Short SVI runs that only exercise the input path; the CLI test reuses their program."""


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> sb.Dataset:
    """The scene written to disk and read back, as `synthbio fit DATA_DIR` sees it."""
    folder = tmp_path_factory.mktemp("scene") / "data"
    sb.generate(SCENE).to_parquet(folder)
    return sb.load_dataset(folder)


@pytest.fixture(scope="module")
def scene_fit(scene: sb.Dataset) -> Fit:
    return fit(None, scene, **NUTS)


def test_clip_is_active_in_the_scene(scene: sb.Dataset) -> None:
    # the censored likelihood is exercised: P(BP < 95) is 6% for rural women (mean 104,
    # sd 5.8) and under 1% elsewhere, about 4 rows of 300 (none with odds of about 2%)
    assert (scene.X["BP"] == 95).sum() >= 1


def test_nuts_recovers_loadings_shifts_noise(scene_fit: Fit) -> None:
    table = scene_fit.recovery()
    fitted = ("scene.loading", "scene.shift", "scene.noise", "scene.coef", "scene.baseline")
    assert set(fitted) <= set(table["site"])
    assert table["covered"].sum() >= 15, table
    assert table["r_hat"].max() <= 1.02, table
    for site in ("scene.loading", "scene.shift", "scene.noise"):
        rows = table[table["site"] == site]
        z = (rows["mean"] - rows["truth"]).abs() / rows["sd"]
        assert (z < 3.5).all(), rows


def test_recovery_rows_name_biomarkers_factors_and_levels(scene_fit: Fit) -> None:
    """Every vector site's entries are named from the scene, in its declaration order."""
    labels = set(scene_fit.recovery().index)
    expected = {
        "scene.baseline[Height]",
        "scene.noise[BP]",
        "scene.loading[Weight~X]",
        "scene.shift[Height~sex=male]",
        "scene.shift[BP~region=urban]",
        "scene.coef[Weight~Height]",
        "scene.region.probs[urban]",
        "scene.sex.probs[female]",
    }
    assert expected <= labels, sorted(labels)
    truth = scene_fit.recovery().loc[["scene.loading[Weight~X]", "scene.coef[Weight~Height]"]]
    np.testing.assert_allclose(truth["truth"], [8.0, 0.45], rtol=1e-6)  # float32 sites


def test_factor_scale_is_fixed_unless_given_a_prior(scene: sb.Dataset, scene_fit: Fit) -> None:
    fixed = scene_fit.problem.fixed
    np.testing.assert_allclose(fixed["scene.X.mean"], [-1.0, 1.0])
    np.testing.assert_allclose(fixed["scene.X.sd"], 0.5)
    assert "scene.X.mean" not in scene_fit.idata.posterior
    freed = build_problem(None, scene, priors={"scene.X.mean": dist.Normal(0.0, 2.0)})
    assert "scene.X.mean" not in freed.fixed and "scene.X.sd" in freed.fixed
    assert "scene.X.mean" in freed.free


def test_inference_data_has_row_latents_and_covariates(scene: sb.Dataset, scene_fit: Fit) -> None:
    idata = scene_fit.idata
    assert idata.posterior["scene.X"].dims == ("chain", "draw", "row")
    loglik = idata.log_likelihood["X"].values
    assert loglik.shape == (1, NUTS["num_samples"], 300) and np.isfinite(loglik).all()
    region = scene.covariates["region"].cat.codes.to_numpy()
    np.testing.assert_array_equal(idata.constant_data["region"].values, region)
    latent = idata.posterior["scene.X"].values.mean(axis=(0, 1))
    true = scene.truth.latents["X"].to_numpy()
    assert np.corrcoef(latent, true)[0, 1] > 0.9  # rows' factor values are recovered too


def test_posterior_predictive_replicates_the_table(scene: sb.Dataset, scene_fit: Fit) -> None:
    replicas = scene_fit.posterior_predictive(n_draws=20)
    assert replicas.shape == (20, 300, 4)
    assert (replicas[..., 3] >= 95).all()  # BP's clip holds in replicas
    observed = scene.X.to_numpy(dtype=float)
    se = observed.std(axis=0) / np.sqrt(300)
    gap = np.abs(replicas.mean(axis=(0, 1)) - observed.mean(axis=0))
    assert (gap < 5 * se).all(), gap / se


def test_dataframe_input_reads_covariate_columns(scene: sb.Dataset) -> None:
    frame = scene.X.join(scene.covariates)
    problem_fit = sb.fit(SCENE, frame, **SVI)
    codes = problem_fit.problem.design.covariates
    assert codes.shape == (300, 2)
    np.testing.assert_array_equal(codes[:, 1], scene.covariates["sex"].cat.codes.to_numpy())


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda f: f.drop(columns="region"), "covariates.region"),
        (lambda f: f.assign(sex=["other"] * len(f)), "covariates.sex"),
    ],
)
def test_bad_covariates_raise_spec_error(scene: sb.Dataset, change, path: str) -> None:
    frame = change(scene.X.join(scene.covariates.astype(str)))
    with pytest.raises(SpecError, match=path):
        build_problem(SCENE, frame)


def test_cli_fit_reads_a_structural_folder(scene: sb.Dataset, tmp_path: Path) -> None:
    from synthbio_ppl.cli.app import main

    folder = tmp_path / "data"
    scene.to_parquet(folder)
    main(["fit", str(folder), "--method", "svi", "--svi-steps", "50", "--samples", "10", "--quiet"])
    assert (folder / "fit_svi.nc").exists() and (folder / "recovery_svi.csv").exists()
