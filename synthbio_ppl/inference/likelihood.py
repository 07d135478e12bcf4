"""The likelihood side of the dataset model: the user's priors and fixed sites, the site table.

``likelihood_model(design, X, layout=..., fixed=..., priors=...)`` is ``dataset_model``
with the user's choices applied through NumPyro handlers (``condition`` for fixed sites,
a prior-replacing messenger, ``reparam`` for non-centred column effects).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import numpy as np
import numpyro.distributions as dist
from numpyro import handlers
from numpyro.infer.reparam import LocScaleReparam
from numpyro.primitives import Messenger

from synthbio_ppl.core.precision import precision
from synthbio_ppl.core.streams import ROWS
from synthbio_ppl.model.dataset_model import RowDesign, dataset_model, placeholder_design
from synthbio_ppl.model.layout import Layout
from synthbio_ppl.processes.registry import modifier_of, process_of


class replace_priors(Messenger):
    """Swap the prior of named sample sites (``{"inf0.effect_size": dist.Normal(0, 1)}``).

    A univariate prior is expanded to the site's batch and event shape.
    """

    def __init__(self, fn: Callable | None = None, priors: Mapping[str, Any] | None = None):
        self.priors = dict(priors or {})
        super().__init__(fn)

    def process_message(self, msg: dict[str, Any]) -> None:
        if msg["type"] == "sample" and msg["name"] in self.priors:
            msg["fn"] = shaped_like(self.priors[msg["name"]], msg["fn"])


def shaped_like(new: dist.Distribution, old: dist.Distribution) -> dist.Distribution:
    """``new`` with ``old``'s batch + event shape and event dims (scalars are expanded)."""
    shape = old.batch_shape + old.event_shape
    if new.batch_shape + new.event_shape == shape:
        return new.to_event(old.event_dim - new.event_dim) if new.event_dim < old.event_dim else new
    if new.event_dim == 0 and new.batch_shape == ():
        return new.expand(shape).to_event(old.event_dim) if shape else new
    raise ValueError(f"prior of shape {new.batch_shape + new.event_shape} for a site of {shape}")


def likelihood_model(
    design: RowDesign,
    X: jax.Array | None = None,
    *,
    layout: Layout,
    fixed: Mapping[str, Any] | None = None,
    priors: Mapping[str, Any] | None = None,
    noncentred: bool = False,
    hidden: jax.Array | None = None,
) -> dict[str, jax.Array]:
    """``dataset_model`` with user priors, fixed sites, and optionally non-centred batches.

    Non-centred: β = s·z, z ~ N(0, 1) (``LocScaleReparam(0)``), for weakly informed offsets.
    ``hidden`` (rows, features) bool marks the missing cells of ``X``.
    """
    model: Callable = dataset_model
    if priors:
        model = replace_priors(model, priors=priors)
    if fixed:
        model = handlers.condition(model, data=dict(fixed))
    if noncentred:
        sites = [s for m in layout.modifiers for s in modifier_of(m.field).noncentred_sites]
        config = {name: LocScaleReparam(0.0) for name in sites if name not in (fixed or {})}
        if config:
            model = handlers.reparam(model, config=config)
    return model(layout, design, X, hidden, exact=False)


@dataclass(frozen=True)
class Site:
    """A site outside the rows plate: its shape, kind and prior (None for deterministic)."""

    name: str
    shape: tuple[int, ...]
    deterministic: bool
    prior: dist.Distribution | None = None


def model_sites(layout: Layout, dtype: str = "float32") -> dict[str, Site]:
    """Every sample and deterministic site outside the rows plate, in model order."""
    design = placeholder_design(layout, 2)
    with precision(dtype):
        model = handlers.seed(partial(likelihood_model, layout=layout), rng_seed=0)
        trace = handlers.trace(model).get_trace(design)
    sites = {}
    for name, site in trace.items():
        if site["type"] not in ("sample", "deterministic"):
            continue
        if (site.get("infer") or {}).get("marginalised"):  # summed out when fitting
            continue
        if any(frame.name == ROWS for frame in site.get("cond_indep_stack", ())):
            continue
        deterministic = site["type"] == "deterministic"
        prior = None if deterministic else site["fn"]
        sites[name] = Site(name, tuple(np.shape(site["value"])), deterministic, prior)
    return sites


def row_latents(layout: Layout) -> list[str]:
    """Latent sites inside the rows plate (e.g. a structural scene's per-row factor values)."""
    return [site for b in layout.blocks for site in process_of(b.kind).row_latents(b)]


# --------------------------------------------------------------------------- the data
