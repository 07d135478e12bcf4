"""A study as a YAML file (``synthbio study STUDY.yaml --out DIR``)::

    base: ../models/demo.yaml          # a spec file (relative to this file) or a mapping
    grid:
      informative[0].effect_size: [0.2, 0.5, 0.8]
      noise[0].n: [100, 1000]
    methods:
      t_test: {preset: t_test, k: 10}
      forest: {class: sklearn.ensemble.RandomForestClassifier, params: {n_estimators: 100}}
    metrics: [precision, recall, auc]
    replicates: 10
    seed: 0
    cv: {schemes: [random, leave_one_batch_out], n_splits: 5}

``class`` must name a scikit-learn estimator class, ``function`` a scikit-learn function
(a selector's score function), so a shared study file runs no other code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from synthbio_ppl.core.errors import SpecError, from_validation_error
from synthbio_ppl.model.scene import Spec, load_spec, read_yaml, validate_spec
from synthbio_ppl.spec.fields import Strict
from synthbio_ppl.studies.plan import Plan, build_plan

__all__ = ["StudyFile", "load_study", "study_plan"]


class StudyFile(Strict):
    """The fields of a study file; each is the argument of ``sb.study`` of that name."""

    name: str | None = Field(None, description="The study's name (its report's title).")
    base: str | dict[str, Any] = Field(description="The base spec: a YAML path or a mapping.")
    grid: dict[str, list[Any]] | list[dict[str, Any]] | None = Field(
        None, description="{path: [values]} (full factorial) or a list of {path: value}."
    )
    methods: dict[str, Any] = Field(description="{name: preset | {preset: ...} | {class: ...}}")
    metrics: list[str] | None = Field(None, description="Metric names (default: all that apply).")
    replicates: int = Field(1, ge=1, description="Datasets per scenario.")
    seed: int = Field(0, ge=0, lt=2**32, description="The study seed.")
    cv: dict[str, Any] | None = Field(None, description="{schemes, n_splits, groups}.")


def load_study(path: str | Path) -> tuple[StudyFile, Spec]:
    """Read and check a study file; its base spec read relative to the file. SpecError
    names the file, or the field and value, for anything it cannot use."""
    source = Path(path)
    if not source.exists():
        raise SpecError("", str(source), "no such file (a study is a YAML file)")
    data = read_yaml(source, "a study is a YAML file", "a study")
    if not isinstance(data, dict):
        raise SpecError("", str(source), "a study file is a mapping of fields (base, grid, ...)")
    try:
        study = StudyFile.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc, StudyFile) from None
    if isinstance(study.base, str):
        spec_path = Path(study.base)
        spec_path = spec_path if spec_path.is_absolute() else source.parent / spec_path
        try:
            base = load_spec(spec_path)
        except SpecError as exc:
            raise (
                exc.under("base") if exc.path else SpecError("base", study.base, exc.allowed)
            ) from None
    else:
        try:
            base = validate_spec(study.base)
        except SpecError as exc:
            raise exc.under("base") from None
    return study, base


def study_plan(path: str | Path, replicates: int | None = None) -> Plan:
    """A study file checked whole, as ``sb.study`` checks it before its first cell (every
    scenario's spec, the methods, metrics and schemes); SpecError names what is wrong."""
    study, base = load_study(path)
    return build_plan(
        base,
        study.grid,
        study.methods,
        study.metrics,
        replicates or study.replicates,
        study.seed,
        study.cv,
    )
