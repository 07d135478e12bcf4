"""The outcome's targets met from the pilot rows: intercept, residual sd, censoring rate.

The pilot is the dataset's own rows (up to ``engine.masking.PILOT_ROWS``) or a sample of
them, drawn with the placeholders of ``PLACEHOLDERS``; each solve is a one-dimensional
root (Brent's method, scipy) of the expected share or variance over those rows.
"""

from __future__ import annotations

from typing import Any

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.lazy import np
from synthbio_ppl.processes.outcomes.layout import OutcomeLayout
from synthbio_ppl.processes.outcomes.spec import Outcome


def placeholders(static: OutcomeLayout) -> dict[str, float]:
    """Values of the solved sites for the pilot draw (the linear predictor does not use them)."""
    p = static.name
    out: dict[str, float] = {}
    if static.solve_intercept:
        out[f"{p}.intercept"] = 0.0
    if static.solve_noise:
        out[f"{p}.noise_sd"] = 1.0
    if static.random_censoring:
        out[f"{p}.censoring_rate"] = 1e-30
    return out


def solve_outcome(
    group: Outcome, static: OutcomeLayout, drawn: dict[str, np.ndarray]
) -> dict[str, Any]:
    """The solved sites from the pilot's outputs; SpecError when the pilot's outcome
    overflows or a target cannot be met."""
    from synthbio_ppl.processes.outcomes.table import check_drawn

    check_drawn(static, drawn)  # an overflowed pilot would only mislead the solvers
    p = static.name
    out: dict[str, Any] = {}
    eta = np.asarray(drawn[f"{p}.linear_predictor"], dtype=np.float64)  # intercept 0 here
    if static.solve_intercept:
        assert group.prevalence is not None
        out[f"{p}.intercept"] = intercept_for(eta, group.prevalence, group.link)
    if static.solve_noise:
        out[f"{p}.noise_sd"] = noise_for(eta, group.r2 if group.r2 is not None else 0.5)
    censoring = group.censoring
    if censoring is not None and censoring.fraction is not None:
        times = np.stack([drawn[f"{c.name}.event_time"] for c in static.causes], axis=-1)
        rate = censoring_rate_for(
            times.min(axis=-1).astype(np.float64), censoring.fraction, censoring.end_of_study
        )
        if static.random_censoring:
            out[f"{p}.censoring_rate"] = rate
    return out


def intercept_for(eta: np.ndarray, prevalence: float, link: str) -> float:
    """β₀ with mean_i F(β₀ + η_i) = prevalence (F the inverse link)."""
    from scipy import optimize, special

    inverse = special.expit if link == "logit" else special.ndtr

    def gap(b: float) -> float:
        return float(inverse(b + eta).mean()) - prevalence

    span = 50.0 + float(np.abs(eta).max(initial=0.0))
    return float(optimize.brentq(gap, -span, span, xtol=1e-10))


def noise_for(eta: np.ndarray, r2: float) -> float:
    """s with Var(η)/(Var(η) + s²) = r2."""
    variance = float(eta.var())
    if not variance > 0:
        raise SpecError(
            "outcome.r2", r2, "the linear predictor does not vary over the rows; give noise_sd"
        )
    return float(np.sqrt(variance * (1.0 - r2) / r2))


def censoring_rate_for(times: np.ndarray, fraction: float, end: float | None) -> float:
    """r with mean_i 1{T_i ≤ end} e^{−r T_i} = 1 − fraction (the expected share of
    events; T_i the first latent failure time); SpecError when the end of study alone
    censors more than ``fraction`` beyond the pilot's sampling error, or when failure
    times are 0, or infinite without an end of study."""
    from scipy import optimize

    bad = ~(times > 0) | (np.isinf(times) & (end is None))
    if bad.any():
        raise SpecError(
            "outcome.baseline",
            f"{int(bad.sum())} of {times.size} failure times are 0 or infinite",
            "the hazard under- or overflows; choose a scale, shape and coefficients that "
            "give times well inside the dtype's range",
        )
    before = times <= (np.inf if end is None else end)
    events = float(before.mean())
    # the pilot's share is an estimate: within 3 of its standard errors of the target the
    # end of study alone meets it (no random censoring), beyond that it overshoots
    slack = 3.0 * np.sqrt(max(fraction * (1.0 - fraction), 1.0 / times.size) / times.size)
    if events < 1.0 - fraction - slack:
        raise SpecError(
            "outcome.censoring.fraction",
            fraction,
            f"end_of_study alone censors {1.0 - events:.1%} of rows; raise fraction or "
            "end_of_study",
        )
    if events <= 1.0 - fraction or fraction == 0.0:
        return 1e-30
    t = times[before]
    n = times.size

    def gap(log_rate: float) -> float:
        return float(np.exp(-np.exp(log_rate) * t).sum() / n) - (1.0 - fraction)

    # at rate 1e-6/max(t) every factor is ≈ 1 (the gap is ≥ 0), at 50/min(t) each is
    # below e^-50 (the gap is < 0): a bracket whatever the spread of the times
    lo, hi = np.log(1e-6 / t.max()), np.log(50.0 / t.min())
    return float(np.exp(optimize.brentq(gap, lo, hi, xtol=1e-12)))


def exact_cases(group: Outcome, static: OutcomeLayout, outputs: dict[str, Any]) -> dict[str, Any]:
    """The latent-threshold model on the whole table, in place: y = 1 for the ``cases``
    largest scores η + ε, the threshold c midway between the last case and the first
    control; η becomes η − c and P(y = 1 | x) = F(η − c). Returns ``{intercept: −c}``."""
    p = static.name
    if not static.exact or f"{p}.score" not in outputs:
        return {}
    from scipy import special

    score = outputs.pop(f"{p}.score")
    k = int(group.cases)
    order = np.argsort(-score, kind="stable")
    y = np.zeros(score.shape[0], dtype=np.int32)
    y[order[:k]] = 1
    below = score[order[k]] if k < len(score) else score[order[-1]] - 1.0
    threshold = 0.5 * (float(score[order[k - 1]]) + float(below))
    eta = outputs[f"{p}.linear_predictor"] - threshold
    inverse = special.expit if static.link == "logit" else special.ndtr
    outputs[f"{p}.y"] = y
    outputs[f"{p}.linear_predictor"] = eta
    outputs[f"{p}.probability"] = inverse(eta).astype(score.dtype)
    return {f"{p}.intercept": -threshold}
