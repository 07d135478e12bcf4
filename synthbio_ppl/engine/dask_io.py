"""A spec as a lazy ``dask.dataframe``: each partition draws its own rows from its index.

    ddf = to_dask("models/pn_benchmark.yaml", rows=10_000_000)
    ddf.groupby("y").mean().compute()

Partition k holds rows [k·chunk_rows, (k+1)·chunk_rows) with their global row numbers as
the index (known divisions). A worker builds the spec's layout and row design once per
process and calls the engine for its rows only, so nothing but the spec's YAML travels
through the scheduler; the values equal ``generate``'s bit for bit. Needs the optional
``dask[dataframe]`` (and ``distributed`` for a cluster).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd

from synthbio_ppl.data.io import beside_y
from synthbio_ppl.model.scene import Spec


def _dask_dataframe() -> Any:
    try:
        import dask.dataframe as dd
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "to_dask needs dask: pip install 'synthbio_ppl[dask]' "
            "(or 'dask[dataframe]', plus 'distributed' for a cluster)"
        ) from exc
    return dd


def to_dask(
    spec: Any,
    *,
    rows: int | None = None,
    chunk_rows: int | None = None,
    seed: int | None = None,
) -> Any:
    """A lazy Dask DataFrame of the dataset: features (float), ``y`` and the covariates
    (categorical), one partition per ``chunk_rows`` rows (a multiple of 256; default about
    16 M values). ``rows`` rescales the class counts as in ``generate_to_parquet``. With
    ``missing:`` entries the features hold NaN in the missing cells (``isna()`` is the
    mask); the complete values are in ``generate_to_parquet``'s ``complete/`` parts."""
    from synthbio_ppl.engine.planning import plan_for, rescale_rows
    from synthbio_ppl.model.scene import as_spec

    dd = _dask_dataframe()
    resolved = as_spec(spec).with_seed(seed)
    if rows is not None:
        resolved = rescale_rows(resolved, rows)
    plan = plan_for(resolved, chunk_rows)
    bounds = plan.parts
    spec_yaml = resolved.to_yaml()
    divisions = [a for a, _ in bounds] + [resolved.n_rows - 1]
    return dd.from_map(
        partition,
        bounds,
        args=(spec_yaml, plan.chunk_rows),
        meta=_meta(plan),
        divisions=divisions,
        label=f"synthbio-{resolved.name}",
        enforce_metadata=False,
    )


@functools.lru_cache(maxsize=4)
def _plan(spec_yaml: str, chunk_rows: int) -> Any:
    """The layout and row design, built once per worker process for a spec."""
    import yaml

    from synthbio_ppl.engine.planning import plan_for
    from synthbio_ppl.model.scene import validate_spec

    return plan_for(validate_spec(yaml.safe_load(spec_yaml)), chunk_rows)


def partition(bounds: tuple[int, int], spec_yaml: str, chunk_rows: int) -> pd.DataFrame:
    """Rows [start, stop) of the spec as one pandas frame, indexed by row number."""
    from synthbio_ppl.engine.planning import chunk_frames

    start, stop = bounds
    return _frame(chunk_frames(_plan(spec_yaml, chunk_rows), start, stop), start, stop)


def _frame(frames: dict[str, Any], start: int, stop: int) -> pd.DataFrame:
    index = pd.RangeIndex(start, stop)
    parts = [frames["X"], frames["y"].to_frame(), frames["covariates"]]
    for part in parts:
        part.index = index
    return pd.concat(parts, axis=1)


def _meta(plan: Any) -> pd.DataFrame:
    """An empty frame with the partitions' columns and dtypes, built without drawing."""
    from synthbio_ppl.engine.generation import class_labels, covariates_of
    from synthbio_ppl.processes.registry import process_of, response_of

    spec: Spec = plan.spec
    part = plan.design.rows(0, 0)
    outputs: dict[str, np.ndarray] = {}
    for block in plan.layout.blocks:
        outputs.update(process_of(block.kind).empty_outputs(block))
    X = pd.DataFrame(
        np.zeros((0, len(plan.columns)), dtype=spec.dtype), columns=pd.Index(plan.columns)
    )
    covariates = covariates_of(spec, part, outputs)
    y = class_labels(spec, part)
    response = plan.layout.response
    if response is not None:
        process = response_of(response.field)
        outcome = process.frame(
            getattr(spec, response.field), response, process.empty_outputs(response)
        )
        if "y" in outcome.columns:
            y = outcome["y"]
        covariates = pd.concat([covariates, beside_y(outcome, covariates.index)], axis=1)
    frames = {"X": X, "y": y, "covariates": covariates}
    return _frame(frames, 0, 0)
