"""Forward generation: the dataset model's pieces, jitted and drawn in row chunks.

Rows are drawn in chunks of ``ROW_CHUNK`` whose keys come from the chunk index, piece by
piece (``engine.pieces``: lanes of independent columns, whole blocks, then the outcome and
masks). A lane program draws any number of chunks per call without changing a bit (its
arithmetic is elementwise in rows), so a request is covered exactly by calls of 1, 8 or
64 chunks per device: a 30-row table draws one chunk. A whole block's and the outcome's
programs draw a fixed number of chunks per device (``chunks_per_step``), in steps that
start at multiples of the step size, so every row is computed by the same compiled program
at the same place in its step whatever range is asked for: XLA's code depends on array
shapes (the order of a reduction such as the sum inside an equicorrelated cluster), and a
shape that followed the request would change last bits with ``start``/``stop``, with the
chunk size of a streamed write, or with the number of devices.

The population sites (every site outside the rows plate) are drawn first by one program
per layout (cheap to compile) and given to every piece, so a piece's program never
depends on the layout. The spec's numbers are traced (a new effect size or correlation
re-uses the compiled code).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache, partial
from typing import Any, Literal

import jax
import numpy as np
from jax import Array
from numpyro import handlers

from synthbio_ppl.core.cache import enable_compilation_cache
from synthbio_ppl.core.interventions import intervene
from synthbio_ppl.core.keys import site_keys
from synthbio_ppl.core.memory_maps import make_room_for_programs
from synthbio_ppl.core.precision import precision
from synthbio_ppl.core.streams import ROW_CHUNK, ROWS
from synthbio_ppl.core.world import Setting, World
from synthbio_ppl.engine.compile_notice import NoticedProgram
from synthbio_ppl.engine.dispatch import (
    Dispatcher,
    Outputs,
    RowInputs,
    after_blocks_steps,
    chunks_per_step,
)
from synthbio_ppl.engine.pieces import pieces_of, unclaimed
from synthbio_ppl.engine.step_programs import LIVE_PROGRAMS
from synthbio_ppl.model.dataset_model import dataset_model, placeholder_design
from synthbio_ppl.model.design import Design, DesignRule
from synthbio_ppl.model.layout import Layout
from synthbio_ppl.processes.registry import modifier_of

__all__ = ["chunks_per_step", "draw_rows", "population_sites", "root_key", "step_rows"]

PARTITIONABLE = False
"""``jax_threefry_partitionable`` while drawing: False is the faster threefry on one
device (``shard_map`` gives each device its own chunks, so nothing needs partitioning).
Part of the stream definition: changing it changes every value."""
PARAMETERS = "the parameter draws for a new table layout or world"


def root_key(seed: int) -> Array:
    """The root key of a dataset."""
    return jax.random.PRNGKey(seed)


def step_rows(layout: Layout, devices: Sequence[Any] | None = None) -> int:
    """Rows drawn by one whole-table step on all devices (chunk sizes that are multiples
    waste nothing)."""
    return chunks_per_step(layout) * len(_devices(devices)) * ROW_CHUNK


def _devices(devices: Sequence[Any] | None) -> tuple[Any, ...]:
    return tuple(jax.local_devices()) if devices is None else tuple(devices)


@lru_cache(maxsize=LIVE_PROGRAMS)
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


def _population(layout: Layout, fixed: dict[str, Any], seed: int, world: World) -> dict[str, Array]:
    settings, values = world.shared()
    return _population_program(layout, settings)(fixed, root_key(seed), values)


def population_sites(
    layout: Layout,
    fixed: dict[str, np.ndarray],
    seed: int,
    dtype: str,
    world: World | None = None,
) -> dict[str, np.ndarray]:
    """Every site outside the rows plate: fixed parameters, batch draws, level means (in
    ``world``: with its population settings applied)."""
    enable_compilation_cache()
    with precision(dtype), jax.threefry_partitionable(PARTITIONABLE):
        out = _population(layout, fixed, seed, World() if world is None else world)
        return {name: np.asarray(v) for name, v in out.items()}


@lru_cache(maxsize=LIVE_PROGRAMS)
def _effects_program(layout: Layout) -> Callable[..., list]:
    def effects(population: dict[str, Array]) -> list:
        out = []
        for static in layout.modifiers:
            modifier = modifier_of(static.field)
            model = handlers.condition(modifier.column_effects, data=population)
            out.append(model(static, layout.n_features))
        return out

    return jax.jit(effects)


def _column_effects(layout: Layout, population: dict[str, Array]) -> list[tuple[Any, Any]]:
    """Each modifier's (shift, scale) over every column, numpy (levels, features) or None."""
    if not layout.modifiers:
        return []
    out = _effects_program(layout)(population)
    return [tuple(None if a is None else np.asarray(a) for a in pair) for pair in out]


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
    population: dict[str, Any] | None = None,
) -> dict[str, np.ndarray]:
    """The model's per-row outputs for rows [start, stop): ``"X"`` (rows, features), ...

    ``world`` (default: the factual one) sets sites by its settings; its per-row values
    are (n_rows,) arrays over the whole dataset. ``population``: the same arguments'
    ``population_sites``, when the caller has them already (else drawn here).

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
    world = World() if world is None else world
    with precision(dtype), jax.threefry_partitionable(PARTITIONABLE):
        if population is None:
            population = _population(layout, fixed, seed, world)
        effects = _column_effects(layout, population)
        pieces = pieces_of(layout, world.settings, effects)
        rows = RowInputs(design, world)
        root = root_key(seed)
        after = layout.response is not None or bool(layout.masks)
        first, last = start // ROW_CHUNK, max(-(-stop // ROW_CHUNK), start // ROW_CHUNK + 1)
        if after:  # calls are whole device shares: the blocks' rows must fill them
            last = first + -(-(last - first) // len(devs)) * len(devs)
        width = layout.n_features
        if after:
            out = Outputs(first * ROW_CHUNK, last * ROW_CHUNK, "C", width, dtype)
        else:
            out = Outputs(start, stop, order, width, dtype)
        drawer = Dispatcher(devs, out, rows, world)
        for piece in pieces:
            drawer.piece(piece, population, effects, root, first, last, layout)
        drawer.finish()
        if not after:
            return out.arrays
        final = Outputs(start, stop, order, width, dtype)
        lo, hi = start - first * ROW_CHUNK, stop - first * ROW_CHUNK
        for name, value in out.arrays.items():
            if order == "C":  # a view: no second copy of the blocks' rows
                final.arrays[name] = value[lo:hi]
            else:
                final.put(name, first * ROW_CHUNK, value, None)
        drawer.out = final
        claimed = unclaimed(pieces, world.settings)
        after_blocks_steps(layout, drawer, out, population, effects, root, first, last, claimed)
        return final.arrays
