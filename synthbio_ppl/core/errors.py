"""One readable error for every bad input: the field path, the value, and what is allowed."""

from __future__ import annotations

import reprlib
from typing import Any


class SpecError(ValueError):
    """A spec (or other user input) that cannot be used.

    ``path`` is the dotted field path (``clusters[0].correlation``), ``value`` what was
    given and ``allowed`` a short phrase saying what would be accepted.
    """

    def __init__(self, path: str, value: Any, allowed: str) -> None:
        self.path = path
        self.value = value
        self.allowed = allowed
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{where}{_show(self.value)} is not allowed; {self.allowed}"

    def under(self, prefix: str) -> SpecError:
        """The same error with its path placed under ``prefix``."""
        return SpecError(_join(prefix, self.path), self.value, self.allowed)


def format_path(loc: tuple[str | int, ...]) -> str:
    """``("clusters", 0, "correlation")`` -> ``clusters[0].correlation``; a key YAML read
    as true/false stays a key (``covariates.True``), not an index."""
    out = ""
    for part in loc:
        index = isinstance(part, int) and not isinstance(part, bool)
        out = f"{out}[{part}]" if index else _join(out, str(part))
    return out


def from_validation_error(exc: Any) -> SpecError:
    """Turn a pydantic ``ValidationError`` into one SpecError (the first problem)."""
    errors = exc.errors(include_url=False)
    # our own validators' refusals say the most: among a union's failed members (a number
    # or a mapping, say) the member that explains itself is the one to report
    first = next(
        (e for e in errors if isinstance((e.get("ctx") or {}).get("error"), SpecError)),
        errors[0],
    )
    loc = _visible_loc(first["loc"])
    if first["loc"] and first["loc"][-1] == "[key]":  # a mapping's key: pydantic gives 1 for True
        key = first.get("input")
        loc = (*_visible_loc(first["loc"][:-2]), str(key))
    path = format_path(loc)
    inner = (first.get("ctx") or {}).get("error")
    if isinstance(inner, SpecError):
        error = inner.under(path)
    else:
        message = first["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if message.startswith("Input should"):
            message = "must" + message.removeprefix("Input should")
        value = "(missing)" if first["type"] == "missing" else first.get("input")
        if first["type"] == "extra_forbidden":
            message = "unknown field; check the spelling against `synthbio reference`"
        if first["type"] == "invalid_key" and isinstance(first.get("input"), bool):
            path = format_path((*_visible_loc(first["loc"][:-1]), str(first["input"])))
            value = first["input"]
            message = (
                "must be a field name, not true/false (YAML reads yes, no, on and off as "
                "true/false: quote it)"
            )
        if isinstance(value, bool) and first["type"] == "string_type":
            message = (
                "must be a name, not true/false (YAML reads yes, no, on and off as "
                "true/false: quote it)"
            )
        error = SpecError(path, value, message)
    others = {format_path(_visible_loc(e["loc"])) for e in errors} - {path}
    # a union's other members failing on the same value are not other problems
    others = {o for o in others if not (path.startswith(o) or o.startswith(path))}
    if others:
        error.allowed += f" (and {len(others)} more problem{'s' if len(others) > 1 else ''})"
        error.args = (error.message,)
    return error


def _visible_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    # pydantic adds the tag of a union member ("float", "list[float]", a model's class
    # name) to the location
    return tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p in UNION_TAGS)))


UNION_TAGS = {"float", "int", "str", "bool", "function-after", "literal"}
"""Location parts that name a union member, not a field; spec models add their class
names (``spec.fields.Strict``)."""


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    if not path:
        return prefix
    return f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 78
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = _SHORT.maxset = 8
_SHORT.maxlevel = 3


def _show(value: Any) -> str:
    """A short repr: bounded work even for a huge or deeply nested value (a YAML bomb)."""
    text = _SHORT.repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
