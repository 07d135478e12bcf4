"""Pseudo-class features: shifted by a latent grouping g independent of the class.

x_ij = m[g_i] + u_ij, m the centred running sum of the block's effect sizes between
adjacent latent groups. They look like signal (a clear multi-modal structure) and carry
none about y. The groups are balanced and part of the row design (``<block>_group``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from synthbio_ppl.core.lazy import np
from synthbio_ppl.processes.base import BlockProcess
from synthbio_ppl.processes.block import Block, Rows
from synthbio_ppl.processes.informative import (
    EFFECT_SIZE,
    FamilyBlock,
    numbers,
    shifted_block,
)
from synthbio_ppl.spec.fields import Count, EffectSize, check_length, effect_vector

if TYPE_CHECKING:
    from jax import Array


class PseudoClassGroup(FamilyBlock):
    """Irrelevant features shifted by a latent grouping independent of the class."""

    groups: Count = Field(
        2, ge=2, le=10_000, description="Number of latent groups (balanced sizes, at most 10,000)."
    )
    effect_size: EffectSize = Field(
        1.0, description="Cohen's d between adjacent latent groups: one number or groups-1."
    )


class PseudoClasses(BlockProcess):
    kind = "pseudo"
    field = "pseudo_classes"
    prefix = "pseudo"
    spec_model = PseudoClassGroup
    description = "Pseudo-class groups (structure that is not signal)."
    role = "pseudo"
    colour = "tab:orange"
    selector = "pseudo"
    independent_columns = True
    priors = (EFFECT_SIZE,)
    truth_field = "groups"
    design_suffix = "_group"

    def check(self, group: PseudoClassGroup, path: str, class_names: list[str]) -> None:
        check_length(group.effect_size, f"{path}.effect_size", group.groups - 1)

    def block(self, group: PseudoClassGroup, name: str, start: int) -> Block:
        from dataclasses import replace

        return replace(super().block(group, name, start), n_levels=group.groups)

    def fixed_sites(self, group: PseudoClassGroup, block: Block, class_names: list[str]) -> dict:
        d = effect_vector(group.effect_size, group.groups - 1)
        return {f"{block.name}.effect_size": d, **group.family_sites(block.name)}

    def sample(self, block: Block, rows: Rows) -> dict[str, Array]:
        labels = rows.design.groups[block.name]
        return {"X": shifted_block(block, labels, block.n_levels, rows)}

    def latent_levels(self, block: Block) -> int:
        return block.n_levels

    def design_columns(self, block: Block) -> dict[str, list[str]]:
        return {f"{block.name}_group": [str(g) for g in range(block.n_levels)]}

    def dims(
        self, block: Block, param: str, shape: tuple[int, ...], coords: dict[str, list[Any]]
    ) -> list[str] | None:
        if not shape:
            return None
        step, group = f"{block.name}_step", f"{block.name}_group"
        coords[step] = [f"{g + 1}-{g}" for g in range(block.n_levels - 1)]
        coords[group] = list(range(block.n_levels))
        return {"effect_size": [step], "level_means": [group]}.get(param)

    def truth_table(
        self, spec: Any, blocks: list[Block], sites: dict[str, np.ndarray]
    ) -> dict[str, int]:
        return {b.name: b.n_levels for b in blocks}

    def describe(self, block: Block, fixed: dict[str, np.ndarray]) -> dict[str, str]:
        effect = numbers(fixed[f"{block.name}.effect_size"])
        return {**super().describe(block, fixed), "effect_size": effect}


PROCESS = PseudoClasses()
