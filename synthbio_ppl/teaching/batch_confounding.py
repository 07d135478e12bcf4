"""Batch confounding: how strongly the batches are tied to the classes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency

from synthbio_ppl.core.statistics import cramers_v
from synthbio_ppl.teaching.inputs import class_order

__all__ = ["confounding"]


def confounding(y: Any, batch: Any) -> dict:
    """Class × batch contingency table, Cramér's V and Pearson's chi-square test.

        V = sqrt(χ² / (n · (min(K, B) − 1))),   χ² = Σ (O − E)² / E  (no continuity
        correction), with empty rows and columns dropped.

    Returns ``table`` (DataFrame, classes × batches), ``cramers_v``, ``chi2``, ``dof`` and
    ``p_value`` (chi2 0 and p 1 when the table has a single class or batch).
    """
    labels, batches = np.asarray(y, dtype=object), np.asarray(batch, dtype=object)
    if labels.shape != batches.shape or labels.ndim != 1:
        raise ValueError(
            f"y and batch must be 1-D of equal length; got {labels.shape}, {batches.shape}"
        )
    rows = pd.Categorical(labels, categories=class_order(y))
    cols = pd.Categorical(batches, categories=class_order(batch, "batch"))
    table = pd.crosstab(rows, cols, rownames=["class"], colnames=["batch"], dropna=False)
    counts = table.to_numpy()
    kept = counts[counts.sum(axis=1) > 0][:, counts.sum(axis=0) > 0]
    if min(kept.shape) < 2:
        chi2, p_value, dof = 0.0, 1.0, 0
    else:
        result = chi2_contingency(kept, correction=False)
        chi2, p_value, dof = float(result.statistic), float(result.pvalue), int(result.dof)
    return {
        "table": table,
        "cramers_v": cramers_v(counts),
        "chi2": chi2,
        "dof": dof,
        "p_value": p_value,
    }
