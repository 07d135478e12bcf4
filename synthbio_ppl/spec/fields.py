"""Pieces every spec model uses: the strict base model, names, classes and effect sizes."""

from __future__ import annotations

import typing
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic import Strict as StrictType

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.locations import UNION_TAGS, admitted, is_flag, members

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
MAX_ROWS = 2**38
"""Rows a spec may hold: the engine keys 256-row chunks by an int32 index (2^39 rows), and
the design's permutations work in int64."""
TOO_MANY_ROWS = f"must be at most {MAX_ROWS:,} (2^38: the engine's row index)"


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
        if _admits(annotation, bool):
            return value
        found = _find_flag(value, annotation)
        if found is not None:
            path, flag, wanted = found
            words = admitted(wanted) or "a number or a name"
            hint = YAML_FLAGS.replace(")", ": quote it)") if words == "a name" else YAML_FLAGS
            raise SpecError(path, flag, f"must be {words}, not true/false {hint}")
        return value


def _find_flag(value: Any, annotation: Any) -> tuple[str, Any, Any] | None:
    """``(path, flag, annotation there)`` of the first true/false in ``value``: itself, or
    an item (keys, [indices]) of the lists and mappings ``annotation`` declares, at any
    depth; None where there is none. A mapping given to a sub-model holds that model's own
    fields (it checks them itself), and a list or mapping where the annotation takes none
    is pydantic's to refuse: neither is searched (a huge value costs nothing here)."""
    if is_flag(value):
        return "", value, annotation
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        inner = _item_annotation(annotation, value, key)
        if inner is _NOT_SEARCHED:
            return None
        found = _find_flag(item, inner)
        if found is not None:
            path, flag, wanted = found
            head = f"[{key}]" if isinstance(value, list | tuple) else str(key)
            joined = (
                head if not path else (head + path if path.startswith("[") else f"{head}.{path}")
            )
            return joined, flag, wanted
    return None


_NOT_SEARCHED = object()


def _item_annotation(annotation: Any, container: Any, key: Any) -> Any:
    """The annotation of ``container[key]``: the union of the items of ``annotation``'s
    list or mapping members (``_NOT_SEARCHED`` where it declares no such container)."""
    if annotation is Any:
        return Any
    choices = members(annotation)
    if isinstance(container, dict):
        found = [typing.get_args(m)[1] for m in choices if typing.get_origin(m) is dict]
    else:
        found = []
        for m in choices:
            origin, args = typing.get_origin(m), typing.get_args(m)
            if origin is list and args:
                found.append(args[0])
            elif origin is tuple and args:
                ellipsis = len(args) == 2 and args[1] is Ellipsis
                if ellipsis or (isinstance(key, int) and key < len(args)):
                    found.append(args[0] if ellipsis else args[key])
    if not found:
        return _NOT_SEARCHED
    return found[0] if len(found) == 1 else typing.Union[tuple(found)]  # noqa: UP007


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _admits(annotation: Any, kind: type) -> bool:
    """Whether ``annotation`` (a type, union, list[...] or Annotated[...]) admits ``kind``."""
    if annotation is Any or annotation is kind:
        return True
    if _is_model(annotation):
        return False
    return any(_admits(arg, kind) for arg in typing.get_args(annotation))


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
