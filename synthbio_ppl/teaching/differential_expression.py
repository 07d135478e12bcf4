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
    """The columns of ``block`` (default: every count column, integer dtype in ``X``)."""
    features = data.truth.features
    if block is not None:
        if block not in set(features["block"]):
            raise SpecError(
                "block", block, f"name a block of the dataset: {sorted(set(features['block']))}"
            )
        return features.index[features["block"] == block].tolist()
    columns = [c for c in data.X.columns if pd.api.types.is_integer_dtype(data.X[c])]
    if not columns:
        raise SpecError("data", data.spec.name, "has no count columns (add a counts: block)")
    return columns


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
    classes = list(data.spec.class_names)
    tested, reference = contrast or (classes[-1], classes[0])
    for name in (tested, reference):
        if name not in classes:
            raise SpecError("contrast", name, f"name classes of the dataset: {classes}")
    unknown = [c for c in covariates if c not in data.covariates.columns]
    if unknown:
        raise SpecError("covariates", unknown, f"name covariates: {list(data.covariates.columns)}")
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
    if not 0 < alpha < 1:
        raise SpecError("alpha", alpha, "must lie in (0, 1)")
    classes = list(data.spec.class_names)
    tested, reference = contrast or (classes[-1], classes[0])
    truth_lfc = (
        data.truth.effect_sizes[f"{tested} vs {reference}"] if tested != classes[0] else None
    )
    if truth_lfc is None:
        truth_lfc = -data.truth.effect_sizes[f"{reference} vs {tested}"]
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
