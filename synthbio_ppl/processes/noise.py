"""Noise: x_ij = u_ij, the same distribution in every class (standardised or raw family)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from synthbio_ppl.core.lazy import np
from synthbio_ppl.families.standardised import (
    family_sites,
    feature_distribution,
    support_start,
)
from synthbio_ppl.processes.base import BlockProcess
from synthbio_ppl.processes.block import Block, Rows
from synthbio_ppl.processes.informative import FamilyBlock
from synthbio_ppl.processes.observation import observe
from synthbio_ppl.spec.fields import Flag

if TYPE_CHECKING:
    from jax import Array


class NoiseGroup(FamilyBlock):
    """Irrelevant features: the same distribution in every class."""

    standardise: Flag = Field(
        True,
        description="true: mean 0, variance 1; false: the family's raw parameters "
        "(normal {loc, scale}, uniform {low, high}, lognormal {mu, sigma}, laplace {loc, "
        "scale}, exponential {rate}, student_t {df, loc, scale}, gamma {shape, rate}, "
        "logistic {loc, scale}, beta {a, b}).",
    )


class Noise(BlockProcess):
    kind = "noise"
    field = "noise"
    prefix = "noise"
    spec_model = NoiseGroup
    description = "Noise groups."
    role = "noise"
    colour = "tab:gray"
    selector = "noise"
    independent_columns = True

    def param_path(self, param: str) -> str:
        return f"params.{param}"  # every site is a parameter of the distribution

    def fixed_sites(self, group: NoiseGroup, block: Block, class_names: list[str]) -> dict:
        return group.family_sites(block.name)

    def sample(self, block: Block, rows: Rows) -> dict[str, Array]:
        start = {}
        if rows.obs is not None:  # fitting: start where the family holds the data
            own = (rows.obs - rows.loc_shift) / rows.scale
            start = support_start(block.family, block.standardise, own, rows.hidden)
        params = family_sites(block.name, block.family, block.standardise, start)
        with rows.plate:
            shape = (rows.design.y.shape[0], block.n_features)
            fn = feature_distribution(
                block.family, params, block.standardise, rows.loc_shift, rows.scale, shape
            )
            return {"X": observe(block.name, fn, rows.obs, rows.hidden, rows.impute)}

    def level_means(
        self, block: Block, sites: dict[str, np.ndarray], n_classes: int, tables: dict[str, Any]
    ) -> np.ndarray:
        if block.standardise:
            return np.zeros((n_classes, block.n_features))
        from synthbio_ppl.families.standardised import raw_family

        prefix = f"{block.name}."
        params = {p.removeprefix(prefix): v for p, v in sites.items() if p.startswith(prefix)}
        mean = float(raw_family(block.family, params).mean)
        return np.full((n_classes, block.n_features), mean)


PROCESS = Noise()
