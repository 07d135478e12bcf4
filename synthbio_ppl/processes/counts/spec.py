"""The spec of a count block: genes (or taxa) as negative binomial counts, after Splat.

Every field uses the field's words: library size, base mean, dispersion (the biological
coefficient of variation, BCV, squared), log2 fold change, dropout.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from synthbio_ppl.spec.fields import NAME_PATTERN, Count, Strict

CountDistribution = Literal["poisson", "negative_binomial", "zero_inflated_negative_binomial"]


class BaseMean(Strict):
    """Relative expression: w_j ~ Gamma(shape, shape), or LogNormal for an outlier.

    w_j ~ Gamma(shape, shape) (mean 1), or, for a high-expression outlier (probability
    ``outlier_probability``), w_j ~ LogNormal(outlier_location, outlier_scale). A gene's
    base mean is the library size median times w_j / (n · E[w]), so the base means add
    up to about the median.
    """

    shape: float = Field(
        0.6, ge=0.01, le=1e4, description="Gamma shape of the relative expression."
    )
    outlier_probability: float = Field(
        0.0, ge=0.0, lt=1.0, description="Probability that a gene is a high-expression outlier."
    )
    outlier_location: float = Field(
        3.0,
        ge=-10.0,
        le=10.0,
        description="Mean of an outlier's log relative expression (natural log).",
    )
    outlier_scale: float = Field(
        0.5, gt=0.0, le=3.0, description="Sd of an outlier's log relative expression."
    )


class LibrarySize(Strict):
    """Per-row library size L_i ~ LogNormal(log median, sdlog), the expected row total.

    L_i is the row's expected total count over the block's genes, on average over their
    expression draws.
    """

    median: float = Field(10_000.0, gt=0.0, le=1e9, description="Median library size (counts).")
    sdlog: float = Field(0.2, gt=0.0, le=2.0, description="Sd of the log library size.")


class Dispersion(Strict):
    """Dispersion φ_j (Var = μ + φμ²): log φ_j ~ N(log(bcv² + trend/μ̄_j), spread²).

    μ̄_j is the gene's base mean; the trend is DESeq2's parametric one (Love, Huber &
    Anders 2014).
    """

    bcv: float = Field(
        0.3,
        ge=1e-3,
        le=10.0,
        description="Asymptotic biological coefficient of variation: φ → bcv².",
    )
    trend: float = Field(
        0.0, ge=0.0, le=1e3, description="Extra dispersion of low counts: φ(μ̄) = bcv² + trend/μ̄."
    )
    spread: float = Field(
        0.25, gt=0.0, le=3.0, description="Sd of log φ around the trend across genes."
    )


class DifferentialExpression(Strict):
    """DE per gene and class against the first class: log2 fold change 0 or ±m.

    A gene is DE in class k with probability ``fraction``; its log2 fold change against
    the first class is then ±m, m ~ LogNormal(log(log2_fold_change), spread), down (−)
    with probability ``down_share`` (Splat's DE factors, in log2).
    """

    fraction: float = Field(
        0.1,
        ge=0.0,
        lt=1.0,
        description="Probability that a gene is DE in each class other than the first.",
    )
    log2_fold_change: float = Field(
        1.0, gt=0.0, le=10.0, description="Median absolute log2 fold change of a DE gene."
    )
    spread: float = Field(
        0.4, gt=0.0, le=2.0, description="Sd of the log absolute log2 fold change."
    )
    down_share: float = Field(
        0.5, ge=0.0, le=1.0, description="Share of DE genes expressed less than in the first class."
    )


class Dropout(Strict):
    """Dropout: a count is set to 0 with probability σ(−slope·(log μ_ij − midpoint)).

    μ_ij is the cell's expected count, so low means drop out more (Splat's dropout).
    """

    midpoint: float = Field(
        0.0, ge=-20.0, le=25.0, description="log μ (natural log) where half the counts drop out."
    )
    slope: float = Field(1.0, gt=0.0, le=100.0, description="How fast dropout falls with log μ.")


class CountBlock(Strict):
    """Count features (RNA-seq genes, microbiome taxa) with library size, DE and dropout."""

    name: str | None = Field(
        None,
        pattern=NAME_PATTERN,
        description="Block name (default `counts0`), used for column names and its streams.",
    )
    n: Count = Field(ge=1, description="Number of genes.")
    distribution: CountDistribution = Field(
        "negative_binomial",
        description="poisson, negative_binomial or "
        "zero_inflated_negative_binomial (structural zeros with probability zero_inflation).",
    )
    base_mean: BaseMean = Field(default_factory=BaseMean, description="Relative expression.")
    library_size: LibrarySize = Field(default_factory=LibrarySize, description="Library size.")
    dispersion: Dispersion = Field(
        default_factory=Dispersion, description="Dispersion (ignored for poisson)."
    )
    differential_expression: DifferentialExpression = Field(
        default_factory=DifferentialExpression, description="DE between classes."
    )
    zero_inflation: float = Field(
        0.0,
        ge=0.0,
        lt=1.0,
        description="Probability of a structural zero (zero_inflated_negative_binomial only).",
    )
    dropout: Dropout | None = Field(None, description="Splat dropout (single-cell-like data).")
