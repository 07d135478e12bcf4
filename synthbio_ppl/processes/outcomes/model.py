"""The outcome's NumPyro model: the linear predictor, then y, or event and censoring times.

    η_i = β₀ + Σ_j β_j z_ij + Σ γ x_a x_b + Σ q (x_a − c)² + Σ δ 1{x_a > c}
          + Σ w 1{(x_a > c_a) ≠ (x_b > c_b)} + u_batch(i),      u_b ~ N(0, τ²)

Binary: y ~ Bernoulli(σ(η)) or Bernoulli(Φ(η)); with an exact count of cases, a score
η + ε (ε logistic or normal) whose largest values are the cases (the latent-threshold
model: conditional on the threshold c, P(y = 1 | x) = σ(η − c)). Continuous:
y ~ N(η, s²). Survival (proportional hazards; Bender, Augustin & Blettner 2005, Stat Med
24:1713): for each cause k a latent failure time T_k with hazard h₀ₖ(t) e^{η_k} —
Weibull(scale (λ e^η)^(−1/ν), shape ν), Exponential(λ e^η) or Gompertz (H(t) =
λ e^η (e^{αt} − 1)/α) — and censoring C = min(end of study, Exponential(r)); the table
holds min(T, C) and the first cause (0: censored). When fitting, each time site is
observed right-censored (``RightCensoredDistribution``), so the same sites are the
likelihood of event, competing and censoring times.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from synthbio_ppl.core.lazy import dist, jax, jnp, numpyro
from synthbio_ppl.core.priors import Prior
from synthbio_ppl.processes.outcomes.layout import CLASS, Cause, Linear, OutcomeLayout

if TYPE_CHECKING:
    from jax import Array

INTERCEPT = Prior(
    "intercept", "β₀, the linear predictor at x = 0", "N(0, 2²)", lambda: dist.Normal(0.0, 2.0)
)
COEFFICIENT = Prior(
    "coefficients",
    "β (and γ, q, δ, w), per unit of the term",
    "N(0, 1)",
    lambda: dist.Normal(0.0, 1.0),
)
NOISE_SD = Prior(
    "noise_sd",
    "s, the continuous outcome's residual sd",
    "LogNormal(0, 1)",
    lambda: dist.LogNormal(0.0, 1.0),
)
BATCH_EFFECT = Prior(
    "batch_effect",
    "τ, the sd of the batches' shifts of η",
    "HalfNormal(1)",
    lambda: dist.HalfNormal(1.0),
)
SCALE = Prior(
    "scale",
    "λ, the baseline hazard's scale",
    "LogNormal(−2, 1.5²)",
    lambda: dist.LogNormal(-2.0, 1.5),
)
SHAPE = Prior(
    "shape",
    "ν (Weibull) or α (Gompertz), the baseline's shape",
    "LogNormal(0, 0.5²)",
    lambda: dist.LogNormal(0.0, 0.5),
)
CENSORING_RATE = Prior(
    "censoring_rate",
    "r, the random censoring rate",
    "LogNormal(−2, 1.5²)",
    lambda: dist.LogNormal(-2.0, 1.5),
)


def _constant(param: str, meaning: str) -> Prior:
    return Prior(
        param,
        f"{meaning} (a design constant: fixed in fits)",
        "N(0, 10²)",
        lambda: dist.Normal(0.0, 10.0),
    )


QUADRATIC_CENTRE = _constant("quadratic_centre", "c, where a quadratic term bottoms out")
THRESHOLD_AT = _constant("threshold_at", "c, a step's position")
XOR_AT = _constant("xor_at", "(c_a, c_b), an XOR term's thresholds")
END_OF_STUDY = _constant("end_of_study", "the administrative end of study")
PRIORS = (
    INTERCEPT,
    COEFFICIENT,
    NOISE_SD,
    BATCH_EFFECT,
    SCALE,
    SHAPE,
    CENSORING_RATE,
    QUADRATIC_CENTRE,
    THRESHOLD_AT,
    XOR_AT,
    END_OF_STUDY,
)

CONSTANTS = ("quadratic_centre", "threshold_at", "xor_at", "end_of_study")
"""Sites that are design constants: fixed in fits to the spec's values."""


def _vector(name: str, n: int, prior: Prior) -> Array:
    return numpyro.sample(name, prior.make().expand((n,)).to_event(1))


def linear_terms(linear: Linear, X: Array, codes: dict[str, Array], site: str) -> Array:
    """Σ_j β_j z_ij: z a feature column or a design level's indicator, (rows,), sampling
    β at ``site`` (no site without terms)."""
    eta = jnp.zeros(X.shape[0], X.dtype)
    if not linear.names:
        return eta
    beta = _vector(site, len(linear.names), COEFFICIENT)
    features = [k for k, j in enumerate(linear.columns) if j >= 0]
    if features:  # one gather and one product, however many columns a block term has
        idx = jnp.asarray([linear.columns[k] for k in features])
        eta = eta + X[:, idx] @ beta[jnp.asarray(features)]
    at_levels = [k for k, j in enumerate(linear.columns) if j < 0]
    for k, (column, level) in zip(at_levels, linear.levels, strict=True):
        indicator = codes["y" if column == CLASS else column] == level
        eta = eta + indicator.astype(X.dtype) * beta[k]
    return eta


def linear_predictor(
    static: OutcomeLayout, X: Array, codes: dict[str, Array], batch: Array | None
) -> Array:
    """η without the intercept, (rows,), sampling the coefficient sites."""
    p = static.name
    eta = linear_terms(static.linear, X, codes, f"{p}.coefficients")
    if static.interactions:
        a, b = (jnp.asarray(i) for i in zip(*static.interactions, strict=True))
        eta = eta + (X[:, a] * X[:, b]) @ _vector(f"{p}.interactions", len(a), COEFFICIENT)
    if static.quadratic:
        idx = jnp.asarray(static.quadratic)
        centre = _vector(f"{p}.quadratic_centre", len(idx), QUADRATIC_CENTRE)
        eta = eta + (X[:, idx] - centre) ** 2 @ _vector(f"{p}.quadratic", len(idx), COEFFICIENT)
    if static.thresholds:
        idx = jnp.asarray(static.thresholds)
        at = _vector(f"{p}.threshold_at", len(idx), THRESHOLD_AT)
        step = (X[:, idx] > at).astype(X.dtype)
        eta = eta + step @ _vector(f"{p}.thresholds", len(idx), COEFFICIENT)
    if static.xor:
        a, b = (jnp.asarray(i) for i in zip(*static.xor, strict=True))
        at = numpyro.sample(f"{p}.xor_at", XOR_AT.make().expand((len(a), 2)).to_event(2))
        flip = ((X[:, a] > at[:, 0]) != (X[:, b] > at[:, 1])).astype(X.dtype)
        eta = eta + flip @ _vector(f"{p}.xor", len(a), COEFFICIENT)
    if static.n_batches:
        tau = numpyro.sample(f"{p}.batch_effect", BATCH_EFFECT.make())
        shift = numpyro.sample(
            f"{p}.batch_shift", dist.Normal(0.0, tau).expand((static.n_batches,)).to_event(1)
        )
        eta = eta + shift[batch]
    return eta


def hazard_distribution(family: str, scale: Array, shape: Array, eta: Array) -> Any:
    """The failure time's distribution under proportional hazards, h₀(t) e^η."""
    risk = scale * jnp.exp(eta)
    if family == "weibull":
        return dist.Weibull(risk ** (-1.0 / shape), shape)
    if family == "exponential":
        return dist.Exponential(risk)
    return dist.Gompertz(risk / shape, shape)


def cause_parameters(cause: Cause) -> tuple[Array, Array]:
    scale = numpyro.sample(f"{cause.name}.scale", SCALE.make())
    if cause.family == "exponential":
        return scale, jnp.ones((), scale.dtype)
    return scale, numpyro.sample(f"{cause.name}.shape", SHAPE.make())


def sample_outcome(
    static: OutcomeLayout,
    X: Array,
    codes: dict[str, Array],
    plate: Any,
    observed: dict[str, Array] | None,
    exact: bool,
) -> dict[str, Array]:
    """The outcome's per-row outputs (see the module docstring)."""
    p = static.name
    eta = linear_predictor(static, X, codes, codes.get("batch"))
    if static.kind == "survival":
        return _survival(static, X, codes, eta, plate, observed)
    out: dict[str, Array] = {}
    if static.kind == "binary" and static.exact and exact and observed is None:
        noise = dist.Logistic(eta, 1.0) if static.link == "logit" else dist.Normal(eta, 1.0)
        with plate:
            out[f"{p}.score"] = numpyro.sample(f"{p}.score", noise)
        out[f"{p}.linear_predictor"] = eta
        return out
    eta = eta + numpyro.sample(f"{p}.intercept", INTERCEPT.make())
    obs = None if observed is None else observed["y"]
    if static.kind == "binary":
        if static.link == "logit":
            probability, fn = jax.nn.sigmoid(eta), dist.Bernoulli(logits=eta)
        else:
            probability = jax.scipy.stats.norm.cdf(eta)
            fn = dist.Bernoulli(probs=jnp.clip(probability, 1e-12, 1 - 1e-12))
        out[f"{p}.probability"] = probability
    else:
        fn = dist.Normal(eta, numpyro.sample(f"{p}.noise_sd", NOISE_SD.make()))
    with plate:
        out[f"{p}.y"] = numpyro.sample(f"{p}.y", fn, obs=obs)
    out[f"{p}.linear_predictor"] = eta
    return out


def _survival(
    static: OutcomeLayout,
    X: Array,
    codes: dict[str, Array],
    eta: Array,
    plate: Any,
    observed: dict[str, Array] | None,
) -> dict[str, Array]:
    p = static.name
    out: dict[str, Array] = {f"{p}.linear_predictor": eta}
    laws = []
    for k, cause in enumerate(static.causes):
        if k:
            eta_k = linear_terms(cause.linear, X, codes, f"{cause.name}.coefficients")
            out[f"{cause.name}.linear_predictor"] = eta_k
        else:
            eta_k = eta
        laws.append(hazard_distribution(cause.family, *cause_parameters(cause), eta_k))
    end = numpyro.sample(f"{p}.end_of_study", END_OF_STUDY.make()) if static.end_of_study else None
    rate = (
        numpyro.sample(f"{p}.censoring_rate", CENSORING_RATE.make())
        if static.random_censoring
        else None
    )
    if observed is not None:
        time, event = observed["time"], observed["event"]
        with plate:
            for k, (cause, law) in enumerate(zip(static.causes, laws, strict=True)):
                censored = event != k + 1
                numpyro.sample(
                    f"{cause.name}.event_time",
                    dist.RightCensoredDistribution(law, censored),
                    obs=time,
                )
            if rate is not None:
                at_end = False if end is None else time >= end * (1 - 1e-6)
                censored = (event != 0) | at_end
                numpyro.sample(
                    f"{p}.censoring_time",
                    dist.RightCensoredDistribution(dist.Exponential(rate), censored),
                    obs=time,
                )
        return out
    with plate:
        times = jnp.stack(
            [
                numpyro.sample(f"{c.name}.event_time", law)
                for c, law in zip(static.causes, laws, strict=True)
            ],
            axis=-1,
        )
        for c in static.causes:
            out[f"{c.name}.event_time"] = times[:, static.causes.index(c)]
        first = jnp.min(times, axis=-1)
        cause = jnp.argmin(times, axis=-1).astype(jnp.int32) + 1
        limit = jnp.full_like(first, jnp.inf)
        if rate is not None:
            limit = numpyro.sample(f"{p}.censoring_time", dist.Exponential(rate))
            out[f"{p}.censoring_time"] = limit
        if end is not None:
            limit = jnp.minimum(limit, end)
        happened = first <= limit  # the table's columns: sites, so a simulation returns them
        time = numpyro.deterministic(f"{p}.time", jnp.where(happened, first, limit))
        event = numpyro.deterministic(f"{p}.event", jnp.where(happened, cause, 0).astype(jnp.int32))
    out[f"{p}.time"], out[f"{p}.event"] = time, event
    return out
