"""Forward generation: the conditioned dataset model, jitted and drawn in row chunks.

Rows are drawn in fixed chunks of ``ROW_CHUNK`` whose keys come from the chunk index. One
compiled *step* draws a fixed number of chunks per device (``chunks_per_step(layout)``)
under ``vmap``, and the host loops over steps that start at multiples of the step size.
Every row is therefore computed by the same compiled program, at the same place in its
step, whatever range is asked for. XLA's code depends on array shapes (the order of a
reduction such as the sum inside an equicorrelated cluster, vectorised loops and their
scalar tails), so a shape that followed the request would change the last bits of some
values with ``start``/``stop``, with the chunk size of a streamed write, or with the
number of devices.

With several local devices a step's chunks are sharded across them (``shard_map`` over a
1-D mesh, the chunk count padded to a multiple of the device count); each device runs the
single-device step on its own chunks, so the output is identical to one device's. The
layout is static (compiled once per shape), the spec's numbers are traced (a new effect
size or correlation re-uses the compiled code).
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Literal

import jax
import numpy as np
from jax import Array
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from numpyro import handlers

from synthbio_ppl.core.cache import enable_compilation_cache
from synthbio_ppl.core.interventions import intervene
from synthbio_ppl.core.keys import site_keys
from synthbio_ppl.core.memory_maps import make_room_for_programs
from synthbio_ppl.core.precision import precision
from synthbio_ppl.core.streams import ROW_CHUNK, ROWS
from synthbio_ppl.core.world import Setting, World
from synthbio_ppl.engine.compile_notice import NoticedProgram
from synthbio_ppl.model.dataset_model import RowDesign, dataset_model, placeholder_design
from synthbio_ppl.model.design import Design, DesignRule
from synthbio_ppl.model.layout import Layout

STEP_VALUES = 1 << 20
"""Target number of values one device draws per compiled step (about 4 MB in float32)."""
MAX_CHUNKS_PER_STEP = 64
"""At most this many chunks per step and device (narrow tables)."""
_IN_FLIGHT = 2
"""Steps dispatched ahead of the one being copied to the host."""
_AXIS = "chunks"
ROW_SAMPLER = "the row sampler for a new table shape or world"
PARAMETERS = "the parameter draws for a new table shape or world"
LIVE_PROGRAMS = 32
"""Layouts whose generator programs stay loaded, least recently used out first (each holds
memory and memory-map regions; see :mod:`synthbio_ppl.core.memory_maps`)."""


def root_key(seed: int) -> Array:
    """The root key of a dataset."""
    return jax.random.PRNGKey(seed)


def chunks_per_step(layout: Layout) -> int:
    """Chunks one device draws per compiled step: a power of two, about ``STEP_VALUES`` values.

    It depends on the layout only, never on the rows asked for, so every row of a dataset
    comes from the same compiled program.
    """
    per_chunk = ROW_CHUNK * max(layout.n_features, 1)
    chunks = 1
    while chunks < MAX_CHUNKS_PER_STEP and 2 * chunks * per_chunk <= STEP_VALUES:
        chunks *= 2
    return chunks


def step_rows(layout: Layout, devices: Sequence[Any] | None = None) -> int:
    """Rows drawn by one step on all devices: chunk sizes that are multiples waste nothing."""
    return chunks_per_step(layout) * len(_devices(devices)) * ROW_CHUNK


def _devices(devices: Sequence[Any] | None) -> tuple[Any, ...]:
    return tuple(jax.local_devices()) if devices is None else tuple(devices)


def _draw_local(
    layout: Layout,
    settings: tuple[Setting, ...],
    fixed: dict[str, Array],
    root: Array,
    shared: tuple[tuple[Array, Array], ...],
    chunks: Array,
    design: RowDesign,
    per_row: tuple[tuple[Array, Array], ...],
) -> dict[str, Array]:
    def one_chunk(
        chunk: Array, rows: RowDesign, row_values: tuple[tuple[Array, Array], ...]
    ) -> dict[str, Array]:
        values = _in_order(settings, shared, row_values)
        # site_keys inside intervene: a set site's natural draw keeps its own key
        with intervene(settings=settings, values=values), site_keys(root=root, chunk=chunk):
            return handlers.condition(dataset_model, data=fixed)(layout, rows)

    outputs = jax.vmap(one_chunk)(chunks, design, per_row)
    return {name: v.reshape(-1, *v.shape[2:]) for name, v in outputs.items()}


def _in_order(settings: tuple[Setting, ...], shared: tuple, per_row: tuple) -> tuple:
    """The values of ``settings`` in their order, from the population and per-row lists."""
    population, rows = iter(shared), iter(per_row)
    return tuple(next(rows) if s.per_row else next(population) for s in settings)


@functools.lru_cache(maxsize=LIVE_PROGRAMS)
def _draw_chunks(
    layout: Layout, settings: tuple[Setting, ...] = ()
) -> Callable[..., dict[str, Array]]:
    """The layout's step on one device: ``chunks`` (n,), ``design`` (n, ROW_CHUNK) -> rows
    (n·256, ...); ``settings`` a world's interventions (none: the factual world)."""
    make_room_for_programs()
    return NoticedProgram(jax.jit(partial(_draw_local, layout, settings)), ROW_SAMPLER)


@functools.lru_cache(maxsize=LIVE_PROGRAMS)
def _sharded_step(
    layout: Layout, devices: tuple[Any, ...], settings: tuple[Setting, ...] = ()
) -> Callable[..., dict[str, Array]]:
    make_room_for_programs()
    mesh = Mesh(np.array(devices), (_AXIS,))
    rows, same = PartitionSpec(_AXIS), PartitionSpec()
    body = jax.shard_map(
        partial(_draw_local, layout, settings),
        mesh=mesh,
        in_specs=(same, same, same, rows, rows, rows),
        out_specs=rows,
    )
    return NoticedProgram(jax.jit(body), ROW_SAMPLER)


@functools.lru_cache(maxsize=32)
def _shardings(devices: tuple[Any, ...]) -> tuple[NamedSharding, NamedSharding]:
    mesh = Mesh(np.array(devices), (_AXIS,))
    return NamedSharding(mesh, PartitionSpec(_AXIS)), NamedSharding(mesh, PartitionSpec())


@functools.lru_cache(maxsize=LIVE_PROGRAMS)
def _population_program(
    layout: Layout, settings: tuple[Setting, ...] = ()
) -> Callable[..., dict[str, Array]]:
    make_room_for_programs()
    return NoticedProgram(jax.jit(partial(_population_sites, layout, settings)), PARAMETERS)


def _population_sites(
    layout: Layout,
    settings: tuple[Setting, ...],
    fixed: dict[str, Array],
    root: Array,
    values: tuple[tuple[Array, Array], ...],
) -> dict[str, Array]:
    design = placeholder_design(layout, 1)
    with intervene(settings=settings, values=values), site_keys(root=root):
        model = handlers.condition(dataset_model, data=fixed)
        trace = handlers.trace(model).get_trace(layout, design)
    return {
        name: site["value"]
        for name, site in trace.items()
        if site["type"] in ("sample", "deterministic")
        and not any(frame.name == ROWS for frame in site.get("cond_indep_stack", ()))
    }


def population_sites(
    layout: Layout,
    fixed: dict[str, np.ndarray],
    seed: int,
    dtype: str,
    world: World | None = None,
) -> dict[str, np.ndarray]:
    """Every site outside the rows plate: fixed parameters, batch draws, level means (in
    ``world``: with its population settings applied)."""
    settings, values = (World() if world is None else world).shared()
    enable_compilation_cache()
    with precision(dtype):
        program = _population_program(layout, settings)
        out = program(fixed, root_key(seed), values)
        return {name: np.asarray(v) for name, v in out.items()}


def _chunked(values: np.ndarray | None, n_chunks: int) -> np.ndarray | None:
    """``values`` of some of a step's rows, zero-padded to its ``n_chunks`` whole chunks."""
    if values is None:
        return None
    padded = np.zeros(n_chunks * ROW_CHUNK, dtype=values.dtype)
    padded[: values.shape[0]] = values
    return padded.reshape(n_chunks, ROW_CHUNK)


def _step_inputs(
    design: Design | DesignRule,
    first: int,
    n_chunks: int,
    per_row: tuple[tuple[np.ndarray, np.ndarray], ...],
) -> tuple[np.ndarray, RowDesign, tuple[tuple[np.ndarray, np.ndarray], ...]]:
    start = first * ROW_CHUNK
    stop = min(start + n_chunks * ROW_CHUNK, design.n_rows)
    part = design.rows(start, max(start, stop))
    rows = RowDesign(
        y=_chunked(part.y, n_chunks),
        batch=_chunked(part.batch, n_chunks),
        groups={k: _chunked(v, n_chunks) for k, v in part.groups.items()},
    )
    values = tuple(tuple(_chunked(a[start:stop], n_chunks) for a in pair) for pair in per_row)
    return np.arange(first, first + n_chunks, dtype=np.int32), rows, values


def draw_rows(
    layout: Layout,
    fixed: dict[str, np.ndarray],
    design: Design | DesignRule,
    seed: int,
    dtype: str,
    start: int = 0,
    stop: int | None = None,
    *,
    devices: Sequence[Any] | None = None,
    order: Literal["C", "F"] = "C",
    world: World | None = None,
) -> dict[str, np.ndarray]:
    """The model's per-row outputs for rows [start, stop): ``"X"`` (rows, features), ...

    ``world`` (default: the factual one) sets sites by its settings; its per-row values
    are (n_rows,) arrays over the whole dataset.

    The values of a row depend only on the seed, the spec and the row's index, never on
    ``start``/``stop`` nor on the devices (default: every local device). ``order="F"``
    returns column-major arrays (each feature contiguous, as Arrow and pandas columns
    want). Memory beyond the returned arrays is a few steps' worth of rows.
    """
    stop = design.n_rows if stop is None else stop
    if not 0 <= start <= stop <= design.n_rows:
        raise ValueError(f"rows [{start}, {stop}) are not within [0, {design.n_rows})")
    enable_compilation_cache()
    devs = _devices(devices)
    per_step = chunks_per_step(layout) * len(devs)
    # Steps start at multiples of the step size, so a chunk always sits at the same place
    # in its step (and on the same device slot) whichever rows are asked for.
    first = start // ROW_CHUNK // per_step * per_step
    last = max(-(-stop // ROW_CHUNK), first + 1)  # one step even for no rows: output shapes
    out: dict[str, np.ndarray] = {}
    world = World() if world is None else world
    settings = world.settings
    shared, per_row = world.shared()[1], world.per_row()[1]
    with precision(dtype):
        if len(devs) == 1:
            step: Callable[..., dict[str, Array]] = _draw_chunks(layout, settings)
            fixed_in, root, shared_in = jax.device_put((fixed, root_key(seed), shared), devs[0])
            row_sharding = None
        else:
            step = _sharded_step(layout, devs, settings)
            row_sharding, replicated = _shardings(devs)
            fixed_in, root, shared_in = jax.device_put((fixed, root_key(seed), shared), replicated)
        pending: deque[tuple[int, dict[str, Array]]] = deque()
        for chunk in range(first, last, per_step):
            chunks, rows, row_values = _step_inputs(design, chunk, per_step, per_row)
            placed = (chunks, rows, row_values)
            if row_sharding is None:
                chunks, rows, row_values = jax.device_put(placed, devs[0])
            else:
                chunks, rows, row_values = jax.device_put(placed, row_sharding)
            pending.append((chunk, step(fixed_in, root, shared_in, chunks, rows, row_values)))
            if len(pending) > _IN_FLIGHT:
                _collect(*pending.popleft(), out, start, stop, order)
        while pending:
            _collect(*pending.popleft(), out, start, stop, order)
    return out


def _collect(
    chunk: int,
    outputs: dict[str, Array],
    out: dict[str, np.ndarray],
    start: int,
    stop: int,
    order: Literal["C", "F"],
) -> None:
    """Copy the rows of one step that fall in [start, stop) into ``out``, shard by shard."""
    for name, value in outputs.items():
        for shard in value.addressable_shards:
            data = np.asarray(shard.data)
            if name not in out:
                out[name] = np.empty((stop - start, *data.shape[1:]), data.dtype, order=order)
            first_row = chunk * ROW_CHUNK + (shard.index[0].start or 0)
            lo, hi = max(first_row, start), min(first_row + data.shape[0], stop)
            if lo < hi:
                out[name][lo - start : hi - start] = data[lo - first_row : hi - first_row]
