"""synthbio_ppl: synthetic biomedical datasets with known ground truth, as NumPyro models.

Quick start::

    import synthbio_ppl as sb
    data = sb.generate("models/demo.yaml")
    data.X, data.y, data.truth.features
    X, y = sb.make_biomedical_classification(n_samples=60, n_informative=5, n_noise=200)

Names are imported on first use, so ``import synthbio_ppl`` (and ``synthbio validate``)
stays quick and does not load JAX until something needs it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from synthbio_ppl.core.version import __version__ as __version__

_EXPORTS: dict[str, str] = {
    # data
    "generate": "engine.generation",
    "Dataset": "data.dataset",
    "load_dataset": "data.dataset",
    "Truth": "data.truth",
    "make_biomedical_classification": "teaching.sklearn_api",
    "make_biomedical_regression": "teaching.sklearn_outcomes",
    "make_biomedical_survival": "teaching.sklearn_outcomes",
    "generate_to_parquet": "engine.parquet_writer",
    "rescale_rows": "engine.planning",
    "to_dask": "engine.dask_io",
    # spec
    "Spec": "model.scene",
    "ClassSpec": "spec.fields",
    "InformativeGroup": "processes.informative",
    "Cluster": "processes.clusters",
    "NoiseGroup": "processes.noise",
    "PseudoClassGroup": "processes.pseudo",
    "Batches": "processes.batches",
    "MissingEntry": "processes.missing.spec",
    "CountBlock": "processes.counts.spec",
    "Outcome": "processes.outcomes.spec",
    "load_spec": "model.scene",
    "save_spec": "model.scene",
    "validate_spec": "model.scene",
    "SpecError": "core.errors",
    "spec_reference": "model.reference",
    "StructuralSpec": "processes.structural.spec",
    "Covariate": "processes.structural.spec",
    "Factor": "processes.structural.spec",
    "Biomarker": "processes.structural.spec",
    "Dependency": "processes.structural.spec",
    "ByLevel": "processes.structural.spec",
    # the model itself
    "dataset_model": "model.dataset_model",
    "RowDesign": "processes.block",
    # fitting back
    "fit": "inference.fitting",
    "Fit": "inference.result",
    "calibrate": "inference.calibration",
    "Calibration": "inference.calibration",
    # evaluation and teaching
    "cohens_d": "teaching.effect_sizes",
    "cliffs_delta": "teaching.effect_sizes",
    "rank_features": "teaching.selection",
    "selection_scores": "teaching.selection",
    "selection_stability": "teaching.selection",
    "confounding": "teaching.batch_confounding",
    "correct_batches": "teaching.batch_correction",
    "score_correction": "teaching.batch_correction",
    "compare_cv": "teaching.cross_validation",
    "compare_tests": "teaching.power",
    "setup_lesson": "teaching.lesson",
    "selection_cv": "teaching.cross_validation",
    "compare_imputation": "teaching.missing_values",
    "mean_bias": "teaching.missing_values",
    "effect_size_bias": "teaching.missing_values",
    "rate_table": "teaching.missing_values",
    "default_estimator": "core.estimators",
    "cluster_check": "clustering.check",
    "plot_cluster_check": "clustering.check",
    # simulation studies
    "study": "studies.runner",
    "Study": "studies.runner",
    "FitMethod": "studies.method_types",
    "load_study": "studies.study_file",
    # synthetic twins of real tables
    "twin": "twins.fitting",
    "Twin": "twins.posterior",
    "oversample": "twins.oversampling",
    "TwinOversampler": "twins.oversampling",
    "score_twin": "twins.scoring",
    "TwinReport": "twins.report",
}

__all__ = [
    "Batches",
    "Biomarker",
    "ByLevel",
    "Calibration",
    "ClassSpec",
    "Cluster",
    "CountBlock",
    "Covariate",
    "Dataset",
    "Dependency",
    "Factor",
    "Fit",
    "FitMethod",
    "InformativeGroup",
    "MissingEntry",
    "NoiseGroup",
    "Outcome",
    "PseudoClassGroup",
    "RowDesign",
    "Spec",
    "SpecError",
    "StructuralSpec",
    "Study",
    "Truth",
    "Twin",
    "TwinOversampler",
    "TwinReport",
    "calibrate",
    "cliffs_delta",
    "cluster_check",
    "cohens_d",
    "compare_cv",
    "compare_imputation",
    "compare_tests",
    "confounding",
    "correct_batches",
    "dataset_model",
    "default_estimator",
    "effect_size_bias",
    "fit",
    "generate",
    "generate_to_parquet",
    "load_dataset",
    "load_spec",
    "load_study",
    "make_biomedical_classification",
    "make_biomedical_regression",
    "make_biomedical_survival",
    "mean_bias",
    "oversample",
    "plot_cluster_check",
    "rank_features",
    "rate_table",
    "rescale_rows",
    "save_spec",
    "score_correction",
    "score_twin",
    "selection_cv",
    "selection_scores",
    "selection_stability",
    "setup_lesson",
    "spec_reference",
    "study",
    "to_dask",
    "twin",
    "validate_spec",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'synthbio_ppl' has no attribute {name!r}")
    value = getattr(import_module(f"synthbio_ppl.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:
    from synthbio_ppl.clustering.check import cluster_check, plot_cluster_check
    from synthbio_ppl.core.errors import SpecError
    from synthbio_ppl.core.estimators import default_estimator
    from synthbio_ppl.data.dataset import Dataset, load_dataset
    from synthbio_ppl.data.truth import Truth
    from synthbio_ppl.engine.dask_io import to_dask
    from synthbio_ppl.engine.generation import generate
    from synthbio_ppl.engine.parquet_writer import generate_to_parquet
    from synthbio_ppl.engine.planning import rescale_rows
    from synthbio_ppl.inference.calibration import Calibration, calibrate
    from synthbio_ppl.inference.fitting import fit
    from synthbio_ppl.inference.result import Fit
    from synthbio_ppl.model.dataset_model import dataset_model
    from synthbio_ppl.model.reference import spec_reference
    from synthbio_ppl.model.scene import Spec, load_spec, save_spec, validate_spec
    from synthbio_ppl.processes.batches import Batches
    from synthbio_ppl.processes.block import RowDesign
    from synthbio_ppl.processes.clusters import Cluster
    from synthbio_ppl.processes.counts.spec import CountBlock
    from synthbio_ppl.processes.informative import InformativeGroup
    from synthbio_ppl.processes.missing.spec import MissingEntry
    from synthbio_ppl.processes.noise import NoiseGroup
    from synthbio_ppl.processes.pseudo import PseudoClassGroup
    from synthbio_ppl.processes.structural.spec import (
        Biomarker,
        ByLevel,
        Covariate,
        Dependency,
        Factor,
        StructuralSpec,
    )
    from synthbio_ppl.spec.fields import ClassSpec
    from synthbio_ppl.studies.method_types import FitMethod
    from synthbio_ppl.studies.runner import Study, study
    from synthbio_ppl.studies.study_file import load_study
    from synthbio_ppl.teaching.batch_confounding import confounding
    from synthbio_ppl.teaching.batch_correction import correct_batches, score_correction
    from synthbio_ppl.teaching.cross_validation import compare_cv, selection_cv
    from synthbio_ppl.teaching.effect_sizes import cliffs_delta, cohens_d
    from synthbio_ppl.teaching.lesson import setup_lesson
    from synthbio_ppl.teaching.missing_values import (
        compare_imputation,
        effect_size_bias,
        mean_bias,
        rate_table,
    )
    from synthbio_ppl.teaching.power import compare_tests
    from synthbio_ppl.teaching.selection import (
        rank_features,
        selection_scores,
        selection_stability,
    )
    from synthbio_ppl.teaching.sklearn_api import make_biomedical_classification
    from synthbio_ppl.twins.fitting import twin
    from synthbio_ppl.twins.oversampling import TwinOversampler, oversample
    from synthbio_ppl.twins.posterior import Twin
    from synthbio_ppl.twins.report import TwinReport
    from synthbio_ppl.twins.scoring import score_twin
