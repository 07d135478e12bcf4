"""Planning a streamed run: the row count, the chunking and the rows of one chunk.

``rescale_rows`` sets the total row count (class proportions kept); ``plan_for`` fixes the
layout, the row design and the part boundaries; ``chunk_frames`` draws the rows of one
part. A row's values depend only on the spec, the seed and the row's index, so any
chunking gives the same rows. Used by ``parquet_writer`` and ``dask_io``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.processes.registry import BLOCK_PROCESSES, RESPONSES, response_of

if TYPE_CHECKING:
    import numpy as np

    from synthbio_ppl.model.scene import Spec

FORMAT = 2
"""Version of the staging manifest; a staging folder of another version is not resumed
(2: unpadded column names and per-feature batch effects, whose parts differ from 1's)."""
CHUNK_VALUES = 1 << 24
"""Default chunk size: about this many feature values per part (64 MB in float32)."""


def rescale_rows(spec: Spec | dict[str, Any] | str | Path, rows: int) -> Spec:
    """The spec (a Spec, a dict or a YAML path) with ``rows`` rows in all, class
    proportions kept (largest remainders)."""
    import numpy as np

    from synthbio_ppl.core.rounding import largest_remainder
    from synthbio_ppl.model.scene import MAX_ROWS, as_spec, validate_spec

    if isinstance(rows, bool) or not isinstance(rows, Integral) or rows < 1:
        raise SpecError("rows", rows, "must be a positive whole number of rows")
    if rows > MAX_ROWS:
        raise SpecError("rows", f"{rows:,}", f"must be at most {MAX_ROWS:,} (2^38)")
    spec = as_spec(spec)
    counts = np.array([c.n for c in spec.classes])
    if rows == counts.sum():
        return spec
    scaled = largest_remainder(int(rows), counts)
    if (scaled < 1).any():
        raise SpecError(
            "rows", rows, f"too few to keep every class (proportions {counts.tolist()})"
        )
    data = spec.model_dump()
    for cls, n in zip(data["classes"], scaled, strict=True):
        cls["n"] = int(n)
    for process in [*BLOCK_PROCESSES, *RESPONSES]:
        if data.get(process.field) is not None:
            data[process.field] = process.with_rows(data[process.field], int(rows))
    return validate_spec(data)


def default_chunk_rows(n_features: int, step: int) -> int:
    """About ``CHUNK_VALUES`` values per part, a multiple of the engine's ``step`` rows."""
    target = CHUNK_VALUES // max(n_features, 1)
    return max(step, target // step * step)


def checked_chunk_rows(chunk_rows: int) -> int:
    """``chunk_rows`` rounded up to a multiple of ``ROW_CHUNK`` (the key chunk)."""
    from synthbio_ppl.core.streams import ROW_CHUNK

    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, Integral):
        raise SpecError("chunk_rows", chunk_rows, "must be a positive whole number of rows")
    if chunk_rows < 1:
        raise SpecError("chunk_rows", chunk_rows, "must be a positive whole number of rows")
    return -(-int(chunk_rows) // ROW_CHUNK) * ROW_CHUNK


@dataclass
class StreamPlan:
    """What a streamed run writes: the spec, its row design (a rule: no per-row memory)
    and the part boundaries."""

    spec: Spec
    layout: Any
    fixed: dict[str, np.ndarray]
    design: Any
    columns: list[str]
    chunk_rows: int

    @property
    def parts(self) -> list[tuple[int, int]]:
        n = self.spec.n_rows
        return [(a, min(a + self.chunk_rows, n)) for a in range(0, n, self.chunk_rows)]

    def fingerprint(self) -> str:
        """Hash of everything the bytes depend on: spec, chunking, library versions."""
        import jax
        import numpyro
        import pyarrow

        from synthbio_ppl.core.version import __version__

        payload = {
            "format": FORMAT,
            "spec": self.spec.model_dump(mode="json"),
            "chunk_rows": self.chunk_rows,
            "versions": [__version__, jax.__version__, numpyro.__version__, pyarrow.__version__],
        }
        text = json.dumps(payload, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def plan_for(spec: Spec, chunk_rows: int | None) -> StreamPlan:
    """Layout, fixed sites, row design and chunking of a (rescaled) spec."""
    from synthbio_ppl.engine.budget import check_budget
    from synthbio_ppl.engine.draw import step_rows
    from synthbio_ppl.engine.masking import with_mask_sites
    from synthbio_ppl.model.design import design_rule
    from synthbio_ppl.model.layout import build_layout
    from synthbio_ppl.model.parameters import fixed_sites

    layout = build_layout(spec)
    check_budget(spec, layout, spec.n_rows, streamed=True)
    if chunk_rows is None:
        chunk_rows = default_chunk_rows(layout.n_features, step_rows(layout))
    columns = layout.columns
    for i, static in enumerate(layout.masks):
        if static.exact:
            raise SpecError(
                f"{static.field}[{i}].exact",
                True,
                "exact counts need the whole table in memory (sb.generate, or synthbio "
                "generate without --rows/--chunk-rows); drop exact to stream",
            )
    response = layout.response
    if response is not None:
        response_of(response.field).check_streamable(getattr(spec, response.field), response)
    design = design_rule(spec)
    from synthbio_ppl.engine.outcome_sites import with_outcome_sites

    fixed = with_outcome_sites(spec, layout, fixed_sites(spec), design)
    return StreamPlan(
        spec=spec,
        layout=layout,
        fixed=with_mask_sites(spec, layout, fixed, design),
        design=design,
        columns=columns,
        chunk_rows=checked_chunk_rows(chunk_rows),
    )


def chunk_frames(plan: StreamPlan, start: int, stop: int) -> dict[str, Any]:
    """Rows [start, stop) as pandas objects: ``X``, ``y``, ``covariates`` (and ``latents``)."""

    import pandas as pd

    from synthbio_ppl.data.io import beside_y
    from synthbio_ppl.engine.draw import draw_rows
    from synthbio_ppl.engine.finite import check_finite
    from synthbio_ppl.engine.generation import (
        cell_frames,
        check_count_blocks,
        class_labels,
        covariates_of,
        latent_frames,
        observed_frames,
        outcome_frames,
        typed_frame,
    )
    from synthbio_ppl.model.dataset_model import HIDDEN

    spec, design = plan.spec, plan.design
    outputs = draw_rows(
        plan.layout, plan.fixed, design, spec.seed, spec.dtype, start, stop, order="F"
    )
    check_finite(spec, plan.layout, outputs["X"])
    check_count_blocks(outputs["X"], plan.layout)
    part = design.rows(start, stop)
    extras: dict[str, Any] = {}
    if HIDDEN in outputs:
        X, mask, complete = observed_frames(outputs["X"], outputs[HIDDEN], plan.layout)
        extras = {"missing": mask, "complete": complete}
    else:
        X = typed_frame(outputs["X"], plan.layout)
    y, outcome, rows = outcome_frames(spec, plan.layout, outputs)
    covariates = covariates_of(spec, part, outputs)
    # the outcome's columns beside y are written after the covariates
    covariates = pd.concat([covariates, beside_y(outcome, covariates.index)], axis=1)
    frames: dict[str, Any] = {
        "X": X,
        "y": class_labels(spec, part) if y is None else y,
        "covariates": covariates,
    }
    latents = latent_frames(spec, outputs)
    if rows is not None:
        latents = rows if latents is None else pd.concat([latents, rows], axis=1)
    if latents is not None:
        frames["latents"] = latents
    dropout = cell_frames(plan.layout, outputs)
    if dropout is not None:
        frames["dropout"] = dropout
    return {**frames, **extras}
