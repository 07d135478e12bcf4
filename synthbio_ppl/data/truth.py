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

from synthbio_ppl.model.design import Design, cramers_v
from synthbio_ppl.model.layout import Block, Layout, columns_of
from synthbio_ppl.model.scene import Spec
from synthbio_ppl.processes.structural.truth import (
    structural_truth,
    structure_from_dict,
    structure_to_dict,
)

ROLES = ("informative", "anchor", "proxy", "noise", "pseudo", "biomarker")


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
    latents: per-row latent factor values of a structural scene (saved as latents.parquet,
        not in the JSON).
    """

    features: pd.DataFrame
    effect_sizes: pd.DataFrame
    class_means: pd.DataFrame
    parameters: dict[str, Any]
    clusters: pd.DataFrame
    batch: dict[str, Any] | None = None
    groups: dict[str, Any] = field(default_factory=dict)
    structure: dict[str, Any] | None = None
    latents: pd.DataFrame | None = None

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
            "clusters": _frame_out(self.clusters),
            "groups": self.groups,
            "batch": None,
            "structure": None,
        }
        if self.structure is not None:
            out["structure"] = structure_to_dict(self.structure, _frame_out)
        if self.batch is not None:
            out["batch"] = {
                **self.batch,
                "table": _frame_out(self.batch["table"]),
                "effects": _frame_out(self.batch["effects"]),
            }
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Truth:
        batch = data.get("batch")
        if batch is not None:
            batch = {
                **batch,
                "table": _frame_in(batch["table"]),
                "effects": _frame_in(batch["effects"]),
            }
        return cls(
            features=_frame_in(data["features"]),
            effect_sizes=_frame_in(data["effect_sizes"]),
            class_means=_frame_in(data["class_means"]),
            parameters=data["parameters"],
            clusters=_frame_in(data["clusters"]),
            batch=batch,
            groups=data.get("groups", {}),
            structure=_structure_in(data.get("structure")),
        )


def _frame_out(frame: pd.DataFrame) -> dict[str, Any]:
    split = frame.to_dict(orient="split")
    split["data"] = [[_plain(v) for v in row] for row in split["data"]]
    return split


def _frame_in(data: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(data["data"], index=data["index"], columns=data["columns"])


def _structure_in(data: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if not data else structure_from_dict(data, _frame_in)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def build_truth(spec: Spec, layout: Layout, design: Design, sites: dict[str, np.ndarray]) -> Truth:
    """Assemble the truth from the spec, its layout, the design and the population sites."""
    classes = spec.class_names
    structure = None
    if spec.structure is not None and layout.structure is not None:
        structure = structural_truth(spec.structure, layout.structure, sites)
    means = np.concatenate(
        [_block_means(b, sites, len(classes), structure) for b in layout.blocks], axis=1
    )
    columns = layout.columns
    class_means = pd.DataFrame(means.T, index=columns, columns=classes)
    pairs = list(combinations(range(len(classes)), 2))
    effect_sizes = pd.DataFrame(
        {f"{classes[b]} vs {classes[a]}": means[b] - means[a] for a, b in pairs}, index=columns
    )
    features = _feature_table(layout, columns, means, sites)
    if layout.structure is not None:
        families = list(layout.structure.families)
        features.loc[list(layout.structure.biomarkers), "distribution"] = families
    if layout.batches is not None:
        affected = np.zeros(len(columns), dtype=bool)
        for start, stop in layout.batches.affected:
            affected[start:stop] = True
        features["batch_affected"] = affected
    return Truth(
        features=features,
        effect_sizes=effect_sizes,
        class_means=class_means,
        parameters={k: np.asarray(v).tolist() for k, v in sites.items()},
        clusters=_cluster_table(spec, layout, sites),
        batch=_batch_truth(spec, layout, design, sites, columns),
        groups={b.name: b.n_levels for b in layout.blocks if b.kind == "pseudo"},
        structure=structure,
    )


def _block_means(
    block: Block, sites: dict[str, np.ndarray], k: int, structure: dict[str, Any] | None = None
) -> np.ndarray:
    if block.kind == "structural" and structure is not None:  # classes do not shift biomarkers
        overall = structure["level_means"]["all"].to_numpy(dtype=float)
        return np.broadcast_to(overall, (k, block.n_features))
    if block.kind in ("informative", "cluster"):
        level = np.asarray(sites[f"{block.name}.level_means"], dtype=float)
        return np.broadcast_to(level.reshape(k, -1), (k, block.n_features))
    if block.kind == "noise" and not block.standardise:
        from synthbio_ppl.families.standardised import raw_family

        params = {p.split(".", 1)[1]: v for p, v in sites.items() if p.startswith(f"{block.name}.")}
        mean = float(raw_family(block.family, params).mean)
        return np.full((k, block.n_features), mean)
    return np.zeros((k, block.n_features))


_KIND_ROLE = {"informative": "informative", "noise": "noise", "pseudo": "pseudo"}
_KIND_ROLE["structural"] = "biomarker"


def _feature_table(
    layout: Layout, columns: list[str], means: np.ndarray, sites: dict[str, np.ndarray]
) -> pd.DataFrame:
    # one entry per block, repeated over its columns: no Python loop over features
    sizes = [block.n_features for block in layout.blocks]
    roles: list[np.ndarray] = []
    rho_differs: list[bool] = []
    for block in layout.blocks:
        if block.kind == "cluster":
            roles.append(np.array(["anchor"] + ["proxy"] * (block.n_features - 1)))
        else:
            roles.append(np.full(block.n_features, _KIND_ROLE[block.kind]))
        rho = sites.get(f"{block.name}.correlation")
        rho_differs.append(rho is not None and bool(np.ptp(np.asarray(rho)) > 0))
    per_block = {
        "block": [b.name for b in layout.blocks],
        "cluster": [b.name if b.kind == "cluster" else "" for b in layout.blocks],
        "distribution": ["normal" if b.kind == "cluster" else b.family for b in layout.blocks],
    }
    table = pd.DataFrame(
        {"role": np.concatenate(roles) if roles else np.array([], dtype=str)}
        | {name: np.repeat(values, sizes) for name, values in per_block.items()},
        index=pd.Index(columns),
    )
    spread = means.max(axis=0) - means.min(axis=0)
    table["effect_size"] = means[-1] - means[0]
    table["signal"] = (spread > 0) | np.repeat(rho_differs, sizes)
    return table


def _cluster_table(spec: Spec, layout: Layout, sites: dict[str, np.ndarray]) -> pd.DataFrame:
    rows = {}
    for block in layout.blocks:
        if block.kind != "cluster":
            continue
        row: dict[str, Any] = {"structure": block.structure, "n": block.n_features}
        row["anchor"] = columns_of(block)[0]
        for name, rho in zip(spec.class_names, sites[f"{block.name}.correlation"], strict=True):
            row[f"correlation[{name}]"] = float(rho)
        row["proxy_attenuation"] = float(sites[f"{block.name}.proxy_attenuation"])
        rows[block.name] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def _batch_truth(
    spec: Spec, layout: Layout, design: Design, sites: dict[str, np.ndarray], columns: list[str]
) -> dict[str, Any] | None:
    if layout.batches is None or design.class_batch_table is None:
        return None
    names = batch_names(layout.batches.n_batches)
    table = pd.DataFrame(design.class_batch_table, index=spec.class_names, columns=names)
    if layout.batches.effect == "additive":
        draws, kind = sites["batch.offset"], "offset"
    else:
        draws, kind = sites["batch.factor"], "factor"
    effects = np.full((len(names), len(columns)), 0.0 if kind == "offset" else 1.0)
    draws = np.broadcast_to(np.asarray(draws), (len(names), layout.batches.n_affected))
    at = 0
    for start, stop in layout.batches.affected:
        effects[:, start:stop] = draws[:, at : at + stop - start]
        at += stop - start
    return {
        "effect": layout.batches.effect,
        "kind": kind,
        "strength": float(sites["batch.strength"]),
        "confounding": spec.batches.confounding if spec.batches else 0.0,
        "cramers_v": cramers_v(design.class_batch_table),
        "table": table,
        "effects": pd.DataFrame(effects, index=names, columns=columns),
    }


def batch_names(n: int) -> list[str]:
    return [f"batch{b}" for b in range(n)]
