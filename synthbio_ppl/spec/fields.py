"""Pieces every spec model uses: the strict base model, names, classes and effect sizes."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic import Strict as StrictType

from synthbio_ppl.core.errors import SpecError

NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"
"""A name: a letter, then letters, digits and underscores (block, covariate, biomarker)."""
IMPLICIT_CLASS = "all"
"""The single class of a structural scene that declares no classes."""
EffectSize = float | list[float]
"""Cohen's d between adjacent levels: one number, or one per adjacent pair."""
Count = Annotated[int, StrictType()]
"""A whole number given as one: ``true``, ``"5"`` or ``5.0`` are refused, not converted."""


class Strict(BaseModel):
    """Unknown fields, NaN and infinity are refused; validated models are frozen."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False
    )


def is_name(name: str) -> bool:
    """Whether ``name`` matches ``NAME_PATTERN``."""
    return bool(name) and name[0].isalpha() and all(c.isalnum() or c == "_" for c in name)


class ClassSpec(Strict):
    """One class and its exact number of rows."""

    name: str = Field(min_length=1, description="Class label as it appears in `y`.")
    n: Count = Field(ge=1, description="Exact number of rows of this class.")


def check_length(value: EffectSize, path: str, expected: int) -> None:
    """Raise SpecError at ``path`` unless ``value`` is a number or a list of ``expected``."""
    if isinstance(value, list) and len(value) != expected:
        raise SpecError(path, value, f"give one number or a list of {expected}")


def effect_vector(value: EffectSize, n: int) -> list[float]:
    """A scalar effect size repeated ``n`` times, or the list itself."""
    return list(value) if isinstance(value, list) else [float(value)] * n
