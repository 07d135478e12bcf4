"""What running a fit in pieces (for its progress bar) costs against one whole program.

``sb.fit`` runs NUTS as a start program, up to 40 calls of one steps program (the host waits
for each and moves the bar) and a finish program (``synthbio_ppl.inference.stepped``). Timed
here through ``stepped.run_nuts``/``run_svi`` (what ``sb.fit`` calls, without its
bookkeeping). The reference is the same chain as one jitted program:
``inference.kernels.nuts_chain`` (or ``svi_fit``) plus the same log-likelihood.
Both warm (compiled before timing), interleaved call by call, on a small scene (200 rows,
3 informative + 2 noise features, 2 batches): the fixed cost of the pieces shows most where
a step is cheap.

Run: ``.venv/bin/python benchmarks/bench_fit_pieces.py [--quick]``. Prints the machine,
versions and load, then a markdown table (median and range of wall seconds, ratio
pieces / whole). No timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

os.environ["SYNTHBIO_COMPILE_NOTICE"] = "off"
sys.path.insert(0, str(Path(__file__).resolve().parent))

import jax
import jax.numpy as jnp
from _machine import header, load

import synthbio_ppl as sb
from synthbio_ppl.inference.kernels import nuts_chain, svi_fit
from synthbio_ppl.inference.likelihood import likelihood_model
from synthbio_ppl.inference.memory import compiled
from synthbio_ppl.inference.problem import build_problem
from synthbio_ppl.inference.programs import (
    device_design,
    guide_kind,
    pointwise_loglik,
    program_inputs,
)
from synthbio_ppl.inference.stepped import nuts_stepped, run_nuts, run_svi, svi_stepped

SPEC = {
    "seed": 3,
    "classes": [{"name": "a", "n": 100}, {"name": "b", "n": 100}],
    "informative": [{"n": 3, "effect_size": 1.0}],
    "noise": [{"n": 2}],
    "batches": {"n": 2, "strength": 0.4},
}


def programs(
    data: sb.Dataset, warmup: int, samples: int, steps: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the fits in pieces, the reference fits: one jitted program each, the same chain
    and log-likelihood), each a function of the key."""
    problem = build_problem(data.spec, data)
    args = (device_design(problem.design), jnp.asarray(problem.X), program_inputs(problem))
    layout = problem.layout
    model = partial(likelihood_model, layout=layout, noncentred=False)
    sites = tuple(problem.free)
    kind = guide_kind(problem, "auto")

    def nuts(key: jax.Array) -> Any:
        draws, stats = nuts_chain(model, key, *args, warmup, samples, 0.8)
        return draws, stats, pointwise_loglik(layout, draws, *args)

    def svi(key: jax.Array) -> Any:
        draws, losses = svi_fit(model, key, *args, steps, 0.01, kind, samples, sites)
        return draws, losses, pointwise_loglik(layout, draws, *args)

    svi_sites = (*sites, *(s.name for s in problem.sites.values() if s.deterministic))
    nuts_pieces = nuts_stepped(layout, False, warmup, samples, 1, 0.8, True)
    svi_pieces = svi_stepped(layout, False, steps, 0.01, kind, samples, svi_sites, True)
    pieces = {
        "nuts": lambda key: run_nuts(nuts_pieces, key, args, warmup, compiled, False),
        "svi": lambda key: run_svi(svi_pieces, key, args, steps, compiled, False),
    }
    return pieces, {"nuts": jax.jit(nuts), "svi": jax.jit(svi)}


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    jax.block_until_ready(fn())
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and repeats")
    args = parser.parse_args()
    warmup, samples, steps, repeats = (200, 200, 1000, 3) if args.quick else (1000, 1000, 5000, 7)
    header(
        ("jax", "jaxlib", "numpyro", "numpy"),
        {"command": f"benchmarks/bench_fit_pieces.py{' --quick' if args.quick else ''}"},
        [f"NUTS {warmup} warmup + {samples} draws, 1 chain; SVI {steps} steps, {samples} draws"],
    )
    pieces, whole = programs(sb.generate(SPEC), warmup, samples, steps)
    key = jax.random.PRNGKey(0)
    rows = []
    for method in ("nuts", "svi"):
        jax.block_until_ready(pieces[method](key))  # compile both before timing
        jax.block_until_ready(whole[method](key))
        times: dict[str, list[float]] = {"pieces": [], "whole": []}
        for i in range(repeats):
            order = ("pieces", "whole") if i % 2 == 0 else ("whole", "pieces")
            for variant in order:
                run = partial((pieces if variant == "pieces" else whole)[method], key)
                times[variant].append(timed(run))
        ratios = [p / w for p, w in zip(times["pieces"], times["whole"], strict=True)]
        rows.append((method, times, ratios))
    print("\n| fit | in pieces, s | one whole program, s | pieces / whole |")
    print("|---|---|---|---|")
    for method, times, ratios in rows:
        cells = [
            f"{statistics.median(t):.3f} ({min(t):.3f}-{max(t):.3f})"
            for t in (times["pieces"], times["whole"])
        ]
        ratio = f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"
        print(f"| {method.upper()} | {cells[0]} | {cells[1]} | {ratio} |")
    print(f"\nload average at the end: {load(os.getloadavg())}")


if __name__ == "__main__":
    main()
