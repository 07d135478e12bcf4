"""Interventions on sample sites: a site's draw replaced by a set value in chosen cells.

``intervene`` is NumPyro's ``do`` for keyed streams: the site is still drawn with its own
key (so its natural value, and every other site's, is what it would have been), then the
set value replaces the natural one where ``where`` is True; later sites read the result
(Pearl 2009, *Causality*, ch. 3; Richardson & Robins 2013, single-world intervention
graphs). Unlike ``numpyro.handlers.do`` the site keeps its name, so a trace holds the
value the rest of the model saw.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jax.numpy as jnp
from numpyro.primitives import Messenger

from synthbio_ppl.core.world import Setting

if TYPE_CHECKING:
    from jax import Array


def set_cells(natural: Array, setting: Setting, value: Array, where: Array) -> Array:
    """``natural`` with ``value`` written where ``where`` holds, in ``setting.column`` only
    when it names one; the natural dtype is kept."""
    value = jnp.asarray(value).astype(natural.dtype)
    if setting.column is None:
        if setting.per_row and natural.ndim > jnp.ndim(where):  # a row mask over a row's event
            extra = natural.ndim - jnp.ndim(where)
            where = jnp.reshape(where, jnp.shape(where) + (1,) * extra)
            value = jnp.reshape(value, jnp.shape(value) + (1,) * extra)
        return jnp.where(where, value, natural)
    column = natural[..., setting.column]
    return natural.at[..., setting.column].set(jnp.where(where, value, column))


class intervene(Messenger):
    """Set the values of sample sites: ``settings`` (tuple of ``Setting``) with ``values``,
    a matching tuple of ``(value, where)`` pairs.

    Enter it *outside* the handler that gives sites their keys, so the natural draw uses
    the site's own key. Sites with a value already (observed or conditioned) are left as
    they are.
    """

    def __init__(
        self,
        fn: Any = None,
        settings: tuple[Setting, ...] = (),
        values: tuple[tuple[Array, Array], ...] = (),
    ) -> None:
        self.by_site: dict[str, list[tuple[Setting, tuple[Array, Array]]]] = {}
        for setting, pair in zip(settings, values, strict=True):
            self.by_site.setdefault(setting.site, []).append((setting, pair))
        super().__init__(fn)

    def process_message(self, msg: dict[str, Any]) -> None:
        if msg["type"] != "sample" or msg["value"] is not None:
            return
        entries = self.by_site.get(msg["name"])
        if not entries:
            return
        value = msg["fn"](*msg["args"], **msg["kwargs"])  # the natural draw, own key
        for setting, (set_to, where) in entries:
            value = set_cells(value, setting, set_to, where)
        msg["value"] = value
