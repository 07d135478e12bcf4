"""The compiled steps of a table's pieces: lanes, whole blocks, and what follows them.

Each step draws a number of row chunks (``core.streams.ROW_CHUNK`` rows each) under
``vmap``; a row's keys come from its chunk's index, so what a row holds does not depend on
which rows are asked for. A *lane step* further maps one column per lane: column ``j`` of
a block in chunk ``c`` is drawn from ``fold_in(fold_in(key(block), c), j)`` by the block
process's own model with one feature, and returns (chunks, lanes, rows); its arithmetic is
elementwise in rows, so the number of chunks per call changes no bit. A *block step* runs
a whole block's model under ``core.keys.site_keys``; an *after step* runs
``model.dataset_model.after_blocks`` (outcome, masks) on the complete values.

With several local devices a step's chunks are sharded across them (``shard_map`` over a
1-D mesh); each device runs the one-device step on its own chunks.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from functools import partial
from typing import Any

import jax
import numpy as np
import numpyro
from jax import Array
from jax.sharding import Mesh, PartitionSpec
from numpyro import handlers

from synthbio_ppl.core.interventions import intervene
from synthbio_ppl.core.keys import lane_keys, site_keys
from synthbio_ppl.core.memory_maps import make_room_for_programs
from synthbio_ppl.core.streams import ROW_CHUNK, ROWS
from synthbio_ppl.core.world import Setting
from synthbio_ppl.engine.compile_notice import NoticedProgram
from synthbio_ppl.engine.pieces import Unit
from synthbio_ppl.model.dataset_model import after_blocks, block_effects
from synthbio_ppl.model.layout import Layout
from synthbio_ppl.processes.block import RowDesign, Rows
from synthbio_ppl.processes.registry import modifier_of, process_of

ROW_SAMPLER = "the row sampler for a new kind of block, table layout or world"
LIVE_PROGRAMS = 64
"""Programs that stay loaded, least recently used out first (each holds memory and
memory-map regions; see :mod:`synthbio_ppl.core.memory_maps`)."""
_AXIS = "chunks"


def in_order(settings: tuple[Setting, ...], shared: tuple, per_row: tuple) -> tuple:
    """The values of ``settings`` in their order, from the population and per-row lists."""
    population, rows = iter(shared), iter(per_row)
    return tuple(next(rows) if s.per_row else next(population) for s in settings)


def _effects(unit_effects: tuple, arrays: tuple, design: RowDesign) -> list:
    """``block_effects``'s list: each flagged modifier's (shift, scale, row codes)."""
    out = []
    for (field, shift, scale), (shift_values, scale_values) in zip(
        unit_effects, arrays, strict=True
    ):
        if shift or scale:
            codes = modifier_of(field).row_codes(design)
            out.append((shift_values if shift else None, scale_values if scale else None, codes))
    return out


def lane_step(
    unit: Unit, params: dict[str, Any], chunks: Array, design: RowDesign, per_row: tuple
) -> dict[str, Array]:
    """``chunks`` (c,) row chunks of ``unit.lanes`` columns: ``{"X": (c, lanes, rows)}``.

    ``params``: ``root`` the dataset's key and ``block`` the block name's id (uint32;
    ``core.streams.stable_id``), ``population`` its sites (renamed), ``columns``
    (lanes,) uint32 the columns' indices in the block, ``effects`` per modifier (shift,
    scale) (levels, lanes) arrays or None, ``shared`` the shared settings' values,
    ``targets`` (settings,) int32 the column each setting sets (−1: all).
    """
    process = process_of(unit.block.kind)
    model = handlers.condition(process.sample, data=params["population"])

    def one_chunk(chunk: Array, rows: RowDesign, row_values: tuple) -> Array:
        block_key = jax.random.fold_in(params["root"], params["block"])
        chunk_key = jax.random.fold_in(block_key, chunk)

        def lane(column: Array, arrays: tuple) -> Array:
            values = in_order(unit.settings, params["shared"], row_values)
            here = (params["targets"] < 0) | (params["targets"] == column)
            values = tuple((v, w & here[k]) for k, (v, w) in enumerate(values))
            columns = tuple(
                (None if s is None else s[:, None], None if c is None else c[:, None])
                for s, c in arrays
            )
            loc_shift, scale = block_effects(_effects(unit.effects, columns, rows), 0, 1)
            given = Rows(
                rows, unit.n_classes, numpyro.plate(ROWS, ROW_CHUNK, dim=-1), loc_shift, scale
            )
            key = jax.random.fold_in(chunk_key, column)
            with intervene(settings=unit.settings, values=values), lane_keys(key=key):
                return model(unit.block, given)["X"][:, 0]

        return jax.vmap(lane, in_axes=(0, 1))(params["columns"], params["effects"])

    return {"X": jax.vmap(one_chunk)(chunks, design, per_row)}


def block_step(
    unit: Unit, params: dict[str, Any], chunks: Array, design: RowDesign, per_row: tuple
) -> dict[str, Array]:
    """``chunks`` (c,) row chunks of a whole block: its outputs, each (c · rows, ...).

    ``params``: ``root`` the dataset's key, ``population`` the block's sites, ``effects``
    per modifier (shift, scale) (levels, features) arrays or None, ``shared`` the shared
    settings' values.
    """
    process = process_of(unit.block.kind)
    model = handlers.condition(process.sample, data=params["population"])

    def one_chunk(chunk: Array, rows: RowDesign, row_values: tuple) -> dict[str, Array]:
        values = in_order(unit.settings, params["shared"], row_values)
        effects = _effects(unit.effects, params["effects"], rows)
        loc_shift, scale = block_effects(effects, 0, unit.block.n_features)
        given = Rows(rows, unit.n_classes, numpyro.plate(ROWS, ROW_CHUNK, dim=-1), loc_shift, scale)
        # site_keys inside intervene: a set site's natural draw keeps its own key
        with (
            intervene(settings=unit.settings, values=values),
            site_keys(root=params["root"], chunk=chunk),
        ):
            return model(unit.block, given)

    outputs = jax.vmap(one_chunk)(chunks, design, per_row)
    return {name: v.reshape(-1, *v.shape[2:]) for name, v in outputs.items()}


def after_step(
    static: tuple[Layout, tuple[Setting, ...]],
    params: dict[str, Any],
    chunks: Array,
    design: RowDesign,
    per_row: tuple,
    complete: Array,
    outputs: dict[str, Array],
) -> dict[str, Array]:
    """What follows the blocks for ``chunks`` (c,): ``complete`` (c, rows, features) and
    the blocks' other ``outputs`` (c, rows, ...) in; the outcome's and masks' outputs out,
    each (c · rows, ...). ``params``: ``root``, ``population`` (every site outside the
    rows plate), ``effects`` per modifier (shift, scale) over every column, ``shared``."""
    layout, settings = static

    def one_chunk(
        chunk: Array, rows: RowDesign, row_values: tuple, values_: Array, outs: dict
    ) -> dict[str, Array]:
        values = in_order(settings, params["shared"], row_values)
        effects = [
            (shift, scale, modifier_of(m.field).row_codes(rows))
            for m, (shift, scale) in zip(layout.modifiers, params["effects"], strict=True)
        ]

        def model() -> dict[str, Array]:
            plate = numpyro.plate(ROWS, ROW_CHUNK, dim=-1)
            return after_blocks(layout, rows, values_, outs, effects, plate)

        with (
            intervene(settings=settings, values=values),
            site_keys(root=params["root"], chunk=chunk),
        ):
            out = handlers.condition(model, data=params["population"])()
        return {name: v for name, v in out.items() if name != "X" and name not in outs}

    outs = jax.vmap(one_chunk)(chunks, design, per_row, complete, outputs)
    return {name: v.reshape(-1, *v.shape[2:]) for name, v in outs.items()}


STEPS: dict[str, tuple[Callable[..., dict[str, Array]], int]] = {
    "lane": (lane_step, 3),
    "block": (block_step, 3),
    "after": (after_step, 5),
}
"""Each step function and how many of its arguments are sharded by row chunk."""


@functools.lru_cache(maxsize=LIVE_PROGRAMS)
def program(kind: str, static: Any, devices: tuple[Any, ...]) -> Callable[..., dict[str, Array]]:
    """The jitted step ``kind`` for ``static`` (a Unit, or (layout, settings) after the
    blocks) on ``devices``: ``(params, chunks, ...)``; one compile per chunk count."""
    make_room_for_programs()
    step, n_rows_args = STEPS[kind]
    body = partial(step, static)
    if len(devices) > 1:
        mesh = Mesh(np.array(devices), (_AXIS,))
        rows, same = PartitionSpec(_AXIS), PartitionSpec()
        body = jax.shard_map(
            body, mesh=mesh, in_specs=(same, *[rows] * n_rows_args), out_specs=rows
        )
    return NoticedProgram(jax.jit(body), ROW_SAMPLER)
