"""The twin: a class-conditional Gaussian copula with power-transformed marginals and a
low-rank factor covariance, as one NumPyro model (generator and likelihood).

For a row of class c with numeric columns x (p of them) and categorical columns k:

    u_j = (x_j − m_j)/s_j                       robust standardisation (constants)
    z_j = ψ_λj(u_j)                             Yeo–Johnson, one λ_j ∈ (0, 2) per column
    z ~ N(μ_c, W_c W_cᵀ + diag(σ_c²))           W_c: p × r loadings, lower-triangular
    k ~ Categorical(π_ck)                       each categorical column, given the class
    table = clip(x, low, high), integers rounded
    m_j ~ Bernoulli(ρ_jc)                       a cell is missing (generation only)

The model itself works on the standardised scale u (float32): the table is standardised
and mapped back (x = m + s·u, clipped and rounded) in float64 on the host
(``twins.design``), so a column far from 0 (1e9 ± 1) keeps its spread, which float32 data
units would round away, and the likelihood differs from the data-scale one by the
constant Σ_j log s_j per row.

Why this structure: the power transform gives each column its skew (and λ is fitted with
everything else, so the Jacobian enters the likelihood); the Gaussian on z is a Gaussian
copula whose correlation is W_c W_cᵀ + diag(σ_c²) scaled to unit diagonal. A rank-r factor
covariance has p·(r + 2) parameters per class instead of p(p+1)/2, so a class with fewer
rows than columns still has a proper, well-conditioned posterior; classes get their own
correlations because disease changes how measurements co-vary. W_c is lower-triangular
with a positive diagonal (sites ``loading`` and ``loading_diag``), which removes the
rotation and sign symmetries and leaves the posterior identifiable.

Missing cells. Fitting, the likelihood counts the observed cells only: a missing numeric
cell is integrated out of the Gaussian (``ObservedFactorNormal``: each row's density is the
marginal of its observed cells, so the other cells of the row still count), and a missing
categorical cell adds nothing (its site is masked). Generating, every cell is drawn, then
masked by the site ``hidden`` (rows, numeric + categorical columns): Bernoulli with the
class's missing fraction ρ_jc of the column, given (not fitted) in ``TwinDesign.missing``,
drawn from its own key, so the values underneath are the same with and without the mask.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from jax import Array
from numpyro import handlers

from synthbio_ppl.families.correlated import ClassFactorNormal
from synthbio_ppl.twins.observed_normal import ObservedCells, ObservedFactorNormal
from synthbio_ppl.twins.power_transform import YeoJohnsonInverse

ROWS = "rows"


class TwinShape(NamedTuple):
    """Static sizes of the model (hashable: a jit static argument)."""

    n_classes: int
    n_numeric: int
    rank: int
    n_levels: tuple[int, ...]


class TwinDesign(NamedTuple):
    """Per-row class codes, which rows are real and the cells' missing fractions.

    ``present`` (rows,) marks real rows; padding rows (False) add nothing to the
    likelihood, so tables of nearby sizes share one compiled program. ``missing``
    (classes, numeric + categorical columns) float32: each cell's probability of being
    missing, by class; None draws no mask (a table without missing values).
    """

    y: Array
    present: Array | None = None
    missing: Array | None = None


class TwinData(NamedTuple):
    """Observed values: numeric (rows, p) float32 on the standardised scale u and categorical
    codes (rows, k) int32.

    A missing categorical cell has code −1; a missing numeric cell holds any finite value
    (0, the column's centre) and is marked False in ``observed`` (its rows' patterns, see
    ``observed_normal.observed_cells``), which is None when every numeric cell is observed.
    """

    numeric: Array
    codes: Array
    observed: ObservedCells | None = None


def loadings(raw: Array, diagonal: Array, rank: int) -> Array:
    """(…, p, r) lower-triangular loadings: ``raw`` below the diagonal, ``diagonal`` on it."""
    p = raw.shape[-2]
    below = jnp.tril(jnp.ones((p, rank), dtype=bool), k=-1)
    on = jnp.eye(p, rank, dtype=bool)
    return jnp.where(below, raw, 0.0) + jnp.where(on, diagonal[..., None, :], 0.0)


def twin_model(
    design: TwinDesign,
    data: TwinData | None = None,
    *,
    shape: TwinShape,
    missing_key: Array | None = None,
) -> Array:
    """Rows of a real table's twin; returns the numeric part (rows, p) on the standardised
    scale u (``twins.design._to_data`` maps it to the data's units).

    Generating (``data`` None) with ``design.missing`` given, the site ``hidden`` (rows,
    numeric + categorical columns) is drawn with ``missing_key`` (the enclosing seed's
    next key when None); the returned values are not masked, the caller applies it.
    """
    n_rows, p, r = design.y.shape[0], shape.n_numeric, shape.rank
    power = numpyro.sample("power", dist.Uniform(0.0, 2.0).expand([p]).to_event(1))
    with numpyro.plate("class", shape.n_classes, dim=-1):
        loc = numpyro.sample("loc", dist.Normal(0.0, 2.0).expand([p]).to_event(1))
        sd = numpyro.sample("noise_sd", dist.HalfNormal(1.0).expand([p]).to_event(1))
        raw = numpyro.sample("loading", dist.Normal(0.0, 1.0).expand([p, r]).to_event(2))
        diagonal = numpyro.sample("loading_diag", dist.HalfNormal(1.0).expand([r]).to_event(1))
        probs = [
            numpyro.sample(f"levels{k}", dist.Dirichlet(jnp.ones(n)))
            for k, n in enumerate(shape.n_levels)
        ]
    factor = loadings(raw, diagonal, r)
    y = design.y
    present = True if design.present is None else design.present
    with numpyro.plate(ROWS, n_rows, dim=-1), handlers.mask(mask=present):
        if data is None or data.observed is None:
            gaussian = ClassFactorNormal(loc, factor, sd**2, y)
        else:
            gaussian = ObservedFactorNormal(loc, factor, sd**2, y, data.observed)
        numeric = numpyro.sample(
            "numeric",
            dist.TransformedDistribution(gaussian, YeoJohnsonInverse(power)),
            obs=None if data is None else data.numeric,
        )
        for k, pi in enumerate(probs):
            if data is None:
                numpyro.sample(f"code{k}", dist.Categorical(probs=pi[y]))
                continue
            seen = data.codes[:, k]
            with handlers.mask(mask=seen >= 0):  # a missing cell (−1) adds nothing
                obs = jnp.maximum(seen, 0)
                numpyro.sample(f"code{k}", dist.Categorical(probs=pi[y]), obs=obs)
        if data is None and design.missing is not None:
            rate = design.missing[y]
            mask = dist.Bernoulli(probs=rate).to_event(1)
            numpyro.sample("hidden", mask, rng_key=missing_key)
    return numeric
