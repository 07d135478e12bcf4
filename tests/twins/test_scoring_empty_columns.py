"""``score_twin`` when a table holds a column with no observed cell: no leaked warning,
and a DCR percentile that reaches an infinitely distant row is inf on purpose."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from synthbio_ppl.twins.privacy import _percentile
from synthbio_ppl.twins.scoring import score_twin

pytest.importorskip("sklearn")


def frame(rng: np.random.Generator, n: int = 60, p: int = 1) -> pd.DataFrame:
    table = pd.DataFrame(rng.normal(size=(n, p)), columns=[f"x{j}" for j in range(p)])
    table["y"] = np.tile([0, 1], n // 2)
    return table


@pytest.mark.parametrize("empty", ["synthetic", "real_train", "real_holdout"])
def test_an_all_nan_column_leaks_no_warning(empty: str) -> None:
    rng = np.random.default_rng(3)
    tables = {name: frame(rng) for name in ("real_train", "real_holdout", "synthetic")}
    tables[empty]["x0"] = np.nan  # the only feature: every DCR touching it is inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning (inf − inf in numpy) would raise
        report = score_twin(
            tables["real_train"], tables["real_holdout"], tables["synthetic"], label="y"
        )
        report.to_dict()
        report.to_markdown()
    privacy = report.privacy
    if empty in ("synthetic", "real_train"):  # no synthetic row is near any train row
        assert privacy.dcr_synthetic_p5 == math.inf == privacy.dcr_synthetic_median
        assert report.to_dict()["privacy"]["dcr_synthetic_p5"] is None
    if empty in ("real_holdout", "real_train"):
        assert privacy.dcr_holdout_p5 == math.inf == privacy.dcr_holdout_median
    ks = report.fidelity.per_feature.loc["x0", "ks"]  # fidelity compares train and synthetic
    assert np.isnan(ks) == (empty != "real_holdout")


def test_percentile_with_infinite_distances() -> None:
    finite = np.array([3.0, 1.0, 2.0, 5.0, 4.0])
    for q in (0, 5, 50, 95, 100):
        assert _percentile(finite, q) == np.percentile(finite, q)
    with_inf = np.array([3.0, 1.0, np.inf, 2.0, np.inf])  # sorted: 1, 2, 3, inf, inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # neighbours finite: as numpy on the finite part; reaching an inf: inf
        assert _percentile(with_inf, 5) == np.percentile([1.0, 2.0, 3.0, 3.0, 3.0], 5)
        assert _percentile(with_inf, 50) == 3.0
        assert _percentile(with_inf, 51) == math.inf
        assert _percentile(with_inf, 75) == math.inf
        assert _percentile(np.full(4, np.inf), 5) == math.inf
