"""A generated dataset: features, labels, design covariates, ground truth and its spec."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.data.describe import dataset_summary
from synthbio_ppl.data.io import read_folder, read_latents, table_of, write_folder
from synthbio_ppl.data.truth import Truth
from synthbio_ppl.model.scene import Spec, validate_spec


@dataclass
class Dataset:
    """``X`` features, ``y`` class labels (categorical), ``covariates`` (batch, latent
    groups), ``truth`` (what made the data) and the ``spec`` that describes it."""

    X: pd.DataFrame
    y: pd.Series
    covariates: pd.DataFrame
    truth: Truth
    spec: Spec

    @property
    def shape(self) -> tuple[int, int]:
        return self.X.shape

    def to_frame(self) -> pd.DataFrame:
        """One table: features, then ``y``, then covariates."""
        return pd.concat([self.X, self.y, self.covariates], axis=1)

    def to_parquet(self, directory: str | Path, overwrite: bool = False) -> Path:
        """Write ``data.parquet``, ``truth.json`` and ``spec.yaml`` into ``directory``
        (plus ``latents.parquet``: per-row latent values of a structural scene)."""
        table = table_of(self.X, self.y, self.covariates)
        truth, spec = self.truth.to_json(), self.spec.to_yaml()
        return write_folder(directory, table, truth, spec, overwrite, self.truth.latents)

    def summary(self) -> str:
        """A few lines on shape, classes, roles and batches."""
        return dataset_summary(self)

    def __repr__(self) -> str:
        n, p = self.X.shape
        return (
            f"Dataset({self.spec.name!r}, rows={n}, features={p}, classes={len(self.spec.classes)})"
        )


def load_dataset(directory: str | Path) -> Dataset:
    """Read a folder written by ``Dataset.to_parquet`` (or ``synthbio generate``).

    Raises SpecError naming the file or column when the folder is not such a dataset
    (a missing, renamed or damaged file or column).
    """
    folder = Path(directory)
    frame, truth, spec_text = read_folder(folder)
    try:
        spec = validate_spec(yaml.safe_load(spec_text))
    except yaml.YAMLError:
        raise SpecError("", str(folder / "spec.yaml"), "not valid YAML") from None
    try:
        truth_obj = Truth.from_dict(truth)
    except (KeyError, TypeError, ValueError) as exc:
        raise SpecError("", str(folder / "truth.json"), f"not a truth ({exc!r})") from None
    truth_obj.latents = read_latents(folder)
    features = truth_obj.features.index.tolist()
    missing = [c for c in [*features, "y"] if c not in frame.columns]
    if missing:
        raise SpecError("", str(folder), f"the data lack columns the truth names: {missing[:5]}")
    X = frame[features]
    y = frame["y"].astype(pd.CategoricalDtype(spec.class_names))
    covariates = frame.drop(columns=[*features, "y"])
    return Dataset(X=X, y=y, covariates=covariates, truth=truth_obj, spec=spec)
