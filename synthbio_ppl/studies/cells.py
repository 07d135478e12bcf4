"""One cell of a study: a scenario's dataset for one replicate, every method on it, every
metric of every method, as a tidy table. A cell depends on the plan and its (scenario,
replicate) only, never on the worker or the order it ran in."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.studies.apply import apply_method
from synthbio_ppl.studies.metrics import MetricFailed, Row, gap_rows, method_rows, oracle_rows
from synthbio_ppl.studies.plan import Plan, cell_seed

__all__ = ["COLUMNS", "ORACLE", "Cell", "run_cell"]

COLUMNS = ["scenario", "replicate", "seed", "method", "metric", "scheme", "parameter", "value"]
"""A cell table's columns: ``scheme`` the CV scheme of a prediction metric and
``parameter`` a fit's parameter (``""`` where the metric has none); ``value`` float."""

ORACLE = "oracle"
"""The method name of the Bayes classifier's rows."""


class MethodFailed(SpecError):
    """A method that raised on a cell's dataset: names the method, the cell and the error."""

    @property
    def message(self) -> str:
        return f"{self.path}: failed on {self.value}: {self.allowed}"


@dataclass
class Cell:
    """A finished cell: its tidy rows and each selecting method's selected features."""

    scenario: int
    replicate: int
    table: pd.DataFrame
    selected: dict[str, list[str]]


def _cell_name(plan: Plan, scenario: int, replicate: int) -> str:
    return f"scenario {scenario} ({plan.scenarios[scenario].label}), replicate {replicate}"


def _failure(path: str, where: str, error: BaseException) -> MethodFailed:
    """The one-line refusal of a method or metric that raised on a cell's dataset."""
    text = " ".join(str(error).split())[:300]
    return MethodFailed(path, where, f"{type(error).__name__}: {text}")


def run_cell(plan: Plan, scenario: int, replicate: int) -> Cell:
    """Generate the scenario's dataset with the replicate's seed and score every method.

    Raises SpecError naming the method, scenario and replicate when a method fails.
    """
    from synthbio_ppl.engine.generation import generate

    seed = cell_seed(plan.seed, replicate)
    data = generate(plan.scenarios[scenario].spec, seed=seed)
    method_seed = seed % 2**31  # scikit-learn's random_state takes [0, 2³¹)
    rows: list[tuple[str, Row]] = []
    oracle: list[Row] = []
    if plan.oracle:
        from synthbio_ppl.inference.oracle import class_posterior

        oracle = oracle_rows(data, class_posterior(data), plan.metrics)
        rows += [(ORACLE, r) for r in oracle]
    selected = {}
    for method in plan.methods:
        try:
            result = apply_method(method, data, plan.cv, method_seed)
            found = method_rows(data, result, plan.metrics)
            found += gap_rows(result, oracle, plan.metrics)
        except SpecError:
            raise
        except MetricFailed as failed:
            where = f"method {method.name!r}, {_cell_name(plan, scenario, replicate)}"
            raise _failure(f"metrics.{failed.name}", where, failed.error) from failed.error
        except Exception as exc:
            where = _cell_name(plan, scenario, replicate)
            raise _failure(f"methods.{method.name}", where, exc) from exc
        rows += [(method.name, r) for r in found]
        if result.selected is not None:
            selected[method.name] = result.selected
    table = pd.DataFrame(
        [(scenario, replicate, seed, name, *row) for name, row in rows], columns=COLUMNS
    )
    table = table.astype({"scenario": "int64", "replicate": "int64", "seed": "int64"})
    table["value"] = table["value"].astype("float64")
    return Cell(scenario, replicate, table, selected)
