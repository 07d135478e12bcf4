"""Outcomes from features (y | x): binary, continuous, or time to event with censoring.

The model and its sources are in ``model``; how the scene's classes combine with it:

- ``binary`` and ``continuous`` replace the class design: the scene declares no
  ``classes`` (rows from ``outcome.n`` or ``structure.n``), ``data.y`` is the outcome
  and the table's ``y`` column holds it;
- ``survival`` may sit beside classes (a case–control cohort): ``data.y`` keeps the class
  labels, and the table gains ``time`` and ``event`` (0 censored, k the k-th cause).

Either way ``data.outcome`` holds the outcome's columns. The outcome reads the features
as the biology made them: column effects (batches) are undone before the terms are
formed, and act on the outcome only through ``batch_effect``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.lazy import np, pd
from synthbio_ppl.processes.block import Block, LatentRange
from synthbio_ppl.processes.outcomes import solve as solver
from synthbio_ppl.processes.outcomes import truth as truth_module
from synthbio_ppl.processes.outcomes.layout import (
    Linear,
    OutcomeLayout,
    build_outcome_layout,
    describe_terms,
    linear_names,
    outcome_columns,
)
from synthbio_ppl.processes.outcomes.model import CONSTANTS, PRIORS, sample_outcome
from synthbio_ppl.processes.outcomes.spec import (
    Baseline,
    Censoring,
    CompetingRisk,
    Interaction,
    Outcome,
    Quadratic,
    Threshold,
    Xor,
    check_dtype,
)
from synthbio_ppl.processes.outcomes.table import EVENT, TIME, check_drawn, observed_outcome
from synthbio_ppl.processes.outcomes.truth import OutcomeTruth
from synthbio_ppl.processes.response import ResponseProcess
from synthbio_ppl.processes.selection import range_indices

if TYPE_CHECKING:
    from jax import Array


class OutcomeProcess(ResponseProcess):
    field = "outcome"
    spec_model = Outcome
    description = (
        "An outcome drawn from the features: binary (replaces the classes), continuous "
        "(replaces the classes) or survival (beside them)."
    )
    priors = PRIORS
    truth_field = "outcome"

    def reference_sections(self) -> list[tuple[str, type[Any]]]:
        return [
            (self.field, Outcome),
            (f"{self.field}.interactions[]", Interaction),
            (f"{self.field}.quadratic[]", Quadratic),
            (f"{self.field}.thresholds[]", Threshold),
            (f"{self.field}.xor[]", Xor),
            (f"{self.field}.baseline", Baseline),
            (f"{self.field}.censoring", Censoring),
            (f"{self.field}.competing_risks[]", CompetingRisk),
        ]

    def summary(self, group: Outcome) -> str:
        target = {
            "binary": f"prevalence {group.prevalence}"
            if group.prevalence
            else (f"{group.cases} cases" if group.cases else f"intercept {group.intercept or 0:g}"),
            "continuous": f"R² {group.r2 or 0.5:g}"
            if group.noise_sd is None
            else f"sd {group.noise_sd:g}",
            "survival": (group.baseline.distribution if group.baseline else "weibull")
            + (f", {len(group.competing_risks)} competing" if group.competing_risks else ""),
        }[group.kind]
        return f"outcome: {group.kind} ({target}); terms: {describe_terms(group)}"

    def implicit_rows(self, raw: Any) -> int | None:
        n = raw.get("n") if isinstance(raw, dict) else None
        valid = isinstance(n, int) and not isinstance(n, bool) and 2 <= n < 2**31
        return n if valid else None  # else outcome.n's own check names it

    def with_rows(self, raw: Any, n_rows: int) -> Any:
        """``n`` follows the rows; an exact count of cases keeps its share."""
        if not isinstance(raw, dict):
            return raw
        out = dict(raw)
        if out.get("cases") is not None and out.get("n") and n_rows >= 2:
            out["cases"] = min(max(1, round(out["cases"] * n_rows / out["n"])), n_rows - 1)
        if out.get("n") is not None:
            out["n"] = n_rows
        return out

    def layout(
        self,
        group: Outcome,
        blocks: list[Block],
        columns: Callable[[Block], list[str]],
        design_names: dict[str, list[str]],
        n_batches: int,
        affected: Callable[[int], str],
    ) -> OutcomeLayout:
        return build_outcome_layout(
            group, self.field, blocks, columns, design_names, n_batches, affected
        )

    def check_scene(self, group: Outcome, spec: Any) -> None:
        if group.kind in ("binary", "continuous") and len(spec.classes) > 1:
            raise SpecError(
                "outcome.kind",
                group.kind,
                "a binary or continuous outcome replaces the classes (y is the outcome): "
                "give the rows as outcome.n and no classes, or use kind: survival beside classes",
            )
        if group.n is not None and spec.n_rows != group.n:
            raise SpecError(
                "outcome.n", group.n, f"the scene already has {spec.n_rows} rows; give them once"
            )
        if group.batch_effect > 0 and spec.batches is None:
            raise SpecError(
                "outcome.batch_effect", group.batch_effect, "shifts η per batch: add batches"
            )
        per_batch = [k for k in group.coefficients if k.startswith("batch=")]
        if group.batch_effect > 0 and per_batch:
            raise SpecError(
                f"outcome.coefficients.{per_batch[0]}",
                group.coefficients[per_batch[0]],
                "batch_effect already shifts η per batch; the two cannot be told apart: use one",
            )
        if group.cases is not None and group.cases >= spec.n_rows:
            raise SpecError(
                "outcome.cases", group.cases, f"must be below the number of rows ({spec.n_rows})"
            )
        check_dtype(group, self.field, spec.dtype)

    def site_prefixes(self, group: Outcome) -> list[tuple[str, str]]:
        risks = group.competing_risks
        return [
            (f"{self.field}.name", group.name),
            *((f"{self.field}.competing_risks[{i}].name", r.name) for i, r in enumerate(risks)),
        ]

    def switches(self, static: OutcomeLayout) -> dict[str, dict[str, Any]]:
        """``batches``: the outcome's per-batch shifts 0 (with ``batch_effect``)."""
        return {"batches": {f"{static.name}.batch_shift": 0.0}} if static.n_batches else {}

    def read_columns(self, static: OutcomeLayout) -> set[int]:
        return outcome_columns(static)

    def replaces_labels(self, static: OutcomeLayout) -> bool:
        return static.kind in ("binary", "continuous")

    def label_names(self, group: Outcome) -> list[str] | None:
        return list(group.labels) if group.kind == "binary" else None

    def columns(self, static: OutcomeLayout) -> list[str]:
        return [TIME, EVENT] if static.kind == "survival" else ["y"]

    def fixed_sites(
        self, group: Outcome, static: OutcomeLayout, class_names: list[str]
    ) -> dict[str, Any]:
        p = static.name
        out: dict[str, Any] = {}
        if static.linear.names:
            out[f"{p}.coefficients"] = _expanded(group.coefficients, static.linear)
        for name in ("interactions", "quadratic", "thresholds", "xor"):
            terms = getattr(group, name)
            if terms:
                out[f"{p}.{name}"] = [t.coefficient for t in terms]
        if group.quadratic:
            out[f"{p}.quadratic_centre"] = [t.centre for t in group.quadratic]
        if group.thresholds:
            out[f"{p}.threshold_at"] = [t.at for t in group.thresholds]
        if group.xor:
            out[f"{p}.xor_at"] = [list(t.at) for t in group.xor]
        if static.n_batches:
            out[f"{p}.batch_effect"] = group.batch_effect
        if group.kind != "survival" and not static.exact and not static.solve_intercept:
            out[f"{p}.intercept"] = group.intercept or 0.0
        if group.kind == "continuous" and group.noise_sd is not None:
            out[f"{p}.noise_sd"] = group.noise_sd
        if group.kind == "survival":
            baselines = [group.baseline, *(r.baseline for r in group.competing_risks)]
            for cause, baseline, risk in zip(
                static.causes, baselines, [None, *group.competing_risks], strict=True
            ):
                scale = baseline.scale if baseline else 0.1
                out[f"{cause.name}.scale"] = scale
                if cause.family != "exponential":
                    out[f"{cause.name}.shape"] = baseline.shape if baseline else 1.5
                if risk is not None and cause.linear.names:
                    out[f"{cause.name}.coefficients"] = _expanded(risk.coefficients, cause.linear)
            if static.end_of_study:
                out[f"{p}.end_of_study"] = group.censoring.end_of_study
        return out

    def constant_sites(self, static: OutcomeLayout) -> list[str]:
        return [f"{static.name}.{c}" for c in CONSTANTS]

    def placeholder_sites(self, static: OutcomeLayout) -> dict[str, Any]:
        return solver.placeholders(static)

    def needs_pilot(self, static: OutcomeLayout) -> bool:
        return bool(solver.placeholders(static)) or static.censoring_target

    def solve(
        self, group: Outcome, static: OutcomeLayout, drawn: dict[str, np.ndarray]
    ) -> dict[str, Any]:
        return solver.solve_outcome(group, static, drawn)

    def sample(
        self,
        static: OutcomeLayout,
        X: Array,
        codes: dict[str, Array],
        outputs: dict[str, Array],
        plate: Any,
        observed: dict[str, Array] | None,
        exact: bool,
    ) -> dict[str, Array]:
        return sample_outcome(static, X, codes, plate, observed, exact)

    def fit_check(self, static: OutcomeLayout, column_effect_sites: list[str]) -> None:
        """A step (threshold, XOR) on a column under batch effects jumps as the fitted
        offsets move: NUTS cannot sample it. Refuse unless those sites are fixed."""
        stepped = {*static.thresholds, *(j for pair in static.xor for j in pair)}
        undone = set(range_indices(static.bio_columns))
        if column_effect_sites and stepped & undone:
            raise SpecError(
                "fixed",
                column_effect_sites,
                "a threshold or XOR term of the outcome reads a column under batch effects; "
                "its step moves with these sites, which NUTS cannot sample: fix them "
                "(fixed={site: data.truth.parameters[site]}) or fit without those terms",
            )

    def observed_sites(self, static: OutcomeLayout) -> dict[str, str]:
        p = static.name
        if static.kind != "survival":
            return {"y": f"{p}.y"}
        return {TIME: f"{p}.time", EVENT: f"{p}.event"}

    def finish(
        self, group: Outcome, static: OutcomeLayout, outputs: dict[str, np.ndarray]
    ) -> dict[str, Any]:
        return solver.exact_cases(group, static, outputs)

    def check_streamable(self, group: Outcome, static: OutcomeLayout) -> None:
        if static.exact:
            raise SpecError(
                f"{self.field}.cases",
                group.cases,
                "an exact count picks the cases from every row's score at once: generate in "
                "memory, or give prevalence to stream",
            )

    def empty_outputs(self, static: OutcomeLayout) -> dict[str, np.ndarray]:
        p = static.name
        eta = {f"{p}.linear_predictor": np.zeros(0, np.float32)}
        if static.kind == "survival":
            return {
                **eta,
                f"{p}.time": np.zeros(0, np.float32),
                f"{p}.event": np.zeros(0, np.int32),
            }
        dtype = np.int32 if static.kind == "binary" else np.float32
        return {**eta, f"{p}.y": np.zeros(0, dtype)}

    def frame(
        self, group: Outcome, static: OutcomeLayout, outputs: dict[str, np.ndarray]
    ) -> pd.DataFrame:
        p = static.name
        check_drawn(static, outputs)
        if static.kind == "survival":
            return pd.DataFrame(
                {TIME: outputs[f"{p}.time"], EVENT: outputs[f"{p}.event"].astype(np.int64)}
            )
        y = outputs[f"{p}.y"]
        if static.kind == "binary":
            return pd.DataFrame(
                {
                    "y": pd.Categorical.from_codes(
                        np.asarray(y).astype(np.int64), categories=list(group.labels)
                    )
                }
            )
        return pd.DataFrame({"y": y})

    def label_probabilities(self, static: OutcomeLayout, rows: pd.DataFrame) -> np.ndarray | None:
        if static.kind != "binary":
            return None
        p = rows[f"{static.name}.probability"].to_numpy(dtype=np.float64)
        return np.column_stack([1.0 - p, p])

    def row_truth_columns(self, static: OutcomeLayout) -> list[str]:
        """η; binary: P(y = 1); survival: each cause's η and failure time, and the
        censoring time where censoring is random (what scoring the truth reads)."""
        p = static.name
        names = [f"{p}.linear_predictor"]
        names += [f"{p}.probability"] if static.kind == "binary" else []
        names += [f"{p}.censoring_time"] if static.random_censoring else []
        for cause in static.causes:
            names += [f"{cause.name}.linear_predictor", f"{cause.name}.event_time"]
        return list(dict.fromkeys(names))

    def row_truth(self, static: OutcomeLayout, outputs: dict[str, np.ndarray]) -> pd.DataFrame:
        p = static.name
        names = [f"{p}.linear_predictor", f"{p}.probability", f"{p}.censoring_time"]
        for cause in static.causes:
            names += [f"{cause.name}.linear_predictor", f"{cause.name}.event_time"]
        names = list(dict.fromkeys(n for n in names if n in outputs))
        return pd.DataFrame({n: np.asarray(outputs[n]) for n in names})

    def latent_range(self, column: str) -> LatentRange | None:
        quantity = column.partition("@")[0].rpartition(".")[2]  # after @: a time, 1.5
        return truth_module.ROW_TRUTH_RANGES.get(quantity)

    def observed_table(
        self, group: Outcome, static: OutcomeLayout, frame: pd.DataFrame, dtype: str = "float32"
    ) -> dict[str, Any]:
        return observed_outcome(group, static, frame, dtype)

    def feature_columns(self, static: OutcomeLayout, n_features: int) -> dict[str, np.ndarray]:
        """``outcome``: whether a term of the outcome (any cause) reads the feature."""
        read = np.zeros(n_features, dtype=bool)
        read[sorted(outcome_columns(static))] = True
        return {"outcome": read}

    def truth(
        self, group: Outcome, static: OutcomeLayout, sites: dict[str, np.ndarray]
    ) -> OutcomeTruth:
        return truth_module.outcome_truth(group, static, sites)

    def score_truth(
        self,
        group: Outcome,
        truth: OutcomeTruth,
        static: OutcomeLayout,
        rows: pd.DataFrame,
        frame: pd.DataFrame,
    ) -> pd.DataFrame:
        return truth_module.score_truth(group, truth, static, rows, frame)

    def truth_summary(self, value: OutcomeTruth) -> list[str]:
        shown = ", ".join(f"{k} {v:.3f}" for k, v in value.scores.items())
        n, k = len(value.terms), len(value.features)
        name = "" if value.name == self.field else f" {value.name}"
        lines = [
            f"outcome{name} ({value.kind}): {n} coefficient{'s' * (n != 1)} over {k} "
            f"feature{'s' * (k != 1)} ({', '.join(value.features[:6])}"
            f"{', ...' if k > 6 else ''})"
        ]
        if shown:
            lines.append(f"  best achievable and realised: {shown}")
        return lines

    def truth_to_json(self, value: Any, frame_out: Callable[[Any], Any]) -> Any:
        return truth_module.truth_to_json(value, frame_out)

    def truth_from_json(self, data: Any, frame_in: Callable[[Any], Any]) -> Any:
        return truth_module.truth_from_json(data, frame_in)

    def dims(
        self, static: OutcomeLayout, site: str, shape: tuple[int, ...], coords: dict[str, Any]
    ) -> list[str] | None:
        labels = linear_names(static).get(site)
        if labels is not None and shape == (len(labels),):
            coords[f"{site}_term"] = list(labels)
            return [f"{site}_term"]
        if site == f"{static.name}.batch_shift" and "batch" in coords:
            return ["batch"]
        return None


def _expanded(terms: dict[str, float], linear: Linear) -> list[float]:
    """One coefficient per expanded term (a block's value repeated over its columns)."""
    values = list(terms.values())
    return [values[i] for i in linear.sources]


PROCESS = OutcomeProcess()
