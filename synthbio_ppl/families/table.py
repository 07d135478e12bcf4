"""The feature families and their parameters, as plain data (no JAX import).

Each family has *shape* parameters, used when the family is standardised to mean 0 and
variance 1, and *raw* parameters, used when a noise block keeps the family's own scale.
A parameter is described by its default and its open/closed lower and upper bounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import inf
from typing import Literal


@dataclass(frozen=True)
class Param:
    """One family parameter: default value and the interval it must lie in."""

    default: float
    low: float = -inf
    high: float = inf
    low_open: bool = True

    def allows(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        return above and value < self.high

    def describe(self) -> str:
        if self.low == -inf:
            return "any real number"
        return f"a number {'>' if self.low_open else '>='} {self.low:g}"


_POSITIVE = {"low": 0.0}


@dataclass(frozen=True)
class Family:
    """Parameters of one family in its standardised and raw forms."""

    shape: dict[str, Param]
    raw: dict[str, Param]
    wide: dict[str, float] = field(default_factory=dict)
    """A fit's start for shape parameters that bound the standardised family's support:
    near the normal limit, where that support is widest (±20 sds), so a start holds the
    data whatever the truth (lognormal σ → 0, gamma shape → ∞, beta a = b → ∞)."""


FAMILIES: dict[str, Family] = {
    "normal": Family({}, {"loc": Param(0.0), "scale": Param(1.0, **_POSITIVE)}),
    "lognormal": Family(
        {"sigma": Param(0.5, **_POSITIVE)},
        {"mu": Param(0.0), "sigma": Param(0.5, **_POSITIVE)},
        wide={"sigma": 0.05},
    ),
    "uniform": Family({}, {"low": Param(0.0), "high": Param(1.0)}),
    "laplace": Family({}, {"loc": Param(0.0), "scale": Param(1.0, **_POSITIVE)}),
    "exponential": Family({}, {"rate": Param(1.0, **_POSITIVE)}),
    "student_t": Family(
        {"df": Param(5.0, low=2.0)},
        {"df": Param(5.0, **_POSITIVE), "loc": Param(0.0), "scale": Param(1.0, **_POSITIVE)},
    ),
    "gamma": Family(
        {"shape": Param(2.0, **_POSITIVE)},
        {"shape": Param(2.0, **_POSITIVE), "rate": Param(1.0, **_POSITIVE)},
        wide={"shape": 400.0},
    ),
    "logistic": Family({}, {"loc": Param(0.0), "scale": Param(1.0, **_POSITIVE)}),
    "beta": Family(
        {"a": Param(2.0, **_POSITIVE), "b": Param(2.0, **_POSITIVE)},
        {"a": Param(2.0, **_POSITIVE), "b": Param(2.0, **_POSITIVE)},
        wide={"a": 200.0, "b": 200.0},
    ),
}

FAMILY_NAMES: tuple[str, ...] = tuple(FAMILIES)

Distribution = Literal[
    "normal", "lognormal", "uniform", "laplace", "exponential", "student_t", "gamma",
    "logistic", "beta",
]  # fmt: skip
assert set(FAMILY_NAMES) == set(Distribution.__args__)


def family_params(family: str, given: dict[str, float], standardise: bool) -> dict[str, float]:
    """Complete ``given`` with defaults; raise ValueError naming any unknown or bad value."""
    table = FAMILIES[family].shape if standardise else FAMILIES[family].raw
    unknown = sorted(set(given) - set(table))
    if unknown:
        allowed = ", ".join(table) if table else "none"
        form = "standardised" if standardise else "raw"
        raise ValueError(
            f"unknown parameter {unknown[0]!r} for {form} {family}; allowed: {allowed}"
        )
    values = {name: float(given.get(name, p.default)) for name, p in table.items()}
    for name, value in values.items():
        if not table[name].allows(value):
            raise ValueError(
                f"{family} {name}={value:g} is not allowed; must be {table[name].describe()}"
            )
    if family == "uniform" and not standardise and values["low"] >= values["high"]:
        raise ValueError(
            f"uniform needs low < high, got low={values['low']:g}, high={values['high']:g}"
        )
    return values
