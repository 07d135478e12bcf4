"""Observing a block whose table has hidden (missing) cells when fitting.

Without hidden cells a block's values are one observed site. With them:

- cells independent given the parameters (a per-cell family) and a mask that does not
  depend on the hidden values (MCAR, MAR): the likelihood of the observed cells only,
  p(x_obs | θ) (ignorable; Rubin 1976);
- otherwise the hidden cells are latent (data augmentation, Tanner & Wong 1987): a site
  ``<name>.hidden_values`` holds an unconstrained value for every cell, the hidden ones
  mapped onto the support and given the model's own density, the observed ones unused
  N(0, 1) draws, so the posterior of θ is that of p(x_obs, x_hid | θ) integrated over
  x_hid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from synthbio_ppl.core.lazy import dist, jnp, numpyro

if TYPE_CHECKING:
    from jax import Array


def observe(
    name: str,
    fn: dist.Distribution,
    obs: Array | None,
    hidden: Array | None = None,
    impute: bool = False,
) -> Array:
    """Sample (generation) or observe (fitting) the site ``name``; returns its values.

    ``obs`` the observed values (rows, ...) with a value in the support in hidden cells;
    ``hidden`` a boolean array of the same shape (True: missing), or None; ``impute`` asks
    for latent hidden values even where the observed cells' likelihood would do (the
    mask depends on them, or later values are computed from them).
    """
    if obs is None or hidden is None:
        return numpyro.sample(name, fn, obs=obs)
    cells, event_dims = _cells(fn, obs.shape)
    if cells is not None and not impute:
        masked = cells.mask(~hidden)
        numpyro.sample(name, masked.to_event(event_dims) if event_dims else masked, obs=obs)
        return obs
    # Hidden cells as latents: u ~ N(0, 1) in every cell, mapped onto the support; in a
    # hidden cell N(0, 1) is swapped for the model's own density of the mapped value (and
    # the map's Jacobian), in an observed cell u stays an unused N(0, 1) draw that no
    # parameter touches (a dummy tied to the parameters would slow the chain down).
    event_dims = len(fn.event_shape)
    support = cells.support if cells is not None else dist.constraints.real
    to_support = dist.transforms.biject_to(support)
    unit = dist.Normal(jnp.zeros(obs.shape, obs.dtype), 1.0)
    u = numpyro.sample(
        f"{name}.hidden_values",
        unit.to_event(event_dims) if event_dims else unit,
        infer={"init_value": to_support.inv(obs)},
    )
    x = to_support(u)
    swap = jnp.where(hidden, to_support.log_abs_det_jacobian(u, x) - unit.log_prob(u), 0.0)
    axes = tuple(range(-event_dims, 0))
    numpyro.factor(f"{name}.hidden_density", swap.sum(axis=axes) if event_dims else swap)
    value = jnp.where(hidden, x, obs)
    numpyro.sample(name, fn, obs=value)
    return value


def _cells(fn: dist.Distribution, shape: tuple[int, ...]) -> tuple[dist.Distribution | None, int]:
    """The per-cell distribution of ``fn`` and how many of its dims are the event, if its
    cells are independent; (None, 0) for a joint event."""
    if fn.event_shape == () and fn.batch_shape == shape:
        return fn, 0
    if (
        isinstance(fn, dist.Independent)
        and fn.base_dist.event_shape == ()
        and fn.base_dist.batch_shape == shape
    ):
        return fn.base_dist, fn.reinterpreted_batch_ndims
    return None, 0
