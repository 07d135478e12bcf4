"""Where a pydantic error sits, as the user wrote it, and what a field admits, in words.

Pydantic adds the tag of a union member (``float``, ``dict[str,float]``, a model's class
name) to an error's location. ``user_loc`` walks the location along the model's
annotations, so it drops exactly those tags, for every field, and never a key the user
wrote (a level or a biomarker that happens to be called ``float`` or ``Dependency``).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, Literal

UNION_TAGS = {"float", "int", "str", "bool", "function-after", "literal"}
"""Location parts that name a union member, not a field, for locations read without their
model; spec models add their class names (``spec.fields.Strict``)."""

UNKNOWN: Any = object()
"""The annotation of a location part the walk could not follow (read by its look)."""


def is_flag(value: Any) -> bool:
    """Whether ``value`` is true/false (``bool`` or ``numpy.bool_``)."""
    return isinstance(value, bool) or (type(value).__name__ == "bool" and hasattr(value, "dtype"))


def members(annotation: Any) -> list[Any]:
    """A union's members, ``None`` and ``Annotated`` wrappers left out (pydantic tags no
    member of an optional); a one-item list for anything else."""
    annotation = _bare(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        return [m for arg in inner for m in members(arg)]
    return [annotation]


def user_loc(model: Any, loc: tuple[Any, ...]) -> tuple[tuple[Any, ...], Any, Any]:
    """``(path parts, declared, reached)``: the parts of ``loc`` the user wrote (union tags
    and ``[key]`` left out), the annotation declared at the last of them, and the union
    member the location went on into (the declared annotation where none)."""
    out: list[Any] = []
    annotation = model if model is not None else UNKNOWN
    declared = annotation
    for part in loc:
        if part == "[key]":
            continue
        if annotation is UNKNOWN:
            if not (isinstance(part, str) and ("[" in part or part in UNION_TAGS)):
                out.append(part)
                declared = UNKNOWN
            continue
        choices = members(annotation)
        if len(choices) > 1:  # this part is the tag of the member that failed
            annotation = _member(choices, part)
            continue
        out.append(part)
        annotation = declared = _inside(choices[0], part)
    return tuple(out), declared, annotation


def _bare(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _member(choices: list[Any], tag: Any) -> Any:
    """The union member a pydantic tag names (``float``, ``dict[str,float]``, ``ByLevel``)."""
    if not isinstance(tag, str):
        return UNKNOWN
    head = tag.split("[")[0]
    for choice in choices:
        origin = typing.get_origin(choice)
        if getattr(origin or choice, "__name__", None) == head:
            return choice
        if head == "literal" and origin is Literal:
            return choice
    return UNKNOWN


def _inside(annotation: Any, part: Any) -> Any:
    """The annotation of ``part`` (a field, key or index) within ``annotation``."""
    if hasattr(annotation, "model_fields"):
        field = annotation.model_fields.get(part) if isinstance(part, str) else None
        return UNKNOWN if field is None else field.annotation  # an extra key: not followed
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return args[0]
        return args[part] if isinstance(part, int) and 0 <= part < len(args) else UNKNOWN
    if origin in (list, set, frozenset, Sequence):
        return args[0] if args else Any
    if origin in (dict, Mapping):
        return args[1] if args else Any
    return Any if annotation is Any else UNKNOWN


_ORDER = ("a number", "a whole number", "a name", "one of", "true or false", "a list", "a map")


def admitted(annotation: Any) -> str:
    """What ``annotation`` admits, in words: ``a number or a mapping of its fields (coef,
    centre)``; "" where it cannot say."""
    if annotation is UNKNOWN or annotation is Any:
        return ""
    words = list(dict.fromkeys(_word(m) for m in members(annotation)))
    words.sort(key=lambda w: next((i for i, s in enumerate(_ORDER) if w.startswith(s)), 9))
    return "" if "" in words else " or ".join(words)


def _word(annotation: Any) -> str:
    if annotation is bool:
        return "true or false"
    if annotation is int:
        return "a whole number"
    if annotation is float:
        return "a number"
    if annotation is str:
        return "a name"
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Literal:
        return "one of " + ", ".join(str(a) for a in args)
    if hasattr(annotation, "model_fields"):
        form = getattr(annotation, "yaml_form", None)
        if isinstance(form, str):
            return f"a mapping {form}"
        fields = list(annotation.model_fields)
        shown = ", ".join(fields[:5]) + (", ..." if len(fields) > 5 else "")
        return f"a mapping of its fields ({shown})"
    if origin in (list, tuple, set, frozenset, Sequence):
        item = _word(members(args[0])[0]) if args else ""
        return f"a list of {_plural(item)}" if item else "a list"
    if origin in (dict, Mapping) and len(args) == 2:
        key, value = (_word(members(a)[0]) for a in args)
        return f"a mapping of {_plural(key)} to {_plural(value)}" if key and value else "a mapping"
    return ""


def _plural(word: str) -> str:
    for one, many in (
        ("a number", "numbers"),
        ("a whole number", "whole numbers"),
        ("a name", "names"),
        ("true or false", "true/false values"),
        ("a list", "lists"),
        ("a mapping", "mappings"),
    ):
        if word.startswith(one):
            return many
    return "names" if word.startswith("one of") else ""
