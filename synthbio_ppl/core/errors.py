"""One readable error for every bad input: the field path, the value, and what is allowed."""

from __future__ import annotations

import errno
import reprlib
from contextvars import ContextVar
from numbers import Integral
from typing import Any

from synthbio_ppl.core.locations import admitted, is_flag, user_loc


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
        return f"{where}{short_repr(self.value)} is not allowed; {self.allowed}"

    def __reduce__(self) -> tuple[Any, tuple[str, Any, str]]:
        """Rebuilt from its three parts: it crosses process boundaries (a worker's error)."""
        return (type(self), (self.path, self.value, self.allowed))

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


YAML_KEY = "YAML read this key as true/false (it reads unquoted yes, no, on and off so)"
FLAG_KEY_FIELD = (
    f"{YAML_KEY}: quote it to keep the word, and check it against the field names in "
    "`synthbio reference`"
)
FLAG_KEY_NAME = f"{YAML_KEY}: quote it ('yes': ...) to use the word as a name"
FLAG_NAME = (
    "must be a name, not true/false (YAML reads yes, no, on and off as true/false: quote it)"
)
ABSENT = "missing"
"""Pydantic's error type for a required field not given (not the ``missing:`` process)."""
_KINDS = {
    "float_type",
    "float_parsing",
    "int_type",
    "int_parsing",
    "int_from_float",
    "string_type",
    "bool_type",
    "bool_parsing",
    "list_type",
    "tuple_type",
    "dict_type",
    "model_type",
    "model_attributes_type",
    "literal_error",
}
"""Error types that say the value is of the wrong kind (a union's members all give one)."""


def from_validation_error(exc: Any, model: Any = None) -> SpecError:
    """Turn a pydantic ``ValidationError`` of ``model`` into one SpecError (the problem
    that says the most), its path as the user wrote it."""
    errors = exc.errors(include_url=False)
    for e in errors:
        where, e["declared"], e["reached"] = user_loc(model, e["loc"])
        e["names"] = False
        if _on_key(e):  # pydantic gives a key's index-like form (1 for True)
            where = (*where[:-1], str(e["input"]))
            # a mapping's key names something (a level); a model's names a field, unless
            # the model takes keys of its own (a factor's levels beside `by`)
            holder = user_loc(model, e["loc"][:-1])[2]
            extra = getattr(holder, "model_config", {}).get("extra")
            e["names"] = e["type"] != "invalid_key" or extra == "allow"
        e["where"] = where
    first = _chief(errors, model)
    path = format_path(first["where"])
    inner = (first.get("ctx") or {}).get("error")
    if isinstance(inner, SpecError):
        error = inner.under(path)
    elif first["type"] == "extra_forbidden" and first["where"]:
        name = str(first["where"][-1])
        holder = user_loc(model, first["loc"][:-1])[2]
        error = SpecError(path, name, _unknown_field(name, getattr(holder, "model_fields", {})))
    else:
        value = "(missing)" if first["type"] == ABSENT else first.get("input")
        error = SpecError(path, value, _message(first, errors))
    # a union's other members failing on the same value are not other problems (a key
    # is the same place whether pydantic gives it as the key or as its value's index)
    here = tuple(str(part) for part in first["where"])
    places = {
        tuple(str(part) for part in e["where"])
        for e in errors
        if not _other_member(model, first["loc"], e["loc"])
    }
    others = {o for o in places if not (_within(here, o) or _within(o, here))}
    if others:
        written = {tuple(str(part) for part in e["where"]): e["where"] for e in errors}
        at = sorted(format_path(written[o]) for o in others)
        shown = ", ".join(at[:3]) + (", ..." if len(at) > 3 else "")
        plural = "s" if len(others) > 1 else ""
        error.allowed += f" (and {len(others)} more problem{plural}, at {shown})"
        error.args = (error.message,)
    return error


def _other_member(model: Any, loc: tuple[Any, ...], other: tuple[Any, ...]) -> bool:
    """Whether ``other`` lies in another member of a union than ``loc`` (the value read
    another way, as a mapping of mappings where a mapping of numbers failed): the two
    locations part where each names a union member, a part the user did not write."""
    k = next((i for i, (a, b) in enumerate(zip(loc, other, strict=False)) if a != b), None)
    if k is None or model is None:
        return False
    written = len(user_loc(model, loc[:k])[0])
    return all(len(user_loc(model, at[: k + 1])[0]) == written for at in (loc, other))


def _on_key(error: dict[str, Any]) -> bool:
    return error["type"] == "invalid_key" or bool(error["loc"] and error["loc"][-1] == "[key]")


def _chief(errors: list[dict[str, Any]], model: Any = None) -> dict[str, Any]:
    """The error to report: our own validators' refusals say the most; then a key YAML
    read as true/false (a field it was meant to be is also reported missing); then any
    other bad key (not its value, which a union's other member also refuses); else the
    first, or the union member that reached deepest into the same value (a mapping given
    for a number-or-mapping is judged as the mapping)."""
    own = [e for e in errors if isinstance((e.get("ctx") or {}).get("error"), SpecError)]
    if own:
        return own[0]
    keys = [e for e in errors if _on_key(e) and is_flag(e.get("input"))]
    if keys:
        return keys[0]
    keys = [e for e in errors if _on_key(e)]  # a bad key: its value is not the problem
    if keys:  # as read by the union member it fits best (the fewest other problems)
        same = [e for e in keys if e["where"] == keys[0]["where"]]
        return min(
            same, key=lambda k: sum(not _other_member(model, k["loc"], e["loc"]) for e in errors)
        )
    first = errors[0]["where"]
    related = [e for e in errors if _within(e["where"], first) or _within(first, e["where"])]
    return max(related, key=lambda e: len(e["where"]))


def _within(inner: tuple[Any, ...], outer: tuple[Any, ...]) -> bool:
    return inner[: len(outer)] == outer


def _message(error: dict[str, Any], errors: list[dict[str, Any]]) -> str:
    kind, value = error["type"], error.get("input")
    if _on_key(error) and is_flag(value):
        return FLAG_KEY_NAME if error["names"] else FLAG_KEY_FIELD
    if _on_key(error):
        return _key_message(value, error["names"])
    if kind == "extra_forbidden":
        return "unknown field; check the spelling against `synthbio reference`"
    if kind == ABSENT:
        return "this field is required"
    if is_flag(value) and kind == "string_type":
        return FLAG_NAME
    if kind in ("int_type", "int_from_float") and isinstance(value, float) and value.is_integer():
        return (
            "must be a whole number written as one (1000, not 1e3 or 1000.0: YAML reads "
            "those as decimal numbers)"
        )
    siblings = [
        e for e in errors if e is not error and e["where"] == error["where"] and e["type"] in _KINDS
    ]
    if kind in _KINDS and siblings and admitted(error["declared"]):
        return "must be " + admitted(error["declared"])  # no member of a union took it
    if kind in ("model_type", "model_attributes_type"):
        return "must be " + (admitted(error["reached"]) or "a mapping of its fields")
    message = error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if message.startswith("Input should"):
        return "must" + message.removeprefix("Input should")
    return message


def _unknown_field(name: str, fields: dict[str, Any]) -> str:
    """Why a field name is refused: the nearest one the model takes, if one is near (a
    misspelling), and the fields it takes."""
    import difflib

    known = [info.alias or field for field, info in fields.items()]
    if not known:
        return "unknown field; check the spelling against `synthbio reference`"
    near = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"did you mean {near[0]!r}? " if near else ""
    listed = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
    return f"unknown field; {hint}the fields here: {listed}"


def _key_message(key: Any, names: bool) -> str:
    """Why a key is refused: a mapping's keys (levels, factors, biomarkers) are names and
    a model's are its field names; YAML read this one as a number or null."""
    what = "the keys of this mapping must be names" if names else "a key here must be a field name"
    if key is None:
        return f"{what}; YAML read this key as null (~ or nothing before the colon): write one"
    read = "a number" if isinstance(key, int | float) else f"a {type(key).__name__}"
    if not names:
        return f"{what} (see `synthbio reference`), and YAML read this key as {read}"
    return f"{what}; YAML read this key as {read}: quote it ('{key}': ...) to use it as a name"


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


def short_repr(value: Any) -> str:
    """A short repr: bounded work even for a huge or deeply nested value (a YAML bomb)."""
    text = _SHORT.repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` reports a full disk (ENOSPC, or a library's "No space left")."""
    return (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or "No space left" in str(exc)


def check_seed(seed: Any, path: str = "seed") -> int:
    """``seed`` as an int; SpecError naming ``path`` unless it is a whole number (an int or
    a numpy integer, not true/false) in [0, 2^32), JAX's range for a key."""
    if isinstance(seed, bool) or not isinstance(seed, Integral) or not 0 <= seed < 2**32:
        raise SpecError(path, seed, "must be a whole number in [0, 2^32)")
    return int(seed)


OUTPUT_ARGUMENTS: ContextVar[tuple[str, str]] = ContextVar(
    "output_arguments", default=("directory", "overwrite=True (force=True to generate_to_parquet)")
)
"""How a refusal of an output folder names it and the way to replace it: the API's
arguments, or the command line's (``--out``, ``--force``: ``cli.app.main`` sets them)."""
