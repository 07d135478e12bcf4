"""Batch effects: an assignment of rows to batches confounded with class, and its effects.

Assignment: the class×batch table is T = (1-c)·(independent table with the class and batch
margins) + c·(the most aligned table with the same margins), rounded to integers whose
margins are still exactly the class counts and batch sizes; c ∈ [0, 1] is the confounding.

Effects on a chosen set of columns (``affects``):

    additive:       x ← x + β_b,        β ~ N(0, s²) per batch × feature (or one per batch)
    multiplicative: x ← x · exp(γ_b),   γ ~ N(0, s²), so every factor is > 0
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.lazy import dist, jnp, np, numpyro, pd
from synthbio_ppl.core.priors import Prior
from synthbio_ppl.processes.block import Block, RowDesign
from synthbio_ppl.processes.modifier import ColumnModifier
from synthbio_ppl.processes.selection import affected_ranges, block_segments, check_affects
from synthbio_ppl.spec.fields import Count, Strict

if TYPE_CHECKING:
    from jax import Array

STRENGTH = Prior("strength", "s", "HalfNormal(1)", lambda: dist.HalfNormal(1.0))
OFFSET = Prior(
    "offset / log_factor", "β_bj / γ_bj", "N(0, s²)", lambda strength: dist.Normal(0.0, strength)
)
SITE = "batch"
"""Prefix of the batch sites (``batch.strength``, ``batch.offset``, ...)."""
EFFECT_SITES = (f"{SITE}.offset", f"{SITE}.log_factor")
"""The latent effect sites (additive offsets or multiplicative log-factors)."""


class Batches(Strict):
    """Batches (sites, plates, runs): assignment confounded with class, plus their effects."""

    n: Count = Field(ge=2, description="Number of batches.")
    effect: Literal["additive", "multiplicative"] = Field(
        "additive",
        description="additive: x + β, β ~ N(0, s²); multiplicative: x · exp(γ), γ ~ N(0, s²).",
    )
    strength: float = Field(0.5, ge=0.0, description="s, the sd of offsets or log-factors.")
    granularity: Literal["per_feature", "scalar"] = Field(
        "per_feature", description="per_feature: one offset per batch × feature; scalar: per batch."
    )
    confounding: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="c in [0, 1]: the class×batch table is (1-c)·independent + c·most aligned, "
        "rounded so class counts and batch sizes are exact.",
    )
    proportions: list[float] | None = Field(
        None, description="Batch shares (n of them, > 0, summing to 1); default equal."
    )
    affects: str | list[str] = Field(
        "all",
        description="Features hit by batch effects: all | a block kind (see Block kinds) | "
        "a list of block or feature names.",
    )

    @field_validator("affects", mode="before")
    @classmethod
    def _check_affects(cls, value: Any) -> Any:
        return check_affects(value)

    @field_validator("proportions")
    @classmethod
    def _check_proportions(cls, value: list[float] | None, info: Any) -> list[float] | None:
        if value is None:
            return value
        n = info.data.get("n")
        if n is not None and len(value) != n:
            raise SpecError("", value, f"needs one share per batch ({n})")
        if any(p <= 0 for p in value) or not math.isclose(sum(value), 1.0, abs_tol=1e-6):
            raise SpecError("", value, "shares must be > 0 and sum to 1")
        return value


@dataclass(frozen=True)
class BatchLayout:
    """Batch count, effect form and the affected columns (as half-open ranges)."""

    n_batches: int
    effect: str
    granularity: str
    affected: tuple[tuple[int, int], ...]
    segments: tuple[tuple[int, int, int], ...] = ()
    """The affected columns as (block id, first index in the block, length) runs."""
    field: str = "batches"

    @property
    def n_affected(self) -> int:
        return sum(stop - start for start, stop in self.affected)

    @property
    def names(self) -> list[str]:
        return batch_names(self.n_batches)


def batch_names(n: int) -> list[str]:
    return [f"batch{b}" for b in range(n)]


# ------------------------------------------------------------------ assignment (design)


def aligned_table(row_sums: np.ndarray, col_sums: np.ndarray) -> np.ndarray:
    """The most aligned table with these margins (north-west corner rule)."""
    table = np.zeros((len(row_sums), len(col_sums)), dtype=np.int64)
    rows, cols = np.array(row_sums), np.array(col_sums)
    i = j = 0
    while i < len(rows) and j < len(cols):
        take = min(rows[i], cols[j])
        table[i, j] += take
        rows[i] -= take
        cols[j] -= take
        i += rows[i] == 0
        j += cols[j] == 0
    return table


def confounded_table(class_counts: np.ndarray, batch_counts: np.ndarray, c: float) -> np.ndarray:
    """Integer class×batch table with exact margins, interpolating independence and alignment."""
    n = class_counts.sum()
    independent = np.outer(class_counts, batch_counts) / n
    target = (1 - c) * independent + c * aligned_table(class_counts, batch_counts)
    return _round_preserving_margins(target, class_counts, batch_counts)


def _round_preserving_margins(target: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    from scipy.optimize import linprog

    # floor(T) <= X <= ceil(T) with the margins fixed is a transportation polytope with
    # integral vertices; the simplex returns one, preferring to round up large fractions.
    low = np.floor(target)
    frac = target - low
    k, b = target.shape
    a_eq = np.zeros((k + b, k * b))
    for i in range(k):
        a_eq[i, i * b : (i + 1) * b] = 1
    for j in range(b):
        a_eq[k + j, j::b] = 1
    b_eq = np.concatenate([rows - low.sum(1), cols - low.sum(0)])
    bounds = [(0.0, 1.0 if f > 1e-12 else 0.0) for f in frac.ravel()]
    result = linprog(-frac.ravel(), A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs-ds")
    if not result.success:  # pragma: no cover - the polytope is never empty
        raise RuntimeError(f"could not round the class×batch table: {result.message}")
    table = (low + np.round(result.x).reshape(k, b)).astype(np.int64)
    assert (table.sum(1) == rows).all() and (table.sum(0) == cols).all()
    return table


# ------------------------------------------------------------------ the model


def batch_effects(layout: BatchLayout, n_features: int) -> tuple[Array, Array]:
    """Sample ``batch.strength`` and the per-batch effects: (shift, scale), each (B, P).

    Unaffected columns get shift 0 and scale 1. A feature's effects are drawn from a key of
    its own (its block and its index there): growing another block leaves them unchanged.
    """
    from synthbio_ppl.families.keyed import ColumnKeyedNormal, column_ids

    strength = numpyro.sample(f"{SITE}.strength", STRENGTH.make())
    per_feature = layout.granularity == "per_feature"
    block_ids, indices = column_ids(layout.segments if per_feature else ((0, 0, 1),))
    name = EFFECT_SITES[0] if layout.effect == "additive" else EFFECT_SITES[1]
    normal = OFFSET.make(strength)  # drawn column by column, with this density
    loc = jnp.broadcast_to(normal.loc, (layout.n_batches, block_ids.shape[0]))
    prior = ColumnKeyedNormal(loc, normal.scale, block_ids=block_ids, indices=indices)
    draws = numpyro.sample(name, prior.to_event(2))
    effect = jnp.broadcast_to(draws, (layout.n_batches, layout.n_affected))
    columns = jnp.concatenate(
        [jnp.arange(start, stop) for start, stop in layout.affected] or [jnp.zeros(0, int)]
    )
    shift = jnp.zeros((layout.n_batches, n_features), dtype=draws.dtype)
    scale = jnp.ones((layout.n_batches, n_features), dtype=draws.dtype)
    if layout.effect == "additive":
        shift = shift.at[:, columns].set(effect)
    else:
        scale = scale.at[:, columns].set(numpyro.deterministic(f"{SITE}.factor", jnp.exp(effect)))
    return shift, scale


class BatchEffects(ColumnModifier):
    field = "batches"
    spec_model = Batches
    description = "Batch assignment and effects."
    priors = (STRENGTH, OFFSET)
    truth_field = "batch"
    noncentred_sites = EFFECT_SITES
    design_stream = "design.batch"
    site_prefix = SITE
    design_names = ("batch",)
    """The name of the row permutation that places batches within each class."""

    def layout(
        self, group: Batches, blocks: list[Block], selectors: dict[str, str], columns: Any
    ) -> BatchLayout:
        """The static layout; raises SpecError for an ``affects`` naming nothing."""
        ranges = affected_ranges(group.affects, blocks, selectors, columns, "batches.affects")
        return BatchLayout(
            group.n, group.effect, group.granularity, ranges, block_segments(ranges, blocks)
        )

    def check_rows(self, group: Batches, n_rows: int) -> None:
        """Every batch's share must come to at least one row (n·p ≥ 1), so none is left
        empty by the rounding, whatever the entry point (validate, generate, --rows)."""
        if group.n > n_rows:
            raise SpecError("batches.n", group.n, f"more batches than rows ({n_rows})")
        shares = group.proportions or [1.0] * group.n
        for name, share in zip(batch_names(group.n), shares, strict=True):
            if n_rows * share / sum(shares) < 1:
                needed = math.ceil(sum(shares) / min(shares))
                raise SpecError(
                    "batches.proportions",
                    shares,
                    f"{n_rows:,} rows give {name} {n_rows * share:.2g} of a row; give each "
                    f"batch a share of at least 1/{n_rows:,}, or the scene at least "
                    f"{needed:,} rows (classes' n, --rows)",
                )

    def memory_bytes(self, layout: BatchLayout, n_classes: int, n_features: int) -> int:
        """Effects (draws, shifts, the truth's table) and the dense rounding programme of
        the class × batch table: (K + B) × K·B float64 values."""
        levels = layout.n_batches
        return 8 * (3 * levels * n_features + (n_classes + levels) * n_classes * levels)

    def fixed_sites(self, group: Batches) -> dict[str, Any]:
        return {f"{SITE}.strength": group.strength}

    def column_effects(
        self, layout: BatchLayout, n_features: int
    ) -> tuple[Array | None, Array | None]:
        """Per-batch (B, P) column shifts, or scales, sampled once (the identity half is None)."""
        shift, scale = batch_effects(layout, n_features)
        return (shift, None) if layout.effect == "additive" else (None, scale)

    def switches(self, layout: BatchLayout) -> dict[str, dict[str, Any]]:
        """``batches``: every offset 0 (additive) or log-factor 0 (multiplicative)."""
        site = EFFECT_SITES[0] if layout.effect == "additive" else EFFECT_SITES[1]
        return {self.field: {site: 0.0}}

    def affected_ranges(self, layout: BatchLayout) -> tuple[tuple[int, int], ...]:
        return layout.affected

    def row_codes(self, design: RowDesign) -> Array:
        return design.batch

    def noncentred_default(self, layout: BatchLayout) -> bool:
        """Non-centred by default when effects are one per batch (few draws inform s)."""
        return layout.granularity == "scalar"

    def assign(self, group: Batches, class_counts: np.ndarray) -> np.ndarray:
        """The class×batch table of exact counts (classes × batches)."""
        from synthbio_ppl.core.rounding import largest_remainder

        shares = group.proportions or [1.0] * group.n
        batch_counts = largest_remainder(int(class_counts.sum()), np.asarray(shares))
        return confounded_table(class_counts, batch_counts, group.confounding)

    def design_columns(self, layout: BatchLayout) -> dict[str, list[str]]:
        return {self.design_names[0]: layout.names}

    def coords_and_dims(
        self, layout: BatchLayout, columns: list[str], sites: dict[str, tuple[int, ...]]
    ) -> tuple[dict[str, list[Any]], dict[str, list[str]]]:
        affected = [columns[j] for a, b in layout.affected for j in range(a, b)]
        coords = {"batch": layout.names, "batch_feature": affected, "batch_all": ["all"]}
        dims = {
            name: ["batch", "batch_feature" if shape[1] == len(affected) else "batch_all"]
            for name, shape in sites.items()
            if name.startswith(f"{SITE}.") and len(shape) == 2
        }
        return coords, dims

    def truth(
        self,
        group: Batches,
        layout: BatchLayout,
        table: np.ndarray | None,
        sites: dict[str, np.ndarray],
        class_names: list[str],
        columns: list[str],
    ) -> dict[str, Any] | None:
        """Class × batch table, its Cramér's V and every per-batch effect per feature."""
        from synthbio_ppl.core.statistics import cramers_v

        if table is None:
            return None
        names = layout.names
        if layout.effect == "additive":
            draws, kind = sites[EFFECT_SITES[0]], "offset"
        else:
            draws, kind = sites[f"{SITE}.factor"], "factor"
        effects = np.full((len(names), len(columns)), 0.0 if kind == "offset" else 1.0)
        draws = np.broadcast_to(np.asarray(draws), (len(names), layout.n_affected))
        at = 0
        for start, stop in layout.affected:
            effects[:, start:stop] = draws[:, at : at + stop - start]
            at += stop - start
        return {
            "effect": layout.effect,
            "kind": kind,
            "strength": float(sites[f"{SITE}.strength"]),
            "confounding": group.confounding,
            "cramers_v": cramers_v(table),
            "table": pd.DataFrame(table, index=class_names, columns=names),
            "effects": pd.DataFrame(effects, index=names, columns=columns),
        }

    def truth_to_json(self, value: Any, frame_out: Any) -> Any:
        if value is None:
            return None
        return {**value, "table": frame_out(value["table"]), "effects": frame_out(value["effects"])}

    def truth_from_json(self, data: Any, frame_in: Any) -> Any:
        if data is None:
            return None
        return {**data, "table": frame_in(data["table"]), "effects": frame_in(data["effects"])}

    def feature_columns(self, layout: BatchLayout, n_features: int) -> dict[str, np.ndarray]:
        """``batch_affected``: whether batch effects touch the feature."""
        mask = np.zeros(n_features, dtype=bool)
        for start, stop in layout.affected:
            mask[start:stop] = True
        return {"batch_affected": mask}

    def summary(self, group: Batches) -> str:
        return (
            f"batches: {group.n}, {group.effect} ({group.granularity}), strength "
            f"{group.strength:g}, confounding {group.confounding:g}, affects {group.affects}"
        )


PROCESS = BatchEffects()
