"""Wall time of the default teaching fit: NUTS on 200 rows × 20 features, JIT included.

The dataset: two classes of 100 rows; 5 informative features (d = 1), an equicorrelated
cluster of 5 (ρ = 0.6, anchor d = 1) and 10 normal noise features. The fit: NUTS, one chain,
1000 warmup + 1000 draws (``synthbio_ppl.inference.fitting.fit`` defaults), then the recovery table.
Target: ≤ 30 s including compilation.

Each measurement runs in a fresh process, so it pays JAX's compilation:

- cold: an empty persistent compilation cache (``SYNTHBIO_CACHE_DIR`` pointing at a new
  folder), the time a first-time user waits;
- warm: the same folder again, so XLA programs are read back from the cache;
- SVI (5000 Adam steps, 1000 guide draws) on the same data, warm cache.

Each process then refits a second dataset of the same shape: the compiled program is
reused, the time a learner waits after changing an effect size and regenerating.

Run: ``.venv/bin/python benchmarks/bench_fit.py [--repeats N]``. Prints the machine,
versions, date and load average, then a markdown table (median over repeats).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from typing import Any

SPEC: dict[str, Any] = {
    "name": "teaching_fit",
    "seed": 7,
    "classes": [{"name": "healthy", "n": 100}, {"name": "diseased", "n": 100}],
    "informative": [{"n": 5, "effect_size": 1.0}],
    "clusters": [{"n": 5, "correlation": 0.6, "anchor_effect": 1.0}],
    "noise": [{"n": 10}],
}
PACKAGES = ("jax", "jaxlib", "numpyro", "arviz", "numpy")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(method: str) -> dict[str, Any]:
    """One measurement in this (fresh) process: generate, then fit and tabulate."""
    start_wall, start_cpu = time.perf_counter(), _cpu()
    import synthbio_ppl as sb
    from synthbio_ppl.inference.fitting import fit

    import_s = time.perf_counter() - start_wall
    t0 = time.perf_counter()
    data = sb.generate(SPEC)
    generate_s = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), _cpu()
    result = fit(None, data, method, progress=False)
    table = result.recovery()
    fit_s, fit_cpu = time.perf_counter() - t0, _cpu() - c0
    stats = result.idata.sample_stats
    other = sb.generate(SPEC, seed=8)  # same shape: the compiled program is reused
    t0 = time.perf_counter()
    fit(None, other, method, progress=False).recovery()
    refit_s = time.perf_counter() - t0
    return {
        "refit_s": refit_s,
        "method": method,
        "import_s": import_s,
        "generate_s": generate_s,
        "fit_s": fit_s,
        "fit_cpu_s": fit_cpu,
        "process_cpu_s": _cpu() - start_cpu,
        "parameters": len(table),
        "covered": int(table["covered"].sum()),
        "max_r_hat": float(table["r_hat"].max()),
        "min_ess_bulk": float(table["ess_bulk"].min()),
        "divergences": int(stats["diverging"].sum()) if "diverging" in stats else 0,
        "shape": list(data.X.shape),
    }


def _run_child(method: str, cache: str) -> dict[str, Any]:
    env = {**os.environ, "SYNTHBIO_CACHE_DIR": cache}
    out = subprocess.run(
        [sys.executable, __file__, "--child", method],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _versions() -> str:
    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (absent)")
    return ", ".join(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", choices=["nuts", "svi"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    print(f"date: {dt.datetime.now().isoformat(timespec='seconds')}")
    python = platform.python_version()
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, python {python}")
    print(f"versions: {_versions()}")
    print(f"load average at start: {os.getloadavg()}")
    rows: dict[str, list[dict[str, Any]]] = {"nuts cold": [], "nuts warm": [], "svi warm": []}
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as cache:
            rows["nuts cold"].append(_run_child("nuts", cache))
            rows["nuts warm"].append(_run_child("nuts", cache))
            rows["svi warm"].append(_run_child("svi", cache))
    print(f"load average at end: {os.getloadavg()}\n")
    n, p = rows["nuts cold"][0]["shape"]
    print(f"dataset: {n} rows × {p} features; medians over {args.repeats} fresh processes\n")
    head = (
        "| run | fit + recovery s | fit CPU s | refit (same process) s | generate s | import s "
        "| covered | max R̂ | min ESS |"
    )
    print(head)
    print("|---" * (head.count("|") - 1) + "|")
    for name, runs in rows.items():
        keys = [k for k in runs[0] if k not in ("method", "shape")]
        med = {k: statistics.median(r[k] for r in runs) for k in keys}
        print(
            f"| {name} | {med['fit_s']:.1f} | {med['fit_cpu_s']:.1f} | {med['refit_s']:.1f} | "
            f"{med['generate_s']:.1f} | {med['import_s']:.1f} | "
            f"{runs[0]['covered']}/{runs[0]['parameters']} | "
            f"{med['max_r_hat']:.3f} | {med['min_ess_bulk']:.0f} |"
        )
    cold = statistics.median(r["fit_s"] for r in rows["nuts cold"])
    verdict = "met" if cold <= 30 else "NOT met"
    print(f"\nteaching fit (NUTS, cold cache, JIT included): {cold:.1f} s; ≤ 30 s: {verdict}")


if __name__ == "__main__":
    main()
