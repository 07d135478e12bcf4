"""Speed of ``synthbio_ppl.generate`` against biomedical-data-generator 1.0.0, in one run.

Measures, on this machine and in this process:

1. end-to-end time to a pandas DataFrame (X and y) for the large table (10,000 rows x
   10,110 features: 10 informative, 10 clusters of 10, 10,000 noise, 3 batches with
   confounding 0.5) and for the course table (30 rows x 1,208 features: 8 informative at
   d=1.2 + 1,200 noise), for both libraries: first call (ours with an empty compilation
   cache, so it includes JIT compilation), median of warm calls, values/s and the ratio
   peer/ours; plus our first call in a new process once the persistent compilation cache
   holds the programs;
2. a sweep of datasets of one shape that differ only in effect sizes and correlations:
   the first dataset's time, the per-dataset time after it, and how many XLA
   compilations happen after the first (must be 0);
3. raw jitted ``jax.random.normal`` (float32) for the large table's number of values, the
   ceiling for anything built on JAX's default random numbers.

Run: ``.venv/bin/python benchmarks/bench_generate.py [--quick]``. Prints the machine,
versions and date, then markdown tables.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import hashlib
import importlib.util
import json
import logging
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import synthbio_ppl as sb

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("jax", "jaxlib", "numpyro", "numpy", "pandas", "biomedical-data-generator")
CACHE_ENV = "SYNTHBIO_CACHE_DIR"
"""synthbio_ppl's persistent compilation cache folder (where the library has one)."""


# --------------------------------------------------------------------------- environment


def _run(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False).stdout
    except OSError:
        return ""


def source_hash() -> str:
    """Short hash of the library's Python sources: which code state was measured."""
    digest = hashlib.sha256()
    package = Path(sb.__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def environment() -> dict[str, str]:
    """Machine, versions and date: everything needed to read the numbers."""
    lscpu = _run(["lscpu"])
    model = re.search(r"^Model name:\s*(.+)$", lscpu, re.M)
    cpus = re.search(r"^CPU\(s\):\s*(\d+)$", lscpu, re.M)
    info = {
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "machine": f"{model.group(1).strip() if model else platform.processor() or '?'}, "
        f"{cpus.group(1) if cpus else os.cpu_count()} CPUs "
        f"({len(os.sched_getaffinity(0))} usable), {platform.machine()}",
        "jax backend": f"{jax.default_backend()} ({len(jax.devices())} device(s))",
        "python": platform.python_version(),
    }
    for name in PACKAGES:
        try:
            info[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            info[name] = "not installed"
    commit = _run(["git", "describe", "--always", "--dirty"]).strip()
    info["synthbio_ppl"] = (
        f"{metadata.version('synthbio_ppl')} (git {commit or '?'}, sources {source_hash()})"
    )
    info["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "")
    return info


def load_average() -> str:
    """1/5/15-minute load averages (other work on the machine skews timings)."""
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def has_persistent_cache() -> bool:
    """Whether this version of synthbio_ppl switches on JAX's persistent compilation cache."""
    return importlib.util.find_spec("synthbio_ppl.core.cache") is not None


# --------------------------------------------------------------------------- compile counting


@dataclass
class CompileLog:
    """Counts XLA compilations and sums tracing, lowering and compile seconds from JAX's log."""

    compiles: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)


_PHASES = {
    "trace": re.compile(r"^Finished tracing (\S+) .* in ([\d.]+) sec"),
    "lower": re.compile(r"^Finished jaxpr to MLIR module conversion (\S+) in ([\d.]+) sec"),
    "compile": re.compile(r"^Finished XLA compilation of (\S+) in ([\d.]+) sec"),
}


class _CompileHandler(logging.Handler):
    def __init__(self, log: CompileLog) -> None:
        super().__init__(logging.WARNING)
        self.log = log

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        for phase, pattern in _PHASES.items():
            match = pattern.match(message)
            if match:
                self.log.seconds[phase] = self.log.seconds.get(phase, 0.0) + float(match.group(2))
                if phase == "compile":
                    self.log.compiles += 1
                    self.log.names.append(match.group(1))


@contextmanager
def compile_log() -> Iterator[CompileLog]:
    """Turn on ``jax_log_compiles`` and collect the messages instead of printing them.

    A program read back from the persistent cache is logged as a compilation too (its
    time is the read).
    """
    log = CompileLog()
    handler = _CompileHandler(log)
    logger = logging.getLogger("jax")
    propagate, saved = logger.propagate, list(logger.handlers)
    for h in saved:
        logger.removeHandler(h)
    logger.addHandler(handler)
    logger.propagate = False
    jax.config.update("jax_log_compiles", True)
    try:
        yield log
    finally:
        jax.config.update("jax_log_compiles", False)
        logger.removeHandler(handler)
        for h in saved:
            logger.addHandler(h)
        logger.propagate = propagate


def draw_cache_size() -> int | None:
    """Row programs (pieces' steps) the engine holds (None if the internal moved)."""
    try:
        from synthbio_ppl.engine import step_programs

        return int(step_programs.program.cache_info().currsize)
    except (ImportError, AttributeError):
        return None


# --------------------------------------------------------------------------- specs


@dataclass(frozen=True)
class Shape:
    """One table: rows (two equal classes), informative, clusters x size, noise, batches."""

    label: str
    rows: int
    informative: int
    clusters: int
    cluster_size: int
    noise: int
    effect: float = 1.0
    batches: int = 0
    confounding: float = 0.0

    @property
    def features(self) -> int:
        return self.informative + self.clusters * self.cluster_size + self.noise

    @property
    def values(self) -> int:
        return self.rows * self.features

    def describe(self) -> str:
        parts = [f"{self.informative} inf (d={self.effect:g})"]
        if self.clusters:
            parts.append(f"{self.clusters}x{self.cluster_size} clu")
        parts.append(f"{self.noise:,} noise")
        if self.batches:
            parts.append(f"{self.batches} batches c={self.confounding:g}")
        return f"{self.rows:,} x {self.features:,} ({', '.join(parts)})"


def ours_spec(shape: Shape, effect: float | None = None, rho: float = 0.7) -> dict[str, Any]:
    """synthbio_ppl spec dict for ``shape``; ``effect``/``rho`` vary values, never shapes."""
    d = shape.effect if effect is None else effect
    half = shape.rows // 2
    spec: dict[str, Any] = {
        "name": shape.label.split()[0],
        "seed": 1,
        "classes": [{"name": "healthy", "n": half}, {"name": "diseased", "n": shape.rows - half}],
        "informative": [{"n": shape.informative, "effect_size": d}],
        "noise": [{"n": shape.noise}],
    }
    if shape.clusters:
        spec["clusters"] = [
            {
                "n": shape.cluster_size,
                "structure": "equicorrelated",
                "correlation": rho,
                "anchor_effect": d,
            }
            for _ in range(shape.clusters)
        ]
    if shape.batches:
        spec["batches"] = {
            "n": shape.batches,
            "effect": "additive",
            "strength": 0.5,
            "granularity": "per_feature",
            "confounding": shape.confounding,
        }
    return spec


def peer_config(shape: Shape, seed: int = 1) -> Any:
    """The closest biomedical-data-generator 1.0.0 DatasetConfig.

    Its ``n_informative`` counts informative cluster anchors, so it is the free informative
    features plus one per cluster; clusters are given as anchor + proxies like ours.
    """
    from biomedical_data_generator import DatasetConfig

    half = shape.rows // 2
    raw: dict[str, Any] = {
        "n_informative": shape.informative + shape.clusters,
        "n_noise": shape.noise,
        "class_configs": [
            {"n_samples": half, "label": "healthy"},
            {"n_samples": shape.rows - half, "label": "diseased"},
        ],
        "class_sep": [shape.effect],
        "corr_clusters": [
            {
                "n_cluster_features": shape.cluster_size,
                "structure": "equicorrelated",
                "correlation": 0.7,
                "anchor_role": "informative",
                "anchor_effect_size": shape.effect,
            }
            for _ in range(shape.clusters)
        ],
        "random_state": seed,
    }
    if shape.batches:
        raw["batch_effects"] = {
            "n_batches": shape.batches,
            "effect_type": "additive",
            "effect_strength": 0.5,
            "effect_granularity": "per_feature",
            "confounding_with_class": shape.confounding,
        }
    cfg = DatasetConfig.model_validate(raw)
    assert cfg.n_features == shape.features and cfg.n_samples == shape.rows
    return cfg


# --------------------------------------------------------------------------- timing


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall seconds of ``fn()`` and its result."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def timed_cpu(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall seconds, process CPU seconds (all threads, user + system) and the result."""
    cpu = time.process_time()
    seconds, result = timed(fn)
    return seconds, time.process_time() - cpu, result


@dataclass
class Timing:
    """First call and warm calls of one library on one table."""

    case: str
    library: str
    shape: Shape
    first: float
    warm: list[float]
    cpu: list[float]
    dtype: str = ""
    compile_s: dict[str, float] = field(default_factory=dict)
    new_process: dict[str, Any] | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.warm)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)

    @property
    def rate(self) -> float:
        return self.shape.values / self.median


def _ours_call(spec: dict[str, Any], seed: int) -> Callable[[], tuple[Any, Any]]:
    def call() -> tuple[Any, Any]:
        data = sb.generate(spec, seed=seed)
        return data.X, data.y

    return call


def _peer_call(shape: Shape, seed: int) -> Callable[[], tuple[Any, Any]]:
    from biomedical_data_generator import generate_dataset

    def call() -> tuple[Any, Any]:
        X, y, _meta = generate_dataset(peer_config(shape, seed), return_dataframe=True)
        return X, y

    return call


def measure(
    case: str, library: str, shape: Shape, make: Callable[[int], Callable[[], Any]], warm: int
) -> Timing:
    """One first call (counted separately), then ``warm`` calls with fresh seeds.

    Each result is dropped and garbage-collected outside the timed region, so no call pays
    for the previous one's memory.
    """
    gc.collect()
    with compile_log() as log:
        first, (X, y) = timed(make(0))
    dtype = str(X.dtypes.iloc[0])
    assert X.shape == (shape.rows, shape.features), X.shape
    assert len(y) == shape.rows
    del X, y
    gc.collect()
    times, cpus = [], []
    for rep in range(1, warm + 1):
        seconds, cpu, result = timed_cpu(make(rep))
        times.append(seconds)
        cpus.append(cpu)
        del result
        gc.collect()
    return Timing(case, library, shape, first, times, cpus, dtype, dict(log.seconds))


def measure_pair(case: str, shape: Shape, warm: int) -> tuple[Timing, Timing]:
    """Ours, then the peer, on the same table."""
    print(f"[{case}] synthbio_ppl ...", file=sys.stderr, flush=True)
    ours = measure(case, "synthbio_ppl", shape, lambda s: _ours_call(ours_spec(shape), s), warm)
    print(f"[{case}] biomedical-data-generator ...", file=sys.stderr, flush=True)
    peer = measure(case, "biomedical-data-generator", shape, lambda s: _peer_call(shape, s), warm)
    return ours, peer


def first_calls_in_new_process(shapes: list[Shape]) -> list[dict[str, Any]]:
    """Our first call on each shape in a fresh Python process (sharing the compile cache)."""
    print("[new process] first calls ...", file=sys.stderr, flush=True)
    payload = json.dumps([asdict(s) for s in shapes])
    cmd = [sys.executable, str(Path(__file__).resolve()), "--first-calls", payload]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _first_calls(payload: str) -> None:
    """Child side of :func:`first_calls_in_new_process`: prints one JSON line."""
    results = []
    for fields in json.loads(payload):
        shape = Shape(**fields)
        with compile_log() as log:
            seconds, data = timed(lambda shape=shape: sb.generate(ours_spec(shape)))
        del data
        results.append({"seconds": seconds, "phases": log.seconds, "compiles": log.compiles})
    print(json.dumps(results))


@dataclass
class Sweep:
    """A sweep over effect sizes and correlations at one shape."""

    shape: Shape
    times: list[float]
    compiles: list[int]
    compiled: list[list[str]]
    cache_before: int | None
    cache_after_first: int | None
    cache_after: int | None


def sweep(shape: Shape, n: int) -> Sweep:
    """``n`` datasets of one shape, effect size and correlation changing every time."""
    print(f"[sweep] {n} datasets ...", file=sys.stderr, flush=True)
    effects = np.linspace(0.2, 2.0, n)
    rhos = np.linspace(0.05, 0.9, n)
    times, compiles, compiled = [], [], []
    cache_before = draw_cache_size()
    cache_after_first = None
    for i, (d, rho) in enumerate(zip(effects, rhos, strict=True)):
        spec = ours_spec(shape, effect=float(d), rho=float(rho))
        gc.collect()
        with compile_log() as log:
            seconds, data = timed(lambda spec=spec: sb.generate(spec))
        assert data.X.shape == (shape.rows, shape.features)
        del data
        times.append(seconds)
        compiles.append(log.compiles)
        compiled.append(log.names)
        if i == 0:
            cache_after_first = draw_cache_size()
    cache_end = draw_cache_size()
    return Sweep(shape, times, compiles, compiled, cache_before, cache_after_first, cache_end)


@dataclass
class Raw:
    """Raw jitted ``jax.random.normal`` of one table's number of values."""

    label: str
    shape: Shape
    first: float
    warm: list[float]
    cpu: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.warm)

    @property
    def rate(self) -> float:
        return self.shape.values / self.median


def raw_normal(shape: Shape, warm: int, partitionable: bool | None = None) -> Raw:
    """Time ``jax.random.normal(key, (rows, features), float32)`` under ``jit``, to numpy.

    JAX's default PRNG (threefry2x32, the one synthbio_ppl uses). ``partitionable`` sets
    ``jax_threefry_partitionable`` for this measurement only (``None``: JAX's default);
    the other setting gives other bits, so it is context, not a drop-in change.
    """
    dims = (shape.rows, shape.features)
    setting = jax.config.jax_threefry_partitionable if partitionable is None else partitionable

    @jax.jit
    def draw(key: jax.Array) -> jax.Array:
        return jax.random.normal(key, dims, dtype=jnp.float32)

    def run(seed: int) -> np.ndarray:
        with jax.threefry_partitionable(setting):
            return np.asarray(jax.block_until_ready(draw(jax.random.key(seed))))

    gc.collect()
    first, out = timed(lambda: run(0))
    del out
    times, cpus = [], []
    for rep in range(1, warm + 1):
        gc.collect()
        seconds, cpu, out = timed_cpu(lambda rep=rep: run(rep))
        times.append(seconds)
        cpus.append(cpu)
        del out
    label = f"jax.random.normal, {jax.config.jax_default_prng_impl}, partitionable={setting}"
    if partitionable is None:
        label += " (JAX default)"
    return Raw(label, shape, first, times, cpus)


# --------------------------------------------------------------------------- report


def _si(x: float) -> str:
    return f"{x / 1e6:,.1f} M" if x >= 1e6 else f"{x / 1e3:,.1f} k"


def table(rows: list[list[str]], header: list[str]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def pair_rows(ours: Timing, peer: Timing) -> list[list[str]]:
    """Two rows (ours, peer) with the peer/ours ratios on ours' row."""
    rows = []
    for t in (ours, peer):
        ratios = ""
        if t is ours:
            ratios = (
                f"{peer.first / ours.first:.2f}x / **{peer.median / ours.median:.2f}x** / "
                f"{peer.cpu_median / ours.cpu_median:.2f}x"
            )
        rows.append(
            [
                t.case,
                t.library,
                t.dtype,
                f"{t.first:.3f}",
                f"{t.median:.3f} (n={len(t.warm)}; {min(t.warm):.3f}-{max(t.warm):.3f})",
                f"{_si(t.rate)}/s",
                f"{t.cpu_median:.3f}",
                ratios,
            ]
        )
    return rows


def _phases(phases: dict[str, float]) -> str:
    return (
        f"tracing {phases.get('trace', 0):.2f} s, lowering {phases.get('lower', 0):.2f} s, "
        f"XLA compilation {phases.get('compile', 0):.2f} s"
    )


def report(
    env: dict[str, str],
    command: str,
    pairs: list[tuple[Timing, Timing]],
    sw: Sweep,
    raws: list[Raw],
    loads: tuple[str, str],
    total: float,
    cache_note: str,
) -> str:
    """The whole result as markdown."""
    out = ["## Environment", ""]
    out += [f"- {k}: {v}" for k, v in env.items() if v]
    out += [f"- load average (1/5/15 min) at start: {loads[0]}; at end: {loads[1]}"]
    out += [f"- compilation cache: {cache_note}"]
    out += [f"- command: `{command}`", f"- total script time: {total:.0f} s", ""]

    out += ["## End-to-end: spec/config to DataFrame X and y", ""]
    for ours, _peer in pairs:
        out.append(f"- {ours.case}: {ours.shape.describe()} = {ours.shape.values:,} values")
    out.append("")
    header = ["table", "library", "dtype", "first call (s)", "warm median (s)", "values/s (warm)"]
    header += ["warm CPU median (s)", "peer/ours: first / warm wall / warm CPU"]
    rows = [r for ours, peer in pairs for r in pair_rows(ours, peer)]
    out += [table(rows, header), ""]
    for ours, _peer in pairs:
        if ours.compile_s:
            out.append(
                f"- {ours.case}, our first call (empty compilation cache) {ours.first:.2f} s, "
                f"of which JAX {_phases(ours.compile_s)} (from `jax_log_compiles`)."
            )
        if ours.new_process is not None:
            p = ours.new_process
            out.append(
                f"- {ours.case}, our first call in a new process with the persistent cache "
                f"filled: {p['seconds']:.2f} s (JAX {_phases(p['phases'])}, cache reads "
                f"included)."
            )
    out.append("")

    after = sw.times[1:]
    out += ["## Recompile check: sweep over effect sizes and correlations", ""]
    out += [f"- shape: {sw.shape.describe()}, {len(sw.times)} datasets, only values differ", ""]
    rows = [
        [
            f"{sw.times[0]:.3f}",
            f"{statistics.median(after):.3f} (mean {statistics.mean(after):.3f})",
            str(sw.compiles[0]),
            f"**{sum(sw.compiles[1:])}**",
            f"{sw.cache_before} -> {sw.cache_after_first} -> {sw.cache_after}",
        ]
    ]
    header = [
        "first dataset (s)",
        "per dataset after first, median (s)",
        "XLA compilations, first",
        "XLA compilations, after first",
        "row programs held: before -> after 1st -> end",
    ]
    out += [table(rows, header), ""]
    extra = sorted({n for names in sw.compiled[1:] for n in names})
    if extra:
        out += [f"- compiled after the first dataset: {', '.join(extra)}", ""]

    large = pairs[0][0]
    out += ["## Context: raw random numbers for the large table's value count", ""]
    rows = []
    for r in raws:
        rows.append(
            [
                r.label,
                f"{r.shape.rows:,} x {r.shape.features:,}",
                f"{r.first:.3f}",
                f"{r.median:.3f} (n={len(r.warm)})",
                f"{_si(r.rate)}/s",
                f"{statistics.median(r.cpu):.3f}",
                f"{large.rate / r.rate:.0%}",
            ]
        )
    header = ["generator (jit, float32)", "shape", "first (s)", "warm median (s)", "values/s"]
    header += ["warm CPU median (s)", "synthbio_ppl large, warm, as a share of it"]
    out += [table(rows, header), ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run every measurement, print the markdown report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, about a minute")
    parser.add_argument("--first-calls", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.first_calls:
        _first_calls(args.first_calls)
        return
    start = time.perf_counter()
    loads = load_average()
    env = environment()

    cache_dir = None
    if jax.config.jax_compilation_cache_dir:
        cache_note = f"JAX's own, already set: {jax.config.jax_compilation_cache_dir}"
    elif has_persistent_cache():
        cache_dir = tempfile.mkdtemp(prefix="bench-generate-jax-cache-")
        os.environ[CACHE_ENV] = cache_dir
        cache_note = "synthbio_ppl's persistent cache, pointed at a fresh empty folder"
    else:
        cache_note = "none (this synthbio_ppl version has no persistent cache)"

    if args.quick:
        large = Shape("large (quick)", 2_000, 10, 2, 10, 2_000, 1.0, 3, 0.5)
        sweep_shape = Shape("sweep", 500, 10, 2, 10, 500, 1.0, 3, 0.5)
        large_warm, course_warm, n_sweep, raw_warm = 2, 5, 10, 2
    else:
        large = Shape("large", 10_000, 10, 10, 10, 10_000, 1.0, 3, 0.5)
        sweep_shape = Shape("sweep", 2_000, 10, 10, 10, 1_000, 1.0, 3, 0.5)
        large_warm, course_warm, n_sweep, raw_warm = 3, 20, 20, 3
    course = Shape("course", 30, 8, 0, 0, 1_200, 1.2)

    try:
        pairs = [measure_pair(large.label, large, large_warm)]
        pairs.append(measure_pair(course.label, course, course_warm))
        if cache_dir is not None:
            if not Path(cache_dir).is_dir():
                cache_note += " (the folder vanished before the new-process run)"
            children = first_calls_in_new_process([large, course])
            for (ours, _peer), child in zip(pairs, children, strict=True):
                ours.new_process = child
        sw = sweep(sweep_shape, n_sweep)
        print("[raw] jax.random.normal ...", file=sys.stderr, flush=True)
        default = jax.config.jax_threefry_partitionable
        raws = [raw_normal(large, raw_warm), raw_normal(large, raw_warm, not default)]
    finally:
        if cache_dir is not None:
            shutil.rmtree(cache_dir, ignore_errors=True)

    command = ".venv/bin/python benchmarks/bench_generate.py" + (" --quick" if args.quick else "")
    total = time.perf_counter() - start
    print(report(env, command, pairs, sw, raws, (loads, load_average()), total, cache_note))


if __name__ == "__main__":
    main()
