"""The outcome's columns in a table, read back as the model's observed inputs."""

from __future__ import annotations

from typing import Any

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.lazy import np, pd
from synthbio_ppl.processes.outcomes.layout import OutcomeLayout
from synthbio_ppl.processes.outcomes.spec import Outcome

TIME, EVENT = "time", "event"


def observed_outcome(group: Outcome, static: OutcomeLayout, frame: pd.DataFrame) -> dict[str, Any]:
    """The outcome columns of a table as model inputs, checked."""
    columns = [TIME, EVENT] if static.kind == "survival" else ["y"]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SpecError(
            missing[0],
            "(missing)",
            f"the table needs the outcome's columns {columns}",
        )
    if static.kind == "binary":
        values = pd.Series(np.asarray(frame["y"], dtype=object)).map(str)
        labels = list(group.labels)
        known = {**{name: i for i, name in enumerate(labels)}, "0": 0, "1": 1}
        codes = values.map(lambda v: known.get(v, -1)).to_numpy()
        if (codes < 0).any():
            bad = sorted(set(values[codes < 0]))[:5]
            raise SpecError("y", bad, f"the binary outcome's values are {labels} (or 0/1)")
        return {"y": codes.astype(np.int32)}
    if static.kind == "continuous":
        y = pd.to_numeric(frame["y"], errors="coerce").to_numpy(dtype=np.float64)
        if not np.isfinite(y).all():
            raise SpecError(
                "y",
                f"{int((~np.isfinite(y)).sum())} of {len(y)} values",
                "the continuous outcome must be finite numbers",
            )
        return {"y": y}
    time = pd.to_numeric(frame[TIME], errors="coerce").to_numpy(dtype=np.float64)
    if not (np.isfinite(time) & (time > 0)).all():
        raise SpecError(
            TIME,
            f"{int((~(np.isfinite(time) & (time > 0))).sum())} of {len(time)} values",
            "times must be positive finite numbers",
        )
    event = pd.to_numeric(frame[EVENT], errors="coerce").to_numpy(dtype=np.float64)
    causes = len(static.causes)
    if not (np.isin(event, np.arange(causes + 1))).all():
        raise SpecError(
            EVENT,
            sorted(set(event[~np.isin(event, np.arange(causes + 1))]))[:5],
            f"events are 0 (censored) to {causes} (the cause)",
        )
    return {"time": time, "event": event.astype(np.int32)}


def check_drawn(static: OutcomeLayout, outputs: dict[str, Any]) -> None:
    """Refuse drawn outcomes that overflowed: a non-finite linear predictor or y, or
    survival times of 0 or infinity (SpecError naming what to change)."""
    p = static.name
    eta = np.asarray(outputs[f"{p}.linear_predictor"])
    if eta.size and not np.isfinite(eta).all():
        bad = int((~np.isfinite(eta)).sum())
        raise SpecError(
            f"{static.field}.coefficients",
            f"{bad} of {eta.size} linear predictors not finite",
            "the terms overflow; choose smaller coefficients",
        )
    if static.kind == "survival":
        time = np.asarray(outputs[f"{p}.time"])
        bad = int((~(np.isfinite(time) & (time > 0))).sum())
        if bad:
            raise SpecError(
                f"{static.field}.baseline",
                f"{bad} of {time.size} times are 0 or infinite",
                "the hazard under- or overflows; choose a scale and coefficients that give "
                "times well inside the dtype's range (or add censoring.end_of_study), or "
                "dtype: float64",
            )
    elif static.kind == "continuous":
        y = np.asarray(outputs[f"{p}.y"])
        if y.size and not np.isfinite(y).all():
            raise SpecError(
                f"{static.field}.noise_sd",
                f"{int((~np.isfinite(y)).sum())} of {y.size} values not finite",
                "the outcome overflows; choose a smaller noise_sd or coefficients",
            )
