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
    """``("clusters", 0, "correlation")`` -> ``clusters[0].correlation``."""
    out = ""
    for part in loc:
        out = f"{out}[{part}]" if isinstance(part, int) else _join(out, str(part))
    return out


def from_validation_error(exc: Any) -> SpecError:
    """Turn a pydantic ``ValidationError`` into one SpecError (the first problem)."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    path = format_path(_visible_loc(first["loc"]))
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
        error = SpecError(path, value, message)
    others = {format_path(_visible_loc(e["loc"])) for e in errors} - {path}
    if others:
        error.allowed += f" (and {len(others)} more problem{'s' if len(others) > 1 else ''})"
        error.args = (error.message,)
    return error


def _visible_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    # pydantic adds the tag of a union member ("float", "list[float]", ...) to the location
    return tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p in _UNION_TAGS)))


_UNION_TAGS = {"float", "int", "str", "bool", "function-after", "literal"}


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
