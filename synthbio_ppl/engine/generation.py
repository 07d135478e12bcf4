"""``generate``: spec in, Dataset out (features, labels, covariates, truth)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthbio_ppl.data.dataset import Dataset
from synthbio_ppl.data.truth import batch_names, build_truth
from synthbio_ppl.engine.draw import draw_rows, population_sites
from synthbio_ppl.model.design import Design, build_design
from synthbio_ppl.model.layout import build_layout
from synthbio_ppl.model.parameters import fixed_sites
from synthbio_ppl.model.scene import Spec, load_spec, validate_spec
from synthbio_ppl.processes.structural.truth import covariate_columns, latent_frame

SpecLike = Spec | dict[str, Any] | str | Path


def as_spec(spec: SpecLike) -> Spec:
    """A validated Spec from a Spec, a dict, or a YAML path."""
    if isinstance(spec, str | Path):
        return load_spec(spec)
    return validate_spec(spec)


def generate(spec: SpecLike, seed: int | None = None) -> Dataset:
    """Draw the dataset a spec describes; ``seed`` overrides the spec's seed.

    Same spec and seed give bit-identical output on the same JAX version.
    """
    spec = as_spec(spec).with_seed(seed)
    layout = build_layout(spec)
    fixed = fixed_sites(spec)
    design = build_design(spec)
    outputs = draw_rows(layout, fixed, design, spec.seed, spec.dtype)
    values = outputs["X"]
    columns = layout.columns
    X = pd.DataFrame(values, columns=pd.Index(columns), copy=False)
    sites = population_sites(layout, fixed, spec.seed, spec.dtype)
    truth = build_truth(spec, layout, design, sites)
    if spec.structure is not None and "latents" in outputs:  # a scene with latent factors
        truth.latents = latent_frame(spec.structure, outputs["latents"])
    return Dataset(
        X=X,
        y=class_labels(spec, design),
        covariates=covariates_of(spec, design, outputs.get("covariates")),
        truth=truth,
        spec=spec,
    )


def class_labels(spec: Spec, design: Design) -> pd.Series:
    """``y`` as a categorical Series of class names, in the spec's class order."""
    labels = pd.Categorical.from_codes(design.y, categories=spec.class_names)
    return pd.Series(labels, name="y")


def covariates_of(spec: Spec, design: Design, codes: np.ndarray | None = None) -> pd.DataFrame:
    """Covariates: a structural scene's drawn covariates (categorical, from their per-row
    ``codes``), ``batch`` (categorical) and each pseudo-class block's group."""
    columns: dict[str, Any] = {}
    if spec.structure is not None and codes is not None:
        columns.update(covariate_columns(spec.structure, codes))
    if design.batch is not None and spec.batches is not None:
        names = batch_names(spec.batches.n)
        columns["batch"] = pd.Categorical.from_codes(design.batch, categories=names)
    for name, groups in design.groups.items():
        columns[f"{name}_group"] = groups.astype(np.int64)
    return pd.DataFrame(columns, index=pd.RangeIndex(design.n_rows))
