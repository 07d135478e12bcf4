"""The outcome's solved sites (an intercept for a prevalence, a residual sd for an R², a
censoring rate for a censored share), from the pilot rows of ``engine.masking``."""

from __future__ import annotations

from typing import Any

import numpy as np

from synthbio_ppl.engine.finite import check_finite
from synthbio_ppl.engine.masking import draw_pilot
from synthbio_ppl.model.design import Design
from synthbio_ppl.model.layout import Layout
from synthbio_ppl.processes.registry import response_of


def with_outcome_sites(
    spec: Any, layout: Layout, fixed: dict[str, np.ndarray], design: Design
) -> dict[str, np.ndarray]:
    """``fixed`` plus the outcome's solved sites (arrays of the spec's dtype)."""
    static = layout.response
    if static is None:
        return fixed
    process = response_of(static.field)
    if not process.needs_pilot(static):
        return fixed
    drawn, _ = draw_pilot(spec, layout, fixed, design, process.placeholder_sites(static))
    check_finite(spec, layout, drawn["X"])  # features that overflow are named as such
    solved = process.solve(getattr(spec, static.field), static, drawn)
    return {**fixed, **{k: np.asarray(v, dtype=spec.dtype) for k, v in solved.items()}}
