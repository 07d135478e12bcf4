"""Structural scene: covariates → latent factors → biomarkers, as one NumPyro model.

For row i, in order:

    c_i ~ Categorical(π_c)  or  Categorical(π_c[parent level])          each covariate
    f_i ~ N(μ_f[level], σ_f[level]²)                                     each factor
    x_ib = baseline_b + Σ_f L_bf·f_if + Σ_c S_bc[c_i]
           + Σ_p C_bp·(x_ip − centre_bp) + noise_b·u_ib,  u standardised  each biomarker
    x_ib ← clip(x_ib, low_b, high_b);   observed = scale·x_ib + loc_shift  (batch effects)

Biomarkers are evaluated in topological order, so a child sees its parents' values after
their clip (and before batch effects). Covariates, factors and biomarkers are sample sites
inside the rows plate (``<scene>.<name>``), so every row's draw is keyed by its chunk.
Population parameters are sites outside it: ``<scene>.<covariate>.probs``,
``<scene>.<factor>.mean``/``.sd``, ``<scene>.baseline``/``.noise`` (per biomarker),
``<scene>.loading``/``.shift``/``.coef`` (per declared entry) and family shape parameters
``<scene>.<biomarker>.<param>``; generation conditions them on the spec's values.

Clipping: generation clips; the likelihood of a clipped biomarker is *censored* (the mass
P(x ≤ low) or P(x ≥ high) at a bound, the density inside), so it is exact, not a Gaussian
approximation. Centres and clip bounds are constants of the formulas (static layout).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from synthbio_ppl.core.lazy import dist, jnp, numpyro
from synthbio_ppl.core.priors import Prior
from synthbio_ppl.families.standardised import family_sites, standardised
from synthbio_ppl.processes.observation import observe
from synthbio_ppl.processes.structural.layout import StructuralLayout

if TYPE_CHECKING:
    from jax import Array

PROBS = Prior(
    "<covariate>.probs",
    "P(level) (per parent level)",
    "Dirichlet(1, …, 1)",
    lambda k: dist.Dirichlet(jnp.ones(k)),
)
FACTOR_MEAN = Prior(
    "<factor>.mean",
    "factor mean (per level); fixed to the spec unless given a prior",
    "N(0, 2²)",
    lambda: dist.Normal(0.0, 2.0),
)
FACTOR_SD = Prior(
    "<factor>.sd",
    "factor sd (per level); fixed to the spec unless given a prior",
    "HalfNormal(1)",
    lambda: dist.HalfNormal(1.0),
)
BASELINE = Prior("baseline", "biomarker baseline", "N(0, 100²)", lambda: dist.Normal(0.0, 100.0))
NOISE = Prior("noise", "biomarker noise sd", "HalfNormal(10)", lambda: dist.HalfNormal(10.0))
LOADING = Prior("loading", "loading of a factor", "N(0, 10²)", lambda: dist.Normal(0.0, 10.0))
SHIFT = Prior("shift", "shift of a covariate level", "N(0, 10²)", lambda: dist.Normal(0.0, 10.0))
COEF = Prior("coef", "slope on a parent biomarker", "N(0, 2²)", lambda: dist.Normal(0.0, 2.0))
PRIORS = (PROBS, FACTOR_MEAN, FACTOR_SD, BASELINE, NOISE, LOADING, SHIFT, COEF)


def _vector_site(name: str, prior: dist.Distribution, size: int) -> Array:
    return numpyro.sample(name, prior.expand([size]).to_event(1))


def _levelled_site(name: str, prior: dist.Distribution, n_levels: int) -> Array:
    return numpyro.sample(name, prior) if n_levels == 0 else _vector_site(name, prior, n_levels)


def _column(values: Array | float, b: int) -> Array | float:
    return values[:, b] if jnp.ndim(values) == 2 else values


def structural(
    layout: StructuralLayout,
    rows: numpyro.plate,
    loc_shift: Array | float = 0.0,
    scale: Array | float = 1.0,
    obs: Array | None = None,
    covariates: Array | None = None,
    hidden: Array | None = None,
) -> dict[str, Array]:
    """The scene's rows: ``{"X": (rows, B) biomarkers, "latents": (rows, F) factor values,
    "covariates": (rows, C) level codes}`` (the last two only when the scene has any).

    ``obs`` (rows, B) observes the biomarkers and ``covariates`` (rows, C) the covariate
    codes (for fitting); ``loc_shift``/``scale`` are batch effects on the biomarker columns;
    ``hidden`` (rows, B) marks missing cells of ``obs``, drawn as latent values (later
    biomarkers are computed from them).
    """
    from synthbio_ppl.families.censored import CensoredLocScale

    s, n_rows, n_markers = layout.name, rows.size, layout.n_biomarkers
    probs = []
    for c, name in enumerate(layout.covariates):
        prior = PROBS.make(layout.n_levels[c])
        if layout.parents[c] >= 0:
            prior = prior.expand([layout.n_levels[layout.parents[c]]]).to_event(1)
        probs.append(numpyro.sample(f"{s}.{name}.probs", prior))
    means, sds = [], []
    for f, name in enumerate(layout.factors):
        by_mean, by_sd = layout.mean_by[f], layout.sd_by[f]
        means.append(
            _levelled_site(f"{s}.{name}.mean", FACTOR_MEAN.make(), _levels(layout, by_mean))
        )
        sds.append(_levelled_site(f"{s}.{name}.sd", FACTOR_SD.make(), _levels(layout, by_sd)))
    baseline = _vector_site(f"{s}.baseline", BASELINE.make(), n_markers)
    noise = _vector_site(f"{s}.noise", NOISE.make(), n_markers)
    loading = shift = coef = None
    if layout.loadings:
        loading = _vector_site(f"{s}.loading", LOADING.make(), len(layout.loadings))
    if layout.shifts:
        shift = _vector_site(f"{s}.shift", SHIFT.make(), len(layout.shifts))
    if layout.edges:
        coef = _vector_site(f"{s}.coef", COEF.make(), len(layout.edges))
    units = [
        dist.Normal(0.0, 1.0)
        if family == "normal"
        else standardised(family, family_sites(f"{s}.{name}", family, True))
        for name, family in zip(layout.biomarkers, layout.families, strict=True)
    ]
    with rows:
        codes: list[Array] = []
        for c, name in enumerate(layout.covariates):
            parent = layout.parents[c]
            p = probs[c] if parent < 0 else probs[c][codes[parent]]
            seen = None if covariates is None else covariates[:, c]
            codes.append(numpyro.sample(f"{s}.{name}", dist.Categorical(probs=p), obs=seen))
        factors = []
        for f, name in enumerate(layout.factors):
            mean = means[f] if layout.mean_by[f] < 0 else means[f][codes[layout.mean_by[f]]]
            sd = sds[f] if layout.sd_by[f] < 0 else sds[f][codes[layout.sd_by[f]]]
            factors.append(numpyro.sample(f"{s}.{name}", dist.Normal(mean, sd)))
        dtype = baseline.dtype
        latent = jnp.stack(factors, -1) if factors else jnp.zeros((n_rows, 0), dtype)
        loc = jnp.broadcast_to(baseline, (n_rows, n_markers))
        if loading is not None:  # Σ_f L_bf·f: one term per declared (biomarker, factor) entry
            b_idx, f_idx = (jnp.array(i) for i in zip(*layout.loadings, strict=True))
            loc = loc.at[:, b_idx].add(latent[:, f_idx] * loading)
        if shift is not None:  # Σ_c S_bc[c_i]: one term per declared (biomarker, level) entry
            b_idx, c_idx, l_idx = (jnp.array(i) for i in zip(*layout.shifts, strict=True))
            code = jnp.stack(codes, -1)[:, c_idx]
            loc = loc.at[:, b_idx].add(jnp.where(code == l_idx, shift, 0.0).astype(dtype))
        values: list[Array | None] = [None] * n_markers
        biological: list[Array | None] = [None] * n_markers
        for b in layout.order:
            name = layout.biomarkers[b]
            mean = loc[:, b]
            for e, (child, parent, centre) in enumerate(layout.edges):
                if child == b:
                    mean = mean + coef[e] * (biological[parent] - centre)
            low, high = layout.clips[b]
            sh, sc = _column(loc_shift, b), _column(scale, b)
            fn = CensoredLocScale(units[b], mean, noise[b], low, high, sh, sc)
            seen = None if obs is None else obs[:, b]
            missing = None if hidden is None else hidden[:, b]
            values[b] = observe(f"{s}.{name}", fn, seen, missing, impute=True)
            batched = jnp.ndim(sh) > 0 or jnp.ndim(sc) > 0
            biological[b] = (values[b] - sh) / sc if batched else values[b]
    out = {"X": jnp.stack(values, -1)}
    if factors:
        out["latents"] = latent
    if codes:
        out["covariates"] = jnp.stack(codes, -1).astype(jnp.int32)
    return out


def _levels(layout: StructuralLayout, covariate: int) -> int:
    return 0 if covariate < 0 else layout.n_levels[covariate]
