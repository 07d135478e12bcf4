"""Random streams keyed by name: one key per sample site, per fixed-size row chunk.

A site's key is ``fold_in(root, id(site name))``; inside the ``rows`` plate it is further
folded with the chunk index. Adding, removing or resizing one block therefore changes no
other block's values, and the values of a row do not depend on how many rows are drawn
at once, only on the chunk the row falls in.
"""

from __future__ import annotations

import jax
from numpyro.primitives import Messenger

from synthbio_ppl.core.streams import ROWS, stable_id


def named_key(root: jax.Array, name: str) -> jax.Array:
    """The key of the stream called ``name``."""
    return jax.random.fold_in(root, stable_id(name))


class site_keys(Messenger):
    """Give every unobserved sample site a key derived from its name (and row chunk).

    Replaces ``numpyro.handlers.seed``, whose keys depend on the order in which sites run.
    """

    def __init__(self, fn=None, root: jax.Array | None = None, chunk: jax.Array | int = 0):
        self.root = root
        self.chunk = chunk
        super().__init__(fn)

    def process_message(self, msg) -> None:  # type: ignore[no-untyped-def]
        if msg["type"] != "sample" or msg["value"] is not None:
            return
        if msg["kwargs"].get("rng_key") is not None:
            return
        key = named_key(self.root, msg["name"])
        if any(frame.name == ROWS for frame in msg["cond_indep_stack"]):
            key = jax.random.fold_in(key, self.chunk)
        msg["kwargs"]["rng_key"] = key


class lane_keys(Messenger):
    """Give a lane's row sites keys from ``key`` (its block, row chunk and column): the
    site ``<lane>`` gets ``key``, ``<lane>.<part>`` gets ``fold_in(key, id(part))``.

    Population sites must already hold values (a lane draws rows only): one without is a
    ``ValueError`` when the lane program is traced.
    """

    def __init__(self, fn=None, key: jax.Array | None = None):
        self.key = key
        super().__init__(fn)

    def process_message(self, msg) -> None:  # type: ignore[no-untyped-def]
        if msg["type"] != "sample" or msg["value"] is not None:
            return
        if not any(frame.name == ROWS for frame in msg["cond_indep_stack"]):
            raise ValueError(f"a lane's population site {msg['name']!r} has no value")
        part = msg["name"].partition(".")[2]
        msg["kwargs"]["rng_key"] = (
            jax.random.fold_in(self.key, stable_id(part)) if part else self.key
        )
