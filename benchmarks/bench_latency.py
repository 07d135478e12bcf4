"""Interactive latency of ``synthbio_ppl.generate`` against biomedical-data-generator 1.0.0.

The tables are lesson 3a's course tables: 30 rows (15 + 15), 8 informative features at
effect size 1.2, plus N noise features, each turned into X and y (pandas), with fixed seeds
and the peer's closest ``DatasetConfig`` (``bench_generate.peer_config``). Measured in one
run on this machine, every figure reported as median (min-max) and as a ratio ours/peer:

1. **Five-table sweep, fresh process**: a whole new Python process (imports included, timed
   from outside with ``time.perf_counter`` around ``subprocess.run``) that generates the
   five tables with 0 / 50 / 200 / 1,000 / 10,000 noise features. Ours twice per round:
   with an empty persistent compilation cache (``SYNTHBIO_CACHE_DIR`` at a fresh temporary
   folder) and again with that folder filled; the peer's process does the same five tables.
   Before the rounds one short process of each library runs untimed, so that both read
   their files from the OS's page cache. Target: ours <= 2x the peer's process.
2. **Warm course table**: in this process, after two warm-up calls each, the 30 x 1,208
   table (8 informative + 1,200 noise) to X, y, the two libraries interleaved call by call.
   Target: ours <= the peer.
3. **One block's size changes**: in this (warm) process, tables whose only difference is
   the noise block's size (100, 101, ... features): every new size is a new layout, so ours
   compiles (counted from JAX's compile log); then the same sizes once more, compiled.

This process's persistent cache also points at a fresh empty folder, so (3) compiles.
``SYNTHBIO_COMPILE_NOTICE=off`` silences the compile notice here and in the children.

Run: ``.venv/bin/python benchmarks/bench_latency.py [--quick]``. Prints the date, machine,
versions and load, then markdown tables for benchmarks/RESULTS.md. No timing is asserted.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ["SYNTHBIO_COMPILE_NOTICE"] = "off"  # before synthbio_ppl is imported
sys.path.insert(0, str(Path(__file__).resolve().parent))

import jax
import pandas as pd
from _machine import header, load
from bench_generate import (
    CACHE_ENV,
    ROOT,
    Shape,
    compile_log,
    ours_spec,
    peer_config,
    source_hash,
    table,
    timed,
)

import synthbio_ppl as sb

PACKAGES = (
    "synthbio_ppl",
    "jax",
    "jaxlib",
    "numpyro",
    "numpy",
    "pandas",
    "biomedical-data-generator",
)
SWEEP = (0, 50, 200, 1_000, 10_000)
"""Noise features of lesson 3a's five tables."""
COURSE_NOISE = 1_200
BLOCK_START = 100
"""First noise size of the block-size sweep (3)."""

OURS_CHILD = """
import json, sys
import synthbio_ppl as sb
shapes = []
for spec in json.loads(sys.argv[1]):
    data = sb.generate(spec)
    X, y = data.X, data.y
    shapes.append([*X.shape, len(y)])
print(json.dumps(shapes))
"""

PEER_CHILD = """
import json, sys
import pandas as pd
from biomedical_data_generator import DatasetConfig, generate_dataset
shapes = []
for raw in json.loads(sys.argv[1]):
    X, y, _meta = generate_dataset(DatasetConfig.model_validate(raw), return_dataframe=True)
    y = pd.Series(y)
    shapes.append([*X.shape, len(y)])
print(json.dumps(shapes))
"""


# --------------------------------------------------------------------------- tables


def course(noise: int) -> Shape:
    """Lesson 3a's table: 30 rows (15 + 15), 8 informative at d = 1.2, ``noise`` noise."""
    return Shape(f"course+{noise}", 30, 8, 0, 0, noise, 1.2)


def our_spec(noise: int) -> dict[str, Any]:
    """Our spec dict (seed 1); without a noise block when ``noise`` is 0."""
    spec = ours_spec(course(noise))
    if noise == 0:
        del spec["noise"]
    return spec


def ours_call(noise: int, seed: int) -> Callable[[], tuple[Any, Any]]:
    """Our call: spec dict to X, y."""
    spec = our_spec(noise)

    def call() -> tuple[Any, Any]:
        data = sb.generate(spec, seed=seed)
        return data.X, data.y

    return call


def peer_call(noise: int, seed: int) -> Callable[[], tuple[Any, Any]]:
    """The peer's call: DatasetConfig to X, y (config validation timed, as ours)."""
    from biomedical_data_generator import generate_dataset

    shape = course(noise)

    def call() -> tuple[Any, Any]:
        X, y, _meta = generate_dataset(peer_config(shape, seed), return_dataframe=True)
        return X, pd.Series(y)  # its y is a numpy array

    return call


def summary(xs: list[float], digits: int = 3) -> str:
    """``median (min-max, n=...)``."""
    mid, lo, hi = statistics.median(xs), min(xs), max(xs)
    return f"{mid:.{digits}f} ({lo:.{digits}f}-{hi:.{digits}f}, n={len(xs)})"


def ratio(ours: list[float], peer: list[float]) -> str:
    """Ratio of the medians, and the range of the paired ratios."""
    pairs = [o / p for o, p in zip(ours, peer, strict=True)]
    mid = statistics.median(ours) / statistics.median(peer)
    return f"**{mid:.2f}x** ({min(pairs):.2f}-{max(pairs):.2f})"


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- 1. fresh process


def fresh_process(code: str, payload: list[Any], env: dict[str, str]) -> float:
    """Wall seconds of a new Python process running ``code`` on ``payload`` (the tables)."""
    cmd = [sys.executable, "-c", code, json.dumps(payload)]
    start = time.perf_counter()
    done = subprocess.run(
        cmd, capture_output=True, text=True, cwd=ROOT, env={**os.environ, **env}, check=False
    )
    seconds = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(f"child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    shapes = json.loads(done.stdout.strip().splitlines()[-1])
    assert shapes == [[30, 8 + n, 30] for n in SWEEP[: len(payload)]], shapes
    return seconds


def five_table_sweep(rounds: int) -> dict[str, list[float]]:
    """Per round: ours with an empty cache, ours with it filled, the peer (order rotated)."""
    ours = [our_spec(n) for n in SWEEP]
    peer = [peer_config(course(n)).model_dump(mode="json") for n in SWEEP]
    progress("[1] untimed warm-up processes ...")
    fresh_process(OURS_CHILD, ours[:1], {CACHE_ENV: "off"})
    fresh_process(PEER_CHILD, peer[:1], {})
    times: dict[str, list[float]] = {"empty": [], "filled": [], "peer": []}
    for r in range(rounds):
        progress(f"[1] five-table sweep, round {r + 1}/{rounds} ...")
        folder = tempfile.mkdtemp(prefix="bench-latency-cache-")
        try:
            if r % 2:
                times["peer"].append(fresh_process(PEER_CHILD, peer, {}))
            times["empty"].append(fresh_process(OURS_CHILD, ours, {CACHE_ENV: folder}))
            times["filled"].append(fresh_process(OURS_CHILD, ours, {CACHE_ENV: folder}))
            if not r % 2:
                times["peer"].append(fresh_process(PEER_CHILD, peer, {}))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return times


def report_sweep(times: dict[str, list[float]]) -> str:
    sizes = " / ".join(f"{n:,}" for n in SWEEP)
    out = [
        "### Five-table sweep, fresh process",
        "",
        f"One new Python process, imports included, generating five tables to X, y: 30 rows "
        f"(15 + 15), 8 informative at d = 1.2, + {sizes} noise features. Wall seconds timed "
        "from outside; ratio of the medians ours/peer (range of the per-round ratios); "
        "target <= 2x.",
        "",
    ]
    labels = {
        "empty": "synthbio_ppl, empty compilation cache",
        "filled": "synthbio_ppl, compilation cache filled",
        "peer": "biomedical-data-generator",
    }
    rows = []
    for key, label in labels.items():
        share = "" if key == "peer" else ratio(times[key], times["peer"])
        rows.append([label, summary(times[key], 2), share])
    out.append(table(rows, ["process (5 tables)", "wall s, median (min-max, n)", "ours/peer"]))
    return "\n".join(out)


# --------------------------------------------------------------------------- 2. warm course


def timed_clean(call: Callable[[], Any]) -> float:
    """Wall seconds of ``call()``; the result is dropped and collected outside the timing."""
    gc.collect()
    seconds, result = timed(call)
    del result
    gc.collect()
    return seconds


def warm_course(calls: int) -> tuple[list[float], list[float]]:
    """Two warm-up calls each, then ``calls`` of each, interleaved, seeds 1, 2, ..."""
    progress(f"[2] warm course table, {calls} calls each ...")
    for seed in (1001, 1002):
        timed_clean(ours_call(COURSE_NOISE, seed))
        timed_clean(peer_call(COURSE_NOISE, seed))
    ours: list[float] = []
    peer: list[float] = []
    pair = [(ours, ours_call), (peer, peer_call)]
    for seed in range(1, calls + 1):
        for times, make in pair if seed % 2 else pair[::-1]:
            times.append(timed_clean(make(COURSE_NOISE, seed)))
    return ours, peer


def report_warm(ours: list[float], peer: list[float]) -> str:
    rows = [
        ["synthbio_ppl", summary(ours, 4), ratio(ours, peer)],
        ["biomedical-data-generator", summary(peer, 4), ""],
    ]
    return "\n".join(
        [
            "### Warm course table",
            "",
            f"30 x {8 + COURSE_NOISE:,} (8 informative at d = 1.2 + {COURSE_NOISE:,} noise) to "
            "X, y in one warm process, the libraries interleaved call by call, a new seed per "
            "call; ratio of the medians ours/peer (range of the paired ratios); target <= 1x.",
            "",
            table(rows, ["library", "wall s, median (min-max, n)", "ours/peer"]),
        ]
    )


# --------------------------------------------------------------------------- 3. block sizes


@dataclass
class Blocks:
    """Seconds per table of the block-size sweep and our compilations per new table."""

    sizes: list[int]
    new: list[float] = field(default_factory=list)
    compiles: list[int] = field(default_factory=list)
    peer: list[float] = field(default_factory=list)
    again: list[float] = field(default_factory=list)


def block_sizes(rounds: int, tables: int) -> Blocks:
    """``rounds`` x ``tables`` new noise sizes (ours compiles each), then the same again."""
    res = Blocks([BLOCK_START + i for i in range(rounds * tables)])
    for r in range(rounds):
        progress(f"[3] block sizes, round {r + 1}/{rounds} ...")
        for i, noise in enumerate(res.sizes[r * tables : (r + 1) * tables]):
            if i % 2:
                res.peer.append(timed_clean(peer_call(noise, 1)))
            gc.collect()
            with compile_log() as log:
                seconds, result = timed(ours_call(noise, 1))
            assert result[0].shape == (30, 8 + noise), result[0].shape
            del result
            res.new.append(seconds)
            res.compiles.append(log.compiles)
            if not i % 2:
                res.peer.append(timed_clean(peer_call(noise, 1)))
    progress("[3] the same sizes again ...")
    res.again = [timed_clean(ours_call(noise, 2)) for noise in res.sizes]
    return res


def report_blocks(res: Blocks) -> str:
    lo, hi = res.sizes[0], res.sizes[-1]
    rows = [
        [
            "synthbio_ppl, new size (compiles)",
            summary(res.new, 4),
            ratio(res.new, res.peer),
            ", ".join(map(str, res.compiles)),
        ],
        [
            "synthbio_ppl, same sizes again (compiled)",
            summary(res.again, 4),
            ratio(res.again, res.peer),
            "",
        ],
        ["biomedical-data-generator", summary(res.peer, 4), "", ""],
    ]
    header_ = ["library", "s per table, median (min-max, n)", "ours/peer"]
    header_.append("XLA compilations per table")
    return "\n".join(
        [
            "### One block's size changes",
            "",
            f"In one warm process, 30 rows x (8 informative + {lo}, {lo + 1}, ..., {hi} noise): "
            "only the noise block's size changes from table to table, so each is a new layout "
            "for synthbio_ppl (persistent cache empty). XLA compilations per new table are "
            "counted from `jax_log_compiles`.",
            "",
            table(rows, header_),
        ]
    )


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run the three measurements, print the markdown report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, under a minute")
    args = parser.parse_args(argv)
    if args.quick:
        rounds, calls, block_rounds, block_tables = 2, 8, 1, 5
    else:
        rounds, calls, block_rounds, block_tables = 7, 50, 3, 5
    start = time.perf_counter()
    own_cache = None
    if jax.config.jax_compilation_cache_dir:
        cache_note = f"JAX's own, already set: {jax.config.jax_compilation_cache_dir}"
    else:
        own_cache = tempfile.mkdtemp(prefix="bench-latency-parent-cache-")
        os.environ[CACHE_ENV] = own_cache
        cache_note = "this process: synthbio_ppl's persistent cache at a fresh empty folder"
    command = ".venv/bin/python benchmarks/bench_latency.py" + (" --quick" if args.quick else "")
    print("## Interactive latency against biomedical-data-generator\n")
    header(
        PACKAGES,
        {"synthbio_ppl sources": source_hash(), "command": command},
        [cache_note, "SYNTHBIO_COMPILE_NOTICE=off in this process and its children"],
    )
    print(flush=True)
    try:
        sweep = five_table_sweep(rounds)
        print(report_sweep(sweep) + "\n", flush=True)
        ours, peer = warm_course(calls)
        print(report_warm(ours, peer) + "\n", flush=True)
        blocks = block_sizes(block_rounds, block_tables)
        print(report_blocks(blocks) + "\n", flush=True)
    finally:
        if own_cache is not None:
            shutil.rmtree(own_cache, ignore_errors=True)
    print(f"load average at end (1/5/15 min): {load(os.getloadavg())}")
    print(f"total script time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
