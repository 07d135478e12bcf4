"""Differential expression with a real DE tool, scored against the true DE genes.

``deseq2`` runs PyDESeq2 (Muzellec et al. 2023, Bioinformatics 39(9):btad547; the DESeq2
model of Love, Huber & Anders 2014, Genome Biology 15:550) on a dataset's count block;
``score_de`` compares its calls and log2 fold changes with ``truth.features``. PyDESeq2
is the optional extra ``de``, imported only when ``deseq2`` runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from synthbio_ppl.core.errors import SpecError


def _pydeseq2() -> tuple[Any, Any]:
    try:
        from pydeseq2.dds import DeseqDataSet
        from pydeseq2.ds import DeseqStats
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("deseq2 needs PyDESeq2: pip install 'synthbio_ppl[de]'") from exc
    return DeseqDataSet, DeseqStats


def count_columns(data: Any, block: str | None = None) -> list[str]:
    """The columns of the count block ``block`` (default: every count block's)."""
    from synthbio_ppl.model.layout import build_layout
    from synthbio_ppl.processes.registry import process_of

    counts = [b for b in build_layout(data.spec).blocks if process_of(b.kind).integer]
    if block is not None:
        if not isinstance(block, str) or block not in {b.name for b in counts}:
            raise SpecError("block", block, f"name a count block: {[b.name for b in counts]}")
        counts = [b for b in counts if b.name == block]
    if not counts:
        raise SpecError("data", data.spec.name, "has no count block (add a counts: block)")
    columns = list(data.X.columns)
    return [c for b in counts for c in columns[b.start : b.stop]]


def _contrast(data: Any, contrast: Any) -> tuple[str, str]:
    """(tested, reference) checked against the classes (default: last vs first)."""
    classes = list(data.spec.class_names)
    if contrast is None:
        if len(classes) < 2:
            raise SpecError("contrast", classes, "DE needs two or more classes")
        return classes[-1], classes[0]
    if not isinstance(contrast, tuple | list) or len(contrast) != 2:
        raise SpecError("contrast", contrast, "give (tested class, reference class)")
    tested, reference = contrast
    for name in (tested, reference):
        if name not in classes:
            raise SpecError("contrast", name, f"name classes of the dataset: {classes}")
    if tested == reference:
        raise SpecError("contrast", contrast, "compare two different classes")
    return tested, reference


def deseq2(
    data: Any,
    covariates: Sequence[str] = (),
    block: str | None = None,
    contrast: tuple[str, str] | None = None,
    n_cpus: int = 1,
) -> pd.DataFrame:
    """PyDESeq2's Wald test of class ``contrast`` = (tested, reference) (default: the last
    class against the first), adjusting for the named ``covariates`` (e.g. ``["batch"]``).

    Returns one row per gene: ``baseMean``, ``log2FoldChange``, ``lfcSE``, ``stat``,
    ``pvalue``, ``padj`` (Benjamini–Hochberg), as PyDESeq2 reports them. Raises SpecError
    for an unknown covariate or class, ImportError (naming the extra) without PyDESeq2.
    """
    DeseqDataSet, DeseqStats = _pydeseq2()
    columns = count_columns(data, block)
    tested, reference = _contrast(data, contrast)
    if isinstance(covariates, str):
        covariates = [covariates]
    unknown = [c for c in covariates if c not in data.covariates.columns]
    if unknown:
        raise SpecError("covariates", unknown, f"name covariates: {list(data.covariates.columns)}")
    if data.X[columns].isna().to_numpy().any():
        raise SpecError(
            "data",
            "count columns with missing cells (NaN)",
            "PyDESeq2 needs complete counts; drop the rows or genes with NaN first",
        )
    index = [f"row{i}" for i in range(len(data.X))]
    counts = pd.DataFrame(data.X[columns].to_numpy(dtype=np.int64), index=index, columns=columns)
    metadata = pd.DataFrame({"condition": data.y.astype(str).to_numpy()}, index=index)
    for name in covariates:
        metadata[name] = data.covariates[name].astype(str).to_numpy()
    design = "~" + " + ".join([*covariates, "condition"])
    dds = DeseqDataSet(counts=counts, metadata=metadata, design=design, quiet=True, n_cpus=n_cpus)
    dds.deseq2()
    stats = DeseqStats(dds, contrast=["condition", tested, reference], quiet=True, n_cpus=n_cpus)
    stats.summary()
    return stats.results_df.loc[columns]


def score_de(
    results: pd.DataFrame,
    data: Any,
    alpha: float = 0.05,
    contrast: tuple[str, str] | None = None,
) -> pd.Series:
    """Score DE calls (``padj < alpha``) against the truth of ``contrast`` (default: last
    class vs first).

    Returns ``calls``, ``true_de``, ``false_discoveries``, ``fdr`` (false discoveries /
    calls; 0 without calls), ``power`` (true DE genes called / true DE genes), and, over the
    true DE genes, ``lfc_bias`` and ``lfc_rmse`` of ``log2FoldChange`` against the true
    log2 fold change, and ``lfc_correlation`` over every gene (genes without an estimate,
    NaN, left out). Raises SpecError for ``alpha`` outside (0, 1).
    """
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise SpecError("alpha", alpha, "must be a number in (0, 1)")
    tested, reference = _contrast(data, contrast)
    pairs = data.truth.effect_sizes
    if f"{tested} vs {reference}" in pairs:
        truth_lfc = pairs[f"{tested} vs {reference}"]
    else:
        truth_lfc = -pairs[f"{reference} vs {tested}"]
    absent = [c for c in ("padj", "log2FoldChange") if c not in results.columns]
    unknown = [g for g in results.index if g not in truth_lfc.index]
    if absent or unknown:
        raise SpecError(
            "results",
            absent or unknown[:5],
            "needs PyDESeq2's padj and log2FoldChange columns, one row per gene of the data",
        )
    genes = results.index
    true_lfc = truth_lfc.loc[genes].to_numpy(dtype=float)
    true_de = true_lfc != 0
    called = (results["padj"] < alpha).fillna(False).to_numpy()
    estimate = results["log2FoldChange"].to_numpy(dtype=float)
    finite = np.isfinite(estimate)  # PyDESeq2 gives NaN for genes with no counts
    error = estimate[true_de & finite] - true_lfc[true_de & finite]
    false = int((called & ~true_de).sum())
    return pd.Series(
        {
            "calls": int(called.sum()),
            "true_de": int(true_de.sum()),
            "false_discoveries": false,
            "fdr": false / called.sum() if called.any() else 0.0,
            "power": (called & true_de).sum() / true_de.sum() if true_de.any() else np.nan,
            "lfc_bias": float(error.mean()) if error.size else np.nan,
            "lfc_rmse": float(np.sqrt((error**2).mean())) if error.size else np.nan,
            "lfc_correlation": float(np.corrcoef(estimate[finite], true_lfc[finite])[0, 1]),
        }
    )
