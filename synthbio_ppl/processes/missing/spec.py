"""The ``missing:`` entries of a spec: one missingness mechanism over a set of columns."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.processes.selection import check_affects
from synthbio_ppl.spec.fields import NAME_PATTERN, Flag, Strict

DEFAULT_STRENGTH = {"mcar": 0.0, "mar": 1.0, "mnar": -1.0}
"""Log-odds per unit (or level step) of the driver when ``strength`` is not given."""


class MissingEntry(Strict):
    """Cells of chosen columns go missing: m_ij ~ Bernoulli(σ(a_j + b·z_ij))."""

    name: str | None = Field(
        None,
        pattern=NAME_PATTERN,
        description="Entry name: its sites are `<name>.intercept`, ... (default `miss<i>`).",
    )
    mechanism: Literal["mcar", "mar", "mnar"] = Field(
        description="mcar: z = 0; mar: z is something observed (`depends_on`); mnar: z is "
        "the cell's own standardised value."
    )
    rate: float = Field(
        ge=0.0,
        lt=1.0,
        allow_inf_nan=False,
        strict=True,
        description="Share of the affected cells that go missing, in [0, 1); the intercepts "
        "a_j are solved for it.",
    )
    strength: float | None = Field(
        None,
        allow_inf_nan=False,
        strict=True,
        description="b, the log-odds per unit of the standardised driver (per level step of "
        "a class, batch or covariate). Default: mar 1, mnar -1 (low values go missing); mcar "
        "has none.",
    )
    depends_on: str | None = Field(
        None,
        min_length=1,
        description="mar only: `class`, `batch`, a covariate (a structural scene's, or "
        "`<block>_group`) or a feature column that no entry hides.",
    )
    form: Literal["logistic", "detection_limit"] = Field(
        "logistic",
        description="mnar only: logistic (above), or detection_limit: every value beyond the "
        "limit goes missing (below it when strength < 0, above when > 0); the limit is the "
        "rate's quantile.",
    )
    exact: Flag = Field(
        False,
        description="Hide exactly round(rate · rows) cells per column: those with the largest "
        "a_j + b·z_ij + Gumbel noise (sampling without replacement, weights exp(logit)). "
        "Needs the whole table: `generate` only, not streaming.",
    )
    affects: str | list[str] = Field(
        "all",
        description="Columns it hides cells of: all | a block kind (see Block kinds) | a "
        "list of block or feature names.",
    )

    @field_validator("affects", mode="before")
    @classmethod
    def _check_affects(cls, value: Any) -> Any:
        return check_affects(value)

    @model_validator(mode="after")
    def _check_mechanism(self) -> MissingEntry:
        # mar without depends_on is refused where the scene's drivers are known (layout)
        if self.mechanism != "mar" and self.depends_on is not None:
            raise SpecError(
                "depends_on", self.depends_on, f"only mar has one, not {self.mechanism}"
            )
        if self.mechanism == "mcar" and self.strength not in (None, 0.0):
            raise SpecError("strength", self.strength, "mcar has no strength (give mar or mnar)")
        if self.form == "detection_limit" and self.mechanism != "mnar":
            raise SpecError("form", self.form, "a detection limit is an mnar form")
        if self.form == "detection_limit" and self.strength == 0.0:
            raise SpecError("strength", 0.0, "a detection limit needs a sign: < 0 hides low values")
        return self

    @property
    def slope(self) -> float:
        """b, with the mechanism's default."""
        return DEFAULT_STRENGTH[self.mechanism] if self.strength is None else self.strength
