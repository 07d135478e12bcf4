"""Pinned values of every catalogue scene, compared up to floating-point rounding.

``python -m tests.golden.reference`` writes, for every scene in ``models/`` at ``ROWS``
rows, ``scenes/<scene>.npz``: for each of X, y, the covariates, the latents and the
outcome, a digest of its layout (shape, column names, dtypes, categories) and the values of
a fixed set of cells (every column, rows on a stride); for the truth, a digest of its JSON
with each float replaced by a marker, and the floats themselves on a stride.

Why not one digest of the bytes: ``jnp.log``, ``exp``, ``erf_inv`` and the like are
vectorised differently for each CPU instruction set (SSE, AVX2, AVX-512), so the same key
gives values a few ulps apart on two machines, and a rejection sampler or a rounding to a
count may then flip a rare cell. ``agreement`` allows exactly that and nothing more: a cell
agrees when it is within ``RTOL`` (relative to it, or to the largest pinned value of its
frame); at most ``MAX_FLIPS_SHARE`` of the cells of a frame, and one cell of a column
(or ``MAX_FLIPS_SHARE`` of its cells when more), may disagree. Any change of a stream
moves nearly every cell of the columns it touches.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "models"
SCENES = Path(__file__).with_name("scenes")
PINNED = Path(__file__).with_name("catalogue.json")
ROWS = 300
CELLS = 8000  # pinned cells per frame (at least 4 per column)
FLOATS = 8000  # pinned floats of the truth
# float32 carries 24 bits (6e-8); a chain of a dozen vectorised transcendentals stays
# below 1e-5 apart across instruction sets. A change of a stream moves cells by O(1).
RTOL = 1e-4
# Cells seen to flip between instruction sets: 0.04% of rnaseq_like's counts (AVX-512
# against SSE 4.2), none elsewhere; compare ``scene_reference`` of a scene run with and
# without ``XLA_FLAGS=--xla_cpu_max_isa=SSE4_2`` to see it again.
MAX_FLIPS_SHARE = 0.005
FRAMES = ("X", "y", "covariates", "latents", "outcome")


def _digest(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


def _as_frame(frame: pd.DataFrame | pd.Series) -> pd.DataFrame:
    return frame.to_frame() if isinstance(frame, pd.Series) else frame


def _layout(frame: pd.DataFrame) -> str:
    columns = []
    for name in frame.columns:
        dtype = frame[name].dtype
        categories = (
            [str(c) for c in dtype.categories] if isinstance(dtype, pd.CategoricalDtype) else None
        )
        columns.append([str(name), str(dtype), categories])
    return _digest({"shape": list(frame.shape), "columns": columns})


def _numeric(frame: pd.DataFrame) -> np.ndarray:
    """(rows, columns) float64 values; a categorical column as its codes."""
    out = np.empty(frame.shape, np.float64)
    for j, name in enumerate(frame.columns):
        values = frame[name]
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.cat.codes
        out[:, j] = np.asarray(values, np.float64)
    return out


def pinned_cells(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) indices of the pinned cells: every column, rows on a stride that
    shifts from column to column (no random numbers, so no library can move them)."""
    n_rows, n_columns = shape
    if not n_rows or not n_columns:
        return np.zeros(0, int), np.zeros(0, int)
    per_column = min(n_rows, max(4, CELLS // n_columns))
    step = max(1, n_rows // per_column)
    rows = (np.arange(per_column)[None, :] * step + np.arange(n_columns)[:, None] * 7) % n_rows
    columns = np.repeat(np.arange(n_columns), per_column)
    return rows.ravel(), columns


def _floats_replaced(node: object, floats: list[float]) -> object:
    if isinstance(node, dict):
        return {k: _floats_replaced(v, floats) for k, v in node.items()}
    if isinstance(node, list):
        return [_floats_replaced(v, floats) for v in node]
    if isinstance(node, float):
        floats.append(node)
        return "<float>"
    return node


def scene_reference(path: Path, rows: int = ROWS, seed: int | None = None) -> dict[str, np.ndarray]:
    """The pinned layout digests and values of one scene at ``rows`` rows (``seed``: the
    scene's own unless given)."""
    import synthbio_ppl as sb

    data = sb.generate(sb.rescale_rows(sb.load_spec(path), rows), seed)
    frames = {
        "X": data.X,
        "y": data.y,
        "covariates": data.covariates,
        "latents": data.truth.latents,
        "outcome": data.outcome,
    }
    out: dict[str, np.ndarray] = {}
    for name, frame in frames.items():
        if frame is None:
            out[f"{name}.layout"] = np.array("none")
            continue
        frame = _as_frame(frame)
        out[f"{name}.layout"] = np.array(_layout(frame))
        r, c = pinned_cells(frame.shape)
        out[f"{name}.values"] = _numeric(frame)[r, c]
        out[f"{name}.columns"] = c.astype(np.int32)
    floats: list[float] = []
    out["truth.layout"] = np.array(_digest(_floats_replaced(data.truth.to_dict(), floats)))
    stride = max(1, -(-len(floats) // FLOATS))
    out["truth.values"] = np.asarray(floats[::stride], np.float64)
    return out


def _flips(pinned: np.ndarray, got: np.ndarray) -> np.ndarray:
    scale = np.nanmax(np.abs(pinned), initial=0.0)
    near = np.abs(got - pinned) <= RTOL * np.maximum(np.abs(pinned), scale)
    return ~(near | (np.isnan(pinned) & np.isnan(got)))


def agreement(pinned: dict[str, np.ndarray], got: dict[str, np.ndarray]) -> list[str]:
    """What of ``got`` departs from ``pinned`` beyond rounding (empty: they agree)."""
    problems = [f"{k}: missing" for k in sorted(set(pinned) - set(got))]
    problems += [f"{k}: not pinned" for k in sorted(set(got) - set(pinned))]
    for key in sorted(set(pinned) & set(got)):
        want, have = pinned[key], got[key]
        if key.endswith(".layout"):
            if str(want) != str(have):
                problems.append(f"{key}: {have} differs from the pinned {want}")
            continue
        if want.shape != have.shape:
            problems.append(f"{key}: {have.shape[0]} values, {want.shape[0]} pinned")
            continue
        if key.endswith(".columns"):
            if not np.array_equal(want, have):
                problems.append(f"{key}: the pinned cells moved")
            continue
        flips = _flips(want, have)
        if flips.sum() > MAX_FLIPS_SHARE * flips.size:
            problems.append(f"{key}: {flips.sum()} of {flips.size} values differ")
        columns = pinned.get(key.replace(".values", ".columns"))
        if columns is not None and flips.any():
            per_column = np.bincount(columns, weights=flips)
            cells = np.bincount(columns)
            allowed = np.maximum(1, MAX_FLIPS_SHARE * cells)
            if (per_column > allowed).any():
                j = int(np.argmax(per_column - allowed))
                problems.append(f"{key}: {per_column[j]:.0f} of column {j}'s {cells[j]} differ")
    return problems


def write_catalogue() -> None:
    import jax

    SCENES.mkdir(exist_ok=True)
    for stale in SCENES.glob("*.npz"):
        stale.unlink()
    names = []
    for path in sorted(MODELS.glob("*.yaml")):
        np.savez_compressed(SCENES / f"{path.stem}.npz", **scene_reference(path))
        names.append(path.stem)
    PINNED.write_text(json.dumps({"jax": jax.__version__, "rows": ROWS, "scenes": names}) + "\n")


if __name__ == "__main__":
    write_catalogue()
    print(f"pinned {len(list(SCENES.glob('*.npz')))} scenes in {SCENES}", file=sys.stderr)
