"""What a counterfactual world costs, and what the batch corrections cost.

    .venv/bin/python benchmarks/bench_worlds.py [--repeats 5]

A 10,000 × 1,010 table with four additive batches is generated warm: the factual world,
the batch-free world (``without=["batches"]``), one column set for every row and one set
for half the rows (``do``). A world draws the factual table too (its effects are the
difference), so its floor is two factual draws: the ratio to one is reported. Then
``correct_batches`` by centring, scaling and ComBat (inmoose) on the same table, against
one pass of numpy over it (the mean of every column: the floor of any correction), all
variants interleaved in every round.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import header

import synthbio_ppl as sb

SPEC = {
    "name": "worlds_bench",
    "seed": 1,
    "classes": [{"name": "a", "n": 5000}, {"name": "b", "n": 5000}],
    "informative": [{"name": "inf", "n": 10, "effect_size": 0.8}],
    "noise": [{"name": "noise", "n": 1000}],
    "batches": {"n": 4, "strength": 0.5, "confounding": 0.5},
}


def _table(name: str, times: dict[str, list[float]], base: str) -> None:
    floor = statistics.median(times[base])
    print("| variant | median (s) | range (s) | vs " + base + " |")
    print("|---|---|---|---|")
    for key, values in times.items():
        median = statistics.median(values)
        print(f"| {key} | {median:.3f} | {min(values):.3f}-{max(values):.3f} | "
              f"{median / floor:.2f}x |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    header(["jax", "jaxlib", "numpyro", "numpy", "pandas", "scikit-learn", "inmoose"], {}, [])
    half = np.where(np.arange(10_000) % 2 == 0, 0.0, np.nan)
    worlds = {
        "factual": {},
        "without batches": {"without": ["batches"]},
        "do noise_0 = 0, every row": {"do": {"noise_0": 0.0}},
        "do noise_0 = 0, half the rows": {"do": {"noise_0": half}},
    }
    spec = sb.validate_spec(SPEC)
    for kwargs in worlds.values():  # warm: compile every program once
        sb.generate(spec, **kwargs)
    times: dict[str, list[float]] = {name: [] for name in worlds}
    for _ in range(args.repeats):
        for name, kwargs in worlds.items():
            started = time.perf_counter()
            sb.generate(spec, **kwargs)
            times[name].append(time.perf_counter() - started)
    print(f"\ngeneration, 10,000 x 1,010, warm, {args.repeats} interleaved rounds\n")
    _table("generation", times, "factual")

    data = sb.generate(spec)
    X, batch = data.X, data.covariates["batch"]
    values = X.to_numpy(dtype=np.float64)
    corrections: dict[str, list[float]] = {"numpy column means": []}
    corrections.update({m: [] for m in ("center", "scale", "combat")})
    warnings.simplefilter("ignore")
    for _ in range(args.repeats):
        started = time.perf_counter()
        values.mean(axis=0)
        corrections["numpy column means"].append(time.perf_counter() - started)
        for method in ("center", "scale", "combat"):
            started = time.perf_counter()
            sb.correct_batches(X, batch, method=method)
            corrections[method].append(time.perf_counter() - started)
    print(f"\ncorrect_batches, 10,000 x 1,010, {args.repeats} interleaved rounds\n")
    _table("corrections", corrections, "numpy column means")


if __name__ == "__main__":
    main()
