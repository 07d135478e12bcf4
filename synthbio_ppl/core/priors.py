"""A parameter site's prior, declared once where the site is sampled."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Prior:
    """The prior a fit puts on the site ``<block>.<param>``.

    ``meaning`` and ``text`` are what the prior table of docs/fitting.md and
    ``synthbio reference`` print; ``make(*args)`` builds the NumPyro distribution the model
    samples (the arguments are the process's own, e.g. a correlation's lower bound).
    """

    param: str
    meaning: str
    text: str
    make: Callable[..., Any]
