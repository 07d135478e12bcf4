"""What a ``missing:`` entry costs: the benchmark table generated with and without one.

    .venv/bin/python benchmarks/bench_missing.py [--repeats 5]

The 10,000 × 10,110 table of ``models/pn_benchmark.yaml`` is generated warm, the
variants interleaved in every round so that load on a shared machine hits them alike.
Variants: no entry; MCAR on the 110 informative and cluster columns; MCAR on every
column; MNAR on every column (its intercepts solved from the first rows' values). The
physical floor of a mask over every cell is one random number per cell: raw
``jax.random.uniform`` of the table's shape is timed in the same rounds and reported as
a share of the table's own generation.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import jax
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import header

import synthbio_ppl as sb

ROOT = Path(__file__).resolve().parents[1]

VARIANTS = {
    "none": None,
    "mcar, 110 signal columns": [
        {"mechanism": "mcar", "rate": 0.2, "affects": ["inf0", *(f"clu{i}" for i in range(10))]}
    ],
    "mcar, every column": [{"mechanism": "mcar", "rate": 0.2}],
    "mnar, every column": [{"mechanism": "mnar", "rate": 0.2, "strength": -1.0}],
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    header(["jax", "jaxlib", "numpyro", "numpy", "pandas"], {}, [])
    base = yaml.safe_load((ROOT / "models" / "pn_benchmark.yaml").read_text())
    specs = {}
    for name, missing in VARIANTS.items():
        spec = dict(base)
        if missing is not None:
            spec["missing"] = missing
        specs[name] = sb.validate_spec(spec)
    n_rows, n_cols = 10_000, 10_110
    uniform = jax.jit(lambda key: jax.random.uniform(key, (n_rows, n_cols)))
    for spec in specs.values():  # warm: compile every program once
        sb.generate(spec)
    uniform(jax.random.PRNGKey(0)).block_until_ready()
    times: dict[str, list[float]] = {name: [] for name in [*specs, "raw uniform"]}
    for r in range(args.repeats):
        for name, spec in specs.items():
            started = time.perf_counter()
            data = sb.generate(spec)
            times[name].append(time.perf_counter() - started)
            del data
        started = time.perf_counter()
        uniform(jax.random.PRNGKey(r + 1)).block_until_ready()
        times["raw uniform"].append(time.perf_counter() - started)
    plain = statistics.median(times["none"])
    print(f"\n10,000 x 10,110, warm, {args.repeats} interleaved rounds\n")
    print("| variant | median (s) | range (s) | vs no entry |")
    print("|---|---|---|---|")
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"| {name} | {median:.3f} | {min(values):.3f}-{max(values):.3f} | "
            f"{median / plain:.2f}x |"
        )
    print(
        "\nfloor of a mask over every cell (one uniform per cell) as a share of the plain "
        f"table: {statistics.median(times['raw uniform']) / plain:.2f}"
    )


if __name__ == "__main__":
    main()
