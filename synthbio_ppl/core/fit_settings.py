"""Fit settings and the methods each applies to, as one table per fitting entry point.

``fit`` (NUTS or SVI) and ``sb.twin`` (MAP, SVI or NUTS) each declare a table of
``FitSetting``s, read by the function and by its command (``synthbio fit``, ``synthbio
twin``), so the API and the command line refuse the same combinations: a setting given for
a method it does not apply to is refused (SpecError naming the argument, or the command
line's option), not ignored. Nothing here imports numpy or JAX: the command line reads the
tables when it registers its options.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from numbers import Integral, Real
from typing import Any, NamedTuple

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.precision import check_learning_rate


class FitSetting(NamedTuple):
    """One fit setting: the API's argument, the command line's option, the methods it
    applies to, its default there, and what checks a value given (``check(value, name)``
    returns it as used, or raises SpecError naming the argument or option)."""

    name: str
    option: str
    methods: tuple[str, ...]
    default: int | float
    check: Callable[[Any, str], Any] | None = None


def resolve_settings(
    table: tuple[FitSetting, ...], method: str, given: Mapping[str, Any], *, cli: bool = False
) -> dict[str, Any]:
    """Every setting of ``table`` for ``method``: the value given (not None, as its
    ``check`` returns it), else the default where the setting applies, else None. A
    setting given for a method it does not apply to, or refused by its ``check``, raises
    SpecError naming it (the API's argument, or with ``cli`` the option)."""
    names = [setting.name for setting in table]
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise SpecError("settings", unknown, f"fit settings are {', '.join(names)}")
    resolved: dict[str, Any] = {}
    for setting in table:
        value = given.get(setting.name)
        applies = method in setting.methods
        if value is not None and setting.check is not None:
            value = setting.check(value, setting.option if cli else setting.name)
        if value is not None and not applies:
            if cli:
                where = f"--method {' or '.join(setting.methods)}, not {method}"
                raise SpecError(setting.option, value, f"applies to {where}; drop it")
            methods = " or ".join(repr(m) for m in setting.methods)
            raise SpecError(
                setting.name,
                value,
                f"applies to method {methods}, not {method!r}; drop it (or choose a method "
                "it applies to)",
            )
        resolved[setting.name] = (setting.default if value is None else value) if applies else None
    return resolved


def _target_accept(value: Any, name: str) -> float:
    """A number strictly in (0, 1), else SpecError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise SpecError(name, value, "must be a number in (0, 1)")
    if not 0 < value < 1:  # also refuses nan
        raise SpecError(name, value, "must lie strictly in (0, 1)")
    return float(value)


MAX_CHAINS = 256
"""NUTS chains a fit may run: each holds its own sampler state in memory (100,000 of them
grew past 9 GB before the memory check could run)."""


def _chains(value: Any, name: str) -> int:
    """A whole number from 1 to ``MAX_CHAINS``, else SpecError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, Integral) or not 1 <= value <= MAX_CHAINS:
        raise SpecError(name, value, f"must be a whole number from 1 to {MAX_CHAINS}")
    return int(value)


MODEL_FIT_SETTINGS: tuple[FitSetting, ...] = (
    FitSetting("num_warmup", "--warmup", ("nuts",), 1000),
    FitSetting("num_chains", "--chains", ("nuts",), 1, _chains),
    FitSetting("target_accept", "--target-accept", ("nuts",), 0.8, _target_accept),
    FitSetting("svi_steps", "--svi-steps", ("svi",), 5000),
    FitSetting("learning_rate", "--learning-rate", ("svi",), 0.01, check_learning_rate),
)
"""``fit``'s settings that apply to one method (``num_samples`` applies to both)."""
