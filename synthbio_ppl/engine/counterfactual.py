"""Effects between paired worlds: a counterfactual dataset against the factual one.

Both worlds draw every site with the same key, so a row's effect is the difference of its
two values, exactly (Pearl 2009, *Causality*, §7.1: unit-level counterfactuals of a
structural model whose noise is held fixed). The truth keeps the per-row effects of every
value that moved and their averages, over all rows (the average treatment effect) and over
the rows the world changed (the effect on the treated).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.world import World
from synthbio_ppl.data.dataset import Dataset


def numeric_values(data: Dataset) -> list[pd.DataFrame]:
    """Every per-row value of a dataset that an effect can be taken of, as numeric frames
    (views where pandas allows): the features before masking, the latent values (factors,
    library sizes, the outcome's linear predictor and probabilities), and the outcome's
    columns (``outcome.<column>``; a binary outcome as its 0/1 code)."""
    X = data.truth.complete if data.truth.complete is not None else data.X
    parts = [X]
    if data.truth.latents is not None:
        parts.append(data.truth.latents.select_dtypes("number"))
    if data.outcome is not None:
        outcome = data.outcome.copy()
        for column in outcome.columns:
            if isinstance(outcome[column].dtype, pd.CategoricalDtype):
                outcome[column] = outcome[column].cat.codes
        parts.append(outcome.drop(columns=_cause_codes(outcome)).add_prefix("outcome."))
    return parts


def _differences(after: list[pd.DataFrame], before: list[pd.DataFrame]) -> pd.DataFrame:
    """counterfactual − factual (float64) of every column that moved in any row (NaN in
    both worlds is no move); the comparison runs in each part's own dtype, and only moved
    columns are converted."""
    n = len(after[0])
    frames = []
    for a_part, b_part in zip(after, before, strict=True):
        a, b = a_part.to_numpy(), b_part.to_numpy()
        moved = np.flatnonzero(((a != b) & ~(pd.isna(a) & pd.isna(b))).any(axis=0))
        if moved.size:
            values = a[:, moved].astype(np.float64) - b[:, moved].astype(np.float64)
            columns = [str(c) for c in a_part.columns[moved]]
            frames.append(pd.DataFrame(values, columns=columns, index=pd.RangeIndex(n)))
    return pd.concat(frames, axis=1) if frames else pd.DataFrame(index=pd.RangeIndex(n))


def _cause_codes(outcome: pd.DataFrame) -> list[str]:
    """Integer columns with more than two codes (an event's causes): a difference of codes
    means nothing, so their changes are counted (``levels_changed``) instead."""
    return [
        c
        for c in outcome.columns
        if pd.api.types.is_integer_dtype(outcome[c]) and outcome[c].max() > 1
    ]


def add_effects(data: Dataset, factual: Dataset, world: World) -> None:
    """Write ``truth.effects`` (rows × every value that moved: counterfactual − factual)
    and ``truth.world`` (what the world changed, the rows it touched, levels changed per
    covariate and the average effects) into the counterfactual ``data``."""
    effects = _differences(numeric_values(data), numeric_values(factual))
    effects.index = data.X.index
    rows = np.asarray(world.intervened, dtype=bool)
    pairs = [(str(n), data.covariates[n], factual.covariates[n]) for n in data.covariates]
    if data.outcome is not None and factual.outcome is not None:
        codes = set(_cause_codes(data.outcome)) | set(_cause_codes(factual.outcome))
        pairs += [(f"outcome.{c}", data.outcome[c], factual.outcome[c]) for c in sorted(codes)]
    changed = {name: int((a != b).sum()) for name, a, b in pairs if not a.equals(b)}
    finite = np.isfinite(effects.to_numpy())
    if not finite.all():
        column = effects.columns[(~finite).any(axis=0)][0]
        raise SpecError(
            "", f"{int((~finite).sum())} non-finite effects on {column}", "choose milder values"
        )
    data.truth.effects = effects
    data.truth.world = {
        "without": list(world.without),
        "do": {str(k): _described(v) for k, v in world.do.items()},
        "masks_hide": world.masks,
        "rows_intervened": int(rows.sum()),
        "levels_changed": changed,
        "average_effect": _means(effects, np.ones(len(effects), bool)),
        "average_effect_on_intervened": _means(effects, rows),
    }


def world_error(world: World, error: SpecError) -> SpecError:
    """An error met while drawing a counterfactual world, named by what made the world
    (``do.<name>`` for a single setting, else ``do`` or ``without``)."""
    if len(world.do) == 1 and not world.without:
        name, value = next(iter(world.do.items()))
        path, shown = f"do.{name}", _described(value)
    elif world.do:
        path, shown = "do", {str(k): _described(v) for k, v in world.do.items()}
    else:
        path, shown = "without", list(world.without)
    where = f"{error.path}: " if error.path else ""
    return SpecError(
        path, shown, f"the world it makes cannot be drawn ({where}{error.value}; {error.allowed})"
    )


def _described(value: Any) -> Any:
    """A ``do`` value for the truth: as given when a single value, else a count."""
    if np.ndim(value) == 0 and not isinstance(value, list | tuple):
        return value.item() if isinstance(value, np.generic) else value
    given = int((~pd.isna(np.asarray(value, dtype=object))).sum())
    return f"per row ({given} rows set)"


def _means(effects: pd.DataFrame, rows: np.ndarray) -> dict[str, float | None]:
    if not rows.any():
        return {str(c): None for c in effects.columns}
    values = effects.to_numpy()
    means = (values if rows.all() else values[rows]).mean(axis=0)
    return {str(c): float(v) for c, v in zip(effects.columns, means, strict=True)}
