"""Clustering against the known grouping: high and stable when regions separate, ≈ 0 when not."""

from __future__ import annotations

import copy
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

import synthbio_ppl as sb
from synthbio_ppl.cli.app import main
from synthbio_ppl.clustering.check import chosen, cluster_check, plot_cluster_check
from synthbio_ppl.core.errors import SpecError

matplotlib.use("Agg")

SEPARATED: dict[str, Any] = {
    "name": "regions",
    "seed": 5,
    "structure": {
        "name": "sep",
        "n": 1500,
        "covariates": {"region": {"levels": {"rural": 0.3, "mixed": 0.4, "urban": 0.3}}},
        "factors": {
            "X": {"mean": {"by": "region", "rural": -1.3, "mixed": 0.0, "urban": 1.3}, "sd": 0.4}
        },
        "biomarkers": {
            "A": {"baseline": 50, "loadings": {"X": 3}, "noise": 1.0},
            "B": {"loadings": {"X": 2}, "shifts": {"region": {"urban": 3, "rural": -3}}},
            "C": {"baseline": 5, "shifts": {"region": {"urban": 4, "rural": -4}}, "noise": 0.5},
            # no pure-noise biomarker: z-scored, one ties the silhouettes of 2 and 3 regions
            # (0.43 against 0.42 at seed 5), and which k wins is then the seed's choice
        },
    },
}


def without_regions(spec: dict[str, Any]) -> dict[str, Any]:
    """The same scene (same shape) with every region effect set to zero."""
    null = copy.deepcopy(spec)
    structure = null["structure"]
    structure["factors"]["X"]["mean"] = {"by": "region", "rural": 0.0, "mixed": 0.0, "urban": 0.0}
    for marker in structure["biomarkers"].values():
        for table in marker.get("shifts", {}).values():
            for level in table:
                table[level] = 0.0
    return null


@pytest.fixture(scope="module")
def separated() -> sb.Dataset:
    return sb.generate(SEPARATED)


@pytest.fixture(scope="module")
def null() -> sb.Dataset:
    return sb.generate(without_regions(SEPARATED))


def test_well_separated_regions_are_found_and_stable(separated: sb.Dataset) -> None:
    table = cluster_check(separated, "region", k_range=(2, 3, 4), n_bootstrap=3, seed=1)
    assert len(table) == 4 * 2 * 3
    row = table.query("scaling == 'zscore' and method == 'kmeans' and k == 3").iloc[0]
    assert row["ari"] > 0.9 and row["nmi"] > 0.85 and row["stability"] > 0.9
    assert row["chosen"]  # silhouette picks the true number of regions
    plain = table.query("k == 3 and scaling in ('zscore', 'minmax')")
    assert plain["ari"].min() > 0.9  # both methods find them after z-score or min-max
    picks = chosen(table)
    assert len(picks) == 8 and (picks["truth_groups"] == 3).all()


def test_without_region_effects_the_ari_falls_to_zero(null: sb.Dataset) -> None:
    table = cluster_check(null, "region", k_range=(2, 3, 4), n_bootstrap=0, seed=1)
    assert table["stability"].isna().all()
    # Sampling error of the ARI between unrelated partitions: permute the truth labels
    truth = null.covariates["region"].to_numpy()
    labels = np.asarray(null.X["A"] > null.X["A"].median(), dtype=int)
    rng = np.random.default_rng(0)
    spread = np.std([adjusted_rand_score(rng.permutation(truth), labels) for _ in range(200)])
    assert table["ari"].abs().max() < 5 * spread, (table["ari"].abs().max(), spread)


def test_truth_can_be_labels_or_crossed_covariates(separated: sb.Dataset) -> None:
    labels = separated.covariates["region"].to_numpy()
    by_array = cluster_check(separated.X, labels, k_range=(3,), methods=("kmeans",),
                             scalings=("zscore",), n_bootstrap=0)  # fmt: skip
    by_name = cluster_check(separated, "region", k_range=(3,), methods=("kmeans",),
                            scalings=("zscore",), n_bootstrap=0)  # fmt: skip
    pd.testing.assert_frame_equal(by_array, by_name)
    with pytest.raises(SpecError, match=r"^--by: 'sex' is not allowed"):
        cluster_check(separated, ["region", "sex"], k_range=(3,))
    with pytest.raises(SpecError, match=r"^scalings: 'log'"):
        cluster_check(separated, "region", k_range=(3,), scalings=("log",))


def test_cli_handler_and_plot(separated: sb.Dataset, tmp_path, capsys) -> None:
    folder = separated.to_parquet(tmp_path / "regions")
    csv, png = tmp_path / "table.csv", tmp_path / "clusters.png"
    code = main(
        ["cluster", str(folder), "--by", "region", "--k", "2", "3", "--methods", "kmeans",
         "--scalings", "zscore", "minmax", "--bootstrap", "2", "--csv", str(csv),
         "--plot", str(png)]
    )  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "chosen k" in out and "zscore" in out
    table = pd.read_csv(csv)
    assert list(table["k"]) == [2, 3, 2, 3] and png.stat().st_size > 0
    figure = plot_cluster_check(table, metrics=("ari", "silhouette"))
    assert len(figure.axes) == 2 and len(figure.axes[0].lines) >= 4


def test_a_progress_bar_counts_the_settings(separated: sb.Dataset, capsys) -> None:
    cluster_check(
        separated,
        k_range=[2, 3],
        methods=["kmeans"],
        scalings=["zscore"],
        n_bootstrap=1,
        progress=True,
    )
    err = capsys.readouterr().err
    assert "cluster check" in err and "2/2" in err
    cluster_check(
        separated,
        k_range=[2],
        methods=["kmeans"],
        scalings=["zscore"],
        n_bootstrap=1,
        progress=False,
    )
    assert capsys.readouterr().err == ""
