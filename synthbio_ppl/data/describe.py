"""Plain-text tables of a spec (blocks, roles, effect sizes) and of a generated dataset."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from synthbio_ppl.model.layout import build_layout
from synthbio_ppl.model.parameters import fixed_sites
from synthbio_ppl.model.scene import Spec

if TYPE_CHECKING:
    from synthbio_ppl.data.dataset import Dataset

_ROLE = {"informative": "informative", "cluster": "anchor+proxies", "noise": "noise"}
_ROLE["pseudo"] = "pseudo"
_ROLE["structural"] = "biomarkers"


def block_table(spec: Spec) -> pd.DataFrame:
    """One row per block: kind, role, features, family, effect sizes, correlation."""
    fixed = fixed_sites(spec)
    rows = []
    for block in build_layout(spec).blocks:
        effect = fixed.get(f"{block.name}.effect_size", fixed.get(f"{block.name}.anchor_effect"))
        rho = fixed.get(f"{block.name}.correlation")
        family = block.family if block.kind != "cluster" else f"normal ({block.structure})"
        if block.kind == "noise" and not block.standardise:
            family += " (raw)"
        rows.append(
            {
                "block": block.name,
                "role": _ROLE[block.kind],
                "features": block.n_features,
                "columns": f"{block.start}..{block.stop - 1}",
                "distribution": family,
                "effect_size": "-" if effect is None else _numbers(effect),
                "correlation": "-" if rho is None else _numbers(rho),
            }
        )
    return pd.DataFrame(rows).set_index("block")


def _numbers(values) -> str:  # type: ignore[no-untyped-def]
    flat = [f"{float(v):g}" for v in pd.Series(values.ravel())]
    return flat[0] if len(set(flat)) == 1 else "/".join(flat)


def spec_summary(spec: Spec) -> str:
    """Header line plus the block table."""
    classes = ", ".join(f"{c.name}={c.n}" for c in spec.classes)
    head = f"{spec.name}: {spec.n_rows} rows ({classes}), seed {spec.seed}"
    lines = [head, block_table(spec).to_string()]
    if spec.structure is not None:
        s = spec.structure
        covariates = ", ".join(f"{c} ({'/'.join(v)})" for c, v in s.level_names().items())
        lines.append(
            f"structure {s.name}: covariates {covariates or '-'}; factors "
            f"{', '.join(s.factors) or '-'}; {len(s.biomarkers)} biomarkers"
        )
    if spec.batches is not None:
        b = spec.batches
        lines.append(
            f"batches: {b.n}, {b.effect} ({b.granularity}), strength {b.strength:g}, "
            f"confounding {b.confounding:g}, affects {b.affects}"
        )
    return "\n".join(lines)


def dataset_summary(data: Dataset) -> str:
    """Spec summary, then what the truth says: roles, strongest features, batch table."""
    truth = data.truth
    n, p = data.X.shape
    lines = [spec_summary(data.spec), "", f"generated: {n} rows × {p} features"]
    roles = (
        truth.features["role"]
        .value_counts()
        .reindex(["informative", "anchor", "proxy", "noise", "pseudo", "biomarker"], fill_value=0)
    )
    lines.append("roles: " + ", ".join(f"{r}={c}" for r, c in roles.items() if c))
    signal = truth.features[truth.features["signal"]]
    lines.append(f"features carrying class signal: {len(signal)}")
    if len(signal):
        top = signal["effect_size"].abs().sort_values(ascending=False).head(5)
        lines.append("largest population |d|: " + ", ".join(f"{f} {v:.2f}" for f, v in top.items()))
    if truth.batch is not None:
        lines.append(f"class × batch table (Cramér's V {truth.batch['cramers_v']:.3f}):")
        lines.append(truth.batch["table"].to_string())
    return "\n".join(lines)
