"""The inference kernels, as pure functions of a model: one NUTS chain, SVI, a MAP fit.

NUTS is NumPyro's kernel (``numpyro.infer.hmc.hmc(..., algo="NUTS")``, the function behind
``numpyro.infer.NUTS``): ``initialize_model`` (uniform in (−2, 2) on the unconstrained
scale), then ``num_warmup`` adapting steps (dual-averaging step size, diagonal mass matrix
in Stan's windows) and ``num_samples`` draws, all inside ``lax.scan``. SVI is
``numpyro.infer.SVI`` with an autoguide, ``SVI.stable_update`` under ``lax.scan``, and guide
draws through ``Predictive``. ``synthbio_ppl.inference.programs`` jits and caches them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import jax

STATS = ("diverging", "num_steps", "potential_energy", "accept_prob", "energy")
"""The per-draw fields of NumPyro's HMC state a NUTS chain returns."""
Inputs = dict[str, Any]
"""``{"fixed": {site: value}, "priors": {site: distribution}}``: traced program arguments."""


def init_to_data(site: dict[str, Any] | None = None, fallback: Any = None) -> Any:
    """An init strategy: a latent site that carries ``infer["init_value"]`` starts there;
    every other site as ``fallback`` (default ``init_to_uniform``) would start it, bit for
    bit. Such values come from the data: the observed table's placeholders for hidden
    cells (``processes.observation``), so hidden cells of a column far from 0 start near
    its data, not at uniform(−2, 2); and the bounds of a family whose support moves with
    them, just outside the data (``families.standardised.support_start``)."""
    from numpyro.infer.initialization import init_to_uniform

    if site is None:
        return partial(init_to_data, fallback=fallback)
    value = (site.get("infer") or {}).get("init_value")
    if site["type"] == "sample" and not site["is_observed"] and value is not None:
        return value
    return (fallback or init_to_uniform)(site)


def starts_from_data(model: Callable[..., Any], design: Any, X: Any, kw: Inputs) -> bool:
    """Whether a latent site of ``model`` carries ``infer["init_value"]`` (``init_to_data``).
    Under ``jit`` the trace is symbolic and costs nothing at run time."""
    from numpyro import handlers

    trace = handlers.trace(handlers.seed(model, rng_seed=0)).get_trace(design, X, **kw)
    return any(
        site["type"] == "sample"
        and not site["is_observed"]
        and (site.get("infer") or {}).get("init_value") is not None
        for site in trace.values()
    )


def decaying_step(step: jax.Array, start: float, steps: int) -> jax.Array:
    """Adam step size: start · 0.1^(step / steps), ending at a tenth of the start."""
    return start * 0.1 ** (step / max(steps, 1))


def _nuts_kernel(
    model: Callable[..., Any],
    key: jax.Array,
    design: Any,
    X: jax.Array,
    kw: Inputs,
    num_warmup: int,
    target_accept: float,
) -> tuple[Any, Callable[[Any], Any], Callable[[Any], Any]]:
    """NumPyro's NUTS for ``model``: (the chain's first state, one transition, the map from
    the unconstrained draws to the sites). The transition adapts while ``state.i`` is below
    ``num_warmup``, so a chain may run in pieces."""
    from numpyro.infer.hmc import hmc
    from numpyro.infer.initialization import init_to_uniform
    from numpyro.infer.util import initialize_model

    k_init, k_run = jax.random.split(key)
    # NumPyro draws init_to_uniform's starts without tracing the model: kept for complete
    # tables where no site starts from the data, so those fits start as before, bit for bit
    traced = "hidden" in kw or starts_from_data(model, design, X, kw)
    strategy = init_to_data if traced else init_to_uniform
    info, potential_fn, postprocess_fn, _ = initialize_model(
        k_init, model, model_args=(design, X), model_kwargs=kw, init_strategy=strategy
    )
    init_kernel, sample_kernel = hmc(potential_fn=potential_fn, algo="NUTS")
    state = init_kernel(info, num_warmup, target_accept_prob=target_accept, rng_key=k_run)
    return state, sample_kernel, postprocess_fn


def _nuts_scan(transition: Callable[[Any], Any], state: Any, steps: int) -> tuple[Any, Any]:
    def step(s: Any, _: Any) -> tuple[Any, tuple[Any, dict[str, jax.Array]]]:
        s = transition(s)
        return s, (s.z, {name: getattr(s, name) for name in STATS})

    return jax.lax.scan(step, state, None, length=steps)


def nuts_start(
    model: Callable[..., Any], key: jax.Array, design: Any, X: jax.Array, kw: Inputs,
    num_warmup: int, target_accept: float,
) -> Any:  # fmt: skip
    """The chain's first state (NumPyro's ``HMCState``), as ``nuts_chain`` starts it."""
    return _nuts_kernel(model, key, design, X, kw, num_warmup, target_accept)[0]


def nuts_steps(
    model: Callable[..., Any], key: jax.Array, state: Any, design: Any, X: jax.Array,
    kw: Inputs, num_warmup: int, target_accept: float, steps: int,
) -> tuple[Any, tuple[Any, dict[str, jax.Array]]]:  # fmt: skip
    """``steps`` transitions from ``state``: (the last state, (unconstrained draws, per-draw
    stats), each with a leading ``steps`` dim). The kernel is rebuilt from the same
    arguments; its own first state is unused (and compiled away)."""
    transition = _nuts_kernel(model, key, design, X, kw, num_warmup, target_accept)[1]
    return _nuts_scan(transition, state, steps)


def nuts_constrained(
    model: Callable[..., Any], key: jax.Array, zs: Any, design: Any, X: jax.Array,
    kw: Inputs, num_warmup: int, target_accept: float,
) -> dict[str, jax.Array]:  # fmt: skip
    """The sites (and deterministic ones) of unconstrained draws ``zs`` (leading dim draws)."""
    constrain = _nuts_kernel(model, key, design, X, kw, num_warmup, target_accept)[2]
    return jax.vmap(constrain)(zs)


def nuts_chain(
    model: Callable[..., Any],
    key: jax.Array,
    design: Any,
    X: jax.Array,
    kw: Inputs,
    num_warmup: int,
    num_samples: int,
    target_accept: float,
) -> tuple[dict[str, jax.Array], dict[str, jax.Array]]:
    """One NUTS chain: constrained draws (and deterministic sites), and per-draw stats."""
    state, transition, constrain = _nuts_kernel(
        model, key, design, X, kw, num_warmup, target_accept
    )
    state, _ = _nuts_scan(transition, state, num_warmup)
    _, (zs, stats) = _nuts_scan(transition, state, num_samples)
    return jax.vmap(constrain)(zs), stats


def _ordered_elbo() -> Any:
    """Single-particle Trace_ELBO, −E_q[log p(x, z) − log q(z)], summed in trace order.

    NumPyro's Trace_ELBO combines its sites through a Python ``set``, whose order changes
    with the hash seed: the compiled program then differs between processes and JAX's
    persistent compilation cache never hits. Summing ``log_density`` of the guide and the
    replayed model (each in trace order) gives the same estimate and the same program.
    """
    from numpyro.handlers import replay, seed
    from numpyro.infer import Trace_ELBO
    from numpyro.infer.util import log_density

    class OrderedTraceELBO(Trace_ELBO):
        def loss_with_mutable_state(
            self, rng_key: jax.Array, param_map: dict, model: Any, guide: Any, *args, **kwargs
        ) -> dict[str, Any]:
            model_key, guide_key = jax.random.split(rng_key)
            guide_lp, guide_trace = log_density(seed(guide, guide_key), args, kwargs, param_map)
            replayed = replay(seed(model, model_key), guide_trace)
            model_lp, _ = log_density(replayed, args, kwargs, param_map)
            return {"loss": guide_lp - model_lp, "mutable_state": None}

    return OrderedTraceELBO()


def _svi(
    model: Callable[..., Any], key: jax.Array, design: Any, X: jax.Array, kw: Inputs,
    steps: int, learning_rate: float, guide_kind: str,
) -> tuple[Any, Any, Any]:  # fmt: skip
    """(``numpyro.infer.SVI``, its autoguide: ``mvn`` or mean-field ``normal``, its first
    state). Initialising sets the guide up (its sites and transforms), so a program that
    continues from a given state initialises too; what it leaves unused compiles away."""
    import numpyro
    from numpyro.infer import SVI
    from numpyro.infer.autoguide import AutoMultivariateNormal, AutoNormal
    from numpyro.infer.initialization import init_to_median

    auto = AutoMultivariateNormal if guide_kind == "mvn" else AutoNormal
    guide = auto(model, init_loc_fn=init_to_data(fallback=init_to_median(num_samples=15)))
    optimiser = numpyro.optim.Adam(partial(decaying_step, start=learning_rate, steps=steps))
    svi = SVI(model, guide, optimiser, _ordered_elbo())
    return svi, guide, svi.init(jax.random.split(key)[0], design, X, **kw)


def svi_start(
    model: Callable[..., Any], key: jax.Array, design: Any, X: jax.Array, kw: Inputs,
    steps: int, learning_rate: float, guide_kind: str,
) -> Any:  # fmt: skip
    """The optimiser's first state (``SVIState``), as ``svi_fit`` starts it."""
    return _svi(model, key, design, X, kw, steps, learning_rate, guide_kind)[2]


def svi_steps(
    model: Callable[..., Any], key: jax.Array, state: Any, first: jax.Array, design: Any,
    X: jax.Array, kw: Inputs, steps: int, learning_rate: float, guide_kind: str, length: int,
) -> tuple[Any, jax.Array]:  # fmt: skip
    """Steps ``first`` … ``first + length − 1`` of ``steps`` from ``state``: (state, losses).
    A step past the last leaves the state as it was (its loss is still computed)."""
    import jax.numpy as jnp

    svi = _svi(model, key, design, X, kw, steps, learning_rate, guide_kind)[0]

    def step(s: Any, i: jax.Array) -> tuple[Any, jax.Array]:
        moved, loss = svi.stable_update(s, design, X, **kw)
        inside = first + i < steps
        return jax.tree.map(lambda new, old: jnp.where(inside, new, old), moved, s), loss

    return jax.lax.scan(step, state, jnp.arange(length))


def svi_draws(
    model: Callable[..., Any], key: jax.Array, state: Any, design: Any, X: jax.Array,
    kw: Inputs, steps: int, learning_rate: float, guide_kind: str, num_samples: int,
    return_sites: Sequence[str],
) -> dict[str, jax.Array]:  # fmt: skip
    """``num_samples`` draws of ``return_sites`` from the guide at ``state``."""
    from numpyro.infer import Predictive

    svi, guide, _ = _svi(model, key, design, X, kw, steps, learning_rate, guide_kind)
    predictive = Predictive(
        model,
        guide=guide,
        params=svi.get_params(state),
        num_samples=num_samples,
        return_sites=list(return_sites),
    )
    return predictive(jax.random.split(key)[1], design, X, **kw)


def svi_fit(
    model: Callable[..., Any],
    key: jax.Array,
    design: Any,
    X: jax.Array,
    kw: Inputs,
    steps: int,
    learning_rate: float,
    guide_kind: str,
    num_samples: int,
    return_sites: Sequence[str],
) -> tuple[dict[str, jax.Array], jax.Array]:
    """SVI with an autoguide (``mvn`` or mean-field ``normal``): guide draws, ELBO losses."""
    svi, _, state = _svi(model, key, design, X, kw, steps, learning_rate, guide_kind)

    def step(s: Any, _: Any) -> tuple[Any, jax.Array]:
        return svi.stable_update(s, design, X, **kw)

    state, losses = jax.lax.scan(step, state, None, length=steps)
    fitted = (steps, learning_rate, guide_kind, num_samples, return_sites)
    return svi_draws(model, key, state, design, X, kw, *fitted), losses


def map_fit(
    model: Callable[..., Any],
    key: jax.Array,
    design: Any,
    X: Any,
    kw: Inputs,
    steps: int,
    learning_rate: float,
) -> tuple[dict[str, jax.Array], jax.Array]:
    """The posterior mode on the unconstrained scale (Adam on the potential energy, whose
    Jacobian terms keep scales off 0): one draw (leading dim 1) and the losses.

    Built on ``initialize_model``'s potential, whose program is the same in every process
    (an ELBO's site loop follows set order, which changes with Python's hash seed and
    defeats the persistent compilation cache).
    """
    import numpyro
    from numpyro.infer.initialization import init_to_median
    from numpyro.infer.util import initialize_model

    info, potential_fn, postprocess_fn, _ = initialize_model(
        key,
        model,
        model_args=(design, X),
        model_kwargs=kw,
        init_strategy=init_to_data(fallback=init_to_median()),
    )
    optimiser = numpyro.optim.Adam(partial(decaying_step, start=learning_rate, steps=steps))

    def step(state: Any, _: Any) -> tuple[Any, jax.Array]:
        loss, grads = jax.value_and_grad(potential_fn)(optimiser.get_params(state))
        return optimiser.update(grads, state), loss

    state, losses = jax.lax.scan(step, optimiser.init(info.z), None, length=steps)
    mode = postprocess_fn(optimiser.get_params(state))
    return jax.tree.map(lambda v: v[None], mode), losses
