"""The NumPyro model of a count block (the Splat model of Zappia, Phipson & Oshlack 2017,
Genome Biology 18:174, as a gene-wise negative binomial GLM).

For gene j, row i of class y_i with library size L_i:

    w_j ~ Gamma(shape, shape), or LogNormal(outlier_location, outlier_scale) for an
          outlier (probability outlier_probability)
    base mean μ̄_j = median(L) · w_j / (n · E[w])   (so a row's expected total is about L_i)
    φ_j ~ LogNormal(log(bcv² + trend / μ̄_j), spread)                 (dispersion)
    lfc_jk = 0, +m_jk or −m_jk (none / up / down), m_jk ~ LogNormal   (log2, vs class 0)
    μ_ij = L_i · μ̄_j / median(L) · 2^lfc_{j,y_i} · b_ij                    (b: batch factor > 0)
    x_ij ~ NB(μ_ij, φ_j) (gamma–Poisson) or Poisson(μ_ij), set to 0 with probability
          g_ij = 1 − (1 − π0)(1 − σ(−slope · (log μ_ij − midpoint)))  (zero inflation π0,
          dropout)

Generating, the outlier and DE states and each cell's dropout are drawn (sites flagged
``MARGINALISED``); fitting, they are summed out: the outlier state in w's prior (a two-
component mixture), the DE state per gene and class over the rows of that class, the
dropout in the zero-inflated likelihood of each cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from synthbio_ppl.core.lazy import dist, jax, jnp, numpyro
from synthbio_ppl.core.priors import Prior

if TYPE_CHECKING:
    from jax import Array

    from synthbio_ppl.processes.block import Block, Rows

MARGINALISED = {"marginalised": True}
"""``infer`` of a discrete site drawn when generating and summed out when fitting."""

PRIORS = (
    Prior(
        "expression_shape",
        "Gamma shape of relative expression",
        "HalfNormal(2)",
        lambda: dist.HalfNormal(2.0),
    ),
    Prior("outlier_probability", "outlier probability", "Beta(1, 9)", lambda: dist.Beta(1.0, 9.0)),
    Prior(
        "outlier_location", "outlier log expression mean", "N(3, 2²)", lambda: dist.Normal(3.0, 2.0)
    ),
    Prior(
        "outlier_scale", "outlier log expression sd", "HalfNormal(1)", lambda: dist.HalfNormal(1.0)
    ),
    Prior(
        "library_size_median",
        "median library size",
        "LogNormal(log 10⁴, 2²)",
        lambda: dist.LogNormal(jnp.log(1e4), 2.0),
    ),
    Prior(
        "library_size_sdlog",
        "sd of log library size",
        "HalfNormal(1)",
        lambda: dist.HalfNormal(1.0),
    ),
    Prior(
        "bcv",
        "asymptotic biological coefficient of variation",
        "HalfNormal(1)",
        lambda: dist.HalfNormal(1.0),
    ),
    Prior(
        "dispersion_trend",
        "dispersion trend a₁ (φ = bcv² + a₁/μ̄)",
        "HalfNormal(2)",
        lambda: dist.HalfNormal(2.0),
    ),
    Prior(
        "dispersion_spread",
        "sd of log dispersion around the trend",
        "HalfNormal(1)",
        lambda: dist.HalfNormal(1.0),
    ),
    Prior("de_fraction", "probability a gene is DE", "Beta(1, 4)", lambda: dist.Beta(1.0, 4.0)),
    Prior("down_share", "share of DE genes down", "Beta(2, 2)", lambda: dist.Beta(2.0, 2.0)),
    Prior(
        "lfc_median",
        "median absolute log2 fold change",
        "LogNormal(0, 1)",
        lambda: dist.LogNormal(0.0, 1.0),
    ),
    Prior(
        "lfc_spread",
        "sd of the log absolute log2 fold change",
        "HalfNormal(1)",
        lambda: dist.HalfNormal(1.0),
    ),
    Prior(
        "zero_inflation",
        "probability of a structural zero",
        "Beta(1, 4)",
        lambda: dist.Beta(1.0, 4.0),
    ),
    Prior(
        "dropout_midpoint",
        "log mean where half the counts drop out",
        "N(0, 2²)",
        lambda: dist.Normal(0.0, 2.0),
    ),
    Prior("dropout_slope", "dropout slope", "HalfNormal(2)", lambda: dist.HalfNormal(2.0)),
)
"""Priors of the population settings (fits fix them to the spec unless given a prior)."""
_PRIOR = {p.param: p for p in PRIORS}
GENE_PRIORS = (
    Prior(
        "expression",
        "relative expression w_j",
        "Gamma(shape, shape) or the outlier mixture",
        lambda: None,
    ),
    Prior("dispersion", "dispersion φ_j", "LogNormal(log(bcv² + trend/μ̄_j), spread)", lambda: None),
    Prior(
        "lfc_magnitude",
        "absolute log2 fold change m_jk if DE",
        "LogNormal(log lfc_median, lfc_spread)",
        lambda: None,
    ),
    Prior(
        "library_size", "library size L_i (per row)", "LogNormal(log median, sdlog)", lambda: None
    ),
)
"""The per-gene and per-row sites (priors built from the population settings)."""


@dataclass(frozen=True)
class CountLayout:
    """Static structure of a count block: its family and which parts the model has."""

    distribution: str
    outliers: bool
    differential: bool
    dropout: bool
    trended: bool = False

    @property
    def zero_inflated(self) -> bool:
        return self.distribution == "zero_inflated_negative_binomial"

    @property
    def gated(self) -> bool:
        """Whether counts can be set to 0 (zero inflation or dropout)."""
        return self.zero_inflated or self.dropout


def _setting(block: Block, param: str) -> Array:
    return numpyro.sample(f"{block.name}.{param}", _PRIOR[param].make())


def _expression(block: Block, static: CountLayout, generating: bool) -> tuple[Array, Array]:
    """w (n,), the relative expression (with high-expression outliers), and E[w]."""
    shape = _setting(block, "expression_shape")
    gamma = dist.Gamma(shape, shape).expand([block.n_features])
    if not static.outliers:
        return numpyro.sample(f"{block.name}.expression", gamma.to_event(1)), jnp.ones(())
    p = _setting(block, "outlier_probability")
    location = _setting(block, "outlier_location")
    scale = _setting(block, "outlier_scale")
    outlier = dist.LogNormal(location, scale).expand([block.n_features])
    expected = 1.0 - p + p * jnp.exp(location + scale**2 / 2)
    if generating:
        flag = numpyro.sample(
            f"{block.name}.outlier",
            dist.Bernoulli(p).expand([block.n_features]).to_event(1),
            infer=MARGINALISED,
        )
        from synthbio_ppl.families.either import Either

        fn = Either(flag.astype(bool), outlier, gamma)
    else:
        mixing = dist.Categorical(probs=jnp.stack([1.0 - p, p]))
        fn = dist.MixtureGeneral(mixing, [gamma, outlier])
    return numpyro.sample(f"{block.name}.expression", fn.to_event(1)), expected


def _dispersion(block: Block, base_mean: Array) -> Array:
    bcv = _setting(block, "bcv")
    spread = _setting(block, "dispersion_spread")
    trend = _setting(block, "dispersion_trend") if block.static.trended else 0.0
    centre = jnp.log(bcv**2 + trend / base_mean)
    return numpyro.sample(f"{block.name}.dispersion", dist.LogNormal(centre, spread).to_event(1))


def _state_probs(block: Block) -> Array:
    """P(none), P(up), P(down) of a gene in a non-reference class."""
    fraction = _setting(block, "de_fraction")
    down = _setting(block, "down_share")
    return jnp.stack([1.0 - fraction, fraction * (1.0 - down), fraction * down])


def _gate_settings(block: Block, static: CountLayout) -> tuple[Array, Array, Array] | None:
    """(π₀, midpoint, slope) of the zeros' gate, sampled once outside the rows plate
    (None without zero inflation or dropout; absent parts leave the gate at 0)."""
    if not static.gated:
        return None
    zero = jnp.zeros(())
    inflation = _setting(block, "zero_inflation") if static.zero_inflated else zero
    if not static.dropout:
        return inflation, zero, zero
    return inflation, _setting(block, "dropout_midpoint"), _setting(block, "dropout_slope")


def _gate(settings: tuple[Array, Array, Array] | None, dropout: bool, mean: Array) -> Array | None:
    """g_ij = 1 − (1 − π₀)(1 − σ(−slope·(log μ_ij − midpoint))), the probability that a
    count is set to 0."""
    if settings is None:
        return None
    inflation, midpoint, slope = settings
    keep = (1.0 - inflation) * jnp.ones_like(mean)
    if dropout:
        keep = keep * jax.nn.sigmoid(slope * (jnp.log(mean) - midpoint))
    return 1.0 - keep


def _constant_log_pmf(x: Array, concentration: Array | None) -> Array:
    """The part of log p(x | μ) that does not depend on μ: −log x! for Poisson,
    log Γ(x + r) − log Γ(r) − log x! for NB (r the concentration, 1/φ)."""
    from jax.scipy.special import gammaln

    constant = -gammaln(x + 1.0)
    if concentration is not None:
        constant = constant + gammaln(x + concentration) - gammaln(concentration)
    return constant


def _cell_log_prob(
    mean: Array, concentration: Array | None, gate: Array | None, x: Array, constant: Array
) -> Array:
    """log p(x_ij | μ_ij) per cell (NB or Poisson), the zeros' gate included."""
    from jax.scipy.special import xlogy

    if concentration is None:
        lp = constant + xlogy(x, mean) - mean
    else:
        r = concentration
        lp = constant + r * jnp.log(r) - (r + x) * jnp.log(r + mean) + xlogy(x, mean)
    if gate is None:
        return lp
    kept = jnp.log1p(-gate) + lp
    return jnp.where(x == 0, jnp.logaddexp(jnp.log(gate), kept), kept)


def count_block(block: Block, rows: Rows) -> dict[str, Array]:
    """The count block's model: ``{"X": (rows, n) counts as floats, "<block>.library_size":
    (rows,), "<block>.dropout": (rows, n) bool}`` (the last with zero inflation or dropout,
    generating only).

    Batch effects act on the mean: μ · scale · exp(loc_shift), so an additive offset β is a
    log-factor and every factor is > 0.
    """
    static: CountLayout = block.static
    generating = rows.obs is None
    name, n_rows = block.name, rows.design.y.shape[0]
    w, expected = _expression(block, static, generating)
    w = jnp.maximum(w, jnp.finfo(w.dtype).tiny)  # a tiny gamma shape draws exact zeros
    share = w / (block.n_features * expected)  # Σ share ≈ 1: E[Σ_j μ_ij] = L_i
    median = _setting(block, "library_size_median")
    sdlog = _setting(block, "library_size_sdlog")
    base_mean = numpyro.deterministic(f"{name}.base_mean", median * share)
    concentration = None
    if static.distribution != "poisson":
        concentration = 1.0 / _dispersion(block, base_mean)
    differential = static.differential and rows.n_classes > 1
    if differential:
        probs = _state_probs(block)
        centre = jnp.log(_setting(block, "lfc_median"))
        spread = _setting(block, "lfc_spread")
        shape = [block.n_features, rows.n_classes - 1]
        magnitude = numpyro.sample(
            f"{name}.lfc_magnitude", dist.LogNormal(centre, spread).expand(shape).to_event(2)
        )
    gating = _gate_settings(block, static)
    with rows.plate:
        library = numpyro.sample(f"{name}.library_size", dist.LogNormal(jnp.log(median), sdlog))
    factor = rows.scale * jnp.exp(rows.loc_shift)  # batch effects on the mean scale
    scaled = library[:, None] * share * factor  # μ_ij before DE, (rows, n) or (rows, 1)·(n,)
    y = rows.design.y
    if generating:
        lfc = jnp.zeros((block.n_features, 1), share.dtype)
        if differential:
            state = numpyro.sample(
                f"{name}.de_state",
                dist.Categorical(probs).expand(shape).to_event(2),
                infer=MARGINALISED,
            )
            sign = jnp.array([0.0, 1.0, -1.0], share.dtype)[state]
            numpyro.deterministic(f"{name}.de_probability", (state > 0).astype(share.dtype))
            lfc = numpyro.deterministic(f"{name}.log2_fold_change", sign * magnitude)
        full = jnp.concatenate([jnp.zeros((block.n_features, 1), share.dtype), lfc], axis=1)
        mean = scaled * jnp.exp2(full.T[y]) if differential else scaled * jnp.ones_like(full.T[y])
        return _draw(block, static, rows, mean, concentration, library, gating)
    x = rows.obs
    seen = None if rows.hidden is None else ~rows.hidden
    constant = _constant_log_pmf(x, concentration)
    if not differential:
        mean = jnp.broadcast_to(scaled, (n_rows, block.n_features))
        lp = _cell_log_prob(mean, concentration, _gate(gating, static.dropout, mean), x, constant)
        with rows.plate:  # the column site, one log-likelihood per row
            numpyro.factor(name, _masked(lp, seen).sum(-1))
        return {"X": x, f"{name}.library_size": library}
    # DE states summed out per gene and class: the rows of class k share gene j's state.
    signs = (0.0, 1.0, -1.0)
    per_row = jnp.concatenate([jnp.zeros((block.n_features, 1), share.dtype), magnitude], 1).T[y]
    onehot = jax.nn.one_hot(y, rows.n_classes, dtype=share.dtype)
    totals = []
    for sign in signs:
        mean = scaled * jnp.exp2(sign * per_row)
        lp = _cell_log_prob(mean, concentration, _gate(gating, static.dropout, mean), x, constant)
        totals.append(onehot.T @ _masked(lp, seen))  # (K, n): each class's rows summed
    stacked = jnp.stack(totals)  # (3, K, n)
    joint = jnp.log(probs)[:, None, None] + stacked[:, 1:]
    numpyro.factor(name, stacked[0, 0].sum() + jax.nn.logsumexp(joint, 0).sum())
    resp = jax.nn.softmax(joint, axis=0)  # P(state | θ, data), (3, K-1, n)
    numpyro.deterministic(f"{name}.de_probability", (1.0 - resp[0]).T)
    numpyro.deterministic(f"{name}.log2_fold_change", ((resp[1] - resp[2]).T * magnitude))
    return {"X": x, f"{name}.library_size": library}


def _masked(lp: Array, seen: Array | None) -> Array:
    return lp if seen is None else jnp.where(seen, lp, 0.0)


def _draw(
    block: Block,
    static: CountLayout,
    rows: Rows,
    mean: Array,
    concentration: Array | None,
    library: Array,
    gating: tuple[Array, Array, Array] | None,
) -> dict[str, Array]:
    """Counts drawn by gamma–Poisson (or Poisson), then zeroed by dropout."""
    from synthbio_ppl.families.counts import FastNegativeBinomial2, FastPoisson

    name = block.name
    dtype = mean.dtype
    with rows.plate:
        fn = (
            FastPoisson(mean)
            if concentration is None
            else FastNegativeBinomial2(mean, concentration)
        )
        counts = numpyro.sample(f"{name}.expressed", fn.to_event(1)).astype(dtype)
        out = {f"{name}.library_size": library}
        gate = _gate(gating, static.dropout, mean)
        if gate is not None:
            dropped = numpyro.sample(
                f"{name}.dropout", dist.Bernoulli(gate).to_event(1), infer=MARGINALISED
            ).astype(bool)
            counts = jnp.where(dropped, jnp.zeros((), dtype), counts)
            out[f"{name}.dropout"] = dropped
        counts = numpyro.deterministic(name, counts)  # the column site
    return {"X": counts, **out}
