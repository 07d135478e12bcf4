"""The spec's numbers as values of the model's parameter sites.

Generation conditions the model on these values; fitting puts priors on the same sites.
Site names are ``<block>.<parameter>`` (``inf0.effect_size``, ``clu1.correlation``,
``batch.strength``).
"""

from __future__ import annotations

import numpy as np

from synthbio_ppl.families.table import family_params
from synthbio_ppl.model.layout import build_layout
from synthbio_ppl.model.scene import Spec, effect_vector
from synthbio_ppl.processes.structural.spec import structural_fixed_sites


def fixed_sites(spec: Spec) -> dict[str, np.ndarray]:
    """Every parameter site the spec fixes, as float arrays of the spec's dtype."""
    k = len(spec.classes)
    names = iter(b for b in build_layout(spec).blocks if b.kind != "structural")
    values: dict[str, object] = {}
    if spec.structure is not None:
        values.update(structural_fixed_sites(spec.structure))
    for group in spec.informative:
        name = next(names).name
        values[f"{name}.effect_size"] = effect_vector(group.effect_size, k - 1)
        values.update(_family_sites(name, group))
    for cluster in spec.clusters:
        name = next(names).name
        rho = cluster.correlation
        per_class = [rho[c] for c in spec.class_names] if isinstance(rho, dict) else [rho] * k
        values[f"{name}.correlation"] = per_class
        values[f"{name}.anchor_effect"] = effect_vector(cluster.anchor_effect, k - 1)
        values[f"{name}.proxy_attenuation"] = cluster.proxy_attenuation
    for group in spec.noise:
        values.update(_family_sites(next(names).name, group))
    for group in spec.pseudo_classes:
        name = next(names).name
        values[f"{name}.effect_size"] = effect_vector(group.effect_size, group.groups - 1)
        values.update(_family_sites(name, group))
    if spec.batches is not None:
        values["batch.strength"] = spec.batches.strength
    return {site: np.asarray(v, dtype=spec.dtype) for site, v in values.items()}


def _family_sites(block: str, group: object) -> dict[str, float]:
    standardise = getattr(group, "standardise", True)
    params = family_params(group.distribution, group.params, standardise)  # type: ignore[attr-defined]
    return {f"{block}.{p}": v for p, v in params.items()}
