"""The spec of an outcome drawn from the features: binary, continuous or time-to-event.

Terms name feature columns (``noise0_3``), whole blocks (``signal``: every column, one
coefficient each) or a design level (``smoker=current``, ``class=case``, ``batch=b1``:
1 for the rows at that level). Nonlinear terms name feature columns.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.precision import SMALLEST
from synthbio_ppl.spec.fields import NAME_PATTERN, Count, Strict

OutcomeKind = Literal["binary", "continuous", "survival"]
Coefficient = Field(ge=-50.0, le=50.0, description="Its coefficient on the linear predictor.")
Beta = Annotated[float, Field(ge=-50.0, le=50.0)]
"""A coefficient: per unit of its term, on the log-odds, mean or log-hazard scale."""


class Interaction(Strict):
    """γ · x_a · x_b (a pairwise interaction)."""

    features: tuple[str, str] = Field(description="The two feature columns.")
    coefficient: float = Coefficient


class Quadratic(Strict):
    """q · (x_a − centre)² (a U-shaped term for q > 0)."""

    feature: str = Field(description="The feature column.")
    centre: float = Field(0.0, ge=-1e6, le=1e6, description="Where the U bottoms out.")
    coefficient: float = Coefficient


class Threshold(Strict):
    """δ · 1{x_a > at} (a step)."""

    feature: str = Field(description="The feature column.")
    at: float = Field(0.0, ge=-1e6, le=1e6, description="The step's position.")
    coefficient: float = Coefficient


class Xor(Strict):
    """w · 1{(x_a > at_a) ≠ (x_b > at_b)} (XOR of two thresholded features)."""

    features: tuple[str, str] = Field(description="The two feature columns.")
    at: tuple[
        Annotated[float, Field(ge=-1e6, le=1e6)], Annotated[float, Field(ge=-1e6, le=1e6)]
    ] = Field((0.0, 0.0), description="Each feature's threshold.")
    coefficient: float = Coefficient

    @model_validator(mode="after")
    def _two_features(self) -> Xor:
        if self.features[0] == self.features[1]:
            raise SpecError("features", list(self.features), "name two different features")
        return self


class Baseline(Strict):
    """The baseline hazard h₀(t): Weibull λν t^(ν−1), exponential λ, Gompertz λ e^(αt).

    Proportional hazards after Bender, Augustin & Blettner (2005, Stat Med 24:1713). Times
    are in the units the scale implies (λ per time unit^ν). The shape defaults to 1.5
    (Weibull), 1 (exponential, the only value allowed) and 0.1 (Gompertz)."""

    distribution: Literal["weibull", "exponential", "gompertz"] = Field(
        "weibull", description="The baseline hazard's family."
    )
    scale: float = Field(
        0.1, gt=0.0, le=1e6, description="λ, the baseline hazard's scale (at linear predictor 0)."
    )
    shape: float = Field(
        1.5, gt=0.0, le=100.0, description="ν (Weibull) or α (Gompertz); exponential: must be 1."
    )

    @model_validator(mode="before")
    @classmethod
    def _family_shape(cls, data: Any) -> Any:
        if isinstance(data, dict) and "shape" not in data:
            family = data.get("distribution")  # any YAML value: a list cannot be hashed
            fixed = {"exponential": 1.0, "gompertz": 0.1}
            default = fixed.get(family) if isinstance(family, str) else None
            return data if default is None else {**data, "shape": default}
        return data

    @model_validator(mode="after")
    def _exponential_shape(self) -> Baseline:
        if self.distribution == "exponential" and self.shape != 1.0:
            raise SpecError("shape", self.shape, "an exponential baseline has shape 1")
        return self


class Censoring(Strict):
    """Right censoring at C = min(end_of_study, C_random), C_random ~ Exponential(r).

    r is solved so that the expected censored share is ``fraction``; where the end of study
    alone censors that share (within the pilot's sampling error) no random censoring is
    added."""

    end_of_study: float | None = Field(
        None, gt=0.0, le=1e9, description="Administrative end: every time is cut there."
    )
    fraction: float | None = Field(
        None, ge=0.0, lt=1.0, description="Target share of censored rows (random censoring)."
    )


class CompetingRisk(Strict):
    """A competing cause with its own baseline hazard and linear terms.

    Latent failure times: the first cause to occur is observed, event = its number."""

    name: str = Field(pattern=NAME_PATTERN, description="The cause's name (its sites' prefix).")
    baseline: Baseline = Field(default_factory=Baseline, description="Its baseline hazard.")
    coefficients: dict[str, Beta] = Field(
        default_factory=dict, description="Its linear terms: {column, block or design=level: β}."
    )


def _is_default(model: Any, name: str, value: Any) -> bool:
    """Whether ``value`` is the field's default (a saved spec writes every field)."""
    info = model.model_fields[name]
    default = info.default_factory() if info.default_factory is not None else info.default
    if isinstance(default, tuple | list) and isinstance(value, tuple | list):
        return list(default) == list(value)
    return value == default and not isinstance(value, bool)


_ONLY = {
    "binary": ("link", "prevalence", "cases", "intercept", "labels"),
    "continuous": ("r2", "noise_sd", "intercept"),
    "survival": ("baseline", "censoring", "competing_risks", "times"),
}


class Outcome(Strict):
    """A per-row outcome drawn from the features (y | x): binary, continuous or survival.

    η_i = β₀ + Σ_j β_j x_ij + interactions + quadratic + thresholds + XOR (+ the batch's
    shift). Binary: P(y = 1 | x) = σ(η) (logit) or Φ(η) (probit); ``cases`` gives an
    exact count through a latent threshold, y = 1 for the rows whose η + ε is among the
    largest. Continuous: y = η + ε, Var(ε) set by ``r2`` = Var(η)/(Var(η) + Var(ε)).
    Survival: proportional hazards h(t | x) = h₀(t) e^η, right-censored.
    """

    kind: OutcomeKind = Field(description="binary, continuous or survival.")
    name: str = Field(
        "outcome", pattern=NAME_PATTERN, description="The outcome's name (its sites' prefix)."
    )
    n: Count | None = Field(
        None, ge=2, le=2**31 - 1, description="Rows, when the scene declares no classes (a cohort)."
    )
    coefficients: dict[str, Beta] = Field(
        default_factory=dict, description="Linear terms: {column, block or design=level: β}."
    )
    interactions: list[Interaction] = Field(default_factory=list, description="x_a·x_b terms.")
    quadratic: list[Quadratic] = Field(default_factory=list, description="(x_a − c)² terms.")
    thresholds: list[Threshold] = Field(default_factory=list, description="1{x_a > c} terms.")
    xor: list[Xor] = Field(default_factory=list, description="XOR terms of two features.")
    batch_effect: float = Field(
        0.0, ge=0.0, le=10.0, description="Sd of each batch's shift of η (0: none)."
    )
    link: Literal["logit", "probit"] = Field("logit", description="Binary: the link.")
    prevalence: float | None = Field(
        None, gt=0.0, lt=1.0, description="Binary: target share of y = 1 (intercept solved)."
    )
    cases: Count | None = Field(
        None, ge=1, description="Binary: exact number of rows with y = 1 (latent threshold)."
    )
    intercept: float | None = Field(
        None, ge=-50.0, le=50.0, description="β₀ given directly (binary, continuous)."
    )
    labels: tuple[str, str] = Field(
        ("negative", "positive"), description="Binary: the names of y = 0 and y = 1."
    )
    r2: float | None = Field(
        None, ge=1e-4, le=0.9999, description="Continuous: target R² of η (noise solved)."
    )
    noise_sd: float | None = Field(None, gt=0.0, le=1e6, description="Continuous: sd of ε.")
    baseline: Baseline | None = Field(None, description="Survival: the baseline hazard.")
    censoring: Censoring | None = Field(None, description="Survival: right censoring.")
    competing_risks: list[CompetingRisk] = Field(
        default_factory=list, description="Survival: other causes (event 2, 3, ...)."
    )
    times: list[float] = Field(
        default_factory=list,
        max_length=100,
        description="Survival: times at which the truth gives each row's event-free survival.",
    )

    @model_validator(mode="before")
    @classmethod
    def _fields_of_the_kind(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
            return data  # the field's own check names a kind that is not a name
        if data["kind"] not in _ONLY:
            return data
        kind = data["kind"]
        for name in dict.fromkeys(n for names in _ONLY.values() for n in names):
            given = name in data and not _is_default(cls, name, data[name])
            if given and name not in _ONLY[kind]:
                kinds = " or ".join(k for k, names in _ONLY.items() if name in names)
                raise SpecError(name, data[name], f"applies to kind: {kinds}, not {kind}")
        return data

    @model_validator(mode="after")
    def _one_target(self) -> Outcome:
        if self.kind == "binary":
            given = [
                f for f in ("prevalence", "cases", "intercept") if getattr(self, f) is not None
            ]
            if len(given) > 1:
                raise SpecError(given[1], getattr(self, given[1]), f"give one of {given}")
            if self.labels[0] == self.labels[1] or not all(self.labels):
                raise SpecError("labels", list(self.labels), "need two different names")
        if self.kind == "continuous" and self.r2 is not None and self.noise_sd is not None:
            raise SpecError("noise_sd", self.noise_sd, "give r2 or noise_sd, not both")
        if self.kind == "survival":
            if any(t <= 0 or t > 1e9 for t in self.times):
                raise SpecError("times", self.times, "must be positive times up to 1e9")
            if len(set(self.times)) != len(self.times):
                raise SpecError("times", self.times, "must be distinct")
            names = [self.name, *(r.name for r in self.competing_risks)]
            if len(set(names)) != len(names):
                raise SpecError("competing_risks", names, "cause names must be unique")
        terms = [*self.interactions, *self.quadratic, *self.thresholds, *self.xor]
        if not self.coefficients and not terms:
            raise SpecError("coefficients", {}, "give at least one term the outcome depends on")
        return self


def check_dtype(outcome: Outcome, field: str, dtype: str) -> None:
    """SpecError at a survival time scale that rounds to 0 in ``dtype``: an end of study
    (every time is cut there, so every time would be 0) or a baseline hazard's scale (the
    hazard would be 0, every time infinite), below the smallest normal number."""
    if outcome.kind != "survival":
        return
    tiny = SMALLEST[dtype]
    wider = ", or dtype: float64" if dtype == "float32" else ""
    end = outcome.censoring.end_of_study if outcome.censoring else None
    if end is not None and end < tiny:
        raise SpecError(
            f"{field}.censoring.end_of_study",
            end,
            f"must be at least {tiny:.4g}, the smallest normal {dtype} (times are cut "
            f"there, and a smaller end makes every time 0); use a larger value{wider}",
        )
    baselines = [(f"{field}.baseline", outcome.baseline)] + [
        (f"{field}.competing_risks[{i}].baseline", r.baseline)
        for i, r in enumerate(outcome.competing_risks)
    ]
    for path, baseline in baselines:
        if baseline is not None and baseline.scale < tiny:
            raise SpecError(
                f"{path}.scale",
                baseline.scale,
                f"must be at least {tiny:.4g}, the smallest normal {dtype} (a smaller "
                f"hazard scale is 0: no event ever happens); use a larger value{wider}",
            )
