"""Gradient time of the twin's log-density on the breast-cancer table, two densities.

``ClassFactorNormal`` (Woodbury, one r × r Cholesky per class, one-hot products) against
NumPyro's ``LowRankMultivariateNormal`` with the class parameters gathered per row (swapped
into the same model for this run only). The gradient of the potential is what every NUTS
leapfrog step and every MAP/SVI step evaluates.

    .venv/bin/python benchmarks/profile_twin_gradient.py [--repeats 200]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpyro.distributions as dist
from _machine import header as print_header
from numpyro.infer.util import initialize_model
from sklearn.datasets import load_breast_cancer

from synthbio_ppl.twins import model as twin_model
from synthbio_ppl.twins.columns import read_layout
from synthbio_ppl.twins.design import _class_codes, _design, _numeric_values, _shape
from synthbio_ppl.twins.fitting import default_rank

PACKAGES = ("jax", "jaxlib", "numpyro", "numpy")


def _gathered(loc: Any, factor: Any, diag: Any, y: Any) -> dist.Distribution:
    return dist.LowRankMultivariateNormal(loc[y], factor[y], diag[y])


def _gradient_ms(density: Callable[..., dist.Distribution], repeats: int) -> float:
    """Milliseconds per jitted value-and-gradient of the potential with ``density``."""
    table = load_breast_cancer(as_frame=True).frame
    layout = read_layout(table, "target")
    shape = _shape(layout, default_rank(len(layout.numeric)))
    design = _design(_class_codes(table["target"], layout))
    numeric, _ = _numeric_values(table, layout)
    data = twin_model.TwinData(jnp.asarray(numeric), jnp.zeros((len(table), 0), jnp.int32))
    original = twin_model.ClassFactorNormal
    twin_model.ClassFactorNormal = density  # the one line that differs
    try:
        info, potential, _, _ = initialize_model(
            jax.random.PRNGKey(0),
            partial(twin_model.twin_model, shape=shape),
            model_args=(design, data),
        )
        grad = jax.jit(jax.value_and_grad(potential))
        jax.block_until_ready(grad(info.z))
        start = time.perf_counter()
        for _ in range(repeats):
            jax.block_until_ready(grad(info.z))
        return (time.perf_counter() - start) / repeats * 1e3
    finally:
        twin_model.ClassFactorNormal = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    print_header(PACKAGES, {"table": "breast cancer 569 × 30, default rank"}, [])
    ours = _gradient_ms(twin_model.ClassFactorNormal, args.repeats)
    gathered = _gradient_ms(_gathered, args.repeats)
    print("\n| density | ms per gradient | ratio |\n|---|---:|---:|")
    print(f"| ClassFactorNormal (Woodbury, one-hot) | {ours:.2f} | 1.00 |")
    print(
        f"| LowRankMultivariateNormal, gathered per row | {gathered:.2f} | {gathered / ours:.1f} |"
    )


if __name__ == "__main__":
    main()
