"""A fit too large for memory is refused before it runs, from its compiled program's own
figures; the pointwise log-likelihood no longer holds one (draws, rows) array per site."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import synthbio_ppl as sb
from synthbio_ppl.engine.budget import LIMIT_VARIABLE
from synthbio_ppl.inference.memory import compiled, program_bytes
from synthbio_ppl.inference.problem import build_problem
from synthbio_ppl.inference.programs import device_design, program_inputs
from synthbio_ppl.inference.stepped import nuts_stepped
from tests.conftest import two_classes

SPEC = {"classes": two_classes(40, 40), "informative": [{"n": 3}], "noise": [{"n": 2}]}


def _nuts_figures(data: sb.Dataset, samples: int, loglik: bool) -> tuple[int, int]:
    """(temporary bytes, output bytes) of the compiled program that ends a NUTS fit (its
    draws' sites and their pointwise log-likelihood)."""
    import jax
    import jax.numpy as jnp

    problem = build_problem(data.spec, data)
    args = (device_design(problem.design), jnp.asarray(problem.X), program_inputs(problem))
    stepped = nuts_stepped(problem.layout, False, 10, samples, 1, 0.8, loglik)
    key = jax.random.PRNGKey(0)
    state = stepped.start(key, *args)
    zs = jax.eval_shape(stepped.steps, key, state, jnp.int32(0), *args)[1][0]
    zs = jax.tree.map(lambda v: jax.ShapeDtypeStruct((1, samples, *v.shape[2:]), v.dtype), zs)
    executable = compiled(stepped.finish, key, zs, *args)
    assert program_bytes(executable) is not None
    stats = executable.memory_analysis()
    return stats.temp_size_in_bytes, stats.output_size_in_bytes


def test_the_pointwise_log_likelihood_is_one_value_per_draw_and_row() -> None:
    """Kept, it adds draws × rows float32 values to the outputs (and one 8-byte pointer to
    the output tuple), and next to nothing to the temporaries: four blocks' terms are
    summed draw by draw, not held as four (draws, rows) arrays (4.0 arrays' worth before)."""
    blocks = {"informative": [{"n": 3}, {"n": 2}], "noise": [{"n": 2}, {"n": 2}]}
    data = sb.generate({"classes": two_classes(40, 40), **blocks})
    (temp_with, out_with), (temp_without, out_without) = (
        _nuts_figures(data, 500, kept) for kept in (True, False)
    )
    one_array = 500 * 80 * 4
    assert one_array <= out_with - out_without <= one_array + 8
    assert temp_with - temp_without < one_array / 2


def test_a_fit_over_the_limit_is_refused_naming_what_to_ask_for(monkeypatch) -> None:
    data = sb.generate(SPEC)
    monkeypatch.setenv(LIMIT_VARIABLE, "1K")
    for method, steps in (("nuts", {"num_warmup": 10}), ("svi", {"svi_steps": 10})):
        with pytest.raises(sb.SpecError) as info:
            sb.fit(data.spec, data, method, num_samples=30, **steps)
        assert info.value.path == "fit" and info.value.value == "80 rows × 5 features, 30 draws"
        assert "over the limit 1 KiB" in str(info.value)
        assert "--samples" in str(info.value) and "--no-log-likelihood" in str(info.value)


def test_the_cli_fits_without_the_log_likelihood_and_refuses_in_one_line(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    import arviz as az

    from synthbio_ppl.cli.app import main

    folder = tmp_path / "d"
    sb.generate(SPEC).to_parquet(folder)
    assert main(["fit", str(folder), "--warmup", "50", "--samples", "40", "--quiet"]) == 0
    kept = az.from_netcdf(folder / "fit_nuts.nc")
    assert kept.log_likelihood["X"].shape == (1, 40, 80)
    flags = ["--warmup", "50", "--samples", "40", "--quiet", "--force", "--no-log-likelihood"]
    assert main(["fit", str(folder), *flags]) == 0
    assert "log_likelihood" not in az.from_netcdf(folder / "fit_nuts.nc").groups()
    monkeypatch.setenv(LIMIT_VARIABLE, "1K")
    assert main(["fit", str(folder), *flags]) == 2
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and line.startswith("synthbio: error: fit: '80 rows × 5 features")
    assert np.isfinite(kept.posterior["inf0.effect_size"].values).all()


def test_the_advice_leaves_out_what_the_fit_already_does_without(monkeypatch) -> None:
    data = sb.generate(SPEC)
    monkeypatch.setenv(LIMIT_VARIABLE, "1K")
    with pytest.raises(sb.SpecError) as info:
        sb.fit(data.spec, data, "svi", num_samples=30, svi_steps=10, log_likelihood=False)
    assert "fewer draws" in str(info.value) and "log-likelihood" not in str(info.value)
    assert "this process holds" in str(info.value)
