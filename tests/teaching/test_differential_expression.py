"""Scoring DE calls against the truth, and running PyDESeq2 on a count block."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import synthbio_ppl as sb
from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.teaching.differential_expression import deseq2, score_de

SCENE = {
    "name": "de",
    "seed": 4,
    "classes": [{"name": "control", "n": 8}, {"name": "treated", "n": 8}],
    "counts": [
        {
            "name": "gene",
            "n": 200,
            "library_size": {"median": 1.0e6},
            "differential_expression": {"fraction": 0.2, "log2_fold_change": 2.0},
        }
    ],
    "batches": {"n": 2, "strength": 0.3},
}


@pytest.fixture(scope="module")
def data() -> sb.Dataset:
    return sb.generate(SCENE)


def test_score_de_counts_calls_against_the_truth(data: sb.Dataset) -> None:
    """A hand-made result: every true DE gene called with its true LFC + 0.1, plus the first
    three non-DE genes called: power 1, FDR 3 / (k + 3), bias 0.1, RMSE 0.1."""
    truth = data.truth.features
    de = truth["de"].to_numpy()
    lfc = truth["log2_fold_change"].to_numpy()
    padj = np.where(de, 0.001, 0.5)
    false = np.flatnonzero(~de)[:3]
    padj[false] = 0.01
    results = pd.DataFrame({"log2FoldChange": lfc + 0.1 * de, "padj": padj}, index=truth.index)
    score = score_de(results, data)
    k = int(de.sum())
    assert score["true_de"] == k and score["calls"] == k + 3
    assert score["false_discoveries"] == 3
    assert score["fdr"] == pytest.approx(3 / (k + 3))
    assert score["power"] == 1.0
    assert score["lfc_bias"] == pytest.approx(0.1, abs=1e-6)
    assert score["lfc_rmse"] == pytest.approx(0.1, abs=1e-6)
    none_called = results.assign(padj=1.0)
    assert score_de(none_called, data)["fdr"] == 0.0
    assert score_de(none_called, data)["power"] == 0.0
    with pytest.raises(SpecError, match="alpha"):
        score_de(results, data, alpha=1.5)


def test_deseq2_finds_the_de_genes_of_a_clear_scene(data: sb.Dataset) -> None:
    """DE genes at |log2FC| ≈ 2 with a million reads a sample: PyDESeq2 (with the batch
    covariate) finds most of them and its FDR at 0.05 is small."""
    results = deseq2(data, covariates=["batch"])
    assert list(results.index) == data.truth.features.index.tolist()
    score = score_de(results, data)
    assert score["power"] > 0.7
    assert score["fdr"] < 0.2
    assert score["lfc_correlation"] > 0.9


def test_deseq2_names_bad_input(data: sb.Dataset) -> None:
    with pytest.raises(SpecError, match="covariates"):
        deseq2(data, covariates=["site"])
    with pytest.raises(SpecError, match="contrast"):
        deseq2(data, contrast=("sick", "control"))
    with pytest.raises(SpecError, match="block"):
        deseq2(data, block="protein")
    plain = sb.generate({"name": "x", "informative": [{"n": 2}]})
    with pytest.raises(SpecError, match="no count block"):
        deseq2(plain)


def test_score_de_takes_any_ordered_contrast_and_names_bad_results() -> None:
    three = sb.generate(
        {
            "name": "k",
            "seed": 1,
            "classes": [{"name": c, "n": 5} for c in "abc"],
            "counts": [{"name": "g", "n": 10, "differential_expression": {"fraction": 0.5}}],
        }
    )
    results = pd.DataFrame({"padj": 0.5, "log2FoldChange": 0.0}, index=three.X.columns)
    forward = score_de(results, three, contrast=("c", "b"))
    backward = score_de(results.assign(log2FoldChange=0.0), three, contrast=("b", "c"))
    assert forward["true_de"] == backward["true_de"]
    assert backward["lfc_bias"] == pytest.approx(-forward["lfc_bias"])
    for contrast in (("a", "a"), "ab", ("z", "a")):
        with pytest.raises(SpecError, match="contrast"):
            score_de(results, three, contrast=contrast)
    with pytest.raises(SpecError, match="results"):
        score_de(results.drop(columns="padj"), three)
    with pytest.raises(SpecError, match="alpha"):
        score_de(results, three, alpha="0.05")


def test_deseq2_refuses_continuous_blocks_and_missing_counts(data: sb.Dataset) -> None:
    mixed = sb.generate({**SCENE, "noise": [{"n": 2, "name": "ln"}]})
    with pytest.raises(SpecError, match="count block"):
        deseq2(mixed, block="ln")
    holes = sb.generate({**SCENE, "missing": [{"mechanism": "mcar", "rate": 0.05}]})
    with pytest.raises(SpecError, match="NaN"):
        deseq2(holes)
