"""One-call, scikit-learn-style outcomes drawn from the features (y | x).

``X, y = make_biomedical_regression()`` and ``X, y = make_biomedical_survival()`` build an
``outcome:`` scene (docs/outcomes.md) and generate it; the survival target follows
scikit-survival's convention, a structured array of ``event`` (bool) and ``time``.
"""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.engine.generation import generate
from synthbio_ppl.spec.fields import is_flag
from synthbio_ppl.teaching.sklearn_api import _check_whole, _seed

SURVIVAL_DTYPE = np.dtype([("event", "?"), ("time", "<f8")])
"""scikit-survival's target: one (event, time) record per row."""

ARGUMENTS = (  # spec path → the argument it came from, most specific first
    ("outcome.n", "n_samples"),
    ("outcome.coefficients", "coefficient"),
    ("outcome.r2", "r2"),
    ("outcome.noise_sd", "r2"),
    ("outcome.baseline.distribution", "baseline"),
    ("outcome.baseline.shape", "shape"),
    ("outcome.baseline", "scale"),
    ("outcome.censoring.end_of_study", "end_of_study"),
    ("outcome.censoring.fraction", "censored"),
    ("clusters", "correlation"),
)


def _flag(name: str, value: Any) -> bool:
    if not is_flag(value):
        raise SpecError(name, value, "must be True or False")
    return bool(value)


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool | np.bool_) or not isinstance(value, Real):
        raise SpecError(name, value, "must be a number")
    return float(value)


def _generate(spec: dict[str, Any]) -> Any:
    """``generate``, with a refusal named by the argument the spec field came from."""
    try:
        return generate(spec)
    except SpecError as exc:
        argument = next((a for path, a in ARGUMENTS if exc.path.startswith(path)), None)
        if argument is None:
            raise
        allowed = exc.allowed.replace("raise fraction", "raise censored")
        raise SpecError(argument, exc.value, allowed) from None


def _features(
    n_informative: int,
    n_noise: int,
    n_clusters: int,
    cluster_size: int,
    correlation: float,
    coefficient: float | list[float],
) -> tuple[dict[str, Any], dict[str, float]]:
    """The feature blocks (``signal_*`` standard normal, clusters, ``noise_*``) and the
    linear terms: every signal column and every cluster anchor at ``coefficient`` (one
    number, or one per signal column then one per cluster)."""
    for name, value, low in (
        ("n_informative", n_informative, 0),
        ("n_noise", n_noise, 0),
        ("n_clusters", n_clusters, 0),
        ("cluster_size", cluster_size, 2),
    ):
        _check_whole(name, value, low)
    n_informative, n_noise = int(n_informative), int(n_noise)  # numpy's ints too
    n_clusters, cluster_size = int(n_clusters), int(cluster_size)
    correlation = _number("correlation", correlation)
    if n_informative + n_clusters == 0:
        raise SpecError(
            "n_informative", 0, "give the outcome a feature: n_informative or n_clusters ≥ 1"
        )
    names = [f"signal_{j}" for j in range(n_informative)]
    names += [f"cluster{k}_anchor" for k in range(n_clusters)]
    given = coefficient if isinstance(coefficient, list | tuple) else [coefficient] * len(names)
    if len(given) != len(names) or not all(
        isinstance(c, Real) and not isinstance(c, bool) and np.isfinite(c) for c in given
    ):
        raise SpecError(
            "coefficient", coefficient, f"give one finite number or a list of {len(names)}"
        )
    blocks: dict[str, Any] = {
        "noise": [{"name": "signal", "n": n_informative}] if n_informative else [],
        "clusters": [
            {"name": f"cluster{k}", "n": cluster_size, "correlation": correlation}
            for k in range(n_clusters)
        ],
    }
    if n_noise:
        blocks["noise"] = [*blocks["noise"], {"name": "noise", "n": n_noise}]
    return blocks, {name: float(value) for name, value in zip(names, given, strict=True)}


def make_biomedical_regression(
    n_samples: int = 100,
    n_informative: int = 5,
    n_noise: int = 20,
    r2: float = 0.5,
    coefficient: float | list[float] = 1.0,
    n_clusters: int = 0,
    cluster_size: int = 5,
    correlation: float = 0.7,
    random_state: int | None = 0,
    as_frame: bool = False,
    return_truth: bool = False,
) -> tuple[Any, ...]:
    """A continuous endpoint y = η + ε from standard-normal signal features (and the
    anchors of correlated clusters), with noise features beside them; Var(ε) is solved so
    that η explains ``r2`` of y's variance.

    Returns ``X`` (n_samples, n_features) and ``y`` (n_samples,) float (numpy, or
    DataFrame/Series with ``as_frame``), plus the Truth when ``return_truth`` (its
    ``outcome`` holds the coefficients and the best achievable R²). ``random_state`` as in
    scikit-learn. Raises SpecError naming the argument for a bad value.
    """
    _check_whole("n_samples", n_samples, 2)
    if isinstance(r2, bool | np.bool_) or not isinstance(r2, Real) or not 1e-4 <= r2 <= 0.9999:
        raise SpecError("r2", r2, "must be a number in [0.0001, 0.9999]")
    as_frame, return_truth = _flag("as_frame", as_frame), _flag("return_truth", return_truth)
    blocks, terms = _features(
        n_informative, n_noise, n_clusters, cluster_size, correlation, coefficient
    )
    spec = {
        "name": "make_biomedical_regression",
        "seed": _seed(random_state),
        **blocks,
        "outcome": {
            "kind": "continuous",
            "n": int(n_samples),
            "r2": float(r2),
            "coefficients": terms,
        },
    }
    data = _generate(spec)
    X: Any = data.X if as_frame else data.X.to_numpy()
    y: Any = data.y if as_frame else data.y.to_numpy()
    return (X, y, data.truth) if return_truth else (X, y)


def make_biomedical_survival(
    n_samples: int = 200,
    n_informative: int = 5,
    n_noise: int = 20,
    coefficient: float | list[float] = 0.5,
    baseline: str = "weibull",
    scale: float = 0.1,
    shape: float | None = None,
    censored: float = 0.3,
    end_of_study: float | None = None,
    n_clusters: int = 0,
    cluster_size: int = 5,
    correlation: float = 0.7,
    random_state: int | None = 0,
    as_frame: bool = False,
    return_truth: bool = False,
) -> tuple[Any, ...]:
    """Right-censored times to event under proportional hazards h₀(t)·e^η, η from
    standard-normal signal features (and cluster anchors), with noise features beside.

    ``baseline`` is ``weibull``, ``exponential`` or ``gompertz`` with ``scale`` λ and
    ``shape`` (default per family); random censoring is solved so that ``censored`` of
    the rows are censored, after an optional administrative ``end_of_study``.

    Returns ``X`` and ``y``: a structured array of (``event`` bool, ``time`` float) per
    row as scikit-survival expects, or with ``as_frame`` a DataFrame and a (time, event)
    DataFrame; plus the Truth when ``return_truth`` (its ``outcome`` holds the true
    coefficients, survival curve and C-index). Raises SpecError naming the argument.
    """
    _check_whole("n_samples", n_samples, 2)
    censored = _number("censored", censored)
    if not 0 <= censored < 1:
        raise SpecError("censored", censored, "must be a share in [0, 1)")
    as_frame, return_truth = _flag("as_frame", as_frame), _flag("return_truth", return_truth)
    scale = _number("scale", scale)
    shape = None if shape is None else _number("shape", shape)
    end_of_study = None if end_of_study is None else _number("end_of_study", end_of_study)
    blocks, terms = _features(
        n_informative, n_noise, n_clusters, cluster_size, correlation, coefficient
    )
    law: dict[str, Any] = {"distribution": baseline, "scale": scale}
    if shape is not None:
        law["shape"] = shape
    censoring: dict[str, Any] = {"fraction": float(censored)}
    if end_of_study is not None:
        censoring["end_of_study"] = end_of_study
    spec = {
        "name": "make_biomedical_survival",
        "seed": _seed(random_state),
        **blocks,
        "outcome": {
            "kind": "survival",
            "n": int(n_samples),
            "coefficients": terms,
            "baseline": law,
            "censoring": censoring,
        },
    }
    data = _generate(spec)
    assert data.outcome is not None
    if as_frame:
        out: tuple[Any, ...] = (data.X, data.outcome[["time", "event"]])
    else:
        y = np.empty(len(data.outcome), dtype=SURVIVAL_DTYPE)
        y["event"] = data.outcome["event"].to_numpy() > 0
        y["time"] = data.outcome["time"].to_numpy(dtype=np.float64)
        out = (data.X.to_numpy(), y)
    return (*out, data.truth) if return_truth else out
