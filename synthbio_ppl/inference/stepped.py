"""A fit run in pieces, so that it can show its progress: NUTS and SVI as three compiled
programs each (start, a fixed number of steps, finish), the steps program called until
the fit is done, a progress bar moved between calls.

A fit of ``n`` steps (NUTS: warmup + draws) runs in at most ``PIECES`` calls of
``ceil(n / PIECES)`` steps; the steps past the end of the last call are discarded (NUTS) or
leave the state as it was (SVI). Every program compiles once per (layout, settings,
shapes), as a whole-fit program did, and the chain is the same chain: each piece
continues the state (with its random key and adaptation) where the last one stopped. (Its
draws match one whole program's up to rounding: XLA fuses two programs each its own way.)
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from synthbio_ppl.engine.compile_notice import compile_notice, silenced
from synthbio_ppl.engine.progress import Progress
from synthbio_ppl.inference.kernels import (
    Inputs,
    nuts_constrained,
    nuts_start,
    nuts_steps,
    svi_draws,
    svi_start,
    svi_steps,
)
from synthbio_ppl.inference.likelihood import likelihood_model
from synthbio_ppl.inference.programs import cached, pointwise_loglik
from synthbio_ppl.model.dataset_model import RowDesign
from synthbio_ppl.model.layout import Layout

PIECES = 40
"""Calls a fit is cut into (fewer when it has fewer steps)."""


def piece_length(total: int) -> int:
    """Steps per call for a fit of ``total`` steps."""
    return -(-total // min(PIECES, max(total, 1)))


class Stepped(NamedTuple):
    """``start(key, design, X, kw) -> state``; ``steps(key, state, first, design, X, kw) ->
    (state, outputs)``, ``length`` steps from step ``first``; ``finish`` (NUTS: ``(key, zs,
    design, X, kw) -> (draws, loglik)``; SVI: ``(key, state, design, X, kw) -> (draws, lp,
    loglik)``); ``draws`` per chain."""

    start: Callable[..., Any]
    steps: Callable[..., Any]
    finish: Callable[..., Any]
    length: int
    draws: int


def nuts_stepped(
    layout: Layout,
    noncentred: bool,
    num_warmup: int,
    num_samples: int,
    num_chains: int,
    target_accept: float,
    with_loglik: bool,
) -> Stepped:
    """NUTS in pieces; states, draws and stats carry a leading chain dim."""
    length = piece_length(num_warmup + num_samples)
    model = partial(likelihood_model, layout=layout, noncentred=noncentred)
    tuning = (num_warmup, target_accept)
    chains = num_chains > 1  # one chain: no vmap (batched while-loops compile larger)

    def over_chains(fn: Callable[..., Any], n_args: int) -> Callable[..., Any]:
        """``fn`` over the leading chain dim of its first ``n_args`` arguments."""
        if chains:
            return jax.vmap(fn, in_axes=(0,) * n_args + (None, None, None))

        def single(*args: Any) -> Any:
            own = [jax.tree.map(lambda v: v[0], a) for a in args[:n_args]]
            return jax.tree.map(lambda v: v[None], fn(*own, *args[n_args:]))

        return single

    def keys(key: jax.Array) -> jax.Array:
        return jax.random.split(key, num_chains) if chains else key[None]

    def start(key: jax.Array, design: RowDesign, X: jax.Array, kw: Inputs) -> Any:
        one = lambda k, d, x, w: nuts_start(model, k, d, x, w, *tuning)  # noqa: E731
        return over_chains(one, 1)(keys(key), design, X, kw)

    def steps(
        key: jax.Array, state: Any, first: jax.Array, design: RowDesign, X: jax.Array, kw: Inputs
    ) -> Any:
        del first  # a NUTS step knows its index (state.i)
        one = lambda k, s, d, x, w: nuts_steps(model, k, s, d, x, w, *tuning, length)  # noqa: E731
        return over_chains(one, 2)(keys(key), state, design, X, kw)

    def finish(key: jax.Array, zs: Any, design: RowDesign, X: jax.Array, kw: Inputs) -> Any:
        one = lambda k, z, d, x, w: nuts_constrained(model, k, z, d, x, w, *tuning)  # noqa: E731
        draws = over_chains(one, 2)(keys(key), zs, design, X, kw)
        loglik = None
        if with_loglik:
            flat = jax.tree.map(lambda v: v.reshape(-1, *v.shape[2:]), draws)
            loglik = pointwise_loglik(layout, flat, design, X, kw)
            loglik = loglik.reshape(num_chains, num_samples, -1)
        return draws, loglik

    settings = (noncentred, num_warmup, num_samples, num_chains, target_accept, with_loglik)
    return Stepped(*_jitted("nuts", layout, settings, start, steps, finish), length, num_samples)


def svi_stepped(
    layout: Layout,
    noncentred: bool,
    steps: int,
    learning_rate: float,
    guide_kind: str,
    num_samples: int,
    return_sites: tuple[str, ...],
    with_loglik: bool,
) -> Stepped:
    """SVI in pieces; its outputs are the ELBO losses of each step."""
    from numpyro.infer.util import log_density

    length = piece_length(steps)
    model = partial(likelihood_model, layout=layout, noncentred=noncentred)
    fitting = (steps, learning_rate, guide_kind)

    def start(key: jax.Array, design: RowDesign, X: jax.Array, kw: Inputs) -> Any:
        return svi_start(model, key, design, X, kw, *fitting)

    def advance(
        key: jax.Array, state: Any, first: jax.Array, design: RowDesign, X: jax.Array, kw: Inputs
    ) -> Any:
        return svi_steps(model, key, state, first, design, X, kw, *fitting, length)

    def finish(key: jax.Array, state: Any, design: RowDesign, X: jax.Array, kw: Inputs) -> Any:
        draws = svi_draws(model, key, state, design, X, kw, *fitting, num_samples, return_sites)

        def joint(sample: dict[str, jax.Array]) -> jax.Array:
            return log_density(model, (design, X), kw, sample)[0]

        lp = jax.lax.map(joint, draws)
        loglik = pointwise_loglik(layout, draws, design, X, kw) if with_loglik else None
        return draws, lp, loglik

    settings = (noncentred, *fitting, num_samples, return_sites, with_loglik)
    return Stepped(*_jitted("svi", layout, settings, start, advance, finish), length, num_samples)


def _jitted(
    method: str, layout: Layout, settings: tuple[Any, ...], *programs: Callable[..., Any]
) -> list[Callable[..., Any]]:
    names = ("start", "steps", "finish")
    return [
        cached((method, name, layout, *settings), lambda p=program: jax.jit(p))
        for name, program in zip(names, programs, strict=True)
    ]


def run_nuts(
    stepped: Stepped,
    key: jax.Array,
    args: tuple[Any, ...],
    num_warmup: int,
    check: Callable[..., Any],
    progress: bool,
) -> tuple[dict[str, jax.Array], dict[str, np.ndarray], Any]:
    """A NUTS fit: (draws, per-draw stats, pointwise log-likelihood or None), leading dims
    (chain, draw). ``check(program, *args)`` compiles a program for its arguments (or
    their shapes) and refuses one over the memory limit: every program is compiled and
    checked before the first step."""
    with silenced(not progress), compile_notice("the NUTS fit for a new shape or new settings"):
        state = stepped.start(key, *args)
        steps = check(stepped.steps, key, state, jnp.int32(0), *args)
        zs = jax.eval_shape(stepped.steps, key, state, jnp.int32(0), *args)[1][0]
        zs = jax.tree.map(
            lambda v: jax.ShapeDtypeStruct((v.shape[0], stepped.draws, *v.shape[2:]), v.dtype), zs
        )
        finish = check(stepped.finish, key, zs, *args)
    total = num_warmup + stepped.draws
    bar = Progress(None if progress else False, total, 0, "NUTS", unit="steps")
    run = (state, key, args, total, 1, bar, num_warmup)
    _, (zs, stats) = _run_steps(steps, stepped.length, *run)
    draws, loglik = finish(key, jax.tree.map(jnp.asarray, zs), *args)
    return draws, stats, loglik


def run_svi(
    stepped: Stepped,
    key: jax.Array,
    args: tuple[Any, ...],
    svi_steps: int,
    check: Callable[..., Any],
    progress: bool,
) -> tuple[dict[str, jax.Array], jax.Array, Any, np.ndarray]:
    """An SVI fit: (guide draws, their log joint density, pointwise log-likelihood or
    None, the ELBO loss of each step); ``check`` as in ``run_nuts``."""
    with silenced(not progress), compile_notice("the SVI fit for a new shape or new settings"):
        state = stepped.start(key, *args)
        steps = check(stepped.steps, key, state, jnp.int32(0), *args)
        finish = check(stepped.finish, key, state, *args)
    bar = Progress(None if progress else False, svi_steps, 0, "SVI", unit="steps")
    state, losses = _run_steps(steps, stepped.length, state, key, args, svi_steps, 0, bar)
    return (*finish(key, state, *args), losses)


def _run_steps(
    steps: Callable[..., Any],
    length: int,
    state: Any,
    key: jax.Array,
    args: tuple[Any, ...],
    total: int,
    step_axis: int,
    progress: Progress,
    keep_from: int = 0,
) -> tuple[Any, Any]:
    """From ``state``, call ``steps`` (``length`` steps a call) until ``total`` steps are
    done, moving ``progress`` after each call: (the last state, the outputs of steps
    ``keep_from`` to ``total - 1`` joined along ``step_axis``, as numpy arrays; the
    other outputs of a call are dropped as it returns)."""
    pieces: list[Any] = []
    done = 0
    while done < total:
        state, out = steps(key, state, jnp.int32(done), *args)
        first, stop = max(keep_from - done, 0), min(length, total - done)
        if first < stop:
            cut = (slice(None),) * step_axis + (slice(first, stop),)
            pieces.append(jax.tree.map(lambda v, cut=cut: np.asarray(v)[cut], out))
        jax.block_until_ready(state)  # the bar moves once the steps are done
        progress.update(min(length, total - done))
        done += length
    progress.close()
    return state, jax.tree.map(lambda *v: np.concatenate(v, axis=step_axis), *pieces)
