"""Forward generation: the conditioned dataset model, jitted and drawn in row chunks.

Rows are drawn in fixed chunks of ``ROW_CHUNK`` whose keys come from the chunk index, all
chunks at once under ``vmap``; the layout is static (compiled once per shape), the spec's
numbers are traced (a new effect size or correlation re-uses the compiled code).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from numpyro import handlers

from synthbio_ppl.design import Design
from synthbio_ppl.keys import ROW_CHUNK, ROWS, site_keys
from synthbio_ppl.layout import Layout
from synthbio_ppl.model import RowDesign, dataset_model


def root_key(seed: int) -> Array:
    """The root key of a dataset."""
    return jax.random.PRNGKey(seed)


@contextlib.contextmanager
def precision(dtype: str) -> Iterator[None]:
    """Run JAX in 64-bit mode for float64 output, without touching the global flag."""
    if dtype == "float64":
        with jax.enable_x64(True):
            yield
    else:
        yield


@partial(jax.jit, static_argnames=("layout",))
def _draw_chunks(
    layout: Layout, fixed: dict[str, Array], root: Array, chunks: Array, design: RowDesign
) -> dict[str, Array]:
    def one_chunk(chunk: Array, rows: RowDesign) -> dict[str, Array]:
        with site_keys(root=root, chunk=chunk):
            return handlers.condition(dataset_model, data=fixed)(layout, rows)

    outputs = jax.vmap(one_chunk)(chunks, design)
    return {name: v.reshape(-1, *v.shape[2:]) for name, v in outputs.items()}


@partial(jax.jit, static_argnames=("layout",))
def _population_sites(layout: Layout, fixed: dict[str, Array], root: Array) -> dict[str, Array]:
    one = jnp.zeros(1, dtype=jnp.int32)
    groups = {b.name: one for b in layout.blocks if b.kind == "pseudo"}
    design = RowDesign(one, one if layout.batches else None, groups)
    with site_keys(root=root):
        model = handlers.condition(dataset_model, data=fixed)
        trace = handlers.trace(model).get_trace(layout, design)
    return {
        name: site["value"]
        for name, site in trace.items()
        if site["type"] in ("sample", "deterministic")
        and not any(frame.name == ROWS for frame in site.get("cond_indep_stack", ()))
    }


def population_sites(
    layout: Layout, fixed: dict[str, np.ndarray], seed: int, dtype: str
) -> dict[str, np.ndarray]:
    """Every site outside the rows plate: fixed parameters, batch draws, level means."""
    with precision(dtype):
        values = _population_sites(layout, fixed, root_key(seed))
        return {name: np.asarray(v) for name, v in values.items()}


def _chunked(values: np.ndarray | None, first: int, n_chunks: int) -> np.ndarray | None:
    if values is None:
        return None
    start, stop = first * ROW_CHUNK, (first + n_chunks) * ROW_CHUNK
    part = values[start:stop]
    padded = np.zeros(n_chunks * ROW_CHUNK, dtype=np.int32)
    padded[: part.shape[0]] = part
    return padded.reshape(n_chunks, ROW_CHUNK)


def draw_rows(
    layout: Layout,
    fixed: dict[str, np.ndarray],
    design: Design,
    seed: int,
    dtype: str,
    start: int = 0,
    stop: int | None = None,
) -> dict[str, np.ndarray]:
    """The model's per-row outputs for rows [start, stop): ``"X"`` (rows, features), ...

    The values of a row depend only on the seed, the spec and the row's index, never on
    ``start``/``stop``.
    """
    stop = design.n_rows if stop is None else stop
    first, last = start // ROW_CHUNK, -(-stop // ROW_CHUNK)
    n_chunks = last - first
    rows = RowDesign(
        y=_chunked(design.y, first, n_chunks),
        batch=_chunked(design.batch, first, n_chunks),
        groups={k: _chunked(v, first, n_chunks) for k, v in design.groups.items()},
    )
    chunks = np.arange(first, last, dtype=np.int32)
    with precision(dtype):
        outputs = _draw_chunks(layout, fixed, root_key(seed), chunks, rows)
        host = {name: np.asarray(v) for name, v in outputs.items()}
    offset = start - first * ROW_CHUNK
    return {name: v[offset : offset + stop - start] for name, v in host.items()}
