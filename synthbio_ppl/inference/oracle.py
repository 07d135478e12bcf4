"""The Bayes classifier of a generated table: each row's log-likelihood under each class,
from the dataset model itself with every parameter at its true value.

    log p(x_i | y_i = k) = Σ_blocks log p(x_i,block | y = k, batch_i, θ_true),

the class posterior p(k | x_i) ∝ π_k · p(x_i | k). No classifier trained on the table can
beat it in expectation (Hastie, Tibshirani & Friedman, *The Elements of Statistical
Learning*, 2nd ed., §2.4), so its score is the best achievable one and a method's gap to
it is what the method leaves on the table. A learner sees the features only, so with
batches the batch is summed out, as the design mixes them within each class:

    p(x_i | k) = Σ_b p(b | k) · p(x_i | k, b),

p(b | k) the table's share of class k's rows in batch b (exact, from the design). Where a
binary outcome drawn from the features is ``y``, the Bayes classifier is its true
probability per row, P(y = 1 | x_i), kept in the row truth.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
from scipy.special import logsumexp

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.lazy import jnp
from synthbio_ppl.core.memory_maps import make_room_for_programs
from synthbio_ppl.core.precision import precision
from synthbio_ppl.core.streams import ROWS
from synthbio_ppl.data.dataset import Dataset
from synthbio_ppl.inference.likelihood import row_latents
from synthbio_ppl.inference.problem import build_problem
from synthbio_ppl.model.dataset_model import dataset_model
from synthbio_ppl.model.layout import Layout, build_layout
from synthbio_ppl.processes.registry import process_of, response_of

__all__ = ["class_log_likelihood", "class_posterior", "oracle_unavailable"]


def oracle_unavailable(layout: Layout, n_classes: int) -> str | None:
    """Why a scene has no tractable Bayes classifier (None: it has one).

    An outcome that is ``y`` has its own (its row truth). Otherwise the class posterior
    needs p(x | class) in closed form: no per-row latent values (structural factors,
    library sizes), no latent row groups (pseudo-classes), no missing cells, no outcome
    beside the classes, and two classes or more.
    """
    if n_classes < 2:
        return "the scene has one class"
    if layout.response is not None:
        if response_of(layout.response.field).replaces_labels(layout.response):
            return None
        return "the scene has an outcome beside its classes"
    if layout.masks:
        return "the scene hides cells (missing values)"
    if row_latents(layout):
        return "its features depend on per-row latent values (integrated only by sampling)"
    grouped = [b.name for b in layout.blocks if process_of(b.kind).latent_levels(b)]
    if grouped:
        return f"block {grouped[0]!r} draws latent row groups (pseudo-classes)"
    return None


def class_posterior(data: Dataset) -> np.ndarray:
    """P(y = k | x_i) for every row i and level k of ``y`` (in ``data.y``'s category order),
    float64 (rows, levels): the outcome's own where it is ``y``, else from
    ``class_log_likelihood`` and the table's class shares. SpecError as there."""
    layout = build_layout(data.spec)
    response = layout.response
    if response is not None and oracle_unavailable(layout, 2) is None:
        latents = data.truth.latents if data.truth is not None else None
        found = None
        if latents is not None:
            found = response_of(response.field).label_probabilities(response, latents)
        if found is None:
            raise SpecError("truth", data.spec.name, "no Bayes classifier here: no row truth")
        return found
    ll = class_log_likelihood(data)
    codes = np.asarray(data.y.cat.codes) if hasattr(data.y, "cat") else None
    if codes is None:
        raise SpecError("y", data.y.dtype, "the Bayes classifier needs categorical labels")
    share = np.bincount(codes, minlength=ll.shape[1]) / len(codes)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_post = ll + np.log(share)
        post = np.exp(log_post - logsumexp(log_post, axis=1, keepdims=True))
    impossible = ~np.isfinite(post).all(axis=1)  # a row no class can give: the shares
    post[impossible] = share
    return post


def class_log_likelihood(data: Dataset) -> np.ndarray:
    """log p(x_i | y = k) for every row i and class k, float64 (rows, classes).

    Raises SpecError (path ``truth``) for a dataset without its truth or a scene that
    ``oracle_unavailable`` names.
    """
    if data.truth is None or not data.truth.parameters:
        raise SpecError("truth", None, "the Bayes classifier needs the dataset's truth")
    problem = build_problem(None, data)
    n_classes = problem.layout.n_classes
    why = oracle_unavailable(problem.layout, n_classes)
    if why is not None:
        raise SpecError("truth", data.spec.name, f"no Bayes classifier here: {why}")
    params = {k: jnp.asarray(v) for k, v in data.truth.parameters.items()}
    X = jnp.asarray(problem.X)
    n = problem.n_rows
    batch = problem.design.batch
    n_batches = 1 if batch is None else len(_batch_levels(problem.layout)[0])
    out = np.empty((n, n_classes))
    program = _row_log_likelihood(problem.layout)
    with precision(problem.spec.dtype):
        for k in range(n_classes):
            terms = np.empty((n, n_batches))
            for b in range(n_batches):
                design = problem.design._replace(y=np.full(n, k, dtype=np.int32))
                if batch is not None:
                    design = design._replace(batch=np.full(n, b, dtype=np.int32))
                terms[:, b] = np.asarray(program(params, X, design), dtype=np.float64)
            if batch is None:
                out[:, k] = terms[:, 0]
                continue
            in_class = np.asarray(batch)[problem.design.y == k]
            share = np.bincount(in_class, minlength=n_batches) / max(len(in_class), 1)
            with np.errstate(divide="ignore"):
                out[:, k] = logsumexp(terms + np.log(share), axis=1)
    return out


@functools.lru_cache(maxsize=8)
def _row_log_likelihood(layout: Layout) -> Callable[..., Any]:
    """The layout's compiled Σ_sites log p(x_i | design_i, θ) per row: (params, X (rows,
    features), design) -> (rows,), the sum over the observed sites in the rows plate."""
    import jax
    from numpyro import handlers

    make_room_for_programs()

    def run(params: dict[str, Any], X: Any, design: Any) -> Any:
        model = partial(dataset_model, layout, design, X)
        traced = handlers.trace(handlers.seed(handlers.substitute(model, params), 0))
        total = jnp.zeros(X.shape[0])
        for site in traced.get_trace().values():
            in_rows = any(f.name == ROWS for f in site.get("cond_indep_stack", ()))
            if site["type"] == "sample" and site["is_observed"] and in_rows:
                fn, value = site["fn"], site["value"]
                log_p = fn.log_prob(value)
                # outside a class's support the density is 0; numpyro's log_prob gives NaN
                # there (the log of a negative number: a located lognormal below its lower
                # bound, whose declared support is all reals) where it should give −inf
                inside = fn.support.check(value)
                inside = jnp.all(inside.reshape((*log_p.shape, -1)), axis=-1)
                total = total + jnp.where(inside & ~jnp.isnan(log_p), log_p, -jnp.inf)
        return total

    return jax.jit(run)


def _batch_levels(layout: Layout) -> list[list[str]]:
    from synthbio_ppl.processes.registry import modifier_of

    return [
        levels
        for static in layout.modifiers
        for levels in modifier_of(static.field).design_columns(static).values()
    ]
