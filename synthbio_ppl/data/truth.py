"""Ground truth of a generated dataset: roles, population effect sizes, every parameter.

Population values come from the model's own sites (``<block>.level_means``, the batch
draws), so the truth cannot disagree with the generator.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from synthbio_ppl.model.design import Design
from synthbio_ppl.model.layout import Layout
from synthbio_ppl.model.scene import Spec
from synthbio_ppl.processes.registry import (
    BLOCK_PROCESSES,
    MASKS,
    RESPONSES,
    mask_of,
    modifier_of,
    process_of,
    response_of,
    truth_owners,
)

ROLES = tuple(dict.fromkeys(role for p in BLOCK_PROCESSES for role in p.role_colours))
"""Every truth role, in registry order."""


@dataclass
class Truth:
    """What made the data.

    features: one row per feature column: role, block, cluster, distribution, effect_size
        (population Cohen's d, last class vs first), signal (carries class information),
        batch_affected.
    effect_sizes: population d for every class pair (column ``b vs a`` = mean_b - mean_a).
    class_means: population mean of every feature in every class, before batch effects.
    parameters: every site outside the rows plate (fixed spec values and batch draws).
    clusters: per cluster: structure, anchor, per-class correlation, anchor effect, α.
    batch: class×batch table, its Cramér's V, and per-batch effects per feature.
    structure: a structural scene's tables (formulas, probabilities, factor moments,
        loadings, shifts, population level means/sds); see ``structural_truth``.
    latents: per-row latent values: a structural scene's factors, each count block's
        ``<block>.library_size`` (saved as latents.parquet, not in the JSON).
    dropout: the count cells dropout or zero inflation set to 0, rows × the count columns
        that have either, bool (saved as dropout.parquet, bit-packed by Parquet).

    For count columns, ``class_means`` hold log2 of the expected count at the median
    library size, so their ``effect_sizes`` (and ``features.effect_size``) are log2 fold
    changes; ``features`` gains the count blocks' own columns (base_mean, dispersion,
    ``outlier``, ``de``, ``de_<class>``, ``log2_fold_change``, ``batch_factor_<batch>``), blank
    for others.
    missingness: per ``missing:`` entry: mechanism, form, driver, target rate, strength and
        per column the intercept a_j (and the driver's centre and scale, the limit).
    missing: the mask, rows × every column, bool (True: the cell is NaN in X), built on
        first use from ``hidden_cells`` (the masked columns; saved as missing.parquet).
    complete: the values before masking, rows × every column, built on first use from
        ``complete_cells`` (the masked columns; saved as complete.parquet) and the
        observed table.
    outcome: an outcome's truth (``OutcomeTruth``: terms and coefficients, baseline and
        censoring parameters, best achievable scores, survival curve); its per-row
        linear predictor, probabilities and potential times are columns of ``latents``.
    world: a counterfactual dataset's world (``generate(without=..., do=...)``): what it
        switched off and set, the rows it touched, the covariate levels it changed, and
        the average effect of every value that moved, over all rows and over those rows.
    effects: that world's per-row effects, counterfactual − factual, rows × every value
        that moved (features, latents, ``outcome.<column>``; saved as effects.parquet).
    posterior_draw: for a replicated dataset (``Fit.posterior_predictive(as_datasets=
        True)``), the fit's method and the draw whose parameters the truth holds (not the
        spec's values); None for a generated one.
    """

    features: pd.DataFrame
    effect_sizes: pd.DataFrame
    class_means: pd.DataFrame
    parameters: dict[str, Any]
    clusters: pd.DataFrame = field(default_factory=pd.DataFrame)
    batch: dict[str, Any] | None = None
    groups: dict[str, Any] = field(default_factory=dict)
    structure: dict[str, Any] | None = None
    latents: pd.DataFrame | None = None
    dropout: pd.DataFrame | None = None
    missingness: dict[str, Any] | None = None
    hidden_cells: pd.DataFrame | None = None
    complete_cells: pd.DataFrame | None = None
    outcome: Any = None
    world: dict[str, Any] | None = None
    effects: pd.DataFrame | None = None
    posterior_draw: dict[str, Any] | None = None
    observed: pd.DataFrame | None = field(default=None, repr=False)
    _full: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def missing(self) -> pd.DataFrame | None:
        """The mask, rows × every column, bool (None without ``missing:`` entries)."""
        if self.hidden_cells is None:
            return None
        if "mask" not in self._full:
            cells = self.hidden_cells
            full = np.zeros((len(cells), len(self.features)), dtype=bool)
            full[:, self.features.index.get_indexer(cells.columns)] = cells.to_numpy(dtype=bool)
            self._full["mask"] = pd.DataFrame(full, index=cells.index, columns=self.features.index)
        return self._full["mask"]

    @property
    def complete(self) -> pd.DataFrame | None:
        """The values before masking, rows × every column (None without a mask)."""
        if self.complete_cells is None or self.observed is None:
            return None
        if "complete" not in self._full:
            cells = self.complete_cells
            full = self.observed.to_numpy(copy=True)
            full[:, self.observed.columns.get_indexer(cells.columns)] = cells.to_numpy()
            frame = pd.DataFrame(full, index=self.observed.index, columns=self.observed.columns)
            self._full["complete"] = frame
        return self._full["complete"]

    def missing_rates(self, by: pd.Series | None = None) -> pd.DataFrame | pd.Series | None:
        """The realised share of missing cells per column (None without a mask); with
        ``by`` (one label per row, e.g. ``data.y``) a columns × levels frame."""
        if self.missing is None:
            return None
        if by is None:
            return self.missing.mean()
        index = self.missing.index
        if isinstance(by, pd.Series) and by.index.sort_values().equals(index):
            keys = by.reindex(index)  # matched by row label, not position
        elif not isinstance(by, str | pd.DataFrame) and np.ndim(by) == 1 and len(by) == len(index):
            keys = pd.Series(np.asarray(by), index=index)
        else:
            raise ValueError(
                f"by must hold one label per row ({len(index)}), e.g. data.y; got {by!r}"[:200]
            )
        if keys.isna().any():
            raise ValueError(
                f"by has {int(keys.isna().sum())} missing label(s); give every row one"
            )
        return self.missing.groupby(keys, observed=True, sort=True).mean().T

    def informative_features(self) -> list[str]:
        """Feature names that carry class information (``signal``)."""
        return self.features.index[self.features["signal"]].tolist()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (DataFrames in pandas' ``split`` form)."""
        out: dict[str, Any] = {
            "features": _frame_out(self.features),
            "effect_sizes": _frame_out(self.effect_sizes),
            "class_means": _frame_out(self.class_means),
            "parameters": self.parameters,
        }
        for name, owner in truth_owners().items():
            value = owner.truth_to_json(getattr(self, name), _frame_out)
            if value is not None or owner not in (*MASKS, *RESPONSES):  # absent: no key
                out[name] = value
        if self.world is not None:
            out["world"] = self.world
        if self.posterior_draw is not None:
            out["posterior_draw"] = self.posterior_draw
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Truth:
        tables = {
            name: owner.truth_from_json(data.get(name), _frame_in)
            for name, owner in truth_owners().items()
        }
        return cls(
            features=_frame_in(data["features"]),
            effect_sizes=_frame_in(data["effect_sizes"]),
            class_means=_frame_in(data["class_means"]),
            parameters=data["parameters"],
            **{**tables, "groups": tables.get("groups") or {}},
            world=data.get("world"),
            posterior_draw=data.get("posterior_draw"),
        )


def _frame_out(frame: pd.DataFrame) -> dict[str, Any]:
    split = frame.to_dict(orient="split")
    split["data"] = [[_plain(v) for v in row] for row in split["data"]]
    if frame.shape[1] == 0:  # one empty row per index entry, whatever the pandas version
        split["data"] = [[] for _ in range(len(frame))]
    return split


def _frame_in(data: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(data["data"], index=data["index"], columns=data["columns"])


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def as_reported(value: Any) -> np.ndarray:
    """A float32 array as float64 holding each value's shortest float32 decimal (0.7 where
    float32 holds 0.699999988…): a value the spec set reads as set, a computed one keeps
    float32's precision; other dtypes as they are."""
    array = np.asarray(value)
    return array.astype(str).astype(np.float64) if array.dtype == np.float32 else array


def build_truth(
    spec: Spec,
    layout: Layout,
    design: Design,
    sites: dict[str, np.ndarray],
    given_means: dict[str, np.ndarray] | None = None,
) -> Truth:
    """Assemble the truth from the spec, its layout, the design and the population sites
    (float32 sites reported by ``as_reported``). ``given_means``: some blocks' level
    means, (K, n) by block name, taken as given rather than computed (a folder's check
    takes those of blocks whose every parameter the spec fixes, ``data.truth_spec``)."""
    sites = {name: as_reported(value) for name, value in sites.items()}
    given = given_means or {}
    classes = spec.class_names
    tables: dict[str, Any] = {}
    for process in BLOCK_PROCESSES:
        if process.truth_field is not None:
            blocks = [b for b in layout.blocks if b.kind == process.kind]
            tables[process.truth_field] = process.truth_table(spec, blocks, sites)
    means = np.concatenate(
        [
            given[b.name]
            if b.name in given
            else process_of(b.kind).level_means(b, sites, len(classes), tables)
            for b in layout.blocks
        ],
        axis=1,
    )
    columns = layout.columns
    class_means = pd.DataFrame(means.T, index=columns, columns=classes)
    pairs = list(combinations(range(len(classes)), 2))
    effect_sizes = pd.DataFrame(
        {f"{classes[b]} vs {classes[a]}": means[b] - means[a] for a, b in pairs}, index=columns
    )
    features = _feature_table(layout, columns, means, sites)
    modifier_truth = {}
    for static in layout.modifiers:
        modifier = modifier_of(static.field)
        for name, values in modifier.feature_columns(static, len(columns)).items():
            features[name] = values
        group = getattr(spec, static.field)
        table = design.class_batch_table
        truth = modifier.truth(group, static, table, sites, classes, columns)
        if modifier.truth_field is not None:
            modifier_truth[modifier.truth_field] = truth
    parts = [
        (
            slice(b.start, b.stop),
            process_of(b.kind).feature_columns(b, sites, classes, modifier_truth),
        )
        for b in layout.blocks
    ]
    own = _merged([(where, cols) for where, cols in parts if cols], len(columns))
    for name in own.columns:
        features[name] = own[name].to_numpy()
    from synthbio_ppl.model.parameters import mask_entries

    masks: dict[str, Any] = {}
    for entry, static in zip(mask_entries(spec), layout.masks, strict=True):
        owner = mask_of(static.field)
        masks.setdefault(owner.truth_field, {})[static.name] = owner.truth(
            entry, static, sites, columns
        )
    for static in [layout.response] if layout.response is not None else []:
        owner = response_of(static.field)
        for name, values in owner.feature_columns(static, len(columns)).items():
            features[name] = values
        if owner.truth_field is not None:
            group = getattr(spec, static.field)
            masks[owner.truth_field] = owner.truth(group, static, sites)
    return Truth(
        features=features,
        effect_sizes=effect_sizes,
        class_means=class_means,
        parameters={k: np.asarray(v).tolist() for k, v in sites.items()},
        **tables,
        **modifier_truth,
        **masks,
    )


def _blank(values: np.ndarray, n: int) -> np.ndarray:
    """``n`` blanks shaped for ``values``' kind: False, "" or NaN."""
    if values.dtype == bool:
        return np.zeros(n, bool)
    if values.dtype.kind in "OUS":
        return np.full(n, "", dtype=object)
    return np.full(n, np.nan)


def _merged(parts: list[tuple[slice, dict[str, np.ndarray]]], n: int) -> pd.DataFrame:
    """One frame over ``n`` features from per-block columns placed at their slices."""
    out = {}
    for column in dict.fromkeys(c for _, cols in parts for c in cols):
        first = next(np.asarray(cols[column]) for _, cols in parts if column in cols)
        full = _blank(first, n)
        for where, cols in parts:
            if column in cols:
                full[where] = cols[column]
        out[column] = full
    return pd.DataFrame(out, index=pd.RangeIndex(n))


def _feature_table(
    layout: Layout, columns: list[str], means: np.ndarray, sites: dict[str, np.ndarray]
) -> pd.DataFrame:
    # one entry per block, repeated over its columns: no Python loop over features
    processes = [process_of(b.kind) for b in layout.blocks]
    sizes = [b.n_features for b in layout.blocks]
    roles = [p.roles(b) for p, b in zip(processes, layout.blocks, strict=True)]
    families = [p.column_families(b) for p, b in zip(processes, layout.blocks, strict=True)]
    differs = [p.shapes_differ(b, sites) for p, b in zip(processes, layout.blocks, strict=True)]
    clusters = [p.cluster_of(b) for p, b in zip(processes, layout.blocks, strict=True)]
    table = pd.DataFrame(
        {
            "role": np.concatenate(roles) if roles else np.array([], dtype=str),
            "block": np.repeat([b.name for b in layout.blocks], sizes),
            "cluster": np.repeat(clusters, sizes),
            "distribution": np.concatenate(families) if families else np.array([], dtype=str),
        },
        index=pd.Index(columns),
    )
    spread = means.max(axis=0) - means.min(axis=0)
    table["effect_size"] = means[-1] - means[0]
    table["signal"] = (spread > 0) | np.repeat(differs, sizes)
    return table
