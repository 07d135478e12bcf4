"""synthbio_ppl: synthetic biomedical datasets with known ground truth, as NumPyro models.

Quick start::

    import synthbio_ppl as sb
    data = sb.generate("models/demo.yaml")
    data.X, data.y, data.truth.features
    X, y = sb.make_biomedical_classification(n_samples=60, n_informative=5, n_noise=200)
"""

from synthbio_ppl.dataset import Dataset, load_dataset
from synthbio_ppl.errors import SpecError
from synthbio_ppl.evaluation import (
    cliffs_delta,
    cohens_d,
    compare_cv,
    confounding,
    rank_features,
    selection_cv,
    selection_scores,
    selection_stability,
)
from synthbio_ppl.generate import generate
from synthbio_ppl.model import RowDesign, dataset_model
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
from synthbio_ppl.truth import Truth

__version__ = "0.1.0"

__all__ = [
    "Batches",
    "ClassSpec",
    "Cluster",
    "Dataset",
    "InformativeGroup",
    "NoiseGroup",
    "PseudoClassGroup",
    "RowDesign",
    "Spec",
    "SpecError",
    "Truth",
    "cliffs_delta",
    "cohens_d",
    "compare_cv",
    "confounding",
    "dataset_model",
    "generate",
    "load_dataset",
    "load_spec",
    "make_biomedical_classification",
    "rank_features",
    "save_spec",
    "selection_cv",
    "selection_scores",
    "selection_stability",
    "spec_reference",
    "validate_spec",
]
