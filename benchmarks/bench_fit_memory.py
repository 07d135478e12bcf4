"""Peak memory of a fit against ``inference.memory``'s estimate, the figure that refuses a
fit too large for memory before it runs.

A child process per case loads a ``kitchen_sink`` folder of ``ROWS`` rows (79 features),
fits it (SVI, 10 steps, so the fit's own work is small and its memory is what is held),
writes the netCDF and the recovery table, and prints the estimate of what running the
compiled program adds (its ``memory_analysis`` plus two host copies of its outputs and
the observed table; the check adds the process's RSS at that moment to it) and what it
added: peak RSS (``VmHWM``) minus the RSS when the check ran. The ratio estimate /
measured is the figure.

Run: ``.venv/bin/python benchmarks/bench_fit_memory.py`` (about 3 minutes on 2 cores)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import header, peak_rss

ROOT = Path(__file__).resolve().parents[1]
ROWS = 120_000
CASES = [(1000, True), (4000, True), (4000, False)]


def _child(folder: str, draws: int, loglik: bool) -> None:
    import synthbio_ppl as sb
    from synthbio_ppl.inference import fitting, memory

    estimates, before = [], []

    def spy(executable: object, table_bytes: int, what: str, advice: str) -> None:
        held, outputs = memory.program_bytes(executable)
        before.append(memory.resident_bytes())  # compiled; the run is what is estimated
        estimates.append(held + memory.HOST_COPIES * outputs + table_bytes)
        return memory.check_fit_memory(executable, table_bytes, what, advice)

    fitting.check_fit_memory = spy
    data = sb.load_dataset(folder)
    result = sb.fit(
        data.spec,
        data,
        "svi",
        num_samples=draws,
        svi_steps=10,
        progress=False,
        log_likelihood=loglik,
    )
    with tempfile.TemporaryDirectory() as out:
        result.to_netcdf(Path(out) / "fit.nc")
    result.recovery()
    print(json.dumps({"estimate": estimates[0], "measured": peak_rss() - before[0]}))


def main() -> None:
    if len(sys.argv) == 4:
        _child(sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1")
        return
    header(["jax", "numpyro", "arviz"], {"rows": f"{ROWS:,}"}, [])
    print("| draws | log-likelihood | measured | estimate | estimate / measured |")
    print("|---:|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "kitchen_sink"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "synthbio_ppl.cli",
                "generate",
                str(ROOT / "models" / "kitchen_sink.yaml"),
                "--out",
                str(folder),
                "--rows",
                str(ROWS),
                "--quiet",
            ],
            check=True,
        )
        for draws, loglik in CASES:
            out = subprocess.run(
                [sys.executable, __file__, str(folder), str(draws), str(int(loglik))],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            r = json.loads(out.splitlines()[-1])
            print(
                f"| {draws:,} | {'kept' if loglik else 'left out'} | "
                f"{r['measured'] / 2**30:.2f} GiB | {r['estimate'] / 2**30:.2f} GiB | "
                f"{r['estimate'] / r['measured']:.2f} |"
            )


if __name__ == "__main__":
    main()
