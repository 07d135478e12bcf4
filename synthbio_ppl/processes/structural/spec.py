"""Spec of a structural scene: covariates, latent factors and named biomarkers.

The YAML reads like a table of formulas (see ``models/haalsi_like.yaml``)::

    structure:
      name: haalsi                     # prefix of the model's sites (default `scene`)
      n: 10000                         # rows, when the spec has no `classes`
      covariates:                      # categorical, drawn per row, in this order
        region: {levels: {rural: 0.3, mixed: 0.4, urban: 0.3}}
        sex: {levels: {female: 0.5, male: 0.5}}
        smoker: {by: sex, levels: {female: {never: 0.8, ever: 0.2},
                                   male: {never: 0.6, ever: 0.4}}}   # P(smoker | sex)
      factors:                         # continuous latents, f ~ N(mean[level], sd[level]²)
        X: {mean: {by: region, rural: -1.3, mixed: 0, urban: 1.3}, sd: 0.4}
      biomarkers:                      # columns of X, in this order
        Height: {baseline: 160, shifts: {sex: {male: 12}}, noise: 6.5}
        Weight:
          baseline: 52
          loadings: {X: 12}
          depends_on: {Height: {coef: 0.45, centre: 160}}
          shifts: {sex: {male: 7}, region: {urban: 4, rural: -3}}
          noise: 2.8
        CESD_score: {baseline: 9, loadings: {Y: 10}, noise: 4, clip: [0, 60]}

A biomarker is

    x_b = baseline_b + Σ_f loading_bf·f + Σ_c shift_b[c = level] + Σ_p coef_bp·(x_p − centre_bp)
          + noise_b·u,

u a standardised draw of ``family`` (mean 0, variance 1; normal by default), then clipped
to ``clip: [low, high]`` (either side may be null). Levels not named under ``shifts`` are
the reference (shift 0). ``depends_on`` terms use the parent's value after its own clip;
cycles are rejected. Quote level names that YAML reads as booleans (``"yes"``, ``"no"``).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.locations import UNION_TAGS
from synthbio_ppl.families.table import Distribution, family_params
from synthbio_ppl.spec.fields import (
    MAX_ROWS,
    NAME_PATTERN,
    TOO_MANY_ROWS,
    YAML_FLAGS,
    Count,
    Strict,
    is_flag,
    is_name,
)

Family = Distribution

RESERVED = ("baseline", "noise", "loading", "shift", "coef", "probs", "mean", "sd")
"""Names a covariate, factor or biomarker may not take (they name parameter sites)."""


class ByLevel(BaseModel):
    """A value per level of a covariate: ``{by: region, rural: -1.3, mixed: 0, urban: 1.3}``."""

    model_config = ConfigDict(extra="allow", frozen=True, allow_inf_nan=False)
    __pydantic_extra__: dict[str, float] = Field(init=False)

    by: str = Field(description="The covariate whose level picks the value.")
    yaml_form: ClassVar[str] = "{by: covariate, <level>: value, ...}"
    """How messages show what the mapping holds (its levels are not fields)."""

    @model_validator(mode="before")
    @classmethod
    def _no_flags(cls, data: Any) -> Any:
        if isinstance(data, dict):
            flags = {k: v for k, v in data.items() if k != "by" and is_flag(v)}
            if flags:
                level, value = next(iter(flags.items()))
                raise SpecError(level, value, "must be a number, not true/false " + YAML_FLAGS)
        return data

    @property
    def values(self) -> dict[str, float]:
        """``{level: value}`` in the order given."""
        return dict(self.model_extra or {})


Levelled = float | ByLevel


UNION_TAGS.add(ByLevel.__name__)  # a union member (float | ByLevel) tags locations


class Covariate(Strict):
    """A categorical covariate drawn per row: P(level), or P(level | parent level) with `by`."""

    levels: dict[str, float] | dict[str, dict[str, float]] = Field(
        description="{level: probability}; with `by`: {parent level: {level: probability}}. "
        "Probabilities are ≥ 0 and sum to 1."
    )
    by: str | None = Field(None, description="Parent covariate (declared earlier) or none.")

    @property
    def level_names(self) -> list[str]:
        """This covariate's own levels, in order."""
        if self.by is None:
            return list(self.levels)
        return list(next(iter(self.levels.values())))  # type: ignore[arg-type]

    @model_validator(mode="after")
    def _check_probabilities(self) -> Covariate:
        nested = any(isinstance(v, dict) for v in self.levels.values())
        if self.by is None and nested:
            raise SpecError("levels", self.levels, "give {level: probability}, or add `by`")
        if self.by is not None and not nested:
            raise SpecError(
                "levels", self.levels, f"with `by: {self.by}` give {{parent level: {{level: p}}}}"
            )
        tables = self.levels if nested else {"": self.levels}
        first: list[str] | None = None
        for parent, table in tables.items():
            path = f"levels.{parent}" if parent else "levels"
            if not table:
                raise SpecError(path, table, "give at least one level")
            if first is None:
                first = list(table)
            elif set(table) != set(first):
                raise SpecError(path, list(table), f"every parent level needs the levels {first}")
            if any(p < 0 for p in table.values()) or not math.isclose(
                sum(table.values()), 1.0, abs_tol=1e-6
            ):
                raise SpecError(path, table, "probabilities must be ≥ 0 and sum to 1")
        return self

    def probabilities(self, parent_levels: list[str] | None = None) -> list[Any]:
        """P(level) as a list, or P(level | parent level): one row per parent level, in the
        order of ``parent_levels``."""
        own = self.level_names
        if self.by is None:
            return [float(self.levels[name]) for name in own]  # type: ignore[arg-type]
        rows = parent_levels if parent_levels is not None else list(self.levels)
        return [[float(self.levels[p][name]) for name in own] for p in rows]  # type: ignore[index]


class Factor(Strict):
    """A continuous latent factor per row: f ~ N(mean[level], sd[level]²)."""

    mean: Levelled = Field(0.0, description="A number, or {by: covariate, level: mean, ...}.")
    sd: Levelled = Field(1.0, description="A number > 0, or {by: covariate, level: sd, ...}.")


class Dependency(Strict):
    """One term coef·(parent − centre) in a biomarker's formula."""

    coef: float = Field(description="Slope on the parent biomarker.")
    centre: float = Field(0.0, description="Value subtracted from the parent (a constant).")


class Biomarker(Strict):
    """x = baseline + Σ loading·factor + Σ shifts + Σ coef·(parent − centre) + noise·u."""

    baseline: float = Field(
        0.0, description="Value at factor 0, reference levels, parents at centre."
    )
    loadings: dict[str, float] = Field(default_factory=dict, description="{factor: loading}.")
    shifts: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="{covariate: {level: shift}}; unnamed levels shift by 0 (reference).",
    )
    depends_on: dict[str, Dependency | float] = Field(
        default_factory=dict,
        description="{biomarker: {coef, centre}} or {biomarker: coef} (centre 0); no cycles.",
    )
    noise: float = Field(1.0, gt=0.0, description="sd of the noise term.")
    family: Family = Field("normal", description="Noise family, standardised (mean 0, sd 1).")
    params: dict[str, float] = Field(
        default_factory=dict, description="Family shape parameters (student_t {df > 2}, ...)."
    )
    clip: tuple[float | None, float | None] | None = Field(
        None, description="[low, high] bounds of the value (null = open side)."
    )

    @model_validator(mode="after")
    def _check(self) -> Biomarker:
        try:
            family_params(self.family, self.params, True)
        except ValueError as exc:
            raise SpecError("params", self.params, str(exc)) from None
        if self.clip is not None:
            low, high = self.clip
            if low is None and high is None:
                raise SpecError("clip", list(self.clip), "give at least one bound, or omit clip")
            if low is not None and high is not None and not low < high:
                raise SpecError("clip", list(self.clip), "needs low < high")
        return self

    def dependencies(self) -> dict[str, Dependency]:
        """``depends_on`` with the ``{parent: coef}`` shorthand expanded."""
        return {
            p: d if isinstance(d, Dependency) else Dependency(coef=d)
            for p, d in self.depends_on.items()
        }


class StructuralSpec(Strict):
    """Region-conditioned latent factors: covariates, factors and biomarker formulas."""

    name: str = Field("scene", pattern=NAME_PATTERN, description="Prefix of the model's sites.")
    n: Count | None = Field(
        None, ge=1, description="Rows; required when the spec has no `classes`, else their sum."
    )

    @field_validator("n")
    @classmethod
    def _at_most_max_rows(cls, n: int | None) -> int | None:
        if n is not None and n > MAX_ROWS:
            raise SpecError("", n, TOO_MANY_ROWS)
        return n

    covariates: dict[str, Covariate] = Field(
        default_factory=dict, description="Categorical covariates, drawn in this order."
    )
    factors: dict[str, Factor] = Field(default_factory=dict, description="Latent factors.")
    biomarkers: dict[str, Biomarker] = Field(
        min_length=1, description="Named biomarkers, the scene's columns, in this order."
    )

    @model_validator(mode="after")
    def _check_references(self) -> StructuralSpec:
        if self.name == "batch":  # batch.strength, batch.offset, ... are the batch sites
            raise SpecError("name", self.name, "is reserved for the batch sites")
        seen: dict[str, str] = {}
        for kind in ("covariates", "factors", "biomarkers"):
            for name in getattr(self, kind):
                where = f"{kind}.{name}"
                if not is_name(name) or name in RESERVED:
                    raise SpecError(
                        where, name, f"needs a name (letters, digits, _), not {RESERVED}"
                    )
                if name in seen:
                    raise SpecError(where, name, f"already names one of the {seen[name]}")
                seen[name] = kind
        levels: dict[str, list[str]] = {}
        for name, cov in self.covariates.items():
            if cov.by is not None:
                if cov.by not in levels:
                    earlier = list(levels)
                    raise SpecError(
                        f"covariates.{name}.by",
                        cov.by,
                        f"must be a covariate declared earlier: {earlier}",
                    )
                _same_levels(f"covariates.{name}.levels", list(cov.levels), levels[cov.by])
            levels[name] = cov.level_names
        for name, factor in self.factors.items():
            for attr in ("mean", "sd"):
                _check_levelled(f"factors.{name}.{attr}", getattr(factor, attr), levels, attr)
        for name, marker in self.biomarkers.items():
            path = f"biomarkers.{name}"
            for factor in marker.loadings:
                if factor not in self.factors:
                    raise SpecError(
                        f"{path}.loadings", factor, f"unknown factor; known: {list(self.factors)}"
                    )
            for cov, shift in marker.shifts.items():
                if cov not in levels:
                    raise SpecError(
                        f"{path}.shifts", cov, f"unknown covariate; known: {list(levels)}"
                    )
                for level in shift:
                    if level not in levels[cov]:
                        raise SpecError(
                            f"{path}.shifts.{cov}", level, f"unknown level; {cov} has {levels[cov]}"
                        )
            for parent in marker.depends_on:
                if parent not in self.biomarkers:
                    raise SpecError(
                        f"{path}.depends_on",
                        parent,
                        f"unknown biomarker; known: {list(self.biomarkers)}",
                    )
        topological_order(self)
        return self

    @property
    def columns(self) -> list[str]:
        """Biomarker column names, in declaration order."""
        return list(self.biomarkers)

    def level_names(self) -> dict[str, list[str]]:
        """``{covariate: [levels]}``."""
        return {name: cov.level_names for name, cov in self.covariates.items()}


def _same_levels(path: str, given: list[str], expected: list[str]) -> None:
    if set(given) != set(expected):
        raise SpecError(path, given, f"give one entry per level {expected}")


def _check_levelled(path: str, value: Levelled, levels: dict[str, list[str]], attr: str) -> None:
    if isinstance(value, ByLevel):
        if value.by not in levels:
            raise SpecError(f"{path}.by", value.by, f"unknown covariate; known: {list(levels)}")
        _same_levels(path, list(value.values), levels[value.by])
        numbers = list(value.values.values())
    else:
        numbers = [value]
    if attr == "sd" and any(not v > 0 for v in numbers):
        raise SpecError(path, numbers if len(numbers) > 1 else numbers[0], "an sd must be > 0")


def topological_order(spec: StructuralSpec) -> list[str]:
    """Biomarkers so that every parent comes before its children (declaration order on ties).

    Raises SpecError naming a biomarker on a cycle.
    """
    names = list(spec.biomarkers)
    parents = {b: set(m.depends_on) for b, m in spec.biomarkers.items()}
    order: list[str] = []
    done: set[str] = set()
    while len(order) < len(names):
        ready = [b for b in names if b not in done and parents[b] <= done]
        if not ready:
            stuck = [b for b in names if b not in done]
            raise SpecError(
                f"biomarkers.{stuck[0]}.depends_on",
                sorted(parents[stuck[0]]),
                f"biomarker dependencies must not form a cycle (among {stuck})",
            )
        order.append(ready[0])
        done.add(ready[0])
    return order
