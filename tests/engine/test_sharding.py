"""Rows sharded across several devices equal one device's, bit for bit.

Runs in a subprocess with two host-platform CPU devices (the XLA flag must be set before
JAX is imported)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import synthbio_ppl as sb
from synthbio_ppl.engine.generation import generate
from synthbio_ppl.engine.planning import rescale_rows
from tests.engine.scale_helpers import ROOT, ROWS, shared_cache, stream_spec

TWO_DEVICES = """
import sys
import jax
import numpy as np
from synthbio_ppl.engine import draw as engine
from synthbio_ppl.model.design import build_design
from synthbio_ppl.model.layout import build_layout
from synthbio_ppl.model.parameters import fixed_sites
from synthbio_ppl.model.scene import validate_spec
from synthbio_ppl.data.dataset import load_dataset
from synthbio_ppl.engine.parquet_writer import generate_to_parquet
from synthbio_ppl.engine.planning import rescale_rows

assert len(jax.devices()) == 2, jax.devices()
spec = rescale_rows(validate_spec(eval(sys.argv[1])), int(sys.argv[2]))
layout, fixed, design = build_layout(spec), fixed_sites(spec), build_design(spec)
from synthbio_ppl.engine import dispatch
seen = []
real = dispatch.program
dispatch.program = lambda kind, static, devs: seen.append(len(devs)) or real(kind, static, devs)
two = engine.draw_rows(layout, fixed, design, spec.seed, spec.dtype)["X"]
assert seen and set(seen) == {2}, seen  # every piece ran sharded
part = engine.draw_rows(layout, fixed, design, spec.seed, spec.dtype, 1000, 17000)["X"]
out = generate_to_parquet(spec, sys.argv[3] + "/streamed", chunk_rows=4096)
streamed = load_dataset(out).X.to_numpy(dtype=np.float32)
np.savez(sys.argv[3] + "/two.npz", two=two, part=part, streamed=streamed)
"""


@pytest.fixture(scope="session")
def jax_cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    return shared_cache(tmp_path_factory)


COUNTS = {
    "name": "streamed_counts",
    "seed": 6,
    "classes": [{"name": "a", "n": 30}, {"name": "b", "n": 20}],
    "counts": [
        {"n": 5, "dropout": {"midpoint": 1.0}, "differential_expression": {"fraction": 0.4}}
    ],
    "batches": {"n": 2, "confounding": 0.5},
}
"""Counts (int32 in X, whole numbers in float32 when drawn) with DE, dropout and batches."""


MASKED = {
    "name": "streamed_masked",
    "seed": 8,
    "classes": [{"name": "a", "n": 30}, {"name": "b", "n": 20}],
    "informative": [{"n": 2, "effect_size": 1.0}],
    "noise": [{"n": 3}],
    "missing": [
        {"mechanism": "mcar", "rate": 0.1, "affects": "noise"},
        {"mechanism": "mnar", "rate": 0.2, "strength": -1.0, "affects": "informative"},
    ],
    "outcome": {"kind": "survival", "coefficients": {"inf0_0": 0.5}},
}
"""Masks and an outcome, drawn after the blocks; 20,000 rows are 79 chunks, an odd number
of chunks for two devices (their calls are whole device shares)."""


@pytest.mark.parametrize(
    "scene", [stream_spec(), COUNTS, MASKED], ids=["blocks", "counts", "masks_and_outcome"]
)
def test_two_devices_give_the_same_bytes_as_one(
    scene: dict, tmp_path: Path, jax_cache: str
) -> None:
    env = {
        **os.environ,
        "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
        "JAX_PLATFORMS": "cpu",
        "SYNTHBIO_CACHE_DIR": jax_cache,
    }
    args = [sys.executable, "-c", TWO_DEVICES, repr(scene), str(ROWS), str(tmp_path)]
    run = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    result = np.load(tmp_path / "two.npz")
    data = generate(rescale_rows(sb.validate_spec(scene), ROWS))
    here = data.X.to_numpy(dtype=np.float32)
    # draw_rows gives the complete values; the masks hide cells of data.X afterwards
    complete = here if data.truth.complete is None else data.truth.complete
    complete = np.asarray(complete, dtype=np.float32)
    assert result["two"].tobytes() == complete.tobytes()
    assert result["part"].tobytes() == complete[1000:17000].tobytes()
    assert result["streamed"].tobytes() == here.tobytes()
