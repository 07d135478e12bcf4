"""The outcome's columns in a table, read back as the model's observed inputs."""

from __future__ import annotations

from typing import Any

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.lazy import np, pd
from synthbio_ppl.processes.outcomes.layout import OutcomeLayout
from synthbio_ppl.processes.outcomes.spec import Outcome

TIME, EVENT = "time", "event"


def observed_outcome(
    group: Outcome, static: OutcomeLayout, frame: pd.DataFrame, dtype: str = "float32"
) -> dict[str, Any]:
    """The outcome columns of a table as model inputs (numbers in ``dtype``), checked:
    SpecError names the column, how many values are wrong and what is allowed."""
    columns = [TIME, EVENT] if static.kind == "survival" else ["y"]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SpecError(missing[0], "(missing)", f"the table needs the outcome's columns {columns}")
    if static.kind == "binary":
        return {"y": _binary_codes(frame["y"], list(group.labels))}
    if static.kind == "continuous":
        return {"y": _numbers(frame["y"], "y", dtype, "finite numbers")}
    time = _numbers(frame[TIME], TIME, dtype, "positive finite numbers", positive=True)
    end = group.censoring.end_of_study if group.censoring else None
    if end is not None and (time > np.float64(end) * (1 + 1e-6)).any():  # float32 rounding
        late = time > np.float64(end) * (1 + 1e-6)
        raise SpecError(
            TIME,
            f"{int(late.sum())} of {len(time)} values after {end:g} (the first at row "
            f"{int(np.argmax(late))}: {float(time[np.argmax(late)]):g})",
            f"the study ends at outcome.censoring.end_of_study = {end:g}: every time is "
            "observed or censored by then",
        )
    event = pd.to_numeric(frame[EVENT], errors="coerce").to_numpy(dtype=np.float64)
    causes = np.arange(len(static.causes) + 1)
    wrong = ~np.isin(event, causes)
    if wrong.any():
        shown = [int(v) if float(v).is_integer() else v for v in set(event[wrong].tolist())]
        raise SpecError(
            EVENT,
            f"{int(wrong.sum())} of {len(event)} values ({sorted(shown, key=str)[:5]})",
            f"events are 0 (censored) to {len(static.causes)} (the cause)",
        )
    return {"time": time, "event": event.astype(np.int32)}


def _binary_codes(values: pd.Series, labels: list[str]) -> np.ndarray:
    """0/1 codes from the labels, or from 0/1 given as numbers or true/false."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
        wrong = ~np.isin(numbers, (0.0, 1.0))
        if wrong.any():
            raise SpecError(
                "y",
                f"{int(wrong.sum())} of {len(numbers)} values",
                f"the binary outcome's values are {labels}, or 0/1",
            )
        return numbers.astype(np.int32)
    text = pd.Series(np.asarray(values, dtype=object)).astype(str)
    codes = pd.Categorical(text, categories=labels).codes  # −1: not a label
    if (codes < 0).any():
        bad = sorted(set(text[codes < 0]))[:5]
        raise SpecError("y", bad, f"the binary outcome's values are {labels} (or 0/1)")
    return codes.astype(np.int32)


def _numbers(
    values: pd.Series, column: str, dtype: str, allowed: str, positive: bool = False
) -> np.ndarray:
    """Finite numbers (positive ones where asked) that stay finite and non-zero in
    ``dtype``, the fit's precision."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    info = np.finfo(dtype)
    ok = np.isfinite(numbers) & (np.abs(numbers) <= info.max)
    if positive:
        ok &= numbers >= info.tiny
    if not ok.all():
        raise SpecError(
            column,
            f"{int((~ok).sum())} of {len(numbers)} values",
            f"must be {allowed} within {dtype}'s range",
        )
    return numbers


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
        zero, infinite = int((time <= 0).sum()), int((~np.isfinite(time)).sum())
        wider = ", or dtype: float64" if time.dtype == np.float32 else ""
        if zero:
            raise SpecError(
                f"{static.field}.baseline",
                f"{zero} of {time.size} times are 0",
                "the hazard overflows; choose a smaller scale, a shape nearer 1 or smaller "
                f"coefficients (centre raw-scale features){wider}",
            )
        if infinite:
            raise SpecError(
                f"{static.field}.baseline",
                f"{infinite} of {time.size} times are infinite",
                "the hazard underflows; choose a larger scale or shape, or give "
                "censoring.end_of_study",
            )
    elif static.kind == "continuous":
        y = np.asarray(outputs[f"{p}.y"])
        if y.size and not np.isfinite(y).all():
            raise SpecError(
                f"{static.field}.noise_sd",
                f"{int((~np.isfinite(y)).sum())} of {y.size} values not finite",
                "the outcome overflows; choose a smaller noise_sd or coefficients",
            )
