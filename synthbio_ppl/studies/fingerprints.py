"""A method, parameter or metric described the same way in every process: the parts of a
study's fingerprint (a resumed run must match it) and of its report."""

from __future__ import annotations

import functools
import hashlib
import inspect
import re
from typing import Any

from synthbio_ppl.studies.method_types import FitMethod

__all__ = ["canonical", "described"]


def _code(fn: Any) -> str:
    """A digest of a function's source (its compiled code where the source is not at hand,
    ``exec`` or ``python -c``), so that an edited function is another method."""
    try:
        text = inspect.getsource(fn)
    except (OSError, TypeError):
        code = getattr(fn, "__code__", None)
        text = _compiled(code) if code is not None else ""
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _compiled(code: Any) -> str:
    """Bytecode, names and constants (nested functions' too; no addresses)."""
    consts = [_compiled(c) if hasattr(c, "co_code") else repr(c) for c in code.co_consts]
    return f"{code.co_code.hex()}|{code.co_names}|{consts}"


def _name(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def canonical(value: Any) -> Any:
    """A description of a method, parameter or metric that is the same in every process
    (no memory addresses) and changes when the code of a user's function changes: what a
    study's fingerprint is made of."""
    if isinstance(value, FitMethod):
        return {"fit": value.method, "settings": canonical(dict(value.settings))}
    if hasattr(value, "get_params") and not inspect.isclass(value):
        params = value.get_params(deep=False)
        return {
            "class": _name(type(value)),
            "params": {k: canonical(params[k]) for k in sorted(params)},
        }
    if isinstance(value, functools.partial):
        return {
            "partial": canonical(value.func),
            "args": [canonical(a) for a in value.args],
            "keywords": {k: canonical(v) for k, v in sorted(value.keywords.items())},
        }
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if inspect.isfunction(value) or inspect.ismethod(value):
        return {"function": _name(value), "code": _code(value)}
    if inspect.isclass(value):
        return {"type": _name(value)}
    if callable(value) and not isinstance(value, str | int | float | bool):
        state = canonical(vars(value)) if hasattr(value, "__dict__") else None
        return {"callable": _name(type(value)), "code": _code(type(value)), "state": state}
    return repr(value)


def described(estimator: Any) -> str:
    """A method as one line of text: scikit-learn's repr (functions by name, not address),
    or a function's qualified name."""

    if hasattr(estimator, "get_params") or isinstance(estimator, FitMethod):
        text = " ".join(repr(estimator).split())
        return re.sub(r"<function (\S+) at 0x[0-9a-fA-F]+>", r"\1", text)
    return getattr(estimator, "__qualname__", None) or type(estimator).__qualname__
