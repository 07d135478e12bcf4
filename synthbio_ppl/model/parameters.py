"""The spec's numbers as values of the model's parameter sites.

Generation conditions the model on these values; fitting puts priors on the same sites.
Site names are ``<block>.<parameter>`` (``inf0.effect_size``, ``clu1.correlation``,
``batch.strength``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.model.layout import block_paths, build_layout, groups_of
from synthbio_ppl.processes.registry import (
    BLOCK_PROCESSES,
    MASKS,
    MODIFIERS,
    mask_of,
    response_of,
)


def fixed_sites(spec: Any) -> dict[str, np.ndarray]:
    """Every parameter site the spec fixes, as float arrays of the spec's dtype."""
    layout = build_layout(spec)
    blocks = iter(layout.blocks)
    values: dict[str, object] = {}
    for process in BLOCK_PROCESSES:
        for group in groups_of(spec, process):
            values.update(process.fixed_sites(group, next(blocks), spec.class_names))
    for modifier in MODIFIERS:
        group = getattr(spec, modifier.field)
        if group is not None:
            values.update(modifier.fixed_sites(group))
    for static, entry in zip(layout.masks, mask_entries(spec), strict=True):
        values.update(mask_of(static.field).fixed_sites(entry, static))
    if layout.response is not None:
        field = layout.response.field
        group = getattr(spec, field)
        values.update(response_of(field).fixed_sites(group, layout.response, spec.class_names))
    with np.errstate(over="ignore"):
        sites = {site: np.asarray(v, dtype=spec.dtype) for site, v in values.items()}
    for site, value in sites.items():
        given = np.asarray(values[site], dtype=np.float64)
        over = np.isfinite(given) & ~np.isfinite(value)  # -inf: a rate of 0, exactly
        if over.any():
            entry = int(np.flatnonzero(over)[0])
            path, whole = spec_path(spec, site, entry)
            raise SpecError(
                path,
                values[site] if whole else float(given.reshape(-1)[entry]),
                f"overflows {spec.dtype} (largest {float(np.finfo(spec.dtype).max):.3g}); "
                "use a smaller value" + (" or dtype: float64" if spec.dtype == "float32" else ""),
            )
    return sites


def mask_entries(spec: Any) -> list[Any]:
    """The spec's mask entries in the order of ``Layout.masks``."""
    return [entry for mask in MASKS for entry in getattr(spec, mask.field)]


def spec_path(spec: Any, site: str, entry: int = 0) -> tuple[str, bool]:
    """The spec field a site's value (its flat entry ``entry``) comes from, and whether
    that field holds the whole site: ``inf0.effect_size`` → ``informative[0].effect_size``,
    ``batch.strength`` → ``batches.strength``, an entry of ``scene.shift`` →
    ``structure.biomarkers.Weight.shifts.sex.male`` (that entry's field alone)."""
    owner, _, param = site.partition(".")
    layout = build_layout(spec)
    whole = True
    blocks = iter(layout.blocks)  # in the order of the processes' groups
    owners = [(p, g, next(blocks)) for p in BLOCK_PROCESSES for g in groups_of(spec, p)]
    for process, group, block in owners:
        if block.name == owner:
            field = process.param_path(param)
            param = process.entry_path(group, block, param, entry)
            whole = param == field
    paths = owner_paths(spec, layout)
    return f"{paths.get(owner, owner)}.{param}", whole


def owner_paths(spec: Any, layout: Any) -> dict[str, str]:
    """``{site prefix: its spec field path}`` for every owner of sites: blocks
    (``noise[1]``), modifiers (``batches``), mask entries (``missing[0]``), the outcome."""
    paths = {**block_paths(spec), **{m.site_prefix: m.field for m in MODIFIERS}}
    if layout.response is not None:
        paths[layout.response.name] = layout.response.field
    statics = layout.masks
    for static in statics:
        index = [m.name for m in statics if m.field == static.field].index(static.name)
        paths[static.name] = f"{static.field}[{index}]"
    return paths
