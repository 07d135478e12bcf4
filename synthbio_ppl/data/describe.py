"""Plain-text tables of a spec (blocks, roles, effect sizes) and of a generated dataset."""

from __future__ import annotations

from typing import Any

import pandas as pd

from synthbio_ppl.data.truth import ROLES
from synthbio_ppl.model.layout import build_layout
from synthbio_ppl.model.parameters import fixed_sites
from synthbio_ppl.model.scene import Spec
from synthbio_ppl.processes.registry import (
    BLOCK_PROCESSES,
    MASKS,
    MODIFIERS,
    RESPONSES,
    process_of,
)


def block_table(spec: Spec) -> pd.DataFrame:
    """One row per block: role, features, columns, family, effect sizes, correlation."""
    fixed = fixed_sites(spec)
    rows = []
    for block in build_layout(spec).blocks:
        shown = process_of(block.kind).describe(block, fixed)
        rows.append(
            {
                "block": block.name,
                "role": shown["role"],
                "features": block.n_features,
                "columns": f"{block.start}..{block.stop - 1}",
                "distribution": shown["distribution"],
                "effect_size": shown.get("effect_size", "-"),
                "correlation": shown.get("correlation", "-"),
            }
        )
    return pd.DataFrame(rows).set_index("block")


def spec_summary(spec: Spec) -> str:
    """Header line plus the block table."""
    classes = ", ".join(f"{c.name}={c.n}" for c in spec.classes)
    head = f"{spec.name}: {spec.n_rows} rows ({classes}), seed {spec.seed}"
    lines = [head, block_table(spec).to_string()]
    for process in [*BLOCK_PROCESSES, *MODIFIERS, *MASKS, *RESPONSES]:
        groups = [getattr(spec, process.field)]
        groups = groups[0] if isinstance(groups[0], list) else groups
        lines += [line for g in groups if g is not None and (line := process.summary(g))]
    return "\n".join(lines)


def world_line(world: dict[str, Any]) -> str:
    """One line on a counterfactual world: what it changed and its largest average effects."""
    changes = [f"without {', '.join(world['without'])}"] if world["without"] else []
    changes += [f"do {k}={v}" for k, v in world["do"].items()]
    means = {k: v for k, v in world["average_effect"].items() if v is not None}
    top = sorted(means.items(), key=lambda kv: -abs(kv[1]))[:4]
    effects = ", ".join(f"{k} {v:+.3g}" for k, v in top) or "nothing moved"
    return (
        f"counterfactual world: {'; '.join(changes)} ({world['rows_intervened']} rows); "
        f"largest average effects: {effects}"
    )


def dataset_summary(data: Any) -> str:
    """Spec summary, then what the truth says: roles, strongest features, batch table."""
    truth = data.truth
    n, p = data.X.shape
    lines = [spec_summary(data.spec), "", f"generated: {n} rows × {p} features"]
    if truth.world is not None:
        lines.append(world_line(truth.world))
    roles = truth.features["role"].value_counts().reindex(list(ROLES), fill_value=0)
    lines.append("roles: " + ", ".join(f"{r}={c}" for r, c in roles.items() if c))
    signal = truth.features[truth.features["signal"]]
    lines.append(f"features carrying class signal: {len(signal)}")
    units = {b.name: process_of(b.kind).effect_unit for b in build_layout(data.spec).blocks}
    by_unit = signal["block"].map(units)
    for unit in dict.fromkeys(by_unit):
        effects = signal.loc[by_unit == unit, "effect_size"].abs()
        top = effects.sort_values(ascending=False).head(5)
        lines.append(
            f"largest population |{unit}|: " + ", ".join(f"{f} {v:.2f}" for f, v in top.items())
        )
    rates = truth.missing_rates()
    if rates is not None:
        hidden = rates[rates > 0]
        lines.append(
            f"missing cells: {float(truth.missing.to_numpy().mean()):.3f} of all, in "
            f"{len(hidden)} columns (realised share {hidden.min():.3f}-{hidden.max():.3f})"
            if len(hidden)
            else "missing cells: none"
        )
    for response in RESPONSES:
        value = getattr(truth, response.truth_field) if response.truth_field else None
        if value is not None:
            lines += response.truth_summary(value)
    if truth.batch is not None:
        lines.append(f"class × batch table (Cramér's V {truth.batch['cramers_v']:.3f}):")
        lines.append(truth.batch["table"].to_string())
    return "\n".join(lines)
