"""What a world changes: the sites it sets (``Setting``), their values, and what it drops.

The factual world is ``World()``. A counterfactual world switches processes off (batch
effects, dropout, masks) by setting their effect sites to the identity, or sets chosen
variables (``do``); every other draw keeps its key, so it is bit-identical.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Setting:
    """Where one intervention acts (hashable: part of a compiled program's key).

    ``site`` the sample site; ``column`` the index along the site's last axis it sets
    (None: every cell); ``per_row`` whether its value and mask are per-row (rows,) arrays
    (a site inside the rows plate) or scalars.
    """

    site: str
    column: int | None = None
    per_row: bool = False


@dataclass(frozen=True)
class Variable:
    """A variable ``do`` may set: its sample ``site``, the ``column`` of that site it is
    (None: the whole site), its level names if it is categorical (set by name, stored as
    the level's code), and whether it holds whole numbers ≥ 0 (counts)."""

    site: str
    column: int | None = None
    levels: tuple[str, ...] | None = None
    count: bool = False


@dataclass
class World:
    """A world's settings and their values: ``values[i]`` is ``(value, where)`` for
    ``settings[i]``, scalars or (rows,) numpy arrays (``Setting.per_row``); ``masks``
    whether mask processes hide cells; ``without`` and ``do`` as the user gave them (for
    the truth); ``intervened`` (rows,) bool, the rows any setting touches."""

    settings: tuple[Setting, ...] = ()
    values: tuple[tuple[Any, Any], ...] = ()
    masks: bool = True
    without: tuple[str, ...] = ()
    do: dict[str, Any] = field(default_factory=dict)
    intervened: Any = None

    @property
    def factual(self) -> bool:
        return not self.settings and self.masks

    def shared(self) -> tuple[tuple[Setting, ...], tuple[tuple[Any, Any], ...]]:
        """The settings with one value for every row (scalars) and their values."""
        return self._part(per_row=False)

    def per_row(self) -> tuple[tuple[Setting, ...], tuple[tuple[Any, Any], ...]]:
        """The settings with a value per row ((rows,) arrays) and their values."""
        return self._part(per_row=True)

    def _part(self, per_row: bool) -> tuple[tuple[Setting, ...], tuple[tuple[Any, Any], ...]]:
        pairs = [(s, v) for s, v in zip(self.settings, self.values, strict=True)]
        chosen = [(s, v) for s, v in pairs if s.per_row == per_row]
        return tuple(s for s, _ in chosen), tuple(v for _, v in chosen)
