"""``Dataset.to_anndata``: the table as an AnnData object, the truth in ``.var``/``.obs``.

AnnData (Virshup et al. 2024, JOSS 9(101):4371) is the format single-cell tools read
(scanpy, scvi-tools, PyDESeq2). anndata is the optional extra ``omics``, imported here
only when asked for.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def _anndata() -> Any:
    try:
        import anndata
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Dataset.to_anndata needs anndata: pip install 'synthbio_ppl[omics]'"
        ) from exc
    return anndata


def feature_columns(data: Any, blocks: list[str] | None) -> list[str]:
    """The columns to export: the named blocks', else every count block's, else all."""
    from synthbio_ppl.core.errors import SpecError
    from synthbio_ppl.model.layout import build_layout
    from synthbio_ppl.processes.registry import process_of

    table = data.truth.features
    if blocks is None:
        layout = build_layout(data.spec).blocks
        whole = [b.name for b in layout if process_of(b.kind).integer]
        blocks = whole or table["block"].unique().tolist()
    if isinstance(blocks, str):
        blocks = [blocks]
    known = table["block"].unique().tolist()
    if not isinstance(blocks, list | tuple) or not blocks:
        raise SpecError("blocks", blocks, f"give a list of block names: {known}")
    unknown = [b for b in blocks if b not in known]
    if unknown:
        raise SpecError("blocks", unknown, f"name blocks of the dataset: {known}")
    return table.index[table["block"].isin(blocks)].tolist()


def to_anndata(data: Any, blocks: list[str] | None = None) -> Any:
    """An ``anndata.AnnData`` of the chosen blocks' columns (default: the count blocks, or
    every feature when there are none).

    ``X`` (rows, columns): int32 when every chosen column is whole (counts), else float;
    ``obs``: ``y``, the covariates (batch, groups), an outcome's ``time`` and ``event``
    and the per-row latents (library sizes, an outcome's linear predictor); ``var``: the
    truth's feature table (role, base mean, dispersion, DE state, log2 fold change, batch
    factors, ...); ``layers["dropout"]``: the cells dropout or zero inflation set to 0
    (scipy sparse, bool) when there are any; ``uns``: the spec (YAML), the class × batch
    table, the class effect sizes and an outcome's terms and scores. Raises SpecError for
    an unknown block and ImportError (naming the extra) without anndata.
    """
    anndata = _anndata()
    from scipy import sparse

    from synthbio_ppl.data.io import beside_y

    columns = feature_columns(data, blocks)
    frame = data.X[columns]
    whole = all(pd.api.types.is_integer_dtype(t) for t in frame.dtypes)
    X = frame.to_numpy(dtype=np.int32 if whole else None)
    names = pd.Index([str(i) for i in range(len(frame))])
    parts = [data.y.to_frame(), data.covariates]
    parts.append(beside_y(data.outcome, data.covariates.index))  # time and event
    if data.truth.latents is not None:
        parts.append(data.truth.latents)
    obs = pd.concat([p.reset_index(drop=True) for p in parts], axis=1).set_axis(names)
    var = data.truth.features.loc[columns].copy()
    for name in var.columns:  # h5ad writes strings, not mixed objects
        if var[name].dtype == object:
            var[name] = var[name].astype(str)
    layers = {}
    dropout = data.truth.dropout
    if dropout is not None and set(columns) & set(dropout.columns):
        cells = np.zeros(X.shape, dtype=bool)
        shared = [c for c in columns if c in dropout.columns]
        cells[:, [columns.index(c) for c in shared]] = dropout[shared].to_numpy()
        layers["dropout"] = sparse.csr_matrix(cells)
    uns: dict[str, Any] = {
        "spec": data.spec.to_yaml(),
        "effect_sizes": data.truth.effect_sizes.loc[columns],
    }
    if data.truth.batch is not None:
        uns["class_batch_table"] = data.truth.batch["table"]
    if data.truth.outcome is not None:
        uns["outcome_terms"] = data.truth.outcome.terms
        uns["outcome_scores"] = {k: float(v) for k, v in data.truth.outcome.scores.items()}
    return anndata.AnnData(X=X, obs=obs, var=var, layers=layers, uns=uns)
