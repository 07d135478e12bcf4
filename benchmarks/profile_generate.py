"""Where the time of ``synthbio_ppl.generate`` goes: compilation, drawing, truth, DataFrame.

Cold call: JAX's own log (``jax_log_compiles``) gives the seconds spent tracing, lowering
and compiling each jitted function, and ``cProfile`` the seconds of each step. Warm calls:
``cProfile`` gives the cumulative time of every function that ``generate`` calls directly,
so the breakdown follows the library's current code without naming its internals.

Run: ``.venv/bin/python benchmarks/profile_generate.py [large|course|sweep] [--repeats N]``.
The cold call uses synthbio_ppl's persistent compilation cache as configured (set
``SYNTHBIO_CACHE_DIR=off`` to force compilation, or a folder to reuse one).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_generate import Shape, compile_log, load_average, ours_spec, timed

import synthbio_ppl as sb

SHAPES = {
    "large": Shape("large", 10_000, 10, 10, 10, 10_000, 1.0, 3, 0.5),
    "sweep": Shape("sweep", 2_000, 10, 10, 10, 1_000, 1.0, 3, 0.5),
    "course": Shape("course", 30, 8, 0, 0, 1_200, 1.2),
}


def direct_callees(profile: cProfile.Profile, caller: str) -> dict[str, float]:
    """Cumulative seconds of each function called directly from the function ``caller``."""
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    out: dict[str, float] = defaultdict(float)
    for (path, line, name), (_cc, _nc, _tt, _ct, callers) in stats.items():
        for (c_path, _c_line, c_name), (*_rest, cum) in callers.items():
            if c_name == caller and c_path.endswith("generate.py"):
                out[f"{name} ({Path(path).name}:{line})"] += cum
    return dict(out)


def main(argv: list[str] | None = None) -> None:
    """Cold call with the compile log, then profiled warm calls; prints a markdown summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("shape", nargs="?", default="large", choices=sorted(SHAPES))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    shape = SHAPES[args.shape]
    spec = ours_spec(shape)
    print(f"# {shape.describe()}; load average at start {load_average()}\n")

    profile = cProfile.Profile()
    with compile_log() as log:
        profile.enable()
        cold, data = timed(lambda: sb.generate(spec))
        profile.disable()
    del data
    print(f"cold call (under cProfile): {cold:.2f} s")
    for phase, seconds in log.seconds.items():
        print(f"  JAX {phase}: {seconds:.2f} s")
    print(f"  compiled: {', '.join(log.names)}\n")
    print("| step called by generate(), cold call | seconds |\n|---|---|")
    cold_steps = direct_callees(profile, "generate").items()
    for name, seconds in sorted(cold_steps, key=lambda kv: -kv[1])[:6]:
        print(f"| {name} | {seconds:.3f} |")
    print()

    plain, steps = [], defaultdict(list)
    for rep in range(args.repeats):
        gc.collect()
        seconds, data = timed(lambda rep=rep: sb.generate(spec, seed=rep + 1))
        plain.append(seconds)
        del data
        gc.collect()
        profile = cProfile.Profile()
        profile.enable()
        data = sb.generate(spec, seed=rep + 100)
        profile.disable()
        del data
        for name, cum in direct_callees(profile, "generate").items():
            steps[name].append(cum)
    print(f"warm call without profiler: median {statistics.median(plain):.3f} s {plain}")
    print("\n| step called by generate() | warm median (s), under cProfile |\n|---|---|")
    for name, values in sorted(steps.items(), key=lambda kv: -statistics.median(kv[1])):
        print(f"| {name} | {statistics.median(values):.4f} |")
    print(f"\nload average at end {load_average()}; {time.strftime('%Y-%m-%d %H:%M')}")


if __name__ == "__main__":
    main()
