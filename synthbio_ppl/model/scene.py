"""The dataset spec: validated pydantic models, loaded from and saved to YAML.

The YAML shape is the public contract: fields may be added, never removed. Every field
carries a description, and ``synthbio reference`` renders them, so the reference cannot
drift from the code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from synthbio_ppl.core.errors import SpecError, from_validation_error
from synthbio_ppl.families.table import Distribution, family_params
from synthbio_ppl.processes.structural.spec import StructuralSpec

_NAME = r"^[A-Za-z][A-Za-z0-9_]*$"
IMPLICIT_CLASS = "all"
"""The single class of a structural scene that declares no classes."""
EffectSize = float | list[float]


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False
    )


class ClassSpec(_Strict):
    """One class and its exact number of rows."""

    name: str = Field(min_length=1, description="Class label as it appears in `y`.")
    n: int = Field(ge=1, description="Exact number of rows of this class.")


class _FamilyBlock(_Strict):
    name: str | None = Field(
        None,
        pattern=_NAME,
        description="Block name, used for column names and the block's random stream "
        "(default: kind + index, e.g. `inf0`). Name blocks to keep their values fixed "
        "when other blocks are added or removed.",
    )
    n: int = Field(ge=1, description="Number of features in the block.")
    distribution: Distribution = Field("normal", description="Feature family.")
    params: dict[str, float] = Field(
        default_factory=dict,
        description="Family parameters: lognormal {sigma}, student_t {df > 2}, gamma {shape}, "
        "beta {a, b}; standardised families have mean 0 and variance 1.",
    )

    @model_validator(mode="after")
    def _check_params(self) -> _FamilyBlock:
        try:
            family_params(self.distribution, self.params, getattr(self, "standardise", True))
        except ValueError as exc:
            raise SpecError("params", self.params, str(exc)) from None
        return self


class InformativeGroup(_FamilyBlock):
    """Features whose class means differ: x = m[y] + u, u standardised (mean 0, sd 1)."""

    effect_size: EffectSize = Field(
        1.0,
        description="Cohen's d between adjacent classes: one number, or a list of K-1. Class "
        "means are the centred running sum (two classes: ±d/2).",
    )


class NoiseGroup(_FamilyBlock):
    """Irrelevant features: the same distribution in every class."""

    standardise: bool = Field(
        True,
        description="true: mean 0, variance 1; false: the family's raw parameters "
        "(normal {loc, scale}, uniform {low, high}, lognormal {mu, sigma}, laplace {loc, "
        "scale}, exponential {rate}, student_t {df, loc, scale}, gamma {shape, rate}, "
        "logistic {loc, scale}, beta {a, b}).",
    )


class PseudoClassGroup(_FamilyBlock):
    """Irrelevant features shifted by a latent grouping independent of the class."""

    groups: int = Field(2, ge=2, description="Number of latent groups (balanced sizes).")
    effect_size: EffectSize = Field(
        1.0, description="Cohen's d between adjacent latent groups: one number or groups-1."
    )


class Cluster(_Strict):
    """Correlated anchor + proxies; the anchor carries the class shift, proxies echo it."""

    name: str | None = Field(None, pattern=_NAME, description="Block name (default `cluN`).")
    n: int = Field(ge=2, description="Features in the cluster: 1 anchor + n-1 proxies.")
    structure: Literal["equicorrelated", "toeplitz"] = Field(
        "equicorrelated",
        description="equicorrelated: ρ between every pair; toeplitz: ρ^|i-j| (AR(1)).",
    )
    correlation: float | dict[str, float] = Field(
        0.5,
        description="ρ: one number, or one per class {class: ρ} (differential co-expression). "
        "Equicorrelated needs -1/(n-1) < ρ < 1; toeplitz |ρ| < 1.",
    )
    anchor_effect: EffectSize = Field(
        0.0, description="Cohen's d of the anchor between adjacent classes; 0 = no shift."
    )
    proxy_attenuation: float = Field(
        1.0, ge=0.0, description="α: proxy j's shift is anchor shift · α · R[anchor, j]."
    )

    @field_validator("correlation")
    @classmethod
    def _check_range(cls, value: float | dict[str, float], info: Any) -> Any:
        n, structure = info.data.get("n"), info.data.get("structure")
        if n is None or structure is None:
            return value
        values = value.values() if isinstance(value, dict) else [value]
        low = -1.0 / (n - 1) if structure == "equicorrelated" else -1.0
        for rho in values:
            if not (low < rho < 1.0):
                where = f"an {structure} cluster of {n} features"
                raise SpecError(
                    "",
                    rho,
                    f"must lie in ({low:.4g}, 1) for {where} (positive-definite range)",
                )
        return value


Affects = Literal["all", "informative", "clusters", "noise", "pseudo"] | list[str]


class Batches(_Strict):
    """Batches (sites, plates, runs): assignment confounded with class, plus their effects."""

    n: int = Field(ge=2, description="Number of batches.")
    effect: Literal["additive", "multiplicative"] = Field(
        "additive",
        description="additive: x + β, β ~ N(0, s²); multiplicative: x · exp(γ), γ ~ N(0, s²).",
    )
    strength: float = Field(0.5, ge=0.0, description="s, the sd of offsets or log-factors.")
    granularity: Literal["per_feature", "scalar"] = Field(
        "per_feature", description="per_feature: one offset per batch × feature; scalar: per batch."
    )
    confounding: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="c in [0, 1]: the class×batch table is (1-c)·independent + c·most aligned, "
        "rounded so class counts and batch sizes are exact.",
    )
    proportions: list[float] | None = Field(
        None, description="Batch shares (n of them, > 0, summing to 1); default equal."
    )
    affects: Affects = Field(
        "all",
        description="Features hit by batch effects: all | informative | clusters | noise | "
        "pseudo | a list of block or feature names.",
    )

    @field_validator("proportions")
    @classmethod
    def _check_proportions(cls, value: list[float] | None, info: Any) -> list[float] | None:
        if value is None:
            return value
        n = info.data.get("n")
        if n is not None and len(value) != n:
            raise SpecError("", value, f"needs one share per batch ({n})")
        if any(p <= 0 for p in value) or not math.isclose(sum(value), 1.0, abs_tol=1e-6):
            raise SpecError("", value, "shares must be > 0 and sum to 1")
        return value


class Spec(_Strict):
    """A whole dataset: classes, feature blocks, batches."""

    name: str = Field("dataset", min_length=1, description="Dataset name.")
    seed: int = Field(0, ge=0, lt=2**32, description="Root seed; every stream derives from it.")
    shuffle: bool = Field(True, description="Shuffle rows; false keeps them grouped by class.")
    dtype: Literal["float32", "float64"] = Field("float32", description="Feature dtype.")
    classes: list[ClassSpec] = Field(
        default_factory=lambda: [ClassSpec(name="healthy", n=50), ClassSpec(name="diseased", n=50)],
        min_length=1,
        description="Two or more classes with exact counts. A structural scene may omit them "
        f"(one implicit class `{IMPLICIT_CLASS}` of `structure.n` rows, y constant).",
    )
    informative: list[InformativeGroup] = Field(default_factory=list, description="Signal groups.")
    clusters: list[Cluster] = Field(default_factory=list, description="Correlated clusters.")
    noise: list[NoiseGroup] = Field(default_factory=list, description="Noise groups.")
    pseudo_classes: list[PseudoClassGroup] = Field(
        default_factory=list, description="Pseudo-class groups (structure that is not signal)."
    )
    batches: Batches | None = Field(None, description="Batch assignment and effects.")
    structure: StructuralSpec | None = Field(
        None, description="Covariates, latent factors and biomarker formulas (a structural scene)."
    )

    @model_validator(mode="before")
    @classmethod
    def _implicit_class(cls, data: Any) -> Any:
        """A structural scene without ``classes`` gets one class of ``structure.n`` rows."""
        if not isinstance(data, dict) or "classes" in data or data.get("structure") is None:
            return data
        structure = data["structure"]
        n = structure.get("n") if isinstance(structure, dict) else getattr(structure, "n", None)
        if n is None:
            raise SpecError("structure.n", "(missing)", "give the number of rows, or `classes`")
        return {**data, "classes": [{"name": IMPLICIT_CLASS, "n": n}]}

    @property
    def class_names(self) -> list[str]:
        return [c.name for c in self.classes]

    @property
    def n_rows(self) -> int:
        return sum(c.n for c in self.classes)

    @model_validator(mode="after")
    def _check_whole(self) -> Spec:
        names = self.class_names
        if len(set(names)) != len(names):
            raise SpecError("classes", names, "class names must be unique")
        k = len(names)
        if k < 2 and self.structure is None:
            raise SpecError("classes", names, "give two or more classes")
        if k < 2 and self.informative:
            raise SpecError("informative", "(with one class)", "informative groups need 2+ classes")
        if self.structure is not None and self.structure.n not in (None, self.n_rows):
            raise SpecError(
                "structure.n", self.structure.n, f"must equal the classes' total {self.n_rows}"
            )
        _check_lengths(self.informative, "informative", "effect_size", k - 1)
        _check_lengths(self.clusters, "clusters", "anchor_effect", k - 1)
        for i, group in enumerate(self.pseudo_classes):
            _check_length(group.effect_size, f"pseudo_classes[{i}].effect_size", group.groups - 1)
        for i, cluster in enumerate(self.clusters):
            if isinstance(cluster.correlation, dict) and set(cluster.correlation) != set(names):
                raise SpecError(
                    f"clusters[{i}].correlation",
                    cluster.correlation,
                    f"a per-class correlation needs exactly the classes {names}",
                )
        blocks_given = self.informative or self.clusters or self.noise or self.pseudo_classes
        if not (blocks_given or self.structure):
            raise SpecError("", "no feature blocks", "add at least one block of features")
        from synthbio_ppl.model.layout import block_names, column_names

        blocks = block_names(self)
        duplicated = sorted({b for b in blocks if blocks.count(b) > 1})
        if duplicated:
            raise SpecError("name", duplicated[0], "block names must be unique")
        if self.structure is not None:
            _check_structure_names(self, column_names(self))
        if self.batches is not None and isinstance(self.batches.affects, list):
            known = set(blocks) | set(column_names(self))
            for j, item in enumerate(self.batches.affects):
                if item not in known:
                    raise SpecError(
                        f"batches.affects[{j}]", item, "must name a block or a feature column"
                    )
        return self

    def to_yaml(self) -> str:
        """The spec as YAML text (every field, defaults included)."""
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)

    def with_seed(self, seed: int | None) -> Spec:
        """A copy with another root seed (``None`` keeps this one)."""
        return self if seed is None else validate_spec({**self.model_dump(), "seed": seed})


def _check_structure_names(spec: Spec, columns: list[str]) -> None:
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise SpecError("structure.biomarkers", repeated[0], "clashes with another column name")
    for name in spec.structure.covariates if spec.structure else ():
        if name in ("y", "batch") or name.endswith("_group"):
            raise SpecError(f"structure.covariates.{name}", name, "is reserved (y, batch, *_group)")


def _check_lengths(groups: Sequence[Any], field: str, attr: str, expected: int) -> None:
    for i, group in enumerate(groups):
        _check_length(getattr(group, attr), f"{field}[{i}].{attr}", expected)


def _check_length(value: EffectSize, path: str, expected: int) -> None:
    if isinstance(value, list) and len(value) != expected:
        raise SpecError(path, value, f"give one number or a list of {expected}")


def effect_vector(value: EffectSize, n: int) -> list[float]:
    """A scalar effect size repeated ``n`` times, or the list itself."""
    return list(value) if isinstance(value, list) else [float(value)] * n


def validate_spec(data: Spec | dict[str, Any]) -> Spec:
    """A validated Spec from a dict (or the Spec itself); raise SpecError when invalid."""
    if isinstance(data, Spec):
        return data
    if not isinstance(data, dict):
        raise SpecError("", data, "a spec must be a mapping of fields")
    try:
        return Spec.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc) from None


def load_spec(source: str | Path) -> Spec:
    """Read and validate a YAML spec file."""
    path = Path(source)
    try:
        text = path.read_text()
    except OSError as exc:
        raise SpecError("", str(path), f"cannot read the file ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecError("", str(path), f"not valid YAML{where}") from None
    return validate_spec(data)


def save_spec(spec: Spec, path: str | Path) -> None:
    """Write the spec as YAML."""
    Path(path).write_text(spec.to_yaml())
