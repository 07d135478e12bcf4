"""What a study's method is: ``Method`` (a name, the object, what it gives) and
``FitMethod`` (the scene's own model fitted back)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from synthbio_ppl.core.errors import SpecError

__all__ = ["FITS", "PREDICTS", "SCORES", "SELECTS", "FitMethod", "Method"]

SELECTS, SCORES, PREDICTS, FITS = "selects", "scores", "predicts", "fits"
"""What a method gives: a feature set, per-feature scores, class predictions, a fit."""


@dataclass(frozen=True)
class FitMethod:
    """The scene's own model fitted back by ``sb.fit(data, method, **settings)`` (the
    fit's ``seed`` is the cell's); scored by the coverage and bias of its parameters."""

    method: str = "svi"
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.method, str) or not isinstance(self.settings, Mapping):
            raise SpecError(
                "FitMethod", self.method, "FitMethod('nuts' or 'svi', {setting: value})"
            )


@dataclass(frozen=True)
class Method:
    """A named method and what it gives (``SELECTS``, ``SCORES``, ``PREDICTS``, ``FITS``)."""

    name: str
    estimator: Any
    gives: frozenset[str]

    @property
    def kind(self) -> str:
        if FITS in self.gives:
            return "fit"
        if PREDICTS in self.gives:
            return "classifier"
        return "selector"
