"""A fitted table's missing cells: placeholders in X, and the masks' design constants."""

from __future__ import annotations

import warnings

import numpy as np

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.model.layout import Layout
from synthbio_ppl.model.scene import Spec
from synthbio_ppl.processes.registry import mask_of, process_of, response_of


def placeholders(X: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """X with each missing cell set to its column's observed median (a value in the
    family's support, never used as data) and the (rows, features) mask; None if none."""
    hidden = np.isnan(X)
    if not hidden.any():
        return X, None
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing column
        median = np.nanmedian(X, axis=0)
    filled = np.where(hidden, np.nan_to_num(median, nan=0.0)[None, :], X).astype(X.dtype)
    return filled, hidden


def mask_constants(
    spec: Spec,
    layout: Layout,
    X: np.ndarray,
    hidden: np.ndarray | None,
    truth: dict[str, np.ndarray] | None,
) -> dict[str, np.ndarray]:
    """The design constants of the mask entries (a driver's centre and scale): the truth's
    for a generated Dataset, else the observed cells' mean and sd."""
    from synthbio_ppl.model.parameters import mask_entries

    out: dict[str, np.ndarray] = {}
    if not layout.masks:  # none, or ignored
        return out
    observed = X if hidden is None else np.where(hidden, np.nan, X)
    for i, (entry, static) in enumerate(zip(mask_entries(spec), layout.masks, strict=True)):
        process = mask_of(static.field)
        process.fit_check(entry, static, f"{static.field}[{i}]")
        constants = process.constant_sites(static)
        if not constants:
            continue
        if truth is not None and all(name in truth for name in constants):
            out.update({name: np.asarray(truth[name], spec.dtype) for name in constants})
            continue
        estimated = process.estimate_constants(static, observed)
        out.update({name: np.asarray(estimated[name], spec.dtype) for name in constants})
    return out


def check_hidden_blocks(layout: Layout, hidden: np.ndarray, missing: str) -> None:
    """Each block with hidden cells can be fitted: where the masks depend on the values
    (``missing="model"``) or the outcome reads the cells, the block must draw them as
    latents (``fit_hidden_check``); hidden counts that the outcome reads cannot be drawn."""
    impute = missing == "model" and any(mask_of(m.field).needs_values(m) for m in layout.masks)
    response = layout.response
    read = set() if response is None else response_of(response.field).read_columns(response)
    for block in layout.blocks:
        part = hidden[:, block.start : block.stop].any(axis=0)
        if not part.any():
            continue
        columns = [int(j) for j in np.flatnonzero(part)]
        outcome_reads = any(block.start + j in read for j in columns)
        if outcome_reads and process_of(block.kind).integer:
            raise SpecError(
                "missing",
                f"hidden cells of {block.name} that the outcome reads",
                "a fit cannot draw hidden counts as latents; hide other columns",
            )
        process_of(block.kind).fit_hidden_check(block, columns, impute or outcome_reads)
