"""A fit in pieces (for its progress bar) is the same chain as a fit in one program."""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import synthbio_ppl as sb
from synthbio_ppl.inference.kernels import nuts_chain, svi_fit
from synthbio_ppl.inference.likelihood import likelihood_model
from synthbio_ppl.inference.problem import build_problem
from synthbio_ppl.inference.programs import device_design, guide_kind, program_inputs
from synthbio_ppl.inference.stepped import piece_length
from tests.conftest import two_classes

SPEC = {
    "seed": 2,
    "classes": two_classes(40, 40),
    "informative": [{"n": 3, "effect_size": 1.0}],
    "noise": [{"n": 2}],
    "batches": {"n": 2, "strength": 0.4},
}
# Two programs that compute the same steps may round differently (XLA fuses each its
# own way): the chains then differ by ulps that grow slowly (2.5e-5 seen after 123 steps
# of two chains). A piece that restarted the adaptation or reused a key would move the
# draws by their posterior sd (about 0.1 here).
ROUNDING = 1e-3
pytestmark = [  # short fits, on purpose
    pytest.mark.filterwarnings("ignore:split R̂"),
    pytest.mark.filterwarnings("ignore:SVI has not converged"),
]


def _whole(data: sb.Dataset, run) -> tuple:
    problem = build_problem(data.spec, data)
    args = (device_design(problem.design), jnp.asarray(problem.X), program_inputs(problem))
    model = partial(likelihood_model, layout=problem.layout, noncentred=False)
    return problem, jax.jit(lambda k: run(model, k, *args))


def test_piece_length_cuts_a_fit_into_at_most_forty_calls() -> None:
    assert [piece_length(n) for n in (1, 7, 40, 41, 1500, 2000)] == [1, 1, 1, 2, 38, 50]


@pytest.mark.parametrize("chains", [1, 2])
def test_nuts_in_pieces_is_the_whole_chain(chains: int) -> None:
    data = sb.generate(SPEC)
    fit = sb.fit(None, data, num_warmup=31, num_samples=23, num_chains=chains, seed=4,
                 progress=False)  # fmt: skip
    _, whole = _whole(data, lambda m, k, *a: nuts_chain(m, k, *a, 31, 23, 0.8))
    key = jax.random.PRNGKey(4)
    keys = jax.random.split(key, chains) if chains > 1 else key[None]
    reference = [whole(k)[0] for k in keys]
    for name in ("inf0.effect_size", "batch.strength", "batch.offset"):
        got = fit.idata.posterior[name].values
        want = np.stack([np.asarray(r[name]) for r in reference])
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=0, atol=ROUNDING)


def test_svi_in_pieces_is_the_whole_optimisation_and_stops_at_its_last_step() -> None:
    data = sb.generate(SPEC)
    steps = 41  # pieces of 2: the 42nd step runs and is discarded
    fit = sb.fit(None, data, "svi", svi_steps=steps, num_samples=30, seed=4, progress=False)
    problem = build_problem(data.spec, data)
    sites = tuple(problem.free)
    kind = guide_kind(problem, "auto")
    _, whole = _whole(data, lambda m, k, *a: svi_fit(m, k, *a, steps, 0.01, kind, 30, sites))
    draws, losses = whole(jax.random.PRNGKey(4))
    assert fit.losses.shape == (steps,)
    np.testing.assert_allclose(fit.losses, losses, rtol=1e-5)
    for name in sites:
        np.testing.assert_allclose(
            fit.idata.posterior[name].values[0], np.asarray(draws[name]), rtol=0, atol=ROUNDING
        )


def test_the_progress_bar_counts_every_step(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import synthbio_ppl.engine.progress as progress

    data = sb.generate(SPEC)
    sb.fit(None, data, num_warmup=30, num_samples=20, seed=1, progress=True)
    assert capsys.readouterr().err == ""  # stderr is no terminal here: no bar's frames
    monkeypatch.setattr(progress, "interactive", lambda: True)
    sb.fit(None, data, num_warmup=30, num_samples=20, seed=1, progress=True)
    captured = capsys.readouterr()
    assert "NUTS" in captured.err and "50/50" in captured.err and "steps" in captured.err
    assert captured.out.startswith("fitting ") and "done in" in captured.out
    sb.fit(None, data, "svi", svi_steps=60, num_samples=10, seed=1, progress=True)
    assert "60/60" in capsys.readouterr().err
    sb.fit(None, data, num_warmup=30, num_samples=20, seed=1, progress=False)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(("name", "value"), [("progress", "yes"), ("log_likelihood", 1)])
def test_a_flag_that_is_not_true_or_false_is_named(name: str, value: object) -> None:
    data = sb.generate(SPEC)
    with pytest.raises(sb.SpecError, match=f"^{name}: .*must be True or False"):
        sb.fit(None, data, num_warmup=5, num_samples=5, **{name: value})


def test_mcmc_backend_with_svi_is_refused() -> None:
    data = sb.generate(SPEC)
    with pytest.raises(sb.SpecError, match=r"^backend: 'mcmc' .*NUTS only"):
        sb.fit(None, data, "svi", backend="mcmc", svi_steps=5, progress=False)


def test_a_single_draw_fits_with_an_undefined_rhat() -> None:
    """Split R̂ needs two halves of two draws; it was an internal error (reshape) before."""
    data = sb.generate(SPEC)
    with pytest.warns(RuntimeWarning):  # numpy's and ArviZ's: too few draws for a spread
        table = sb.fit(None, data, num_warmup=3, num_samples=1, progress=False).recovery()
    assert table["r_hat"].isna().all() and len(table)


def test_a_steps_program_rebuilds_the_kernel_without_running_its_start() -> None:
    """The steps programs rebuild NUTS's kernel (and SVI's guide) from the same arguments;
    the start they compute is unused and compiled away: with no steps, no loop is left
    (NUTS's start alone searches for a valid point and a step size in while loops)."""
    import re

    from synthbio_ppl.inference.kernels import nuts_start, nuts_steps, svi_start, svi_steps

    data = sb.generate(SPEC)
    problem = build_problem(data.spec, data)
    args = (device_design(problem.design), jnp.asarray(problem.X), program_inputs(problem))
    model = partial(likelihood_model, layout=problem.layout, noncentred=False)
    key = jax.random.PRNGKey(0)

    def loops(fn, *a) -> int:
        return len(re.findall(r"\bwhile\(", jax.jit(fn).lower(*a).compile().as_text()))

    state = nuts_start(model, key, *args, 10, 0.8)
    assert loops(lambda k, *a: nuts_start(model, k, *a, 10, 0.8), key, *args) > 0
    assert loops(lambda k, s, *a: nuts_steps(model, k, s, *a, 10, 0.8, 0), key, state, *args) == 0
    kind = guide_kind(problem, "auto")
    state = svi_start(model, key, *args, 10, 0.01, kind)
    none = lambda k, s, *a: svi_steps(model, k, s, jnp.int32(0), *a, 10, 0.01, kind, 0)  # noqa: E731
    assert loops(none, key, state, *args) == 0
