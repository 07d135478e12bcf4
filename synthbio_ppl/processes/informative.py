"""Informative group: x_ij = m[y_i] + u_ij, u standardised (mean 0, variance 1).

The class means m are the centred running sum of the effect sizes d between adjacent
classes (two classes: ±d/2), so d is the population Cohen's d between adjacent classes
exactly, whatever the family.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field, model_validator

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.lazy import dist, jnp, np, numpyro
from synthbio_ppl.core.priors import Prior
from synthbio_ppl.families.standardised import family_sites, feature_distribution
from synthbio_ppl.families.table import Distribution, family_params
from synthbio_ppl.processes.base import BlockProcess
from synthbio_ppl.processes.block import Block, Rows
from synthbio_ppl.processes.observation import observe
from synthbio_ppl.spec.fields import (
    NAME_PATTERN,
    Count,
    EffectSize,
    Strict,
    check_length,
    effect_vector,
)

if TYPE_CHECKING:
    from jax import Array

EFFECT_SIZE = Prior(
    "effect_size",
    "Cohen's d between adjacent classes (or latent groups)",
    "N(0, 2²)",
    lambda: dist.Normal(0.0, 2.0),
)


class FamilyBlock(Strict):
    """Fields every block of one feature family has."""

    name: str | None = Field(
        None,
        pattern=NAME_PATTERN,
        description="Block name, used for column names and the block's random stream "
        "(default: kind + index, e.g. `inf0`). Name blocks to keep their values fixed "
        "when other blocks are added or removed.",
    )
    n: Count = Field(ge=1, description="Number of features in the block.")
    distribution: Distribution = Field("normal", description="Feature family.")
    params: dict[str, float] = Field(
        default_factory=dict,
        description="Family parameters: lognormal {sigma}, student_t {df > 2}, gamma {shape}, "
        "beta {a, b}; standardised families have mean 0 and variance 1.",
    )

    @model_validator(mode="after")
    def _check_params(self) -> FamilyBlock:
        try:
            family_params(self.distribution, self.params, getattr(self, "standardise", True))
        except ValueError as exc:
            raise SpecError("params", self.params, str(exc)) from None
        return self

    def family_sites(self, block: str) -> dict[str, float]:
        """The family's parameters as values of the sites ``<block>.<param>``."""
        standardise = getattr(self, "standardise", True)
        params = family_params(self.distribution, self.params, standardise)
        return {f"{block}.{p}": v for p, v in params.items()}


class InformativeGroup(FamilyBlock):
    """Features whose class means differ: x = m[y] + u, u standardised (mean 0, sd 1)."""

    effect_size: EffectSize = Field(
        1.0,
        description="Cohen's d between adjacent classes: one number, or a list of K-1. Class "
        "means are the centred running sum (two classes: ±d/2).",
    )


def class_means(effect_size: Array) -> Array:
    """Means of K levels from the K-1 adjacent effect sizes, centred: (..., K-1) -> (..., K)."""
    zero = jnp.zeros((*jnp.shape(effect_size)[:-1], 1), dtype=jnp.result_type(effect_size))
    running = jnp.concatenate([zero, jnp.cumsum(effect_size, axis=-1)], axis=-1)
    return running - running.mean(axis=-1, keepdims=True)


def shifted_block(block: Block, labels: Array, n_levels: int, rows: Rows) -> Array:
    """Features whose level means are the centred running sum of ``<block>.effect_size``.

    ``labels`` (rows,) level codes in [0, n_levels); returns (rows, n_features).
    """
    prior = EFFECT_SIZE.make().expand([n_levels - 1]).to_event(1)
    d = numpyro.sample(f"{block.name}.effect_size", prior)
    means = class_means(d)
    numpyro.deterministic(f"{block.name}.level_means", means)
    params = family_sites(block.name, block.family, block.standardise)
    with rows.plate:
        shape = (labels.shape[0], block.n_features)
        loc = rows.scale * means[labels][:, None] + rows.loc_shift
        fn = feature_distribution(block.family, params, block.standardise, loc, rows.scale, shape)
        return observe(block.name, fn, rows.obs, rows.hidden, rows.impute)


def level_means_of(block: Block, sites: dict[str, np.ndarray], n_levels: int) -> np.ndarray:
    """The site ``<block>.level_means`` as a (levels, n_features) array."""
    level = np.asarray(sites[f"{block.name}.level_means"], dtype=float)
    return np.broadcast_to(level.reshape(n_levels, -1), (n_levels, block.n_features))


def class_dims(param: str, shape: tuple[int, ...], n_classes: int) -> list[str] | None:
    """Dims of a per-class site: adjacent steps (``effect_size``, ``anchor_effect``), class
    means (``level_means``, (K,) or (K, features)) or one value per class."""
    if param in ("effect_size", "anchor_effect") and shape == (n_classes - 1,):
        return ["class_step"]
    if shape == (n_classes,):
        return ["class"]
    return None


def numbers(values: Any) -> str:
    """``0.5`` for equal values, else ``0.2/0.9`` (describe's effect and correlation cells)."""
    flat = [f"{float(v):g}" for v in np.ravel(values)]
    return flat[0] if len(set(flat)) == 1 else "/".join(flat)


class Informative(BlockProcess):
    kind = "informative"
    field = "informative"
    prefix = "inf"
    spec_model = InformativeGroup
    description = "Signal groups."
    role = "informative"
    colour = "tab:red"
    selector = "informative"
    independent_columns = True
    priors = (EFFECT_SIZE,)

    def check(self, group: InformativeGroup, path: str, class_names: list[str]) -> None:
        if len(class_names) < 2:
            raise SpecError("informative", "(with one class)", "informative groups need 2+ classes")
        check_length(group.effect_size, f"{path}.effect_size", len(class_names) - 1)

    def fixed_sites(
        self, group: InformativeGroup, block: Block, class_names: list[str]
    ) -> dict[str, Any]:
        d = effect_vector(group.effect_size, len(class_names) - 1)
        return {f"{block.name}.effect_size": d, **group.family_sites(block.name)}

    def sample(self, block: Block, rows: Rows) -> dict[str, Array]:
        return {"X": shifted_block(block, rows.design.y, rows.n_classes, rows)}

    def dims(
        self, block: Block, param: str, shape: tuple[int, ...], coords: dict[str, list[Any]]
    ) -> list[str] | None:
        return class_dims(param, shape, len(coords["class"]))

    def level_means(
        self, block: Block, sites: dict[str, np.ndarray], n_classes: int, tables: dict[str, Any]
    ) -> np.ndarray:
        return level_means_of(block, sites, n_classes)

    def describe(self, block: Block, fixed: dict[str, np.ndarray]) -> dict[str, str]:
        effect = numbers(fixed[f"{block.name}.effect_size"])
        return {**super().describe(block, fixed), "effect_size": effect}


PROCESS = Informative()
