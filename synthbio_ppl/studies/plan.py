"""A study's plan: scenarios, methods, metrics, cross-validation and seeds, every part
checked against every scenario before the first cell runs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from synthbio_ppl.core.errors import SpecError, check_seed
from synthbio_ppl.data.checks import design_levels
from synthbio_ppl.engine.budget import check_budget
from synthbio_ppl.model.layout import build_layout
from synthbio_ppl.model.scene import SpecLike, as_spec
from synthbio_ppl.studies.apply import PREDICTION_SCORES, SCHEMES, CVSettings, batch_column
from synthbio_ppl.studies.fingerprints import canonical
from synthbio_ppl.studies.grid import Scenario, scenarios
from synthbio_ppl.studies.method_types import PREDICTS, Method
from synthbio_ppl.studies.methods import build_methods
from synthbio_ppl.studies.metrics import GAPS, Metric, resolve_metrics

__all__ = ["MAX_REPLICATES", "Plan", "build_plan", "cell_seed"]

MAX_REPLICATES = 100_000


def cell_seed(study_seed: int, replicate: int) -> int:
    """The scene seed of replicate ``r``: the same in every scenario (common random
    numbers, so scenarios differ by their settings, not by their draws), unrelated across
    replicates (``numpy.random.SeedSequence([study_seed, r])``), in [0, 2³²)."""
    return int(np.random.SeedSequence([study_seed, replicate]).generate_state(1)[0])


@dataclass(frozen=True)
class Plan:
    """Everything a cell needs (picklable, so workers get it whole)."""

    scenarios: list[Scenario]
    methods: list[Method]
    metrics: list[Metric]
    replicates: int
    seed: int
    cv: CVSettings
    oracle: bool

    @property
    def axes(self) -> list[str]:
        """The grid's paths, in the order first given."""
        return list(dict.fromkeys(p for s in self.scenarios for p in s.values))

    @property
    def cells(self) -> list[tuple[int, int]]:
        """Every (scenario, replicate), scenario-major."""
        return [(s.index, r) for s in self.scenarios for r in range(self.replicates)]

    def fingerprint(self) -> str:
        """A digest of what determines a cell's results (a resumed run must match it). The
        number of replicates is not part of it: replicate r's cells are the same in a study
        of any size, so a finished study grows by running it again with more."""
        described = {
            "scenarios": [s.spec.model_dump(mode="json") for s in self.scenarios],
            "methods": [(m.name, canonical(m.estimator)) for m in self.methods],
            "metrics": [
                (m.name, canonical(m.compute) if m.needs is None else "") for m in self.metrics
            ],
            "seed": self.seed,
            "cv": [list(self.cv.schemes), self.cv.n_splits, self.cv.groups],
        }
        text = json.dumps(described, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _check_cv(cv: Mapping[str, Any] | None) -> CVSettings:
    if cv is not None and not isinstance(cv, Mapping):
        raise SpecError("cv", cv, "a mapping {schemes: [...], n_splits: 5, groups: covariate}")
    cv = dict(cv or {})
    unknown = sorted(set(cv) - {"schemes", "n_splits", "groups"})
    if unknown:
        raise SpecError(f"cv.{unknown[0]}", cv[unknown[0]], "cv takes schemes, n_splits, groups")
    schemes = cv.get("schemes", ["random"])
    if isinstance(schemes, str):
        schemes = [schemes]
    if not isinstance(schemes, Sequence) or not schemes:
        raise SpecError("cv.schemes", schemes, f"a list of schemes from {', '.join(SCHEMES)}")
    for i, scheme in enumerate(schemes):
        if not isinstance(scheme, str) or scheme not in SCHEMES:
            raise SpecError(f"cv.schemes[{i}]", scheme, f"one of {', '.join(SCHEMES)}")
    n_splits = cv.get("n_splits", 5)
    if isinstance(n_splits, bool) or not isinstance(n_splits, int | np.integer) or n_splits < 2:
        raise SpecError("cv.n_splits", n_splits, "a whole number of folds, at least 2")
    groups = cv.get("groups")
    if "group" in schemes and not isinstance(groups, str):
        raise SpecError("cv.groups", groups, "scheme 'group' needs the covariate to hold out")
    return CVSettings(tuple(dict.fromkeys(schemes)), int(n_splits), groups)


def _check_scenarios(
    plan_scenarios: list[Scenario], metrics: list[Metric], cv: CVSettings, predicts: bool
) -> bool:
    """SpecError for a metric or scheme that needs what a scenario's scene lacks; whether
    the oracle is scored."""
    from synthbio_ppl.inference.oracle import oracle_unavailable

    wants_oracle = any(m.name in GAPS for m in metrics)
    for scenario in plan_scenarios:
        spec = scenario.spec
        layout = build_layout(spec)
        where = f"scenario {scenario.index} ({scenario.label})"
        labels = spec.label_names
        if labels is None or len(labels) < 2:
            raise SpecError(
                "base", where, "a study scores class labels: its scene needs two classes"
            )
        try:
            check_budget(spec, layout, spec.n_rows)
        except SpecError as exc:
            raise SpecError(f"grid ({where})", exc.value, f"{exc.path}: {exc.allowed}") from None
        smallest = min(c.n for c in spec.classes) if labels == spec.class_names else 0
        if predicts and "random" in cv.schemes and smallest and cv.n_splits > smallest:
            raise SpecError(
                "cv.n_splits",
                cv.n_splits,
                f"{where}'s smallest class has {smallest} rows: stratified folds need at most "
                "that many splits",
            )
        columns = design_levels(layout)
        if predicts and "leave_one_batch_out" in cv.schemes and batch_column(layout) is None:
            raise SpecError(
                "cv.schemes", "leave_one_batch_out", f"{where} has no batches to hold out"
            )
        if predicts and "group" in cv.schemes and cv.groups not in columns:
            known = ", ".join(columns) or "none"
            raise SpecError("cv.groups", cv.groups, f"{where} has no such covariate ({known})")
        if wants_oracle:
            why = oracle_unavailable(layout, len(labels))
            if why is not None:
                gap = next(m.name for m in metrics if m.name in GAPS)
                raise SpecError(
                    "metrics",
                    gap,
                    f"needs the Bayes classifier; {where}: {why}; drop the gap metrics, or "
                    "vary a scene that has one (docs/studies.md: the best achievable score)",
                )
    return wants_oracle and predicts


def build_plan(
    base: SpecLike,
    grid: Any = None,
    methods: Mapping[str, Any] | None = None,
    metrics: Sequence[Any] | None = None,
    replicates: int = 1,
    seed: int = 0,
    cv: Mapping[str, Any] | None = None,
) -> Plan:
    """Check every part of a study and return its plan (see ``sb.study``)."""
    spec = as_spec(base)
    if isinstance(replicates, bool) or not isinstance(replicates, int | np.integer):
        raise SpecError("replicates", replicates, "a whole number of replicates per scenario")
    if not 1 <= replicates <= MAX_REPLICATES:
        raise SpecError("replicates", replicates, f"from 1 to {MAX_REPLICATES:,}")
    seed = check_seed(seed)
    built = build_methods(methods or {})
    gives = set().union(*(m.gives for m in built))
    chosen = resolve_metrics(metrics, gives, int(replicates))
    settings = _check_cv(cv)
    asked = {GAPS.get(m.name, m.name) for m in chosen} & set(PREDICTION_SCORES)
    settings = replace(settings, scores=tuple(k for k in PREDICTION_SCORES if k in asked))
    every = scenarios(spec, grid)
    predicts = PREDICTS in gives
    oracle = _check_scenarios(every, chosen, settings, predicts)
    if any(m.name == "stability" for m in chosen) and replicates < 2:
        raise SpecError("replicates", replicates, "metric 'stability' needs 2 replicates or more")
    return Plan(every, built, chosen, int(replicates), seed, settings, oracle)
