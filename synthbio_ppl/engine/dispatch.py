"""Steps in flight: each piece's calls dispatched ahead, their rows copied into place.

``Dispatcher`` keeps ``IN_FLIGHT`` steps on the devices ahead of the one being copied to
the host; ``RowInputs`` computes each chunk range's row design once for every piece;
``Outputs`` holds the requested rows and places each step's rows and columns.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from functools import lru_cache, partial
from typing import Any, Literal

import jax
import numpy as np
from jax import Array
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from synthbio_ppl.core.streams import ROW_CHUNK, stable_id
from synthbio_ppl.core.world import World
from synthbio_ppl.engine.pieces import Piece, piece_population, piece_rows
from synthbio_ppl.engine.step_programs import program
from synthbio_ppl.model.dataset_model import RowDesign
from synthbio_ppl.model.design import Design, DesignRule
from synthbio_ppl.model.layout import Layout

STEP_VALUES = 1 << 20
"""Target number of values one device draws per fixed step (about 4 MB in float32)."""
MAX_CHUNKS_PER_STEP = 64
"""At most this many chunks per fixed step and device (narrow tables)."""
LANE_CALLS = (64, 8, 1)
"""Chunks per device of a lane program's calls (each a compile, then re-used)."""
IN_FLIGHT = 2
"""Steps dispatched ahead of the one being copied to the host."""
_AXIS = "chunks"


def chunks_per_step(layout: Layout, width: int | None = None) -> int:
    """Chunks one device draws per fixed step of ``width`` columns (default: the whole
    table): a power of two, about ``STEP_VALUES`` values, never following the rows asked."""
    per_chunk = ROW_CHUNK * max(layout.n_features if width is None else width, 1)
    chunks = 1
    while chunks < MAX_CHUNKS_PER_STEP and 2 * chunks * per_chunk <= STEP_VALUES:
        chunks *= 2
    return chunks


def _chunked(values: np.ndarray | None, n_chunks: int) -> np.ndarray | None:
    """``values`` of some of a step's rows, zero-padded to its ``n_chunks`` whole chunks."""
    if values is None:
        return None
    padded = np.zeros(n_chunks * ROW_CHUNK, dtype=values.dtype)
    padded[: values.shape[0]] = values
    return padded.reshape(n_chunks, ROW_CHUNK)


class RowInputs:
    """The row design and per-row setting values of chunk ranges, computed once each."""

    def __init__(self, design: Design | DesignRule, world: World) -> None:
        self.design, self.world = design, world
        self._memo: dict[tuple[int, int], tuple[RowDesign, list]] = {}

    def get(self, first: int, n_chunks: int) -> tuple[RowDesign, list]:
        key = (first, n_chunks)
        if key not in self._memo:
            start = first * ROW_CHUNK
            stop = max(start, min(start + n_chunks * ROW_CHUNK, self.design.n_rows))
            part = self.design.rows(start, stop)
            rows = RowDesign(
                y=_chunked(part.y, n_chunks),
                batch=_chunked(part.batch, n_chunks),
                groups={k: _chunked(v, n_chunks) for k, v in part.groups.items()},
            )
            values = [
                tuple(_chunked(a[start:stop], n_chunks) for a in pair) if s.per_row else None
                for s, pair in zip(self.world.settings, self.world.values, strict=True)
            ]
            self._memo[key] = (rows, values)
        return self._memo[key]


def lane_calls(first: int, last: int, per_device: int) -> list[tuple[int, int]]:
    """Chunks [first, last) as (first chunk, chunks) calls of ``LANE_CALLS`` sizes times
    ``per_device``, largest first: the range covered exactly with one device, and up to
    the next whole device share (fewer than ``per_device`` chunks more) with several."""
    calls = []
    chunk = first
    while chunk < last:
        size = next((c for c in LANE_CALLS if c * per_device <= last - chunk), 1) * per_device
        calls.append((chunk, size))
        chunk += size
    return calls


def fixed_calls(first: int, last: int, per_step: int) -> list[tuple[int, int]]:
    """Chunks [first, last) as steps of ``per_step`` chunks starting at its multiples."""
    start = first // per_step * per_step
    return [(c, per_step) for c in range(start, max(last, start + 1), per_step)]


class Outputs:
    """Output arrays of rows [start, stop), filled from steps' rows and columns; ``X``
    is (rows, ``n_features``) of ``dtype``, the others take their steps' shapes."""

    def __init__(
        self, start: int, stop: int, order: Literal["C", "F"], n_features: int, dtype: str
    ) -> None:
        self.start, self.stop, self.order = start, stop, order
        self.n_features, self.dtype = n_features, dtype
        self.arrays: dict[str, np.ndarray] = {}

    def put(
        self, name: str, first_row: int, data: np.ndarray, columns: tuple[int, int] | None
    ) -> None:
        if name not in self.arrays:  # even for no rows: the outputs' shapes
            shape, dtype = data.shape[1:], data.dtype
            if name == "X":
                shape, dtype = (self.n_features,), np.dtype(self.dtype)
            size = (self.stop - self.start, *shape)
            self.arrays[name] = np.empty(size, dtype, order=self.order)
        lo, hi = max(first_row, self.start), min(first_row + data.shape[0], self.stop)
        if lo >= hi:
            return
        rows = slice(lo - self.start, hi - self.start)
        part = data[lo - first_row : hi - first_row]
        if columns is None:
            self.arrays[name][rows] = part
        else:
            self.arrays[name][rows, columns[0] : columns[1]] = part


class Dispatcher:
    """Dispatches steps ahead (``IN_FLIGHT``) and copies finished ones into ``out``."""

    def __init__(
        self, devices: tuple[Any, ...], out: Outputs, rows: RowInputs, world: World
    ) -> None:
        self.devices, self.out, self.rows, self.world = devices, out, rows, world
        self.pending: deque[tuple[Callable[[dict[str, Array]], None], dict[str, Array]]] = deque()
        if len(devices) == 1:
            self.rows_at: Any = None  # numpy in: jit places it (a transfer fewer to dispatch)
            self.same: Any = None
        else:
            self.rows_at, self.same = _shardings(devices)

    @staticmethod
    def place(values: Any, sharding: Any) -> Any:
        """``values`` on the devices by ``sharding`` (None: as they are, for one device)."""
        return values if sharding is None else jax.device_put(values, sharding)

    def dispatch(self, step: Callable[..., dict[str, Array]], args: tuple, sink: Callable) -> None:
        self.pending.append((sink, step(*args)))
        if len(self.pending) > IN_FLIGHT:
            self._collect()

    def finish(self) -> None:
        while self.pending:
            self._collect()

    def _collect(self) -> None:
        sink, outputs = self.pending.popleft()
        sink({name: np.asarray(v) for name, v in outputs.items()})

    def settings_of(self, indices: tuple[int, ...]) -> tuple[tuple, list[int]]:
        """The shared values of the settings ``indices`` and the per-row ones' indices."""
        settings, values = self.world.settings, self.world.values
        shared = tuple(values[i] for i in indices if not settings[i].per_row)
        return shared, [i for i in indices if settings[i].per_row]

    def piece(
        self,
        piece: Piece,
        population: dict[str, Array],
        effects: list[tuple[Any, Any]],
        root: Array,
        first: int,
        last: int,
        layout: Layout,
    ) -> None:
        unit = piece.unit
        lo, hi = piece.columns
        arrays = tuple(
            tuple(
                None if not flag or a is None else _lanes(a[:, lo:hi], unit.lanes)
                for flag, a in zip((shift, scale), pair, strict=True)
            )
            for (_, shift, scale), pair in zip(unit.effects, effects, strict=True)
        )
        shared, per_row = self.settings_of(piece.routed)
        params: dict[str, Any] = {
            "population": piece_population(piece, population),
            "effects": arrays,
            "shared": shared,
        }
        params["root"] = root
        if unit.lanes:
            params["block"] = np.uint32(stable_id(piece.block.name))
            params["columns"] = np.arange(piece.first, piece.first + unit.lanes, dtype=np.uint32)
            params["targets"] = np.asarray(piece.targets, dtype=np.int32).reshape(-1)
            step = program("lane", unit, self.devices)
            calls = lane_calls(first, last, len(self.devices))
        else:
            step = program("block", unit, self.devices)
            per_step = chunks_per_step(layout, unit.block.n_features) * len(self.devices)
            calls = fixed_calls(first, last, per_step)
        params = self.place(params, self.same)
        for chunk, n in calls:
            design, values = self.rows.get(chunk, n)
            placed = (
                np.arange(chunk, chunk + n, dtype=np.int32),
                piece_rows(piece, design),
                tuple(values[i] for i in per_row),
            )
            args = (params, *self.place(placed, self.rows_at))
            self.dispatch(step, args, partial(self._sink, piece, chunk))

    def _sink(self, piece: Piece, chunk: int, outputs: dict[str, np.ndarray]) -> None:
        first_row = chunk * ROW_CHUNK
        if piece.unit.lanes:
            lanes = outputs["X"]  # (chunks, lanes, rows)
            values = lanes.transpose(0, 2, 1).reshape(-1, lanes.shape[1])[:, : piece.width]
            self.out.put("X", first_row, values, piece.columns)
            return
        for name, value in outputs.items():
            self.out.put(name, first_row, value, piece.columns if name == "X" else None)


def _lanes(values: np.ndarray, lanes: int) -> np.ndarray:
    """(levels, k) column effects padded to (levels, lanes) with the identity's zeros
    (a scale's padding is never read)."""
    if not lanes or values.shape[1] == lanes:
        return values
    padded = np.zeros((values.shape[0], lanes), values.dtype)
    padded[:, : values.shape[1]] = values
    return padded


@lru_cache(maxsize=32)
def _shardings(devices: tuple[Any, ...]) -> tuple[NamedSharding, NamedSharding]:
    mesh = Mesh(np.array(devices), (_AXIS,))
    return NamedSharding(mesh, PartitionSpec(_AXIS)), NamedSharding(mesh, PartitionSpec())


def after_blocks_steps(
    layout: Layout,
    drawer: Dispatcher,
    blocks: Outputs,
    population: dict[str, Array],
    effects: list[tuple[Any, Any]],
    root: Array,
    first: int,
    last: int,
    indices: tuple[int, ...],
) -> None:
    """The outcome and masks over the blocks' whole steps (chunks [first, last), in
    ``blocks``), into ``drawer.out``; ``indices`` the world's settings they apply."""
    world = drawer.world
    settings = tuple(world.settings[i] for i in indices)
    shared, per_row = drawer.settings_of(indices)
    params = {"root": root, "population": population, "effects": effects, "shared": shared}
    params = drawer.place(params, drawer.same)
    step = program("after", (layout, settings), drawer.devices)
    for chunk, per_step in lane_calls(first, last, len(drawer.devices)):
        design, values = drawer.rows.get(chunk, per_step)
        lo = (chunk - first) * ROW_CHUNK
        window = {
            name: v[lo : lo + per_step * ROW_CHUNK].reshape(per_step, ROW_CHUNK, *v.shape[1:])
            for name, v in blocks.arrays.items()
        }
        complete = window.pop("X")
        placed = (
            np.arange(chunk, chunk + per_step, dtype=np.int32),
            design,
            tuple(values[i] for i in per_row),
            complete,
            window,
        )
        args = (params, *drawer.place(placed, drawer.rows_at))
        drawer.dispatch(step, args, partial(_after_sink, drawer.out, chunk))
    drawer.finish()


def _after_sink(out: Outputs, chunk: int, outputs: dict[str, np.ndarray]) -> None:
    for name, value in outputs.items():
        out.put(name, chunk * ROW_CHUNK, value, None)
