"""Scale benchmarks for synthbio_ppl, each reported as a ratio measured in one run.

1. Throughput: the 10,000 x 10,110 benchmark table (10 informative, 10 clusters of 10,
   10,000 noise, 3 batches confounded; ``models/pn_benchmark.yaml``) drawn to a host
   array, against raw jitted ``jax.random.normal`` for the same number of values
   (float32, to a host array), both in the engine's threefry configuration
   (``engine.draw.PARTITIONABLE``). Target: >= 90 %. Rounds alternate the two and keep each
   one's best; wall and CPU seconds are both shown (CPU time is steadier on a busy host).
2. Streaming: 10^6 rows x 1,000 features streamed to Parquet in a child process; its
   peak RSS (``VmHWM``, else ``getrusage``; target <= 2 GiB) and rows/s.
3. Cold start: a fresh process generating the 30 x 1,208 course table (8 informative at
   d = 1.2 + 1,200 noise) with a warm and with an empty compilation cache, against a fresh
   process running biomedical-data-generator 1.0.0 on the same table (target <= 2x), with
   the child's own split of import / compile (or cache load) / the rest.

Run: ``.venv/bin/python benchmarks/bench_scale.py [--quick] [--only throughput,stream,cold]``
(``--quick``: 10^5 streamed rows, fewer rounds). Prints machine, versions, date, load and
markdown tables.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("jax", "jaxlib", "numpyro", "numpy", "pyarrow", "biomedical-data-generator")

KITCHEN_SINK: dict[str, Any] = {
    "name": "pn_benchmark",
    "seed": 11,
    "classes": [{"name": "healthy", "n": 5000}, {"name": "diseased", "n": 5000}],
    "informative": [{"n": 10, "effect_size": 0.8}],
    "clusters": [{"n": 10, "correlation": 0.6, "anchor_effect": 0.8}] * 5
    + [{"n": 10, "structure": "toeplitz", "correlation": 0.7, "anchor_effect": 0.8}] * 5,
    "noise": [{"n": 10_000}],
    "batches": {"n": 3, "strength": 0.5, "confounding": 0.5},
}
STREAMED: dict[str, Any] = {
    "name": "streamed_1000",
    "seed": 3,
    "classes": [{"name": "healthy", "n": 500}, {"name": "diseased", "n": 500}],
    "informative": [{"n": 10, "effect_size": 0.8}],
    "clusters": [{"n": 10, "correlation": 0.6, "anchor_effect": 0.8}] * 2,
    "noise": [{"n": 970}],
    "batches": {"n": 3, "strength": 0.5, "confounding": 0.5},
}
COURSE: dict[str, Any] = {
    "name": "winners_curse",
    "seed": 1,
    "classes": [{"name": "healthy", "n": 15}, {"name": "diseased", "n": 15}],
    "informative": [{"name": "signal", "n": 8, "effect_size": 1.2}],
    "noise": [{"name": "noise", "n": 1200}],
}


def environment() -> str:
    """Machine, versions, date and load: what the numbers were measured on."""
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return "\n".join(
        [
            f"date: {dt.datetime.now().isoformat(timespec='seconds')}",
            f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} CPUs, Python {platform.python_version()}",
            f"versions: {', '.join(versions)}",
            f"load average (1/5/15 min) at start: {load}",
        ]
    )


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------- 1. throughput


def throughput(rounds: int) -> str:
    """Kitchen-sink table vs raw jax.random.normal, alternating, best of ``rounds``."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from synthbio_ppl.engine.draw import PARTITIONABLE, draw_rows, population_sites
    from synthbio_ppl.model.design import build_design
    from synthbio_ppl.model.layout import build_layout
    from synthbio_ppl.model.parameters import fixed_sites
    from synthbio_ppl.model.scene import as_spec

    path = ROOT / "models" / "pn_benchmark.yaml"
    spec = as_spec(path if path.is_file() else KITCHEN_SINK)
    layout, fixed, design = build_layout(spec), fixed_sites(spec), build_design(spec)
    shape = (spec.n_rows, layout.n_features)

    @jax.jit
    def raw(key: jax.Array) -> jax.Array:
        return jax.random.normal(key, shape, dtype=jnp.float32)

    def ours() -> None:
        draw_rows(layout, fixed, design, spec.seed, spec.dtype)

    def baseline() -> None:  # in the engine's threefry configuration
        with jax.threefry_partitionable(PARTITIONABLE):
            np.asarray(raw(jax.random.PRNGKey(0)))

    start = time.perf_counter()
    ours()
    population_sites(layout, fixed, spec.seed, spec.dtype)
    first = time.perf_counter() - start
    baseline()
    best: dict[str, list[float]] = {"ours": [np.inf, np.inf], "raw": [np.inf, np.inf]}
    for _ in range(rounds):
        for name, fn in (("ours", ours), ("raw", baseline)):
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            best[name] = [min(best[name][0], wall), min(best[name][1], cpu)]
    values = shape[0] * shape[1]
    rows = []
    for name in ("ours", "raw"):
        wall, cpu = best[name]
        rows.append([name, f"{wall:.2f}", f"{values / wall / 1e6:.1f}", f"{cpu:.2f}"])
    ratio_wall = best["raw"][0] / best["ours"][0]
    ratio_cpu = best["raw"][1] / best["ours"][1]
    return (
        f"### 1. Throughput: {shape[0]:,} x {shape[1]:,} ({spec.name}), best of {rounds}\n\n"
        + table(["generator", "wall s", "M values/s", "CPU s"], rows)
        + f"\n\nours / raw normal (both with jax_threefry_partitionable={PARTITIONABLE}, the "
        f"engine's): **{ratio_wall:.0%} (wall)**, {ratio_cpu:.0%} (CPU time); target >= 90 %. "
        f"First call (compile + draw + population sites): {first:.1f} s."
    )


# --------------------------------------------------------------------------- 2. streaming


def _peak_rss(resource: Any) -> int:
    """This process's peak resident set size in bytes.

    On Linux ``VmHWM`` of /proc/self/status: ``ru_maxrss`` would also count the parent's
    memory at the moment it spawned this process (the kernel keeps it across ``exec``).
    """
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _stream_child(out: str, rows: int) -> None:
    """Child: stream ``STREAMED`` at ``rows`` rows; print seconds and peak RSS as JSON."""
    import resource

    import jax

    from synthbio_ppl.engine.parquet_writer import generate_to_parquet

    compile_s: list[float] = []
    jax.monitoring.register_event_duration_secs_listener(
        lambda event, seconds, **kw: (
            compile_s.append(seconds)
            if event == "/jax/core/compile/backend_compile_duration"
            else None
        )
    )
    start, cpu = time.perf_counter(), time.process_time()
    folder = generate_to_parquet(STREAMED, out, rows=rows, progress=False)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak_bytes = _peak_rss(resource)
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    parts = len(list((folder / "data").glob("part-*.parquet")))
    result = {"seconds": seconds, "cpu": cpu, "compile": sum(compile_s), "peak": peak_bytes}
    print(json.dumps({**result, "bytes": size, "parts": parts}))


def streaming(rows: int) -> str:
    """Peak RSS and throughput of a streamed write, measured in a child process."""
    work = Path(tempfile.mkdtemp(prefix="synthbio-bench-"))
    try:
        cmd = [sys.executable, __file__, "--stream-child", str(work / "out"), str(rows)]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    features = 10 + 20 + 970
    gib = result["peak"] / 2**30
    rate = rows / result["seconds"]
    body = table(
        [
            "rows x features",
            "parts",
            "wall s",
            "CPU s",
            "compile s",
            "rows/s",
            "M values/s",
            "MB/s written",
            "peak RSS",
        ],
        [
            [
                f"{rows:,} x {features:,}",
                str(result["parts"]),
                f"{result['seconds']:.1f}",
                f"{result['cpu']:.1f}",
                f"{result['compile']:.1f}",
                f"{rate:,.0f}",
                f"{rate * features / 1e6:.1f}",
                f"{result['bytes'] / result['seconds'] / 1e6:.0f}",
                f"{gib:.2f} GiB",
            ]
        ],
    )
    verdict = "within" if gib <= 2 else "OVER"
    return (
        f"### 2. Streaming to Parquet (child process, compile included)\n\n{body}\n\n"
        f"Peak RSS {gib:.2f} GiB: {verdict} the 2 GiB target."
    )


# --------------------------------------------------------------------------- 3. cold start

OURS_CHILD = """
import json, sys, time
t0 = time.perf_counter()
import jax
compile_s = []
jax.monitoring.register_event_duration_secs_listener(
    lambda event, seconds, **kw: compile_s.append(seconds)
    if event == "/jax/core/compile/backend_compile_duration" else None
)
t1 = time.perf_counter()
import synthbio_ppl.engine.draw  # the package imports lazily: load what generate needs
from synthbio_ppl.engine.generation import generate
t2 = time.perf_counter()
data = generate(json.loads(sys.argv[1]))
t3 = time.perf_counter()
print(json.dumps({"jax": t1 - t0, "import": t2 - t1, "generate": t3 - t2,
                  "compile": sum(compile_s), "shape": list(data.X.shape)}))
"""

PEER_CHILD = """
import json, sys, time
t0 = time.perf_counter()
from biomedical_data_generator import DatasetConfig, generate_dataset
t1 = time.perf_counter()
cfg = DatasetConfig.model_validate({
    "n_informative": 8, "n_noise": 1200, "class_sep": [1.2], "random_state": 1,
    "class_configs": [{"n_samples": 15, "label": "healthy"},
                      {"n_samples": 15, "label": "diseased"}],
})
X, y, meta = generate_dataset(cfg, return_dataframe=True)
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "generate": t2 - t1, "shape": list(X.shape)}))
"""


def _fresh(code: str, *args: str, env: dict[str, str] | None = None) -> tuple[float, dict]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        check=True,
    )
    return time.perf_counter() - start, json.loads(done.stdout.strip().splitlines()[-1])


def cold_start(rounds: int) -> str:
    """Whole fresh processes: ours (warm cache, empty cache) vs the peer, alternating."""
    spec = json.dumps(COURSE)
    cache = Path(tempfile.mkdtemp(prefix="synthbio-bench-cache-"))
    results: dict[str, list[tuple[float, dict]]] = {"warm": [], "empty": [], "peer": []}
    try:
        _fresh(OURS_CHILD, spec, env={"SYNTHBIO_CACHE_DIR": str(cache)})  # fill the cache
        for r in range(rounds):
            empty = cache.parent / f"{cache.name}-empty{r}"
            results["warm"].append(_fresh(OURS_CHILD, spec, env={"SYNTHBIO_CACHE_DIR": str(cache)}))
            results["empty"].append(
                _fresh(OURS_CHILD, spec, env={"SYNTHBIO_CACHE_DIR": str(empty)})
            )
            shutil.rmtree(empty, ignore_errors=True)
            with contextlib.suppress(subprocess.CalledProcessError):  # peer not installed
                results["peer"].append(_fresh(PEER_CHILD))
    finally:
        shutil.rmtree(cache, ignore_errors=True)

    def median(name: str, key: str | None = None) -> float:
        runs = results[name]
        return statistics.median(r[0] if key is None else r[1].get(key, 0.0) for r in runs)

    rows = []
    labels = {"warm": "synthbio_ppl, warm cache", "empty": "synthbio_ppl, empty cache"}
    for name in ("warm", "empty"):
        rest = median(name, "generate") - median(name, "compile")
        rows.append(
            [
                labels[name],
                f"{median(name):.2f}",
                f"{median(name, 'jax'):.2f} + {median(name, 'import'):.2f}",
                f"{median(name, 'compile'):.2f}",
                f"{rest:.2f}",
            ]
        )
    lines = [f"### 3. Cold start: fresh process, 30 x 1,208 course table (median of {rounds})"]
    if results["peer"]:
        rows.append(
            [
                "biomedical-data-generator 1.0.0",
                f"{median('peer'):.2f}",
                f"{median('peer', 'import'):.2f}",
                "-",
                f"{median('peer', 'generate'):.2f}",
            ]
        )
    header = ["process", "wall s", "import s (jax + rest)", "compile/cache s", "rest s"]
    lines += ["", table(header, rows), ""]
    if results["peer"]:
        peer = median("peer")
        lines.append(
            f"ours / peer (whole process): warm cache **{median('warm') / peer:.2f}x**, "
            f"empty cache {median('empty') / peer:.2f}x; target <= 2x (warm)."
        )
    else:
        lines.append("biomedical-data-generator 1.0.0 is not installed: no peer timing.")
    warm_total = median("warm")
    share = (median("warm", "jax") + median("warm", "import")) / warm_total
    lines.append(
        f"Warm cache: imports are {share:.0%} of the process; compile or cache load "
        f"{median('warm', 'compile') / warm_total:.0%}. Empty cache: compile is "
        f"{median('empty', 'compile') / median('empty'):.0%} of the process."
    )
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^5 streamed rows, 2 rounds")
    parser.add_argument("--only", default="throughput,stream,cold", help="comma-separated")
    parser.add_argument("--stream-child", nargs=2, metavar=("OUT", "ROWS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stream_child:
        _stream_child(args.stream_child[0], int(args.stream_child[1]))
        return
    only = set(args.only.split(","))
    rounds = 2 if args.quick else 3
    print("## synthbio_ppl scale benchmarks\n")
    print(environment() + "\n", flush=True)
    if "throughput" in only:
        print(throughput(rounds) + "\n", flush=True)
    if "stream" in only:
        print(streaming(100_000 if args.quick else 1_000_000) + "\n", flush=True)
    if "cold" in only:
        print(cold_start(rounds) + "\n", flush=True)


if __name__ == "__main__":
    main()
