"""Streamed memory against the row count: planning a run and drawing its last part.

A child process per row count builds the streamed plan of a 100-feature scene (2 classes,
3 batches confounded with class, a pseudo-class block with 4 groups, a class-driven
missing-value entry: every kind of row design) rescaled to that many rows, then draws the
run's last part (``chunk_rows`` rows). It prints the part's seconds and the child's peak
RSS (``VmHWM``). The ratio of peaks between 10⁸ and 10⁵ rows is the figure: 1 when memory
does not grow with rows. Writing the whole 10⁸ rows is not needed for it: every part is
planned and drawn the same way.

Run: ``.venv/bin/python benchmarks/bench_stream_memory.py [--rows 100000 100000000]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import header, peak_rss

SCENE = {
    "name": "stream_memory",
    "seed": 1,
    "classes": [{"name": "a", "n": 600}, {"name": "b", "n": 400}],
    "informative": [{"n": 10, "effect_size": 0.8}],
    "pseudo_classes": [{"n": 10, "groups": 4}],
    "noise": [{"n": 80}],
    "batches": {"n": 3, "confounding": 0.5},
    "missing": [{"mechanism": "mar", "rate": 0.1, "depends_on": "class", "affects": ["noise0"]}],
}
CHUNK_ROWS = 65_536


def _child(rows: int) -> None:
    import synthbio_ppl as sb
    from synthbio_ppl.engine.planning import chunk_frames, plan_for

    start = time.perf_counter()
    plan = plan_for(sb.rescale_rows(SCENE, rows), CHUNK_ROWS)
    planned = time.perf_counter() - start
    first, last = plan.parts[-1]
    start = time.perf_counter()
    frames = chunk_frames(plan, first, last)
    drawn = time.perf_counter() - start
    shape = list(frames["X"].shape)
    print(json.dumps({"plan_s": planned, "part_s": drawn, "peak": peak_rss(), "shape": shape}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 100_000_000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    header(["jax", "numpyro", "numpy", "pyarrow"], {"chunk_rows": f"{CHUNK_ROWS:,}"}, [])
    results = {}
    for rows in args.rows:
        out = (
            subprocess.run(
                [sys.executable, __file__, "--child", str(rows)],
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        results[rows] = json.loads(out)
    base = results[args.rows[0]]["peak"]
    print("| rows | plan s | last part s | peak RSS | peak / first |")
    print("|---:|---:|---:|---:|---:|")
    for rows, r in results.items():
        print(
            f"| {rows:,} | {r['plan_s']:.2f} | {r['part_s']:.2f} | "
            f"{r['peak'] / 2**20:.0f} MiB | {r['peak'] / base:.2f} |"
        )


if __name__ == "__main__":
    main()
