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
    process_of,
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
        if (np.isfinite(given) & ~np.isfinite(value)).any():  # -inf: a rate of 0, exactly
            raise SpecError(
                _spec_path(spec, site),
                values[site],
                f"overflows {spec.dtype} (largest {float(np.finfo(spec.dtype).max):.3g}); "
                "use a smaller value" + (" or dtype: float64" if spec.dtype == "float32" else ""),
            )
    return sites


def mask_entries(spec: Any) -> list[Any]:
    """The spec's mask entries in the order of ``Layout.masks``."""
    return [entry for mask in MASKS for entry in getattr(spec, mask.field)]


def _spec_path(spec: Any, site: str) -> str:
    """The spec field a site's value comes from: ``inf0.effect_size`` →
    ``informative[0].effect_size``, ``batch.strength`` → ``batches.strength``."""
    owner, _, param = site.partition(".")
    layout = build_layout(spec)
    process = next((process_of(b.kind) for b in layout.blocks if b.name == owner), None)
    if process is not None:
        param = process.param_path(param)
    paths = {**block_paths(spec), **{m.site_prefix: m.field for m in MODIFIERS}}
    if layout.response is not None:
        paths[layout.response.name] = layout.response.field
    statics = layout.masks
    for static in statics:
        index = [m.name for m in statics if m.field == static.field].index(static.name)
        paths[static.name] = f"{static.field}[{index}]"
    return f"{paths.get(owner, owner)}.{param}"
