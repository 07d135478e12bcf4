"""The fit settings of ``sb.twin`` and the methods each applies to: one table, read by
``twin`` and by ``synthbio twin``, so the API and the command line refuse the same
combinations.

``resolve_settings(method, given)`` gives every setting's value for the fit: the one given,
else its default where it applies to ``method``, else None; a setting given for a method it
does not apply to is refused (``SpecError`` naming the argument, or the command line's
option), not ignored. Nothing here imports numpy or JAX: the command line imports it when
it registers its options.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.fit_settings import FitSetting
from synthbio_ppl.core.fit_settings import resolve_settings as resolve
from synthbio_ppl.core.precision import check_learning_rate

METHODS: tuple[str, ...] = ("nuts", "svi", "map")
DEFAULT_METHOD = "map"


FIT_SETTINGS: tuple[FitSetting, ...] = (
    FitSetting("svi_steps", "--svi-steps", ("map", "svi"), 4000),
    FitSetting("learning_rate", "--learning-rate", ("map", "svi"), 0.01, check_learning_rate),
    FitSetting("num_warmup", "--warmup", ("nuts",), 500),
    FitSetting("num_samples", "--samples", ("svi", "nuts"), 500),
)
SETTING_NAMES: tuple[str, ...] = tuple(s.name for s in FIT_SETTINGS)


def default_rank(n_numeric: int) -> int:
    """r = ⌈0.4·p⌉ capped at p − 1 (at least 1): 12 factors for 30 columns. On the
    breast-cancer table 6 factors left the correlation error 1.7× larger (Frobenius 2.49
    vs 1.50, mean of 3 splits) and 20 gained nothing (1.65); see benchmarks/RESULTS.md."""
    return max(1, min(n_numeric - 1, math.ceil(0.4 * n_numeric)))


def check_method(method: Any, field: str = "method") -> str:
    """``method`` if it is one of ``METHODS``, else SpecError naming ``field``."""
    if not isinstance(method, str) or method not in METHODS:
        raise SpecError(field, method, "must be 'nuts', 'svi' or 'map'")
    return method


def resolve_settings(method: str, given: Mapping[str, Any], *, cli: bool = False) -> dict[str, Any]:
    """Every twin fit setting for ``method`` (``core.fit_settings.resolve_settings`` on
    ``FIT_SETTINGS``)."""
    return resolve(FIT_SETTINGS, method, given, cli=cli)


def kept_draws(method: str, settings: Mapping[str, Any]) -> int:
    """Posterior draws a fit keeps: 1 for MAP, ``num_samples`` otherwise."""
    return 1 if method == "map" else int(settings["num_samples"])
