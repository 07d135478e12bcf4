"""A fit starts where the log density is finite, and says so in one line when it cannot
go on: a raw uniform's bounds start outside the data, a standardised family's bounding
shapes where its support is widest; an SVI loss that is not finite is refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import synthbio_ppl as sb
from tests.conftest import MODELS, two_classes

RAW_UNIFORM = {"n": 4, "distribution": "uniform", "standardise": False}
SPEC = {
    "seed": 7,
    "classes": two_classes(60, 60),
    "informative": [
        {"name": "skew", "n": 3, "distribution": "lognormal", "params": {"sigma": 1.5}},
        {"name": "shape", "n": 2, "distribution": "gamma", "params": {"shape": 0.5}},
    ],
    "noise": [{"name": "assay", **RAW_UNIFORM, "params": {"low": -2.0, "high": 2.0}}],
    "batches": {"n": 2, "effect": "multiplicative", "strength": 0.3},
}


def test_a_raw_uniform_fits_from_a_start_that_holds_the_data() -> None:
    """Before, the raw uniform's low and high started from their N(0, 10²) priors, and
    almost never below and above every value: NUTS never left the start (SpecError:
    identical draws). The chain now moves and the bounds come within three data spacings
    of their truth (the range of 480 uniform values falls short of it by (high − low)/481
    on average). Transitions still diverge at the posterior's hard edge (min and max of
    the data), and the fit warns so."""
    spec = {"seed": 7, "classes": two_classes(60, 60), "informative": [{"n": 2}]}
    spec["noise"] = [{"name": "assay", **RAW_UNIFORM, "params": {"low": -2.0, "high": 2.0}}]
    with pytest.warns(RuntimeWarning, match="transitions diverged"):
        result = sb.fit(None, sb.generate(spec), num_warmup=300, num_samples=200, progress=False)
    table = result.recovery()
    assert np.ptp(result.idata.posterior["assay.low"].values) > 0
    for site, truth in (("assay.low", -2.0), ("assay.high", 2.0)):
        row = table.loc[site]
        assert row["truth"] == truth and abs(row["mean"] - truth) < 3 * 4.0 / 481


def test_bounded_standardised_families_start_inside_their_support() -> None:
    """A lognormal (σ = 1.5: values from −0.32 sds), a gamma (shape 0.5: from −0.71 sds)
    and multiplicative batch effects: NumPyro's random starts (100 tries) found no start
    whose support held every value; the widest-support start holds them at once."""
    from functools import partial

    import jax
    import jax.numpy as jnp
    from numpyro.infer.util import initialize_model

    from synthbio_ppl.inference.kernels import init_to_data
    from synthbio_ppl.inference.likelihood import likelihood_model
    from synthbio_ppl.inference.problem import build_problem
    from synthbio_ppl.inference.programs import device_design, program_inputs

    data = sb.generate(SPEC)
    problem = build_problem(data.spec, data)
    model = partial(likelihood_model, layout=problem.layout, noncentred=False)
    args = (device_design(problem.design), jnp.asarray(problem.X))
    info = initialize_model(
        jax.random.PRNGKey(0),
        model,
        model_args=args,
        model_kwargs=program_inputs(problem),
        init_strategy=init_to_data,
    )[0]
    assert np.isfinite(float(info.potential_energy))


def test_a_few_skipped_svi_steps_are_not_a_failed_fit() -> None:
    """The demo's lognormal block gives a non-finite loss at a few steps (guide draws
    outside its support); SVI's stable update skips them and the fit recovers the truth
    (it was refused at the first such step)."""
    data = sb.generate(sb.load_spec(MODELS / "demo.yaml"))
    result = sb.fit(None, data, "svi", svi_steps=600, progress=False)
    skipped = ~np.isfinite(result.losses)
    assert 0 < skipped.sum() <= 30  # the case: a few steps (13 of 600 here) were skipped
    table = result.recovery()
    assert table.loc["noise0.sigma", "mean"] == pytest.approx(0.5, abs=0.1)


def test_an_svi_loss_that_is_not_finite_is_refused_naming_the_step() -> None:
    data = sb.generate(SPEC)
    with pytest.raises(sb.SpecError, match=r"an SVI loss of nan at step \d+ of 40"):
        sb.fit(None, data, "svi", svi_steps=40, learning_rate=1e6, progress=False)


@pytest.mark.parametrize(
    ("argument", "value"),
    [("target_accept", 1.5), ("target_accept", float("nan")), ("target_accept", "0.9"),
     ("learning_rate", 0.0), ("learning_rate", float("inf")), ("learning_rate", True)],
)  # fmt: skip
def test_fit_settings_are_checked_by_name(argument: str, value: object) -> None:
    data = sb.generate({"classes": two_classes(20, 20), "noise": [{"n": 1}]})
    with pytest.raises(sb.SpecError) as info:
        sb.fit(None, data, **{argument: value})
    assert info.value.path == argument


@pytest.mark.parametrize(
    ("flags", "named"),
    [(["--target-accept", "1"], "--target-accept"), (["--learning-rate", "-1"], "--learning-rate"),
     (["--learning-rate", "nan"], "--learning-rate")],
)  # fmt: skip
def test_the_cli_checks_its_fit_settings(
    flags: list[str], named: str, tmp_path: Path, capsys
) -> None:
    from synthbio_ppl.cli.app import main

    folder = sb.generate({"classes": two_classes(20, 20), "noise": [{"n": 1}]}).to_parquet(
        tmp_path / "d"
    )
    assert main(["fit", str(folder), *flags]) == 2
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and line.startswith(f"synthbio: error: {named}:")


@pytest.mark.parametrize(
    ("argument", "value"),
    [("num_samples", 2**31), ("num_warmup", 2**40), ("svi_steps", 2**31), ("log_likelihood", "no")],
)
def test_counts_beyond_int32_and_a_non_flag_are_refused_by_name(
    argument: str, value: object
) -> None:
    """2^31 steps overflowed inside JAX (an internal OverflowError); "no" was read as true."""
    data = sb.generate({"classes": two_classes(20, 20), "noise": [{"n": 1}]})
    with pytest.raises(sb.SpecError) as info:
        sb.fit(None, data, **{argument: value})
    assert info.value.path == argument


def test_the_cli_and_the_twin_refuse_steps_beyond_int32(tmp_path: Path, capsys) -> None:
    import pandas as pd

    from synthbio_ppl.cli.app import main

    folder = sb.generate({"classes": two_classes(20, 20), "noise": [{"n": 1}]}).to_parquet(
        tmp_path / "d"
    )
    assert main(["fit", str(folder), "--method", "svi", "--svi-steps", str(2**31)]) == 2
    assert capsys.readouterr().err.strip().startswith("synthbio: error: --svi-steps:")
    table = pd.DataFrame({"x": np.arange(40.0), "y": ["a", "b"] * 20})
    with pytest.raises(sb.SpecError) as info:
        sb.twin(table, "y", svi_steps=2**31)
    assert info.value.path == "svi_steps"
