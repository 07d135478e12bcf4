"""Inference as compiled programs: the kernels of ``inference.kernels`` jitted and cached
(simulation-based calibration's whole fits here; ``sb.fit``'s, in pieces that show their
progress, in ``inference.stepped``).

Nothing runs op by op, and a program compiles once per (layout, settings, shapes): the
design, the table, fixed values and priors are arguments, so a refit of new data of the
same shape, or with another prior of the same family, reuses it.
(``numpyro.infer.MCMC.run`` recompiles its loop on every call in NumPyro 0.22.)
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from synthbio_ppl.core.memory_maps import make_room_for_programs
from synthbio_ppl.inference.kernels import Inputs, nuts_chain, svi_fit
from synthbio_ppl.inference.likelihood import likelihood_model, row_latents, shaped_like
from synthbio_ppl.inference.problem import Problem
from synthbio_ppl.model.dataset_model import RowDesign
from synthbio_ppl.model.layout import Layout
from synthbio_ppl.processes.registry import mask_of, process_of, response_of

_CACHE: OrderedDict[tuple[Any, ...], Callable[..., Any]] = OrderedDict()
_CACHE_SIZE = 16


def program_inputs(problem: Problem) -> Inputs:
    """Fixed values and the user's priors (shaped like their sites, float parameters)."""
    dtype = problem.spec.dtype
    priors = {
        name: shaped_like(prior, problem.sites[name].prior)
        for name, prior in problem.priors.items()
    }
    inputs: Inputs = {
        "fixed": {k: jnp.asarray(v) for k, v in problem.fixed.items()},
        "priors": jax.tree.map(lambda v: jnp.asarray(v, dtype=dtype), priors),
    }
    if problem.hidden is not None:
        inputs["hidden"] = jnp.asarray(problem.hidden)
    return inputs


def device_design(design: RowDesign) -> RowDesign:
    """The row design as JAX arrays."""
    return RowDesign(
        y=jnp.asarray(design.y),
        batch=None if design.batch is None else jnp.asarray(design.batch),
        groups={k: jnp.asarray(v) for k, v in (design.groups or {}).items()},
        covariates=None if design.covariates is None else jnp.asarray(design.covariates),
        outcome=None
        if design.outcome is None
        else {k: jnp.asarray(v) for k, v in design.outcome.items()},
    )


def guide_kind(problem: Problem, guide: str) -> str:
    """``auto``: full-rank normal (``mvn``) up to 200 latent dimensions, else ``normal``."""
    from synthbio_ppl.core.errors import SpecError

    if guide == "auto":
        size = sum(math.prod(problem.sites[name].shape) for name in problem.free)
        size += problem.n_rows * len(row_latents(problem.layout))
        if problem.hidden_latents:  # one value per cell of a block with hidden cells
            size += int(np.asarray(problem.hidden).size)
        return "mvn" if size <= 200 else "normal"
    if guide not in ("normal", "mvn"):
        raise SpecError("guide", guide, "must be 'auto', 'normal' or 'mvn'")
    return guide


def cached(key: tuple[Any, ...], build: Callable[[], Callable[..., Any]]) -> Callable[..., Any]:
    """The jitted program for ``key`` (static settings), built on first use."""
    if key not in _CACHE:
        make_room_for_programs()
        _CACHE[key] = build()
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    _CACHE.move_to_end(key)
    return _CACHE[key]


def pointwise_loglik(
    layout: Layout, samples: dict[str, jax.Array], design: RowDesign, X: jax.Array, kw: Inputs
) -> jax.Array:
    """log p(x_i | θ) per draw and row, all feature blocks summed: (draws, rows).

    One draw at a time (``lax.map``), its sites summed before the next, so the program
    holds the (draws, rows) result and one draw's terms, not one such array per site."""
    from numpyro import handlers

    model = partial(likelihood_model, layout=layout)
    observed = [name for names in _column_sites(layout) for name in names]
    # observed per-row design sites (a structural scene's covariate codes) are data too
    observed += [s for b in layout.blocks for s in process_of(b.kind).observed_row_sites(b)]

    def one_draw(sample: dict[str, jax.Array]) -> jax.Array:
        trace = handlers.trace(handlers.substitute(model, sample)).get_trace(design, X, **kw)
        return sum(trace[name]["fn"].log_prob(trace[name]["value"]) for name in observed)

    return jax.lax.map(one_draw, samples)


def _column_sites(layout: Layout) -> list[list[str]]:
    """Per block, the sample sites holding its columns: the block's own (rows, width) site,
    or one (rows,) site per column (a structural scene's biomarkers)."""
    return [process_of(b.kind).column_sites(b) for b in layout.blocks]


def _columns_of(layout: Layout, values: dict[str, jax.Array]) -> jax.Array:
    """The feature table (..., rows, features) from the sites of ``_column_sites``."""
    blocks = [
        values[names[0]] if names == [b.name] else jnp.stack([values[n] for n in names], -1)
        for b, names in zip(layout.blocks, _column_sites(layout), strict=True)
    ]
    return jnp.concatenate(blocks, axis=-1)


# --------------------------------------------------------------------------- programs


def predictive_program(layout: Layout) -> Callable[..., Any]:
    """``run(key, design, draws, inputs) -> X (draws, rows, features)`` from the model."""

    def build() -> Callable[..., Any]:
        from numpyro.infer import Predictive

        sites = [name for names in _column_sites(layout) for name in names]
        model = partial(likelihood_model, layout=layout)

        def run(key: jax.Array, design: RowDesign, draws: dict[str, jax.Array], kw: Inputs) -> Any:
            out = Predictive(model, posterior_samples=draws, return_sites=sites)(key, design, **kw)
            return _columns_of(layout, out)

        return jax.jit(run)

    return cached(("predictive", layout), build)


def simulate_program(layout: Layout, n_sims: int, free: tuple[str, ...]) -> Callable[..., Any]:
    """``run(key, design, inputs) -> (prior draws of free, X (sims, rows, features),
    designs, hidden)``: ``designs`` is the row design per simulation (leading axis sims),
    with the per-row design sites the model drew (a structural scene's covariates) filled
    in; ``hidden`` (sims, rows, features) bool the masks' cells, or None without masks."""

    def build() -> Callable[..., Any]:
        from numpyro.infer import Predictive

        sites = [name for names in _column_sites(layout) for name in names]
        sites += [s for b in layout.blocks for s in process_of(b.kind).observed_row_sites(b)]
        masks = [mask_of(m.field).mask_site(m) for m in layout.masks]
        response = layout.response
        outcome = {} if response is None else response_of(response.field).observed_sites(response)
        model = partial(likelihood_model, layout=layout)
        returned = list(dict.fromkeys([*free, *sites, *masks, *outcome.values()]))
        predictive = Predictive(model, num_samples=n_sims, return_sites=returned)

        def run(key: jax.Array, design: RowDesign, kw: Inputs) -> Any:
            out = predictive(key, design, **kw)
            designs = jax.tree.map(lambda v: jnp.broadcast_to(v, (n_sims, *v.shape)), design)
            for block in layout.blocks:
                drawn = process_of(block.kind).simulated_design(block, out)
                designs = designs._replace(**drawn)
            if outcome:
                designs = designs._replace(outcome={c: out[s] for c, s in outcome.items()})
            X = _columns_of(layout, out)
            hidden = None
            if masks:
                hidden = jnp.zeros(X.shape, dtype=bool)
                for static, site in zip(layout.masks, masks, strict=True):
                    idx = jnp.asarray(static.indices)
                    hidden = hidden.at[..., idx].set(hidden[..., idx] | out[site].astype(bool))
            return {k: out[k] for k in free}, X, designs, hidden

        return jax.jit(run)

    return cached(("simulate", layout, n_sims, free), build)


def sbc_nuts_program(
    layout: Layout, num_warmup: int, num_samples: int, n_draws: int, target_accept: float
) -> Callable[..., Any]:
    """``run(keys, Xs, designs, hiddens, inputs) -> (draws thinned to n_draws,
    divergences)`` per sim (``hiddens``: each sim's missing cells, or None)."""
    keep = np.linspace(0, num_samples - 1, n_draws).round().astype(int)

    def build() -> Callable[..., Any]:
        model = partial(likelihood_model, layout=layout)

        def one(key: jax.Array, X: jax.Array, design: RowDesign, hidden: Any, kw: Inputs) -> Any:
            kw = kw if hidden is None else {**kw, "hidden": hidden}
            draws, stats = nuts_chain(
                model, key, design, X, kw, num_warmup, num_samples, target_accept
            )
            return jax.tree.map(lambda v: v[keep], draws), stats["diverging"].sum()

        return jax.jit(jax.vmap(one, in_axes=(0, 0, 0, 0, None)))

    settings = (num_warmup, num_samples, n_draws, target_accept)
    return cached(("sbc-nuts", layout, *settings), build)


def sbc_svi_program(
    layout: Layout,
    steps: int,
    learning_rate: float,
    guide_kind: str,
    n_draws: int,
    return_sites: tuple[str, ...],
) -> Callable[..., Any]:
    """``run(keys, Xs, designs, hiddens, inputs) -> (n_draws guide draws, zeros)`` per sim."""

    def build() -> Callable[..., Any]:
        model = partial(likelihood_model, layout=layout)

        def one(key: jax.Array, X: jax.Array, design: RowDesign, hidden: Any, kw: Inputs) -> Any:
            kw = kw if hidden is None else {**kw, "hidden": hidden}
            draws, _ = svi_fit(
                model, key, design, X, kw, steps, learning_rate, guide_kind, n_draws, return_sites
            )
            return draws, jnp.zeros((), jnp.int32)

        return jax.jit(jax.vmap(one, in_axes=(0, 0, 0, 0, None)))

    settings = (steps, learning_rate, guide_kind, n_draws, return_sites)
    return cached(("sbc-svi", layout, *settings), build)
