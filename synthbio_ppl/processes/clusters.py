"""Correlated cluster: anchor + proxies with class-dependent correlation R_k.

x_i = m_{y_i} + v_i, v_i ~ N(0, R_{y_i}) (equicorrelated or Toeplitz), where the anchor's
class mean is e_k (centred running sum of ``anchor_effect``) and proxy j's is
e_k · α · R_k[anchor, j].
"""

from __future__ import annotations

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from jax import Array
from numpyro.distributions.transforms import AffineTransform, IndependentTransform

from synthbio_ppl.families.correlated import STRUCTURES, anchor_correlations
from synthbio_ppl.model.layout import Block
from synthbio_ppl.processes.informative import class_means


def cluster(
    block: Block,
    labels: Array,
    n_levels: int,
    rows: numpyro.plate,
    loc_shift: Array | float,
    scale: Array | float,
    obs: Array | None = None,
) -> Array:
    """Sites ``<block>.correlation`` (K,), ``.anchor_effect`` (K-1,), ``.proxy_attenuation``."""
    p = block.n_features
    low = -1.0 / (p - 1) if block.structure == "equicorrelated" else -1.0
    rho = numpyro.sample(
        f"{block.name}.correlation", dist.Uniform(low, 1.0).expand([n_levels]).to_event(1)
    )
    effect = numpyro.sample(
        f"{block.name}.anchor_effect", dist.Normal(0.0, 2.0).expand([n_levels - 1]).to_event(1)
    )
    alpha = numpyro.sample(f"{block.name}.proxy_attenuation", dist.HalfNormal(1.0))
    r_anchor = anchor_correlations(block.structure, rho, p)
    echo = jnp.where(jnp.arange(p) == 0, 1.0, alpha * r_anchor)
    means = numpyro.deterministic(f"{block.name}.level_means", class_means(effect)[:, None] * echo)
    with rows:
        base = STRUCTURES[block.structure](rho[labels], p)
        mean = means[labels]
        affine = AffineTransform(scale * mean + loc_shift, scale)
        located = dist.TransformedDistribution(base, IndependentTransform(affine, 1))
        return numpyro.sample(block.name, located, obs=obs)
