"""Pieces every spec model uses: the strict base model, names, classes and effect sizes."""

from __future__ import annotations

import typing
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic import Strict as StrictType

from synthbio_ppl.core.errors import UNION_TAGS, SpecError

NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"
"""A name: a letter, then letters, digits and underscores (block, covariate, biomarker)."""
IMPLICIT_CLASS = "all"
"""The single class of a structural scene that declares no classes."""
EffectSize = float | list[float]
"""Cohen's d between adjacent levels: one number, or one per adjacent pair."""
YAML_FLAGS = "(YAML reads yes, no, on and off as true/false)"
Flag = Annotated[bool, StrictType()]
"""A switch given as true or false: 1, 0 or "yes" in quotes are refused, not converted."""
Count = Annotated[int, StrictType()]
"""A whole number given as one: ``true``, ``"5"`` or ``5.0`` are refused, not converted."""


class Strict(BaseModel):
    """Unknown fields, NaN, infinity and true/false where no flag is meant are refused;
    validated models are frozen."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False
    )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        UNION_TAGS.add(cls.__name__)  # in a union (float | Dependency) it tags locations

    @field_validator("*", mode="before")
    @classmethod
    def _no_flag_for_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        # pydantic reads true as 1.0, and YAML 1.1 reads yes/no/on/off as true/false
        annotation = cls.model_fields[info.field_name].annotation
        if _holds_flag(value, annotation) and not _admits(annotation, bool):
            if is_flag(value) and any(
                isinstance(a, type) and issubclass(a, BaseModel) for a in _flatten(annotation)
            ):
                raise SpecError("", value, "must be a mapping of its fields, not true/false")
            if isinstance(value, dict | list | tuple):  # name the entry, at any depth
                path, flag = _flag_path(value)
                raise SpecError(
                    path, flag, "must be a number or a name, not true/false " + YAML_FLAGS
                )
            raise SpecError("", value, "must be a number or a name, not true/false " + YAML_FLAGS)
        return value


def _flag_path(value: Any) -> tuple[str, Any]:
    """The dotted path (keys, [indices]) to the first flag inside mappings and lists."""
    if is_flag(value):
        return "", value
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        if is_flag(item) or (isinstance(item, list | tuple | dict) and _holds_flag(item, Any)):
            inner, flag = _flag_path(item)
            head = f"[{key}]" if isinstance(value, list | tuple) else str(key)
            joined = (
                head
                if not inner
                else (f"{head}{inner}" if inner.startswith("[") else f"{head}.{inner}")
            )
            return joined, flag
    return "", value


def _admits(annotation: Any, kind: type) -> bool:
    """Whether ``annotation`` (a type, union, list[...] or Annotated[...]) admits ``kind``."""
    if annotation is Any or annotation is kind:
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return False
    return any(_admits(arg, kind) for arg in typing.get_args(annotation))


def _holds_flag(value: Any, annotation: Any) -> bool:
    """A bool (Python's or numpy's), or a list or mapping holding one: at any depth where
    the annotation names no sub-model, else among its direct items only (a sub-model's own
    fields, flags among them, are checked by that model)."""
    if is_flag(value):
        return True
    if not isinstance(value, list | tuple | dict):
        return False
    items = list(value.values() if isinstance(value, dict) else value)
    if any(isinstance(a, type) and issubclass(a, BaseModel) for a in _flatten(annotation)):
        members = typing.get_args(annotation) if _is_union(annotation) else (annotation,)
        if isinstance(value, dict) and not any(typing.get_origin(m) is dict for m in members):
            return False  # a sub-model's own fields
        return any(is_flag(v) for v in items)
    return any(
        _holds_flag(v, Any) if isinstance(v, list | tuple | dict) else is_flag(v) for v in items
    )


def is_flag(value: Any) -> bool:
    """Whether ``value`` is true/false (``bool`` or ``numpy.bool_``)."""
    return isinstance(value, bool) or (type(value).__name__ == "bool" and hasattr(value, "dtype"))


def _is_union(annotation: Any) -> bool:
    import types

    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def _flatten(annotation: Any) -> list[Any]:
    args = typing.get_args(annotation)
    return [annotation, *(a for arg in args for a in _flatten(arg))]


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
