"""Parametric versus rank test: power and type-I error across feature families.

``compare_tests`` draws replicate datasets, runs Welch's t-test (``scipy.stats.ttest_ind``
with ``equal_var=False``; Welch 1947, Biometrika 34:28) and the Mann–Whitney U test
(``scipy.stats.mannwhitneyu``, two-sided; Mann & Whitney 1947, Ann. Math. Stat. 18:50) on
every feature, and scores the calls against the truth: power is the share of truly
informative features (``truth.features["signal"]``) with p < alpha, the type-I error the
share of the other features with p < alpha. Each share p̂ of m tests has the binomial
standard error √(p̂(1 − p̂)/m), which assumes independent tests (true for the features of
informative and noise blocks; a cluster's features are correlated).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from math import isfinite
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthbio_ppl.engine.generation import generate
from synthbio_ppl.families.table import FAMILY_NAMES, family_params
from synthbio_ppl.model.scene import Spec, as_spec
from synthbio_ppl.teaching.inputs import shown

__all__ = ["TESTS", "compare_tests"]

TESTS = ("welch_t", "mann_whitney_u")
"""The tests compared, in the order of the rows of ``compare_tests``."""

COLUMNS = [
    "family",
    "effect_size",
    "test",
    "power",
    "power_se",
    "n_informative",
    "type1_error",
    "type1_se",
    "n_noise",
]

DEFAULT_EFFECT_SIZES = (0.5, 1.0)


def compare_tests(
    spec_or_families: Any,
    effect_sizes: float | Sequence[float] | None = None,
    *,
    n_per_class: int | None = None,
    n_informative: int | None = None,
    n_noise: int | None = None,
    replicates: int = 10,
    alpha: float = 0.05,
    seed: int = 0,
) -> pd.DataFrame:
    """Power and type-I error of Welch's t-test and the Mann–Whitney U test per family.

    ``spec_or_families``: either families, as a family name (``"student_t"``) or a list
    of names and ``{"distribution": name, "params": {...}}`` entries (the fields of an
    informative block; ``synthbio_ppl.families.table.FAMILY_NAMES`` lists the names), or a
    scene (a ``Spec``, a dict or a YAML path).

    With families, each replicate draws one two-class dataset with ``n_per_class`` rows
    per class (default 20) and, per family, one informative block of ``n_informative``
    features (default 20) per effect size in ``effect_sizes`` (Cohen's d, default
    (0.5, 1.0)) and one noise block of ``n_noise`` features (default 20) of the same
    family, all standardised (mean 0, variance 1). With a scene, its own blocks are used:
    features are grouped by ``truth.features["distribution"]`` and their population
    |effect_size|, and ``effect_sizes``, ``n_per_class``, ``n_informative`` and
    ``n_noise`` must be left unset.

    Both tests compare the first class with the last (the truth's ``effect_size`` is
    last vs first) on every feature of ``replicates`` datasets drawn with the seeds
    ``seed``, ``seed + 1``, ...; NaN cells are omitted (``nan_policy="omit"``) and a
    p-value that is NaN (a constant feature) counts as no rejection.

    Returns a tidy DataFrame, one row per family × effect size × test (``TESTS``), with
    columns family, effect_size (|d|), test, power, power_se, n_informative (tests behind
    the power: features × replicates that gave a p-value; a class of one row gives none
    for Welch's test), type1_error, type1_se and n_noise (tests behind the
    type-I error, pooled over the family's non-signal features). A share without tests is
    NaN; a family with no informative feature gets one row per test with effect_size NaN.
    ``attrs`` records alpha, replicates and the classes compared. With a scene, "noise"
    is every feature without class signal in the truth: one that batches confounded with
    the class shift is rejected too, so its type-I error includes the confounding.

    Raises ValueError naming the argument: an unknown family or parameter, a non-positive
    effect size, counts below their minimum (``n_per_class`` ≥ 2, others ≥ 1), alpha
    outside (0, 1), a non-integer seed, block sizes given with a scene, a scene with one
    class (SpecError, a ValueError, for an invalid scene).
    """
    replicates = _count(replicates, "replicates", 1)
    if isinstance(alpha, bool) or not isinstance(alpha, Real) or not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be a number in (0, 1); got {shown(alpha)}")
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {shown(seed)}")
    if isinstance(replicates, Integral) and seed + replicates > 2**32:
        raise ValueError(
            f"seed: the replicates use seeds {seed} to {seed + replicates - 1}, past 2^32 − 1; "
            "choose a smaller seed"
        )
    sizes = {"n_per_class": n_per_class, "n_informative": n_informative, "n_noise": n_noise}
    if _is_scene(spec_or_families):
        given = [
            name
            for name, value in {"effect_sizes": effect_sizes, **sizes}.items()
            if value is not None
        ]
        if given:
            raise ValueError(
                f"{', '.join(given)}: a scene sets its own blocks and class sizes; pass "
                "families instead of a scene to vary them"
            )
        spec, labels = as_spec(spec_or_families), None
    else:
        spec, labels = _families_spec(spec_or_families, effect_sizes, **sizes)
    if len(spec.class_names) < 2:
        raise ValueError(f"spec_or_families: the scene has one class {spec.class_names}")
    pair = (spec.class_names[0], spec.class_names[-1])
    rejections: dict[str, np.ndarray] = {}
    tested: dict[str, np.ndarray] = {}  # p-values that exist (NaN: too few rows to test)
    for r in range(replicates):
        data = generate(spec, seed=int(seed) + r)
        for test, p in _p_values(data.X, data.y, pair).items():
            rejections[test] = rejections.get(test, 0) + (p < alpha)
            tested[test] = tested.get(test, 0) + ~np.isnan(p)
    features = data.truth.features
    family = features["distribution"] if labels is None else features["block"].map(labels)
    table = _tally(features, family, rejections, tested)
    table.attrs.update(alpha=float(alpha), replicates=replicates, classes=pair)
    return table


def _is_scene(value: Any) -> bool:
    """A Spec, a scene dict, a path, or a string that looks like a YAML path; a family's
    name (or a misspelt one) and a ``{"distribution": ...}`` entry are families."""
    if isinstance(value, str):
        return value not in FAMILY_NAMES and value.endswith((".yaml", ".yml"))
    if isinstance(value, Mapping):
        return "distribution" not in value
    return isinstance(value, Spec | Path)


def _count(value: Any, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ValueError(f"{name} must be an integer ≥ {low}; got {shown(value)}")
    return int(value)


def _family_entry(entry: Any, where: str) -> tuple[str, str, dict[str, float]]:
    """(label, distribution, params) of one family entry, checked."""
    if isinstance(entry, str):
        entry = {"distribution": entry}
    if not isinstance(entry, Mapping) or set(entry) - {"distribution", "params"}:
        raise ValueError(
            f"{where} must be a family name or {{'distribution': name, 'params': {{...}}}}; "
            f"got {shown(entry)}"
        )
    name, params = entry.get("distribution"), dict(entry.get("params") or {})
    for key, value in params.items():
        if isinstance(value, bool) or not isinstance(value, Real):
            raise ValueError(f"{where}.params.{key} must be a number; got {shown(value)}")
    if name not in FAMILY_NAMES:
        raise ValueError(f"{where}: unknown family {name!r}; choose from {list(FAMILY_NAMES)}")
    try:
        family_params(name, params, standardise=True)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{where}: {exc}") from None
    shown_params = ", ".join(f"{k}={v:g}" for k, v in sorted(params.items()))
    return (f"{name}({shown_params})" if params else name), name, params


def _families_spec(
    families: Any,
    effect_sizes: Any,
    n_per_class: int | None,
    n_informative: int | None,
    n_noise: int | None,
) -> tuple[Spec, dict[str, str]]:
    """One two-class scene holding every family's blocks, and each block's family label."""
    entries = [families] if isinstance(families, str | Mapping) else families
    if not isinstance(entries, Sequence) or not entries:
        raise ValueError(
            "spec_or_families must be a scene or a non-empty list of families; got "
            f"{shown(families)}"
        )
    checked = [_family_entry(e, f"spec_or_families[{i}]") for i, e in enumerate(entries)]
    seen = [label for label, _, _ in checked]
    if len(set(seen)) < len(seen):
        raise ValueError(f"spec_or_families lists a family twice: {seen}")
    sizes = DEFAULT_EFFECT_SIZES if effect_sizes is None else effect_sizes
    sizes = [sizes] if isinstance(sizes, Real) else list(sizes)
    if not sizes or any(
        isinstance(d, bool) or not isinstance(d, Real) or not isfinite(d) or d <= 0 for d in sizes
    ):
        raise ValueError(f"effect_sizes must be positive numbers; got {shown(effect_sizes)}")
    rows = _count(20 if n_per_class is None else n_per_class, "n_per_class", 2)
    n_inf = _count(20 if n_informative is None else n_informative, "n_informative", 1)
    n_null = _count(20 if n_noise is None else n_noise, "n_noise", 1)
    labels: dict[str, str] = {}
    informative, noise = [], []
    for i, (label, name, params) in enumerate(checked):
        family = {"distribution": name, "params": params}
        for j, d in enumerate(sizes):
            labels[f"fam{i}_d{j}"] = label
            informative.append({"name": f"fam{i}_d{j}", "n": n_inf, "effect_size": d, **family})
        labels[f"fam{i}_null"] = label
        noise.append({"name": f"fam{i}_null", "n": n_null, **family})
    spec = {
        "name": "compare_tests",
        "classes": [{"name": "a", "n": rows}, {"name": "b", "n": rows}],
        "informative": informative,
        "noise": noise,
    }
    return as_spec(spec), labels


def _p_values(X: pd.DataFrame, y: Any, pair: tuple[Hashable, Hashable]) -> dict[str, np.ndarray]:
    """Two-sided p-values of each test in ``TESTS``, one per column of ``X``: (p,) float."""
    from scipy import stats

    values = X.to_numpy(dtype=float)
    labels = np.asarray(y, dtype=object)
    first, last = values[labels == pair[0]], values[labels == pair[1]]
    policy = "omit" if np.isnan(values).any() else "propagate"
    welch = stats.ttest_ind(first, last, axis=0, equal_var=False, nan_policy=policy)
    rank = stats.mannwhitneyu(first, last, axis=0, alternative="two-sided", nan_policy=policy)
    return dict(zip(TESTS, (np.asarray(welch.pvalue), np.asarray(rank.pvalue)), strict=True))


def _share(hits: float, tests: int) -> tuple[float, float]:
    """The share hits/tests and its binomial standard error √(p̂(1 − p̂)/m); NaN for m = 0."""
    if tests == 0:
        return float("nan"), float("nan")
    p = hits / tests
    return p, float(np.sqrt(p * (1.0 - p) / tests))


def _tally(
    features: pd.DataFrame,
    family: pd.Series,
    rejections: dict[str, np.ndarray],
    tested: dict[str, np.ndarray],
) -> pd.DataFrame:
    """The rows of ``compare_tests`` from each feature's rejection count per test, over
    the tests that gave a p-value (``tested``, per feature)."""
    signal = features["signal"].to_numpy(dtype=bool)
    effect = features["effect_size"].abs().round(10).to_numpy(dtype=float)
    labels = family.to_numpy(dtype=object)
    rows = []
    for name in dict.fromkeys(labels):
        own = labels == name
        null = own & ~signal
        effects = sorted(set(effect[own & signal])) or [float("nan")]
        for d in effects:
            hit = own & signal & (effect == d)
            for test in TESTS:
                count, valid = np.asarray(rejections[test]), np.asarray(tested[test])
                n_hit, n_null = int(valid[hit].sum()), int(valid[null].sum())
                power, power_se = _share(count[hit].sum(), n_hit)
                type1, type1_se = _share(count[null].sum(), n_null)
                rows.append(
                    [
                        name,
                        d,
                        test,
                        power,
                        power_se,
                        n_hit,
                        type1,
                        type1_se,
                        n_null,
                    ]
                )
    return pd.DataFrame(rows, columns=COLUMNS)
