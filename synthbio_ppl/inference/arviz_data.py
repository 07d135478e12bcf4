"""A fit's draws as ArviZ InferenceData, with readable coordinates and dims."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np

from synthbio_ppl.core.arviz import import_arviz
from synthbio_ppl.inference.problem import Problem
from synthbio_ppl.processes.registry import modifier_of, process_of, response_of

if TYPE_CHECKING:
    import arviz as az


def coords_and_dims(problem: Problem) -> tuple[dict[str, list[Any]], dict[str, list[str]]]:
    """Readable coordinates: classes, class steps, batches, features, rows."""
    spec, layout = problem.spec, problem.layout
    names = spec.class_names
    coords: dict[str, list[Any]] = {
        "class": names,
        "class_step": [f"{b}-{a}" for a, b in itertools.pairwise(names)],
        "row": list(range(problem.n_rows)),
        "feature": problem.columns,
    }
    blocks = {b.name: b for b in layout.blocks}
    dims: dict[str, list[str]] = {}
    shapes = {site.name: site.shape for site in problem.sites.values()}
    for static in layout.modifiers:
        extra, site_dims = modifier_of(static.field).coords_and_dims(
            static, problem.columns, shapes
        )
        coords.update(extra)
        dims.update(site_dims)
    for site in problem.sites.values():
        block_name, _, param = site.name.partition(".")
        block = blocks.get(block_name)
        if block is not None:
            site_dims = process_of(block.kind).dims(block, param, site.shape, coords)
            if site_dims is not None:
                dims[site.name] = site_dims
    response = layout.response
    if response is not None:  # term labels of the outcome's coefficient vectors
        process = response_of(response.field)
        for site in problem.sites.values():
            site_dims = process.dims(response, site.name, site.shape, coords)
            if site_dims is not None:
                dims[site.name] = site_dims
    for block in layout.blocks:  # per-row latent values
        dims.update({name: ["row"] for name in process_of(block.kind).row_latents(block)})
    dims["X"] = ["row", "feature"]
    return coords, dims


def to_inference_data(
    problem: Problem,
    samples: dict[str, np.ndarray],
    stats: dict[str, np.ndarray],
    loglik: np.ndarray | None,
    method: str,
) -> az.InferenceData:
    """Posterior (chain, draw, ...), sample_stats, log_likelihood (per row), observed data."""
    az = import_arviz()
    coords, dims = coords_and_dims(problem)
    constant = {"y": problem.design.y}
    if problem.design.batch is not None:
        constant["batch"] = problem.design.batch
    for block in problem.layout.blocks:
        constant.update(process_of(block.kind).design_codes(block, problem.design))

    def group(data: dict[str, np.ndarray], group_dims: dict[str, list[str]], draws: bool) -> Any:
        return az.dict_to_dataset(
            data,
            coords=coords,
            dims={k: v for k, v in group_dims.items() if k in data},
            default_dims=None if draws else [],
            attrs={"method": method, "spec_name": problem.spec.name},
        )

    groups = {
        "posterior": group(samples, dims, True),
        "sample_stats": group(stats, {}, True),
        "observed_data": group({"X": problem.X}, {"X": ["row", "feature"]}, False),
        "constant_data": group(constant, {k: ["row"] for k in constant}, False),
    }
    if loglik is not None:
        groups["log_likelihood"] = group({"X": loglik}, {"X": ["row"]}, True)
    return az.InferenceData(**groups)
