"""Feature families as NumPyro distributions, standardised or raw.

A standardised family is the raw family pushed through u = (x - mean) / sd, so it has
mean 0 and variance 1 and a mean shift of d is a population Cohen's d of exactly d.
Parameters are sample sites (``<block>.<param>``) so fitting can put priors on them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from synthbio_ppl.core.lazy import dist, jnp, numpyro
from synthbio_ppl.core.priors import Prior
from synthbio_ppl.families.table import FAMILIES

if TYPE_CHECKING:
    from jax import Array


def raw_family(family: str, p: dict[str, Array]) -> dist.Distribution:
    """The family with its own (raw) parameters."""
    match family:
        case "normal":
            return dist.Normal(p["loc"], p["scale"])
        case "lognormal":
            return dist.LogNormal(p["mu"], p["sigma"])
        case "uniform":
            return dist.Uniform(p["low"], p["high"])
        case "laplace":
            return dist.Laplace(p["loc"], p["scale"])
        case "exponential":
            return dist.Exponential(p["rate"])
        case "student_t":
            return dist.StudentT(p["df"], p["loc"], p["scale"])
        case "gamma":
            return dist.Gamma(p["shape"], p["rate"])
        case "logistic":
            return dist.Logistic(p["loc"], p["scale"])
        case "beta":
            return dist.Beta(p["a"], p["b"])
    raise ValueError(f"unknown family {family!r}")


def family_moments(family: str, shape: dict[str, Array]) -> tuple[Array, Array]:
    """Mean and sd of the unit-scale family with the given shape parameters."""
    one = jnp.asarray(1.0)
    match family:
        case "normal" | "laplace" | "logistic":
            sd = {"normal": 1.0, "laplace": math.sqrt(2.0), "logistic": math.pi / math.sqrt(3.0)}
            return 0.0 * one, sd[family] * one
        case "lognormal":
            s2 = shape["sigma"] ** 2
            return jnp.exp(s2 / 2), jnp.sqrt(jnp.expm1(s2) * jnp.exp(s2))
        case "uniform":
            return 0.5 * one, one / math.sqrt(12.0)
        case "exponential":
            return one, one
        case "student_t":
            return 0.0 * one, jnp.sqrt(shape["df"] / (shape["df"] - 2))
        case "gamma":
            return shape["shape"], jnp.sqrt(shape["shape"])
        case "beta":
            a, b = shape["a"], shape["b"]
            return a / (a + b), jnp.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    raise ValueError(f"unknown family {family!r}")


def _unit_params(family: str, shape: dict[str, Array]) -> dict[str, Array]:
    unit = {"loc": 0.0, "scale": 1.0, "mu": 0.0, "low": 0.0, "high": 1.0, "rate": 1.0}
    names = FAMILIES[family].raw
    return {name: shape[name] if name in shape else jnp.asarray(unit[name]) for name in names}


def standardised(family: str, shape: dict[str, Array]) -> dist.Distribution:
    """The family rescaled to mean 0 and variance 1: u = (x - mean) / sd."""
    mean, sd = family_moments(family, shape)
    base = raw_family(family, _unit_params(family, shape))
    return dist.TransformedDistribution(base, dist.transforms.AffineTransform(-mean / sd, 1.0 / sd))


def family_sites(
    block: str, family: str, standardise: bool, start: dict[str, Array] | None = None
) -> dict[str, Array]:
    """Sample the family's parameter sites ``<block>.<param>`` (fixed when generating).
    A fit starts a standardised family's bounding shapes where its support is widest
    (``Family.wide``), and the sites in ``start`` there (``support_start``)."""
    table = FAMILIES[family].shape if standardise else FAMILIES[family].raw
    start = {**(FAMILIES[family].wide if standardise else {}), **(start or {})}
    return {
        name: numpyro.sample(
            f"{block}.{name}",
            SHAPE_PRIOR.make(p),
            infer={"init_value": start[name]} if name in start else None,
        )
        for name, p in table.items()
    }


def support_start(
    family: str, standardise: bool, values: Array, hidden: Array | None
) -> dict[str, Array]:
    """A fit's starting values for the parameters that move a family's support (a raw
    uniform's ``low`` and ``high``): outside the range of ``values`` (the family's own
    draws, (rows, features), ``hidden`` cells left out) by a tenth of it and 0.5, so the
    first state's log density is finite, and an SVI guide's first draws (sd 0.1) too.
    Drawn from their priors instead, they almost never hold every value and NUTS never
    leaves the start. Empty for other families."""
    if standardise or family != "uniform":
        return {}
    seen = jnp.ones_like(values, dtype=bool) if hidden is None else ~hidden
    low = jnp.min(jnp.where(seen, values, jnp.inf))
    high = jnp.max(jnp.where(seen, values, -jnp.inf))
    margin = 0.1 * (high - low) + 0.5  # SVI guides start 0.1 (sd) around: 5 sds clear
    found = jnp.isfinite(low) & jnp.isfinite(high)  # no observed cell: the defaults
    return {
        "low": jnp.where(found, low - margin, FAMILIES[family].raw["low"].default),
        "high": jnp.where(found, high + margin, FAMILIES[family].raw["high"].default),
    }


SHAPE_PRIOR = Prior(
    "<shape>",
    "family shape (sigma, df, shape, a, b, ...)",
    "LogNormal(log default, 1) above its lower bound; N(default, 10²) when unbounded",
    lambda param: _prior(param),
)
"""The prior of every family parameter site ``<block>.<param>``."""


def _prior(param) -> dist.Distribution:  # type: ignore[no-untyped-def]
    """Weakly informative default prior respecting the parameter's lower bound."""
    if math.isinf(param.low):
        return dist.Normal(param.default, 10.0)
    if param.low == 0.0:
        return dist.LogNormal(math.log(param.default), 1.0)
    gap = param.default - param.low
    # the shift's domain is the positive half-line, so the support is (low, ∞) and NUTS
    # and SVI work on the unconstrained log(x − low), never proposing x ≤ low
    shift = dist.transforms.AffineTransform(param.low, 1.0, domain=dist.constraints.positive)
    return dist.TransformedDistribution(dist.LogNormal(math.log(gap), 1.0), shift)


def feature_distribution(
    family: str,
    params: dict[str, Array],
    standardise: bool,
    loc: Array | float,
    scale: Array | float,
    shape: tuple[int, int],
) -> dist.Distribution:
    """Distribution of a (rows, features) block: x = loc + scale · u, u from the family.

    The feature axis is the event; ``loc`` and ``scale`` broadcast against ``shape``.
    """
    base = standardised(family, params) if standardise else raw_family(family, params)
    base = base.expand(shape)
    # the affine map's domain is the family's support, so the located support is the image
    # (a bounded family stays bounded: NUTS and masked cells never leave it)
    affine = dist.transforms.AffineTransform(loc, scale, domain=base.support)
    located = dist.TransformedDistribution(base, affine)
    return located.to_event(1)
