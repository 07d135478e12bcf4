"""Speed of the HAALSI-like scene at 10⁶ rows: synthbio_ppl against plain numpy, in one run.

Three renderings of the same formulas (DESIGN.md §7, ``models/haalsi_like.yaml``):

1. synthbio_ppl: ``sb.generate`` of the scene with ``structure.n = N`` (first call, which
   includes JIT compilation, and the median of warm calls), plus the engine alone
   (``draw_rows``: arrays, no pandas or truth tables);
2. numpy, vectorised: every draw and formula as whole-column numpy operations;
3. numpy with a row-by-row Python loop for the covariate and latent draws (as the seed
   generator did), then vectorised biomarker formulas.

All three are checked against each other: the region × sex means of every biomarker must
agree within sampling error (max |z| is printed). Times are wall-clock seconds; ratios are
peer time / synthbio_ppl warm time.

Run: ``.venv/bin/python benchmarks/bench_haalsi.py [--rows 1000000] [--loop-rows N]``
(``--loop-rows`` < rows times the loop on fewer rows and scales it linearly; the default
times it on all rows).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import yaml

import synthbio_ppl as sb
from synthbio_ppl.engine.draw import draw_rows
from synthbio_ppl.model.design import build_design
from synthbio_ppl.model.layout import build_layout
from synthbio_ppl.model.parameters import fixed_sites
from synthbio_ppl.model.scene import validate_spec

ROOT = Path(__file__).resolve().parents[1]
REGIONS, P_REGION = ("rural", "mixed", "urban"), np.array([0.3, 0.4, 0.3])
MU_X, MU_Y, SD_F = np.array([-1.3, 0.0, 1.3]), np.array([0.6, 0.0, -0.6]), 0.4
NAMES = (
    "Height", "Weight", "Waist", "Hip", "BP_systolic", "BP_diastolic", "Pulse", "Hemoglobin",
    "CESD_score", "PTSD_score", "Cognitive_score", "Blood_Glucose", "Cholesterol_total",
    "Cholesterol_hdl", "Cholesterol_ldl", "Cholesterol_trig",
)  # fmt: skip


def biomarkers(
    rng: np.random.Generator, region: np.ndarray, male: np.ndarray, x: np.ndarray, y: np.ndarray
) -> np.ndarray:
    """The sixteen formulas of DESIGN.md §7, vectorised over rows: (n, 16) float32."""
    n = region.shape[0]
    u, r, m = (region == 2).astype(float), (region == 0).astype(float), male.astype(float)
    f = 1.0 - m

    def e(sd: float) -> np.ndarray:
        return rng.normal(0.0, sd, n)

    height = 160 + 12 * m + e(6.5)
    cols = [
        height,
        52 + 12 * x + 0.45 * (height - 160) + 7 * m + 4 * u - 3 * r + e(2.8),
        64 + 13 * x + 8 * u - 6 * r + e(2.8),
        88 + 7 * x + 4 * f + e(2.8),
        106 + 8 * x + 16 * u - 12 * r + 5 * m + e(4.8),
        66 + 6 * x + 12 * u - 10 * r + 4 * m + e(3.8),
        66 + 7 * y + 6 * r + e(4.0),
        13.2 + 1.4 * m - 1.8 * r + 0.9 * u + e(0.55),
        np.clip(9 + 10 * y + 5 * r + e(4.0), 0, 60),
        np.clip(7 + 11 * y + 4 * r + e(4.0), 0, 60),
        np.clip(102 - 6 * r - 4 * u + e(9.0), 40, 130),
        np.clip(5.2 + 0.35 * x + 0.15 * u - 0.10 * r + e(0.60), 2.5, 20),
        np.clip(5.0 + 0.25 * x + 0.10 * u - 0.10 * r + e(0.70), 2, 12),
        np.clip(1.3 - 0.05 * x + 0.15 * f + e(0.20), 0.2, 4),
        np.clip(3.0 + 0.22 * x + 0.05 * u - 0.05 * r + e(0.60), 0.5, 10),
        np.clip(1.4 + 0.18 * x + 0.10 * u - 0.08 * r + e(0.60), 0.2, 15),
    ]
    return np.column_stack(cols).astype(np.float32)


def numpy_vectorised(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Covariates, latents and biomarkers with whole-column numpy draws."""
    rng = np.random.default_rng(seed)
    region = rng.choice(3, size=n, p=P_REGION)
    male = rng.random(n) < 0.5
    x = rng.normal(MU_X[region], SD_F)
    y = rng.normal(MU_Y[region], SD_F)
    return region, male, biomarkers(rng, region, male, x, y)


def numpy_loop(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Covariates and latents drawn row by row in a Python loop, then vectorised formulas."""
    rng = np.random.default_rng(seed)
    region = np.empty(n, dtype=np.int64)
    male = np.empty(n, dtype=bool)
    x, y = np.empty(n), np.empty(n)
    for i in range(n):
        g = rng.choice(3, p=P_REGION)
        region[i] = g
        male[i] = rng.random() < 0.5
        x[i] = rng.normal(MU_X[g], SD_F)
        y[i] = rng.normal(MU_Y[g], SD_F)
    return region, male, biomarkers(rng, region, male, x, y)


def scene(n: int, seed: int) -> dict[str, Any]:
    spec = yaml.safe_load((ROOT / "models" / "haalsi_like.yaml").read_text())
    spec["structure"]["n"] = n
    spec["seed"] = seed
    return spec


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def cell_means(region: np.ndarray, male: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Mean and SE of each biomarker in each region × sex cell: (6, 16, 2)."""
    out = []
    for g in range(3):
        for s in (False, True):
            v = values[(region == g) & (male == s)].astype(float)
            out.append(np.stack([v.mean(0), v.std(0, ddof=1) / np.sqrt(len(v))], axis=-1))
    return np.array(out)


def max_z(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a[..., 0] - b[..., 0]) / np.hypot(a[..., 1], b[..., 1])))


def environment() -> str:
    versions = ", ".join(
        f"{p} {metadata.version(p)}" for p in ("jax", "jaxlib", "numpyro", "numpy", "pandas")
    )
    cpu = platform.processor() or platform.machine()
    return (
        f"{dt.date.today().isoformat()} · {platform.system()} {platform.release()} · {cpu} · "
        f"{os.cpu_count()} CPU cores · Python {platform.python_version()} · {versions}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--loop-rows", type=int, default=None, help="rows for the loop timing")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n, repeats = args.rows, args.repeats
    loop_rows = min(args.loop_rows or n, n)
    values = n * len(NAMES)
    print(environment())
    print(f"\nHAALSI-like scene, {n:,} rows × {len(NAMES)} biomarkers ({values:,} values)\n")

    first, data = timed(lambda: sb.generate(scene(n, 1)))
    warm = [timed(lambda s=s: sb.generate(scene(n, s)))[0] for s in range(2, 2 + repeats)]
    ours = statistics.median(warm)

    spec = validate_spec(scene(n, 1))
    layout, fixed, design = build_layout(spec), fixed_sites(spec), build_design(spec)
    draw_rows(layout, fixed, design, spec.seed, spec.dtype)  # compiled already; warm up
    engine = statistics.median(
        timed(lambda: draw_rows(layout, fixed, design, spec.seed, spec.dtype))[0]
        for _ in range(repeats)
    )

    vec_times = [timed(lambda s=s: numpy_vectorised(n, s))[0] for s in range(repeats)]
    vec = statistics.median(vec_times)
    loop_time, loop_out = timed(lambda: numpy_loop(loop_rows, 0))
    loop = loop_time * n / loop_rows

    # The three renderings draw the same population: region × sex means agree.
    codes = data.covariates
    ours_cells = cell_means(
        codes["region"].cat.codes.to_numpy(), (codes["sex"] == "male").to_numpy(), data.X.to_numpy()
    )
    vec_cells = cell_means(*numpy_vectorised(n, 99))
    loop_cells = cell_means(*loop_out)

    rows = [
        ("synthbio_ppl generate, first call (with JIT compile)", first),
        ("synthbio_ppl generate, warm (median)", ours),
        ("synthbio_ppl engine only (draw_rows, arrays), warm", engine),
        ("numpy vectorised (median)", vec),
        (
            "numpy, row-by-row Python loop for covariates and latents"
            + ("" if loop_rows == n else f" (timed on {loop_rows:,} rows, scaled)"),
            loop,
        ),
    ]
    print("| rendering | seconds | M values/s | time / synthbio_ppl warm |")
    print("|---|---:|---:|---:|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.3f} | {values / seconds / 1e6:.1f} | {seconds / ours:.2f} |")
    print(
        f"\nagreement of region × sex means (max |z| over 96 cells × biomarkers): "
        f"synthbio_ppl vs numpy {max_z(ours_cells, vec_cells):.2f}, "
        f"synthbio_ppl vs loop {max_z(ours_cells, loop_cells):.2f}"
    )


if __name__ == "__main__":
    main()
