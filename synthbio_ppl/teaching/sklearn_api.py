"""A one-call, scikit-learn-style front door: ``X, y = make_biomedical_classification()``."""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.rounding import largest_remainder
from synthbio_ppl.engine.generation import generate
from synthbio_ppl.spec.fields import is_flag

MAX_PSEUDO_GROUPS = 10_000
"""The most latent groups a ``pseudo_classes`` block may have (its spec's bound)."""


def make_biomedical_classification(
    n_samples: int = 100,
    n_informative: int = 5,
    n_noise: int = 20,
    effect_size: float | list[float] = 1.0,
    n_classes: int = 2,
    weights: list[float] | None = None,
    distribution: str = "normal",
    noise_distribution: str = "normal",
    n_clusters: int = 0,
    cluster_size: int = 5,
    correlation: float = 0.7,
    n_batches: int = 0,
    batch_strength: float = 0.5,
    confounding: float = 0.0,
    n_pseudo_groups: int = 0,
    pseudo_size: int = 5,
    shuffle: bool = True,
    random_state: int | None = 0,
    as_frame: bool = False,
    return_groups: bool = False,
    return_truth: bool = False,
) -> tuple[Any, ...]:
    """Two or more classes with informative, clustered and noise features.

    Returns ``X, y``, then the row design when ``return_groups``, then the Truth when
    ``return_truth``:

    - ``X``: (n_samples, n_features) float array, or a DataFrame with ``as_frame``;
    - ``y``: (n_samples,) int64 class codes 0..n_classes-1, or a categorical Series of
      the class names (``class0``, ...) with ``as_frame``;
    - groups: the design labels of each row, for group-aware cross-validation
      (``GroupKFold(...).split(X, y, groups["batch"])``) and batch correction. With
      ``as_frame`` a DataFrame (n_samples rows, X's index), else a dict of (n_samples,)
      int64 arrays; its columns, named as ``generate`` names the Dataset's covariates:
      ``batch`` when ``n_batches`` ≥ 2 (categorical ``batch0``, ... with ``as_frame``,
      else codes 0..n_batches-1) and ``pseudo0_group`` when ``n_pseudo_groups`` ≥ 2
      (int64 codes 0..n_pseudo_groups-1). Without either it has no column.

    ``weights`` are class shares (rounded to exact counts); clusters get an anchor effect
    of ``effect_size``. ``n_pseudo_groups`` ≥ 2 adds a ``pseudo_classes`` block of
    ``pseudo_size`` features shifted by a latent grouping of that many balanced groups,
    independent of the class (adjacent groups differ by d = 1, the spec's default):
    structure that is not signal. ``random_state`` follows scikit-learn: an int in
    [0, 2^32) is the seed, None or a ``numpy.random.RandomState`` draws one. Raises
    SpecError naming the argument for a bad value.
    """
    for name, value, low in (
        ("n_samples", n_samples, 1),
        ("n_informative", n_informative, 0),
        ("n_noise", n_noise, 0),
        ("n_classes", n_classes, 2),
        ("n_clusters", n_clusters, 0),
        ("cluster_size", cluster_size, 2),
        ("n_batches", n_batches, 0),
        ("n_pseudo_groups", n_pseudo_groups, 0),
        ("pseudo_size", pseudo_size, 1),
    ):
        _check_whole(name, value, low)
    n_samples, n_informative, n_noise, n_classes = (
        int(v) for v in (n_samples, n_informative, n_noise, n_classes)
    )  # numpy integers are integers too: the spec gets Python ints
    n_clusters, cluster_size, n_batches = int(n_clusters), int(cluster_size), int(n_batches)
    n_pseudo_groups, pseudo_size = int(n_pseudo_groups), int(pseudo_size)
    _check_settings(batch_strength, confounding, correlation)
    for name, value in (("n_batches", n_batches), ("n_pseudo_groups", n_pseudo_groups)):
        if value == 1:
            raise SpecError(name, value, "give 0 (none) or 2 or more")
    if n_pseudo_groups > min(n_samples, MAX_PSEUDO_GROUPS):
        raise SpecError(
            "n_pseudo_groups",
            n_pseudo_groups,
            f"at most n_samples ({n_samples}) and {MAX_PSEUDO_GROUPS:,}, so every group has a row",
        )
    for name, value in (
        ("as_frame", as_frame),
        ("return_groups", return_groups),
        ("return_truth", return_truth),
    ):
        if not is_flag(value):
            raise SpecError(name, value, "must be True or False")
    try:
        shares = np.asarray(weights if weights is not None else [1.0] * n_classes, dtype=float)
    except (TypeError, ValueError):
        raise SpecError("weights", weights, f"give {n_classes} class shares (numbers)") from None
    shares = _class_shares(shares, weights, n_classes, n_samples)
    counts = largest_remainder(n_samples, shares)
    if (counts < 1).any():
        given = "equal shares" if weights is None else f"shares {weights}"
        raise SpecError(
            "n_samples",
            n_samples,
            f"too few for each of {n_classes} classes to get a row ({given})",
        )
    spec: dict[str, Any] = {
        "name": "make_biomedical_classification",
        "seed": _seed(random_state),
        "shuffle": bool(shuffle) if is_flag(shuffle) else shuffle,  # numpy's too, as sklearn
        "classes": [{"name": f"class{k}", "n": int(n)} for k, n in enumerate(counts)],
        "informative": [
            {"n": n_informative, "effect_size": effect_size, "distribution": distribution}
        ]
        if n_informative
        else [],
        "clusters": [
            {"n": cluster_size, "correlation": correlation, "anchor_effect": effect_size}
            for _ in range(n_clusters)
        ],
        "noise": [{"n": n_noise, "distribution": noise_distribution}] if n_noise else [],
        "pseudo_classes": [{"n": pseudo_size, "groups": n_pseudo_groups}]
        if n_pseudo_groups
        else [],
    }
    if n_batches:
        spec["batches"] = {"n": n_batches, "strength": batch_strength, "confounding": confounding}
    data = generate(spec)
    X: Any = data.X
    y: Any = data.y
    if not as_frame:
        X, y = data.X.to_numpy(), data.y.cat.codes.to_numpy().astype(np.int64)
    out: tuple[Any, ...] = (X, y)
    if return_groups:
        out = (*out, _groups(data.covariates, as_frame))
    return (*out, data.truth) if return_truth else out


def _groups(covariates: pd.DataFrame, as_frame: bool) -> pd.DataFrame | dict[str, np.ndarray]:
    """The design labels: the covariates as a DataFrame, or a dict of int64 code arrays."""
    if as_frame:
        return covariates.copy()
    return {
        name: (
            column.cat.codes if isinstance(column.dtype, pd.CategoricalDtype) else column
        ).to_numpy(dtype=np.int64)
        for name, column in covariates.items()
    }


def _class_shares(shares: np.ndarray, weights: Any, n_classes: int, n_samples: int) -> np.ndarray:
    """``weights`` as class shares, checked (SpecError naming what is wrong with them).
    Shares are relative, so shares whose sum (or share of ``n_samples``) overflows are
    divided by the largest first: [1e308, 1e308] is [1, 1]."""
    if shares.ndim != 1 or len(shares) != n_classes:
        raise SpecError("weights", weights, f"give one share per class: {n_classes} numbers")
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(shares) & (shares > 0))
    if bad.any():
        k = int(np.argmax(bad))
        raise SpecError(
            "weights",
            weights,
            f"weights[{k}] is {float(shares[k])!r}: a share must be a positive, finite number",
        )
    with np.errstate(over="ignore"):
        wide = not np.isfinite(shares.sum() * n_samples)
    return shares / shares.max() if wide else shares


def _check_settings(batch_strength: Any, confounding: Any, correlation: Any) -> None:
    """The batch and cluster settings, checked whether or not batches or clusters are
    asked for (a bad value is a mistake either way): SpecError naming the argument."""
    for name, value, low, high in (
        ("batch_strength", batch_strength, 0.0, float("inf")),
        ("confounding", confounding, 0.0, 1.0),
        ("correlation", correlation, -1.0, 1.0),
    ):
        number = isinstance(value, Real) and not isinstance(value, bool)
        if not number or not math.isfinite(value) or not low <= value <= high:
            allowed = f"a number ≥ {low:g}" if high == float("inf") else f"in [{low:g}, {high:g}]"
            raise SpecError(name, value, f"must be {allowed}")


def _check_whole(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise SpecError(name, value, f"must be a whole number (int) ≥ {low}")


def _seed(random_state: Any) -> int:
    """scikit-learn's ``random_state``: an int is the seed; None or a RandomState draws one."""
    if random_state is None or isinstance(random_state, np.random.RandomState):
        generator = np.random.mtrand._rand if random_state is None else random_state
        return int(generator.randint(0, 2**32 - 1, dtype=np.int64))
    if isinstance(random_state, bool) or not isinstance(random_state, Integral):
        raise SpecError("random_state", random_state, "must be an int, None or a RandomState")
    if not 0 <= random_state < 2**32:
        raise SpecError("random_state", random_state, "must lie in [0, 2^32)")
    return int(random_state)
