"""to_dask: a lazy Dask DataFrame whose partitions equal generate()'s rows, on a cluster."""

from __future__ import annotations

import pandas as pd
import pytest

import synthbio_ppl as sb
from synthbio_ppl.engine.generation import generate
from synthbio_ppl.engine.planning import rescale_rows
from tests.engine.scale_helpers import N_FEATURES, shared_cache, stream_spec

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("dask.distributed")
to_dask = pytest.importorskip("synthbio_ppl.engine.dask_io").to_dask

DASK_ROWS = 5000


@pytest.fixture(scope="session")
def jax_cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    return shared_cache(tmp_path_factory)


def test_meta_divisions_and_lazy_partitions() -> None:
    ddf = to_dask(stream_spec(), rows=DASK_ROWS, chunk_rows=2048)
    assert ddf.npartitions == 3
    assert ddf.divisions == (0, 2048, 4096, DASK_ROWS - 1)
    meta = ddf._meta
    assert (meta.dtypes.iloc[:N_FEATURES] == "float32").all()
    assert meta["y"].dtype == pd.CategoricalDtype(["healthy", "diseased"])
    assert meta["batch"].dtype == pd.CategoricalDtype(["batch0", "batch1", "batch2"])
    one = ddf.partitions[1].compute(scheduler="sync")
    assert one.index.tolist() == list(range(2048, 4096))


def test_dask_on_a_local_cluster_equals_generate(
    jax_cache: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNTHBIO_CACHE_DIR", jax_cache)  # workers re-use compiled programs
    expected = generate(rescale_rows(sb.validate_spec(stream_spec()), DASK_ROWS)).to_frame()
    ddf = to_dask(stream_spec(), rows=DASK_ROWS, chunk_rows=1024)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        frame = client.compute(ddf).result()
        workers = client.run(lambda: __import__("os").getpid())
    assert len(set(workers.values())) == 2
    pd.testing.assert_frame_equal(frame, expected, check_exact=True)
    features = expected.columns[:N_FEATURES]
    assert frame[features].to_numpy().tobytes() == expected[features].to_numpy().tobytes()
