"""Fitting back: NUTS/SVI recover the parameters that made the data; SBC; bad input; CLI.

Tolerances come from the sampling error at the chosen sizes: with two classes of n0, n1
rows and p unit-variance features, the posterior sd of a block's effect size is about
√((1/n0 + 1/n1)/p). Every fit uses one chain and a fixed seed.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import numpyro.distributions as dist
import pandas as pd
import pytest

import synthbio_ppl as sb
from synthbio_ppl.cli.fit import add_fit_parser
from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.inference.calibration import Calibration, calibrate, rank_tests
from synthbio_ppl.inference.diagnostics import split_rhat
from synthbio_ppl.inference.fitting import Fit, fit
from tests.processes.test_suite import CASES as SUITE
from tests.processes.test_suite import case_fit, dataset

CASES = {case.name: case for case in SUITE}


def process_fit(name: str) -> tuple[sb.Dataset, Fit]:
    """The shared suite's dataset and NUTS fit of one process (made once per session)."""
    case = CASES[name]
    return dataset(case), case_fit(case)


def test_inference_data_groups_and_dims(tmp_path: Path) -> None:
    data, result = process_fit("batches")
    idata = result.idata
    assert {"posterior", "sample_stats", "log_likelihood", "observed_data"} <= set(idata.groups())
    post = idata.posterior
    assert post["batch.offset"].dims == ("chain", "draw", "batch", "batch_feature")
    assert post["batch"].values.tolist() == ["batch0", "batch1", "batch2"]
    assert post["inf0.effect_size"].dims[-1] == "class_step"
    assert post["class_step"].values.tolist() == ["diseased-healthy"]
    assert idata.log_likelihood["X"].shape == (1, 2000, 120)
    assert idata.observed_data["X"].dims == ("row", "feature")
    np.testing.assert_array_equal(idata.observed_data["X"].values, data.X.to_numpy())
    table = result.recovery()
    assert "batch.offset[batch2,noise0_1]" in table.index
    assert table.loc["batch.offset[batch2,noise0_1]", "truth"] == pytest.approx(
        data.truth.batch["effects"].loc["batch2", "noise0_1"]
    )
    # posterior predictive check: the observed class difference of the informative block
    # lies inside the replicated ones, which are as narrow as the posterior (sd ≈ 0.2 here;
    # replicates from the N(0, 2²) prior would spread over ±4)
    ppc = result.posterior_predictive(n_draws=200, seed=2)
    assert ppc.shape == (200, 120, 6)
    sick = (data.y == "diseased").to_numpy()
    replicated = ppc[:, sick, :4].mean(axis=(1, 2)) - ppc[:, ~sick, :4].mean(axis=(1, 2))
    X = data.X.to_numpy()
    observed = X[sick, :4].mean() - X[~sick, :4].mean()
    assert replicated.std() < 0.5
    assert abs(observed - replicated.mean()) < 3 * replicated.std()
    replicate = result.posterior_predictive(n_draws=1, as_datasets=True)[0]
    assert replicate.X.columns.tolist() == data.X.columns.tolist()
    assert replicate.covariates["batch"].tolist() == data.covariates["batch"].tolist()
    assert set(replicate.truth.parameters) >= {"batch.offset", "inf0.effect_size"}
    # written and read back: its truth holds a posterior draw, not the spec's values, and
    # says so (loading compares a generated folder's truth with its spec)
    assert replicate.truth.posterior_draw == {"method": result.method, "draw": 0}
    back = sb.load_dataset(replicate.to_parquet(tmp_path / "replicate"))
    assert back.truth.posterior_draw == replicate.truth.posterior_draw
    assert (
        back.truth.parameters["inf0.effect_size"] == replicate.truth.parameters["inf0.effect_size"]
    )


def test_recovery_leads_with_the_parameters_of_interest() -> None:
    """The batches case: the effect size, then batch.strength, then the 3 × 6 batch
    offsets, flagged nuisance; without them, or collapsed into one row per site."""
    _, result = process_fit("batches")
    table = result.recovery()
    assert table.index[:2].tolist() == ["inf0.effect_size[diseased-healthy]", "batch.strength"]
    assert table["nuisance"].tolist() == [False] * 2 + [True] * 18
    assert (table.loc[table["nuisance"], "site"] == "batch.offset").all()
    assert result.recovery(nuisance=False).equals(table.iloc[:2])
    summary = result.nuisance_summary()
    assert summary.index.tolist() == ["batch.offset"]
    offsets = table[table["nuisance"]]
    row = summary.loc["batch.offset"]
    assert row["n"] == 18
    assert row["covered"] == pytest.approx(offsets["covered"].mean())
    assert row["r_hat"] == offsets["r_hat"].max()
    assert row["ess_bulk"] == offsets["ess_bulk"].min()
    assert row["max_abs_z"] == pytest.approx(offsets["z"].abs().max())
    _, plain = process_fit("pseudo_classes")  # no column modifier: no nuisance site
    assert not plain.recovery()["nuisance"].any() and plain.nuisance_summary().empty


def test_fit_repr_is_a_few_lines_with_the_key_figures() -> None:
    _, result = process_fit("batches")
    text = repr(result)
    lines = text.splitlines()
    assert len(lines) <= 5 and len(text) < 600, text
    draws = result.idata.posterior.sizes["draw"]
    assert lines[0] == f"Fit of 'batches' by NUTS: 1 chain × {draws} draws, 120 rows"
    table = result.recovery()
    interest, nuisance = table[~table["nuisance"]], table[table["nuisance"]]
    assert "2 parameters of interest: 90% intervals cover the truth for " in lines[1]
    assert lines[1].endswith(f"{int(interest['covered'].sum())}/2")
    assert lines[2].startswith("  18 nuisance parameters (batch.offset)")
    assert lines[2].endswith(f"{int(nuisance['covered'].sum())}/18")
    assert f"worst r_hat {table['r_hat'].max():.3f} ({table['r_hat'].idxmax()})" in text
    diverging = int(result.idata.sample_stats["diverging"].sum())
    assert f"{diverging} divergent transition" in text


def test_svi_recovers_effect_size_on_a_larger_dataset() -> None:
    """Posterior of d with known unit variance: mean ≈ the MLE (mean over features of the
    class mean differences), sd = √((1/n0 + 1/n1)/p). SVI's optimisation error must be small
    next to that sd, and the guide's sd within 20% of it."""
    n0 = n1 = 500
    p = 5
    spec = {
        "name": "svi",
        "seed": 21,
        "classes": [{"name": "healthy", "n": n0}, {"name": "diseased", "n": n1}],
        "informative": [{"n": p, "effect_size": 0.8}],
        "noise": [{"n": 5}],
    }
    data = sb.generate(spec)
    result = fit(None, data, "svi", svi_steps=3000, num_samples=2000, progress=False)
    row = result.recovery().loc["inf0.effect_size[diseased-healthy]"]
    X = data.X.filter(like="inf0").to_numpy(dtype=float)
    sick = (data.y == "diseased").to_numpy()
    mle = (X[sick].mean(0) - X[~sick].mean(0)).mean()
    se = np.sqrt((1 / n0 + 1 / n1) / p)
    assert abs(row["mean"] - mle) < 0.25 * se
    assert abs(row["mean"] - 0.8) < 3 * se
    assert 0.8 < row["sd"] / se < 1.25
    assert result.losses is not None and result.losses[-100:].mean() < result.losses[:100].mean()


def test_dataframe_input_fixed_sites_and_priors() -> None:
    """A user's table (no truth) with labels and design given apart; one site fixed, one
    prior replaced by N(3, 0.01²), which overrules 120 rows."""
    data = sb.generate(CASES["informative"].spec)
    result = fit(
        data.spec,
        data.X.copy(),
        "svi",
        labels=data.y.astype(str).tolist(),
        design=data.covariates,
        fixed={"noise0.sigma": 0.5},
        priors={"inf0.effect_size": dist.Normal(3.0, 0.01)},
        svi_steps=1500,
        num_samples=300,
        progress=False,
    )
    assert "noise0.sigma" not in result.idata.posterior
    table = result.recovery()
    assert table["truth"].isna().all() and table["covered"].isna().all()
    assert table["site"].tolist() == ["inf0.effect_size", "inf0.effect_size"]
    assert table.index.tolist() == ["inf0.effect_size[mid-low]", "inf0.effect_size[high-mid]"]
    assert np.allclose(table["mean"], 3.0, atol=0.05)


def test_mcmc_backend_matches_the_program() -> None:
    """numpyro.infer.MCMC on the same model: both posterior means of d agree within
    Monte Carlo error (a few posterior sd / √ESS) and lie near the truth."""
    data, program = process_fit("pseudo_classes")
    mcmc = fit(None, data, num_warmup=300, num_samples=600, seed=2, progress=False, backend="mcmc")
    a, b = program.recovery(), mcmc.recovery()
    assert a.index.tolist() == b.index.tolist()
    assert (b["r_hat"] <= 1.02).all()
    mc_error = np.sqrt(a["sd"] ** 2 / a["ess_bulk"] + b["sd"] ** 2 / b["ess_bulk"])
    assert ((a["mean"] - b["mean"]).abs() < 4 * mc_error).all(), (a, b)
    assert set(mcmc.idata.sample_stats.data_vars) >= {"lp", "diverging", "tree_depth"}


@pytest.mark.slow
def test_sbc_ranks_are_uniform_and_a_wrong_prior_fails() -> None:
    """Three classes × 10 rows, 4 normal features: the two effect sizes are the only
    parameters. Fitted with the prior that simulated them, the ranks are uniform; fitted
    with N(0, 0.5²) while the truth comes from N(0, 2²), the posterior is over-shrunk and
    the truth lands in the extreme ranks."""
    spec = {
        "name": "sbc",
        "seed": 1,
        "classes": [{"name": "a", "n": 10}, {"name": "b", "n": 10}, {"name": "c", "n": 10}],
        "informative": [{"n": 4, "effect_size": 1.0}],
    }
    settings = {"n_sims": 100, "num_warmup": 200, "num_samples": 396, "n_draws": 99, "seed": 3}
    wide = {"inf0.effect_size": dist.Normal(0.0, 2.0)}
    good = calibrate(spec, priors=wide, **settings)  # explicit: the bad run reuses its program
    assert good.ranks.shape == (100, 2)
    assert good.ranks.to_numpy().min() >= 0 and good.ranks.to_numpy().max() <= 99
    assert good.passes(alpha=0.01), good.tests
    tight = {"inf0.effect_size": dist.Normal(0.0, 0.5)}
    bad = calibrate(spec, priors=tight, sim_priors=wide, **settings)
    assert not bad.passes(alpha=0.01), bad.tests
    assert (bad.tests["chi2_p"] < 1e-3).all()


def test_rank_tests_detect_non_uniform_ranks() -> None:
    rng = np.random.default_rng(0)
    uniform = pd.DataFrame({"u": rng.integers(0, 100, 200)})
    piled = pd.DataFrame({"u": np.r_[np.zeros(60, int), rng.integers(0, 100, 140)]})
    assert rank_tests(uniform, 99)["chi2_p"].iloc[0] > 0.01
    assert rank_tests(piled, 99)["chi2_p"].iloc[0] < 1e-6
    assert rank_tests(piled, 99)["ks_p"].iloc[0] < 1e-3


def test_split_rhat_flags_a_chain_that_drifts() -> None:
    rng = np.random.default_rng(0)
    stationary = rng.normal(size=(1, 1000, 1))
    drifting = stationary + np.linspace(0, 1, 1000)[None, :, None]
    assert split_rhat(stationary)[0] < 1.01
    assert split_rhat(drifting)[0] > 1.05


def test_plots_draw() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, result = process_fit("pseudo_classes")
    ax = result.plot_recovery()
    assert len(ax.get_yticklabels()) == len(result.recovery())
    rng = np.random.default_rng(1)
    ranks = pd.DataFrame({"a": rng.integers(0, 100, 50), "b": rng.integers(0, 100, 50)})
    calibration = Calibration(ranks, ranks * 0.0, 99, rank_tests(ranks, 99), np.zeros(50))
    for kind in ("hist", "ecdf"):
        axes = calibration.plot(kind=kind)
        assert [a.get_title() for a in axes.reshape(-1)[:2]] == ["a", "b"]
    plt.close("all")


# --------------------------------------------------------------------------- bad input


@pytest.fixture(scope="module")
def small() -> sb.Dataset:
    return sb.generate(CASES["batches"].spec)


def _frame(data: sb.Dataset) -> pd.DataFrame:
    return pd.concat([data.X, data.covariates], axis=1)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda f, y: (f.drop(columns=["inf0_1"]), y), "X"),
        (lambda f, y: (f.assign(patient_id=1), y), "X"),
        (lambda f, y: (f.assign(inf0_2=f["inf0_2"].where(f.index != 3)), y), "X.inf0_2"),
        (lambda f, y: (f.assign(inf0_0="a"), y), "X.inf0_0"),
        (lambda f, y: (f, y.astype(str).where(y.index != 0, "sick")), "labels"),
        (lambda f, y: (f, y.astype(str).where(y.index < 1, "healthy")), "labels"),
        (lambda f, y: (f, y.iloc[:-1]), "labels"),
        (lambda f, y: (f.drop(columns=["batch"]), y), "covariates.batch"),
        (lambda f, y: (f.assign(batch="batch7"), y), "covariates.batch"),
    ],
)
def test_bad_input_raises_spec_error(small: sb.Dataset, change: Any, path: str) -> None:
    frame, labels = change(_frame(small), small.y)
    with pytest.raises(SpecError) as info:
        fit(small.spec, frame, labels=labels, progress=False)
    assert info.value.path == path


def test_bad_options_raise_spec_error(small: sb.Dataset) -> None:
    with pytest.raises(SpecError, match="not a parameter site"):
        fit(None, small, fixed={"inf0.sigma": 1.0})
    with pytest.raises(SpecError, match="support"):
        fit(None, small, fixed={"batch.strength": -1.0})
    with pytest.raises(SpecError, match="support"):
        fit(None, small, priors={"batch.strength": dist.Normal(0.0, 1.0)})
    with pytest.raises(SpecError, match="'nuts' or 'svi'"):
        fit(None, small, method="hmc")  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="Dataset or a pandas DataFrame"):
        fit(small.spec, small.X.to_numpy())  # type: ignore[arg-type]


def test_a_bounded_family_shape_lives_above_its_bound() -> None:
    """Student t's df must exceed 2: a fixed value or a prior below it is refused, and the
    fitted site's support is (2, ∞), so NUTS never starts at df ≤ 2 (where the variance,
    and so the standardised density, is undefined)."""
    data = dataset(CASES["noise"])
    with pytest.raises(SpecError, match="support"):
        fit(None, data, fixed={"heavy.df": 1.5})
    with pytest.raises(SpecError, match="support"):
        fit(None, data, priors={"heavy.df": dist.Normal(0.0, 1.0)})
    table = case_fit(CASES["noise"]).recovery()
    draws = case_fit(CASES["noise"]).posterior["heavy.df"]
    assert draws.min() > 2.0 and table.loc["heavy.df", "r_hat"] <= 1.02


@pytest.mark.parametrize(
    ("options", "path"),
    [
        ({"seed": -1}, "seed"),
        ({"seed": 2**70}, "seed"),
        ({"num_chains": 0}, "num_chains"),
        ({"num_warmup": 2.5}, "num_warmup"),
        ({"svi_steps": 0}, "svi_steps"),
        ({"fixed": [("inf0.effect_size", 1.0)]}, "fixed"),
        ({"priors": "wide"}, "priors"),
    ],
)
def test_bad_fit_options_name_the_argument(
    small: sb.Dataset, options: dict[str, Any], path: str
) -> None:
    with pytest.raises(SpecError) as info:
        fit(None, small, progress=False, **options)
    assert info.value.path == path


# --------------------------------------------------------------------------- command line


def test_cli_fit_writes_netcdf_and_recovery(tmp_path: Any) -> None:
    import arviz as az

    folder = tmp_path / "pseudo"
    sb.generate(CASES["pseudo_classes"].spec).to_parquet(folder)
    parser = argparse.ArgumentParser(prog="synthbio")
    add_fit_parser(parser.add_subparsers(dest="command"))
    process_fit("pseudo_classes")  # same shape and settings: the CLI reuses the program
    argv = ["fit", str(folder), "--warmup", "500", "--samples", "2000", "--seed", "1"]
    args = parser.parse_args([*argv, "--quiet"])
    args.run(args)
    idata = az.from_netcdf(folder / "fit_nuts.nc")
    assert "pseudo0.effect_size" in idata.posterior
    assert idata.log_likelihood["X"].shape == (1, 2000, 120)
    table = pd.read_csv(folder / "recovery_nuts.csv", index_col="parameter")
    assert {"truth", "mean", "sd", "q5", "q95", "covered", "z", "r_hat", "ess_bulk"} <= set(table)
    np.testing.assert_allclose(
        table["z"], (table["mean"] - table["truth"]) / table["sd"], rtol=1e-5
    )
    with pytest.raises(SpecError, match="--force"):
        args.run(args)
    bad = parser.parse_args(["fit", str(tmp_path / "missing"), "--quiet"])
    with pytest.raises(SpecError, match="not a dataset folder"):
        bad.run(bad)


def test_the_proxy_attenuation_prior_is_centred_on_full_echo() -> None:
    """α = 1 (proxies echo the anchor in full) is the prior's mode, and α = 0 stays
    plausible: a prior with its mode at 0 (HalfNormal) biased α and the anchor effect low."""
    from synthbio_ppl.processes.clusters import PROXY_ATTENUATION

    prior = PROXY_ATTENUATION.make()
    density = {a: float(prior.log_prob(a)) for a in (0.0, 0.5, 1.0, 1.5)}
    assert density[1.0] > density[0.5] and density[1.0] > density[1.5]
    assert density[1.0] - density[0.0] == pytest.approx(0.5)  # N(1, 1): one sd away


def test_proxy_attenuation_is_held_at_the_spec_unless_given_a_prior() -> None:
    """α enters only as e·α: free, it drags e toward 0, so a fit holds it by default."""
    from synthbio_ppl.inference.problem import build_problem

    data = sb.generate(
        {
            "seed": 3,
            "classes": [{"name": "a", "n": 20}, {"name": "b", "n": 20}],
            "clusters": [{"n": 3, "anchor_effect": 1.0, "proxy_attenuation": 0.7}],
        }
    )
    held = build_problem(None, data)
    np.testing.assert_allclose(held.fixed["clu0.proxy_attenuation"], 0.7, rtol=1e-6)
    assert "clu0.anchor_effect" in held.free and "clu0.proxy_attenuation" not in held.free
    prior = dist.TruncatedNormal(1.0, 1.0, low=0.0)
    freed = build_problem(None, data, priors={"clu0.proxy_attenuation": prior})
    assert "clu0.proxy_attenuation" in freed.free
    both = {"priors": {"clu0.proxy_attenuation": prior}, "fixed": {"clu0.proxy_attenuation": 1}}
    with pytest.raises(SpecError, match=r"^priors.clu0.proxy_attenuation: .*not both"):
        build_problem(None, data, **both)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"prob": -0.1}, "prob must be a number in \\(0, 1\\)"),
        ({"prob": 1.5}, "prob must"),
        ({"prob": True}, "prob must"),
        ({"prob": "0.9"}, "prob must"),
        ({"nuisance": "False"}, "nuisance must be True or False"),
    ],
)
def test_recovery_names_a_bad_argument(kwargs: dict, words: str) -> None:
    _, result = process_fit("batches")
    with pytest.raises(ValueError, match=words):
        result.recovery(**kwargs)
    if "prob" in kwargs:
        with pytest.raises(ValueError, match=words):
            result.nuisance_summary(**kwargs)


@pytest.mark.parametrize(
    ("argument", "value"),
    [("n_draws", 0), ("n_draws", 2.5), ("n_draws", True), ("seed", -1), ("seed", 2**32)],
)
def test_posterior_predictive_names_a_bad_argument(argument: str, value: object) -> None:
    """``n_draws=0`` raised numpy's reshape error; each bad value is named."""
    _, result = process_fit("batches")
    with pytest.raises(SpecError, match=f"^{argument}: "):
        result.posterior_predictive(**{argument: value})


def test_a_replicated_dataset_that_would_not_load_is_not_written(tmp_path: Path) -> None:
    """With missing values it lacks its mask files: to_parquet wrote a folder (exit 0)
    that load refused; now it refuses, and leaves nothing."""
    spec = {"classes": [{"name": "a", "n": 40}, {"name": "b", "n": 40}],
            "informative": [{"n": 2}], "missing": [{"mechanism": "mcar", "rate": 0.1}]}  # fmt: skip
    data = sb.generate(spec)
    result = fit(None, data, "svi", svi_steps=50, num_samples=4, progress=False)
    replicate = result.posterior_predictive(1, as_datasets=True)[0]
    with pytest.raises(SpecError, match=r"^as_datasets: .*cannot be written as a folder"):
        replicate.to_parquet(tmp_path / "rep")
    assert list(tmp_path.iterdir()) == []
