"""Generation speed of two source trees of synthbio_ppl, measured side by side.

For a change that must not alter speed (a restructure), each tree generates the same
tables in alternating child processes (A, B, A, B, ...), and the script reports each
tree's medians, their spread and the ratio B/A:

- ``import synthbio_ppl`` plus validating ``models/kitchen_sink.yaml`` (no JAX);
- ``generate`` of the course table (30 × 1,208) and of a wide table (2,000 × 10,110 with
  clusters and batches), warm: the median of 5 calls after a first, compiling one.

Run: ``.venv/bin/python benchmarks/ab_generate.py OLD_TREE NEW_TREE [--rounds 3]``.
Both trees use this interpreter's packages; each child puts its tree first on sys.path.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import header, load

CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
started = time.perf_counter()
import synthbio_ppl as sb
sb.load_spec(sys.argv[1] + "/models/kitchen_sink.yaml")
light = time.perf_counter() - started
assert sb.__file__.startswith(sys.argv[1]), sb.__file__
course = {"name": "course", "classes": [{"name": "a", "n": 15}, {"name": "b", "n": 15}],
          "informative": [{"n": 8, "effect_size": 1.2}], "noise": [{"n": 1200}]}
wide = {"name": "wide", "classes": [{"name": "a", "n": 1000}, {"name": "b", "n": 1000}],
        "informative": [{"n": 10}], "clusters": [{"n": 10, "correlation": 0.7}] * 10,
        "noise": [{"n": 10000}], "batches": {"n": 3, "confounding": 0.5}}
out = {"import_validate": light}
for name, spec in (("course", course), ("wide", wide)):
    sb.generate(spec)
    times = []
    for _ in range(5):
        t = time.perf_counter()
        sb.generate(spec)
        times.append(time.perf_counter() - t)
    out[name] = sorted(times)[2]
print(json.dumps(out))
"""


def run(tree: str) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, tree], capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    header(["jax", "jaxlib", "numpyro", "numpy", "pandas"], {"A": args.old, "B": args.new}, [])
    results: dict[str, list[dict[str, float]]] = {"A": [], "B": []}
    for _ in range(args.rounds):
        results["A"].append(run(str(Path(args.old).resolve())))
        results["B"].append(run(str(Path(args.new).resolve())))
    print(f"\nA = {args.old}, B = {args.new}, {args.rounds} alternating rounds\n")
    print("| measure | A median (s) | A range | B median (s) | B range | B/A |")
    print("|---|---|---|---|---|---|")
    for key in ("import_validate", "course", "wide"):
        a = [r[key] for r in results["A"]]
        b = [r[key] for r in results["B"]]
        ratio = statistics.median(b) / statistics.median(a)
        print(
            f"| {key} | {statistics.median(a):.4f} | {min(a):.4f}-{max(a):.4f} | "
            f"{statistics.median(b):.4f} | {min(b):.4f}-{max(b):.4f} | {ratio:.2f} |"
        )
    print(f"\nload average at end (1/5/15 min): {load(os.getloadavg())}")


if __name__ == "__main__":
    main()
