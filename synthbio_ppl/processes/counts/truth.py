"""The per-gene truth of a count block, from the model's population sites."""

from __future__ import annotations

from typing import Any

import numpy as np

from synthbio_ppl.processes.block import Block


def log2_fold_changes(block: Block, sites: dict[str, np.ndarray], n_classes: int) -> np.ndarray:
    """(n, K) log2 fold change of every class against the first (column 0 is 0)."""
    lfc = sites.get(f"{block.name}.log2_fold_change")
    out = np.zeros((block.n_features, n_classes))
    if lfc is not None and n_classes > 1:
        out[:, 1:] = np.asarray(lfc, dtype=float).reshape(block.n_features, n_classes - 1)
    return out


def log2_class_means(block: Block, sites: dict[str, np.ndarray], n_classes: int) -> np.ndarray:
    """(K, n): log2 of each class's expected count at the median library size."""
    base = np.asarray(sites[f"{block.name}.base_mean"], dtype=float)
    return (np.log2(base)[:, None] + log2_fold_changes(block, sites, n_classes)).T


def de_roles(block: Block, sites: dict[str, np.ndarray], n_classes: int) -> np.ndarray:
    """(n, K-1) ``up``/``down``/``none`` of every gene in every class against the first."""
    state = sites.get(f"{block.name}.de_state")
    if state is None or n_classes < 2:
        return np.full((block.n_features, max(n_classes - 1, 0)), "none", dtype=object)
    names = np.array(["none", "up", "down"], dtype=object)
    return names[np.asarray(state).reshape(block.n_features, n_classes - 1)]


def feature_columns(
    block: Block, sites: dict[str, np.ndarray], class_names: list[str], modifiers: dict[str, Any]
) -> dict[str, np.ndarray]:
    """Columns of ``truth.features`` for the block's genes: ``base_mean`` (expected count
    at the median library size, first class, no batch), ``dispersion`` (NaN for Poisson),
    ``outlier``, ``de`` (DE in any class against the first), ``de_<class>`` per other
    class (up/down/none), ``log2_fold_change`` (last class vs first) and, with batches,
    ``batch_factor_<batch>`` (the factor on the gene's mean)."""
    name, n = block.name, block.n_features
    k = len(class_names)
    dispersion = sites.get(f"{name}.dispersion")
    outlier = sites.get(f"{name}.outlier")
    roles = de_roles(block, sites, k)
    columns: dict[str, np.ndarray] = {
        "base_mean": np.asarray(sites[f"{name}.base_mean"], dtype=float),
        "dispersion": np.full(n, np.nan) if dispersion is None else np.asarray(dispersion, float),
        "outlier": np.zeros(n, bool) if outlier is None else np.asarray(outlier).astype(bool),
        "de": (roles != "none").any(axis=1) if roles.size else np.zeros(n, bool),
    }
    for j, cls in enumerate(class_names[1:]):
        columns[f"de_{cls}"] = roles[:, j].astype(str)
    columns["log2_fold_change"] = log2_fold_changes(block, sites, k)[:, -1]
    batch = modifiers.get("batch")
    if batch is not None:
        effects = batch["effects"].iloc[:, block.start : block.stop].to_numpy(dtype=float)
        factors = np.exp(effects) if batch["kind"] == "offset" else effects
        for b, level in enumerate(batch["effects"].index):
            columns[f"batch_factor_{level}"] = factors[b]
    return columns
