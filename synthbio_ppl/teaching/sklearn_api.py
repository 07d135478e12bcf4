"""A one-call, scikit-learn-style front door: ``X, y = make_biomedical_classification()``."""

from __future__ import annotations

from typing import Any

import numpy as np

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.rounding import largest_remainder
from synthbio_ppl.engine.generation import generate


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
    shuffle: bool = True,
    random_state: int | None = 0,
    as_frame: bool = False,
    return_truth: bool = False,
) -> tuple[Any, ...]:
    """Two or more classes with informative, clustered and noise features.

    Returns ``X, y`` (numpy arrays, or DataFrame/Series with ``as_frame``), plus the
    Truth when ``return_truth``. ``weights`` are class shares (rounded to exact counts);
    clusters get an anchor effect of ``effect_size``.
    """
    shares = np.asarray(weights if weights is not None else [1.0] * n_classes, dtype=float)
    if len(shares) != n_classes or (shares <= 0).any():
        raise SpecError("weights", weights, f"give {n_classes} positive class shares")
    counts = largest_remainder(n_samples, shares)
    spec: dict[str, Any] = {
        "name": "make_biomedical_classification",
        "seed": 0 if random_state is None else random_state,
        "shuffle": shuffle,
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
    }
    if n_batches:
        spec["batches"] = {"n": n_batches, "strength": batch_strength, "confounding": confounding}
    data = generate(spec)
    X: Any = data.X
    y: Any = data.y
    if not as_frame:
        X, y = data.X.to_numpy(), data.y.cat.codes.to_numpy().astype(np.int64)
    out: tuple[Any, ...] = (X, y)
    return (*out, data.truth) if return_truth else out
