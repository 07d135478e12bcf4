"""The dataset model: every block's process over one rows plate, column effects shared.

The same function generates (sites unobserved, parameters conditioned to the spec) and
is the likelihood for fitting (``X`` observed, priors on the parameter sites).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from synthbio_ppl.core.lazy import dist, jax, jnp, numpyro
from synthbio_ppl.core.streams import ROWS
from synthbio_ppl.model.layout import Layout
from synthbio_ppl.processes.block import RowDesign, Rows
from synthbio_ppl.processes.registry import mask_of, modifier_of, process_of, response_of

if TYPE_CHECKING:
    from jax import Array

__all__ = ["HIDDEN", "RowDesign", "dataset_model", "placeholder_design"]

HIDDEN = "hidden"
"""The output holding the masks' cells, (rows, features) bool (True: missing)."""


def dataset_model(
    layout: Layout,
    design: RowDesign,
    X: Array | None = None,
    hidden: Array | None = None,
    exact: bool = True,
) -> dict[str, Array]:
    """All feature blocks for the rows in ``design``, then the outcome drawn from them (a
    layout with a ``response``), then the masks that hide cells.

    Returns ``{"X": (rows, features)}``, the complete values; processes that produce other
    per-row outputs (latent values, drawn covariates) add them under their own names, and
    a layout with masks adds ``HIDDEN``, (rows, masked columns) bool in ``layout.masked``
    order when generating, the given (rows, features) ``hidden`` when fitting. Column modifiers
    (batches) give each block's columns x_obs = scale · x + loc_shift. When fitting, ``X``
    is observed and ``hidden`` (rows, features) bool marks its missing cells (their values
    in ``X`` are placeholders). ``exact=False`` draws ``exact`` entries' masks as
    Bernoulli cells too (simulating the fitted model), and an exact count of an outcome's
    cases as Bernoulli draws. The outcome reads the values with the column effects undone
    (``_without_column_effects``) and, when fitting, observes ``design.outcome``.
    """
    effects = column_effects(layout, design)
    rows = numpyro.plate(ROWS, design.y.shape[0], dim=-1)
    impute = any(mask_of(m.field).needs_values(m) for m in layout.masks)
    read = reads_columns(layout)
    values = []
    outputs: dict[str, Array] = {}
    for block in layout.blocks:
        loc_shift, scale = block_effects(effects, block.start, block.stop)
        obs = None if X is None else X[:, block.start : block.stop]
        missing = None if hidden is None else hidden[:, block.start : block.stop]
        # the outcome is computed from these values: hidden cells it reads must be drawn
        reads = any(block.start <= j < block.stop for j in read)
        given = Rows(
            design, layout.n_classes, rows, loc_shift, scale, obs, missing, impute or reads
        )
        out = process_of(block.kind).sample(block, given)
        values.append(out.pop("X"))
        outputs.update(out)
    complete = jnp.concatenate(values, axis=-1)
    return after_blocks(layout, design, complete, outputs, effects, rows, X, hidden, exact)


Effects = list[tuple["Array | None", "Array | None", "Array"]]
"""Each column modifier's (shift, scale, row codes): (levels, features) arrays (None: the
identity) and (rows,) level codes."""


def column_effects(layout: Layout, design: RowDesign) -> Effects:
    """Sample the column modifiers' effects once (batch offsets or log-factors)."""
    effects = []
    for static in layout.modifiers:
        modifier = modifier_of(static.field)
        shift, scale = modifier.column_effects(static, layout.n_features)
        effects.append((shift, scale, modifier.row_codes(design)))
    return effects


def block_effects(effects: Effects, start: int, stop: int) -> tuple[Array | float, Array | float]:
    """The column effects on columns [start, stop) gathered per row: (loc_shift, scale),
    each (rows, stop − start) or a float where every modifier leaves it the identity;
    observed = scale · x + loc_shift."""
    loc_shift: Array | float = 0.0
    scale_: Array | float = 1.0
    for shift, scale, codes in effects:  # gather per block, only what is not identity
        if scale is not None:
            factor = scale[:, start:stop][codes]
            loc_shift = loc_shift if isinstance(loc_shift, float) else loc_shift * factor
            scale_ = factor if isinstance(scale_, float) else scale_ * factor
        if shift is not None:
            offset = shift[:, start:stop][codes]
            loc_shift = offset if isinstance(loc_shift, float) else loc_shift + offset
    return loc_shift, scale_


def reads_columns(layout: Layout) -> set[int]:
    """The columns the layout's outcome reads (none without one)."""
    response = layout.response
    return set() if response is None else response_of(response.field).read_columns(response)


def after_blocks(
    layout: Layout,
    design: RowDesign,
    complete: Array,
    outputs: dict[str, Array],
    effects: Effects,
    rows: numpyro.plate,
    X: Array | None = None,
    hidden: Array | None = None,
    exact: bool = True,
) -> dict[str, Array]:
    """What follows the blocks: the outcome drawn from ``complete`` (rows, features), the
    values with column effects, then the masks; returns ``{"X": complete, **outputs}``
    with theirs added (``dataset_model``'s arguments)."""
    outputs = dict(outputs)
    response = layout.response
    if response is not None:
        undo = [(b.start, *block_effects(effects, b.start, b.stop)) for b in layout.blocks]
        biology = _without_column_effects(complete, response.bio_columns, undo, layout)
        codes = row_codes(layout, design, outputs.get("covariates"))
        observed = design.outcome if X is not None else None
        outputs.update(
            response_of(response.field).sample(
                response, biology, codes, outputs, rows, observed, exact
            )
        )
    if layout.masks:
        outputs[HIDDEN] = _masks(layout, design, complete, outputs, rows, hidden, exact)
    return {"X": complete, **outputs}


def _without_column_effects(
    values: Array,
    runs: tuple[tuple[int, int], ...],
    undo: list[tuple[int, Array | float, Array | float]],
    layout: Layout,
) -> Array:
    """``values`` with (x − loc_shift)/scale in the columns ``runs`` (the column effects
    undone where the outcome reads them); the other columns as drawn."""
    for start, stop in runs:
        for block, (first, shift, scale) in zip(layout.blocks, undo, strict=True):
            lo, hi = max(start, block.start), min(stop, block.stop)
            if lo >= hi:
                continue
            part = values[:, lo:hi]
            if not isinstance(shift, float):
                part = part - shift[:, lo - first : hi - first]
            if not isinstance(scale, float):
                part = part / scale[:, lo - first : hi - first]
            values = values.at[:, lo:hi].set(part)
    return values


def _masks(
    layout: Layout,
    design: RowDesign,
    X: Array,
    outputs: dict[str, Array],
    rows: numpyro.plate,
    hidden: Array | None,
    exact: bool,
) -> Array:
    """Every mask entry's cells, or-ed into one (rows, masked columns) bool array (an
    ``exact`` entry adds its scores to ``outputs`` instead, ``<entry>.score``).

    When fitting, only the union is observed: a cell is kept with probability
    Π_e (1 − p_e) over the entries that cover it, the likelihood of the site ``HIDDEN``.
    """
    codes = row_codes(layout, design, outputs.get("covariates"))
    if hidden is not None:
        keep = jnp.zeros(X.shape, dtype=X.dtype)  # Σ_e log(1 − p_e)
        covered = jnp.zeros(X.shape, dtype=bool)
        for static in layout.masks:
            idx = jnp.asarray(static.indices)
            logits = mask_of(static.field).logits(static, X, codes)
            keep = keep.at[:, idx].add(-jax.nn.softplus(logits))
            covered = covered.at[:, idx].set(True)
        keep = jnp.where(covered, jnp.minimum(keep, -1e-30), -1.0)
        union = jnp.log(-jnp.expm1(keep)) - keep  # logit of 1 − Π(1 − p_e)
        with rows:
            fn = dist.Bernoulli(logits=union).mask(covered).to_event(1)
            numpyro.sample(HIDDEN, fn, obs=hidden)
        return hidden
    position = {j: k for k, j in enumerate(layout.masked)}
    union = jnp.zeros((X.shape[0], len(position)), dtype=bool)
    for static in layout.masks:
        process = mask_of(static.field)
        if static.exact and exact:  # chosen from every row's score afterwards
            outputs[f"{static.name}.score"] = process.scores(static, X, codes, rows)
            continue
        mask = process.sample(static, X, codes, rows)
        at = 0  # each affected range is a run of positions: slices, not a scatter
        for start, stop in static.affected:
            first, width = position[start], stop - start
            part = union[:, first : first + width] | mask[:, at : at + width]
            union = union.at[:, first : first + width].set(part)
            at += width
    return union


def row_codes(layout: Layout, design: RowDesign, covariates: Array | None = None) -> dict:
    """Every per-row level code a mask may read: ``y``, the modifiers' (``batch``) and the
    blocks' design columns (latent groups; a scene's covariates, drawn or ``covariates``)."""
    codes = {"y": design.y}
    for static in layout.modifiers:
        modifier = modifier_of(static.field)
        for name in modifier.design_columns(static):
            codes[name] = modifier.row_codes(design)
    view = design if covariates is None else design._replace(covariates=covariates)
    for block in layout.blocks:
        codes.update(process_of(block.kind).design_codes(block, view))
    return codes


def placeholder_design(layout: Layout, n_rows: int) -> RowDesign:
    """A design of ``n_rows`` zero codes with every field the layout needs (for tracing
    the sites outside the rows plate)."""
    zeros = np.zeros(n_rows, dtype=np.int32)
    groups = {b.name: zeros for b in layout.blocks if process_of(b.kind).latent_levels(b)}
    return RowDesign(zeros, zeros if layout.modifiers else None, groups)
