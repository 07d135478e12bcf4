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

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # data
    "generate": "generation",
    "Dataset": "dataset",
    "load_dataset": "dataset",
    "Truth": "truth",
    "make_biomedical_classification": "sklearn_api",
    "generate_to_parquet": "stream",
    "rescale_rows": "stream",
    "to_dask": "dask_io",
    # spec
    "Spec": "spec",
    "ClassSpec": "spec",
    "InformativeGroup": "spec",
    "Cluster": "spec",
    "NoiseGroup": "spec",
    "PseudoClassGroup": "spec",
    "Batches": "spec",
    "load_spec": "spec",
    "save_spec": "spec",
    "validate_spec": "spec",
    "SpecError": "errors",
    "spec_reference": "reference",
    "StructuralSpec": "structural_spec",
    "Covariate": "structural_spec",
    "Factor": "structural_spec",
    "Biomarker": "structural_spec",
    "Dependency": "structural_spec",
    "ByLevel": "structural_spec",
    # the model itself
    "dataset_model": "model",
    "RowDesign": "model",
    # fitting back
    "fit": "inference",
    "Fit": "inference",
    "calibrate": "calibration",
    "Calibration": "calibration",
    # evaluation and teaching
    "cohens_d": "evaluation",
    "cliffs_delta": "evaluation",
    "rank_features": "evaluation",
    "selection_scores": "evaluation",
    "selection_stability": "evaluation",
    "confounding": "evaluation",
    "compare_cv": "evaluation",
    "selection_cv": "evaluation",
    "default_estimator": "evaluation",
    "cluster_check": "clustering",
    "plot_cluster_check": "clustering",
    # synthetic twins of real tables
    "twin": "twinning",
    "Twin": "twinning",
    "oversample": "oversampling",
    "TwinOversampler": "oversampling",
    "score_twin": "twin_scoring",
    "TwinReport": "twin_scoring",
}

__all__ = [
    "Batches",
    "Biomarker",
    "ByLevel",
    "Calibration",
    "ClassSpec",
    "Cluster",
    "Covariate",
    "Dataset",
    "Dependency",
    "Factor",
    "Fit",
    "InformativeGroup",
    "NoiseGroup",
    "PseudoClassGroup",
    "RowDesign",
    "Spec",
    "SpecError",
    "StructuralSpec",
    "Truth",
    "Twin",
    "TwinOversampler",
    "TwinReport",
    "calibrate",
    "cliffs_delta",
    "cluster_check",
    "cohens_d",
    "compare_cv",
    "confounding",
    "dataset_model",
    "default_estimator",
    "fit",
    "generate",
    "generate_to_parquet",
    "load_dataset",
    "load_spec",
    "make_biomedical_classification",
    "oversample",
    "plot_cluster_check",
    "rank_features",
    "rescale_rows",
    "save_spec",
    "score_twin",
    "selection_cv",
    "selection_scores",
    "selection_stability",
    "spec_reference",
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
    from synthbio_ppl.calibration import Calibration, calibrate
    from synthbio_ppl.clustering import cluster_check, plot_cluster_check
    from synthbio_ppl.dask_io import to_dask
    from synthbio_ppl.dataset import Dataset, load_dataset
    from synthbio_ppl.errors import SpecError
    from synthbio_ppl.evaluation import (
        cliffs_delta,
        cohens_d,
        compare_cv,
        confounding,
        default_estimator,
        rank_features,
        selection_cv,
        selection_scores,
        selection_stability,
    )
    from synthbio_ppl.generation import generate
    from synthbio_ppl.inference import Fit, fit
    from synthbio_ppl.model import RowDesign, dataset_model
    from synthbio_ppl.oversampling import TwinOversampler, oversample
    from synthbio_ppl.reference import spec_reference
    from synthbio_ppl.sklearn_api import make_biomedical_classification
    from synthbio_ppl.spec import (
        Batches,
        ClassSpec,
        Cluster,
        InformativeGroup,
        NoiseGroup,
        PseudoClassGroup,
        Spec,
        load_spec,
        save_spec,
        validate_spec,
    )
    from synthbio_ppl.stream import generate_to_parquet, rescale_rows
    from synthbio_ppl.structural_spec import (
        Biomarker,
        ByLevel,
        Covariate,
        Dependency,
        Factor,
        StructuralSpec,
    )
    from synthbio_ppl.truth import Truth
    from synthbio_ppl.twin_scoring import TwinReport, score_twin
    from synthbio_ppl.twinning import Twin, twin
