"""Count blocks at scale: draw speed against numpy's gamma–Poisson, and a streamed write.

    .venv/bin/python benchmarks/bench_counts.py [--rows 10000] [--genes 20000] [--repeats 3]

1. **Draw.** The NB count block of ``SPEC`` (``--rows`` × ``--genes``, two classes, 10%
   DE genes) drawn warm by the engine (``engine.draw.draw_rows``: library sizes, means,
   gamma–Poisson counts, as the dataset model does them), against numpy drawing the very
   same counts' law: ``rng.poisson(rng.gamma(r, μ/r))`` with each cell's mean μ_ij and
   concentration r_j taken from the truth (μ computed per row chunk, inside the timed
   region, as ours computes it). Both are timed in the same interleaved rounds; the
   ratio is ours/numpy in values per second.
2. **Streamed to Parquet.** ``generate_to_parquet`` of the same spec in a child process
   (cold: compilation included), its wall time and peak resident memory (the child's own
   VmHWM), the target being ≤ 2 GiB at 10,000 × 20,000.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import header

import synthbio_ppl as sb


def spec(rows: int, genes: int) -> dict:
    return {
        "name": "counts_bench",
        "seed": 3,
        "classes": [
            {"name": "control", "n": rows // 2},
            {"name": "treated", "n": rows - rows // 2},
        ],
        "counts": [
            {
                "name": "gene",
                "n": genes,
                "library_size": {"median": 20000, "sdlog": 0.3},
                "dispersion": {"bcv": 0.3, "trend": 1.0},
                "differential_expression": {"fraction": 0.1},
            }
        ],
    }


def numpy_draw(data: sb.Dataset, seed: int, chunk: int = 1024) -> float:
    """Seconds numpy takes to draw counts with the truth's cell means and dispersions."""
    genes = data.truth.features
    base = genes["base_mean"].to_numpy()
    lfc = genes["log2_fold_change"].to_numpy()
    r = 1.0 / genes["dispersion"].to_numpy()
    library = data.truth.latents["gene.library_size"].to_numpy()
    treated = (data.y.cat.codes.to_numpy() == 1)[:, None]
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    for start in range(0, len(library), chunk):
        stop = min(start + chunk, len(library))
        mean = library[start:stop, None] / 20000 * base * np.where(treated[start:stop], 2**lfc, 1)
        rng.poisson(rng.gamma(r, mean / r))
    return time.perf_counter() - started


def ours_draw(prepared: tuple) -> float:
    from synthbio_ppl.engine.draw import draw_rows

    layout, fixed, design, seed = prepared
    started = time.perf_counter()
    draw_rows(layout, fixed, design, seed, "float32")
    return time.perf_counter() - started


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM, Linux), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise OSError("no VmHWM in /proc/self/status")


def streamed(rows: int, genes: int) -> dict:
    """Run ``generate_to_parquet`` in a child process: wall seconds and peak RSS (MiB)."""
    # The child reports its own peak, VmHWM of its address space: ru_maxrss survives exec
    # on Linux and would count the pages the child shared with this large process first.
    code = (
        "import json, sys, time; sys.path.insert(0, 'benchmarks');"
        "from bench_counts import spec, peak_rss_mib; import synthbio_ppl as sb;"
        f"s = spec({rows}, {genes}); t = time.perf_counter();"
        "sb.generate_to_parquet(s, sys.argv[1], progress=False);"
        "print(json.dumps({'seconds': time.perf_counter() - t, 'peak_rss_mib': peak_rss_mib()}))"
    )
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "counts"
        result = subprocess.run(
            [sys.executable, "-c", code, str(out)], capture_output=True, text=True, check=True
        )
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    report = json.loads(result.stdout.strip().splitlines()[-1])
    report["folder_mib"] = size / 2**20
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--genes", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-stream", action="store_true")
    parser.add_argument("--stream-only", action="store_true")
    args = parser.parse_args()
    header(["jax", "jaxlib", "numpyro", "numpy", "pyarrow"], {}, [])
    if args.stream_only:
        report = streamed(args.rows, args.genes)
        print(f"streamed: {report['seconds']:.1f} s, peak RSS {report['peak_rss_mib']:.0f} MiB")
        return
    from synthbio_ppl.engine.masking import with_mask_sites
    from synthbio_ppl.model.design import build_design
    from synthbio_ppl.model.layout import build_layout
    from synthbio_ppl.model.parameters import fixed_sites

    resolved = sb.validate_spec(spec(args.rows, args.genes))
    data = sb.generate(resolved)  # the truth numpy draws from; also warms the program
    layout, design = build_layout(resolved), build_design(resolved)
    prepared = (layout, with_mask_sites(resolved, layout, fixed_sites(resolved), design), design, 3)
    values = args.rows * args.genes
    times: dict[str, list[float]] = {"ours (draw_rows)": [], "numpy gamma-Poisson": []}
    for r in range(args.repeats):
        times["ours (draw_rows)"].append(ours_draw(prepared))
        times["numpy gamma-Poisson"].append(numpy_draw(data, seed=r))
    del data
    numpy_median = statistics.median(times["numpy gamma-Poisson"])
    print(f"\n{args.rows:,} x {args.genes:,} NB counts, warm, {args.repeats} interleaved rounds\n")
    print("| draw | median (s) | range (s) | M values/s | vs numpy |")
    print("|---|---|---|---|---|")
    for name, seconds in times.items():
        median = statistics.median(seconds)
        print(
            f"| {name} | {median:.2f} | {min(seconds):.2f}-{max(seconds):.2f} | "
            f"{values / median / 1e6:.1f} | {numpy_median / median:.2f}x |"
        )
    if not args.skip_stream:
        report = streamed(args.rows, args.genes)
        print(
            f"\nstreamed to Parquet (cold, child process): {report['seconds']:.1f} s, "
            f"peak RSS {report['peak_rss_mib']:.0f} MiB, folder {report['folder_mib']:.0f} MiB"
        )


if __name__ == "__main__":
    main()
