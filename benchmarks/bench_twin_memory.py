"""Peak memory of a twin fit against ``twins.budget.fit_bytes``, the estimate that refuses
a table too large for memory before the fit.

A child process per case fits a twin to a standard-normal table of p numeric columns and
n rows in two classes (default rank, MAP or SVI with 100 draws) and computes one class's
correlation matrix; it prints its peak RSS (``VmHWM``) and the estimate. The ratio
estimate / measured is the figure: near 1 means the refusal is placed where memory really
runs out.

Run: ``.venv/bin/python benchmarks/bench_twin_memory.py``
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import header, peak_rss

CASES = [(200, 400, "map"), (800, 400, "map"), (1600, 400, "map"), (800, 400, "svi")]
DRAWS = 100


def _child(p: int, n: int, method: str) -> None:
    import numpy as np
    import pandas as pd

    import synthbio_ppl as sb
    from synthbio_ppl.twins.budget import fit_bytes
    from synthbio_ppl.twins.fitting import default_rank

    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.normal(size=(n, p)), columns=[f"c{j}" for j in range(p)])
    table["y"] = np.repeat(["a", "b"], n // 2)
    draws_setting = {} if method == "map" else {"num_samples": DRAWS}  # map keeps one
    twin = sb.twin(table, "y", method=method, svi_steps=50, **draws_setting)
    twin.correlation("a")
    peak = peak_rss()
    draws = 1 if method == "map" else DRAWS
    estimate = fit_bytes(n, p, 0, 2, default_rank(p), draws)
    print(json.dumps({"peak": peak, "estimate": estimate}))


def main() -> None:
    if len(sys.argv) == 4:
        _child(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
        return
    header(["jax", "numpyro", "numpy"], {}, [])
    print("| p | rows | method | peak RSS | estimate | estimate / peak |")
    print("|---:|---:|---|---:|---:|---:|")
    for p, n, method in CASES:
        out = subprocess.run(
            [sys.executable, __file__, str(p), str(n), method],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        r = json.loads(out.splitlines()[-1])
        print(
            f"| {p:,} | {n:,} | {method} | {r['peak'] / 2**20:.0f} MiB | "
            f"{r['estimate'] / 2**20:.0f} MiB | {r['estimate'] / r['peak']:.2f} |"
        )


if __name__ == "__main__":
    main()
