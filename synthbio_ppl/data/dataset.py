"""A generated dataset: features, labels, design covariates, ground truth and its spec."""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.data.describe import dataset_summary
from synthbio_ppl.data.io import (
    COMPLETE_FILE,
    DATA_FILE,
    DROPOUT_FILE,
    EFFECTS_FILE,
    LATENTS_FILE,
    MISSING_FILE,
    beside_y,
    extra_path,
    read_extra,
    read_folder,
    table_of,
    write_folder,
)
from synthbio_ppl.data.row_truth import check_row_truth
from synthbio_ppl.data.truth import Truth
from synthbio_ppl.model.layout import build_layout
from synthbio_ppl.model.scene import Spec, validate_spec


@dataclass
class Dataset:
    """``X`` features, ``y`` class labels (categorical), ``covariates`` (batch, latent
    groups), ``truth`` (what made the data) and the ``spec`` that describes it.

    With an ``outcome:``, ``outcome`` holds its columns (``y``; or ``time`` and
    ``event``), and ``y`` is the outcome where it replaces the classes (binary:
    categorical labels; continuous: float)."""

    X: pd.DataFrame
    y: pd.Series
    covariates: pd.DataFrame
    truth: Truth
    spec: Spec
    outcome: pd.DataFrame | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.X.shape

    def to_frame(self) -> pd.DataFrame:
        """One table: features, then ``y``, then covariates, then the outcome's columns
        beside ``y`` (time, event)."""
        return pd.concat(
            [self.X, self.y, self.covariates, beside_y(self.outcome, self.X.index)], axis=1
        )

    def to_parquet(self, directory: str | Path, overwrite: bool = False) -> Path:
        """Write ``data.parquet``, ``truth.json`` and ``spec.yaml`` into ``directory``
        (plus ``latents.parquet``: per-row latent values of a structural scene; with
        missing values, ``missing.parquet`` and ``complete.parquet``: the mask and the
        values before masking of the masked columns; with count dropout,
        ``dropout.parquet``)."""
        beside = beside_y(self.outcome, self.covariates.index)
        table = table_of(self.X, self.y, pd.concat([self.covariates, beside], axis=1))
        truth, spec = self.truth.to_json(), self.spec.to_yaml()
        extras = {
            LATENTS_FILE: self.truth.latents,
            DROPOUT_FILE: self.truth.dropout,
        }
        if self.truth.effects is not None and self.truth.effects.shape[1]:
            extras[EFFECTS_FILE] = self.truth.effects  # none moved: no file
        if self.truth.hidden_cells is not None and self.truth.complete_cells is not None:
            extras[MISSING_FILE] = self.truth.hidden_cells
            extras[COMPLETE_FILE] = self.truth.complete_cells
        present = {name: frame for name, frame in extras.items() if frame is not None}
        try:
            return write_folder(directory, table, truth, spec, overwrite, present)
        except OSError as exc:
            if exc.errno == errno.ENOSPC or "No space left" in str(exc):
                raise OSError(
                    errno.ENOSPC, "the disk is full; nothing was written there", str(directory)
                ) from exc
            raise

    def to_anndata(self, blocks: list[str] | None = None) -> Any:
        """An ``anndata.AnnData`` (extra ``omics``) of the count blocks' columns (or the
        named ``blocks``), the truth in ``.var`` and ``.obs``; see
        ``data.anndata_io.to_anndata``."""
        from synthbio_ppl.data.anndata_io import to_anndata

        return to_anndata(self, blocks)

    def summary(self) -> str:
        """A few lines on shape, classes, roles and batches."""
        return dataset_summary(self)

    def __repr__(self) -> str:
        n, p = self.X.shape
        world = getattr(self.truth, "world", None)
        changed = (
            ""
            if world is None
            else ", world="
            + repr(
                "; ".join(
                    ([f"without {', '.join(world['without'])}"] if world["without"] else [])
                    + [f"do {k}={v}" for k, v in world["do"].items()]
                )
            )
        )
        return (
            f"Dataset({self.spec.name!r}, rows={n}, features={p}, "
            f"classes={len(self.spec.classes)}{changed})"
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
    except SpecError as exc:  # name the file the spec came from
        where = f"{folder / 'spec.yaml'} {exc.path}".strip()
        raise SpecError(where, exc.value, exc.allowed) from None
    wrong = [k for k, v in truth.items() if not (v is None or isinstance(v, dict | list))]
    if wrong:
        raise SpecError(
            "", str(folder / "truth.json"), f"not a truth (entry {wrong[0]!r} is not an object)"
        )
    try:
        truth_obj = Truth.from_dict(truth)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        keyed = isinstance(exc, KeyError)
        what = f"no {exc.args[0]!r} entry" if keyed else "an entry of the wrong type"
        raise SpecError("", str(folder / "truth.json"), f"not a truth ({what})") from None
    truth_obj.latents = read_extra(folder, LATENTS_FILE)
    truth_obj.dropout = read_extra(folder, DROPOUT_FILE)
    truth_obj.effects = read_extra(folder, EFFECTS_FILE)
    if truth_obj.world is not None and truth_obj.effects is None:
        truth_obj.effects = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    features = truth_obj.features.index.tolist()
    absent = [c for c in [*features, "y"] if c not in frame.columns]
    if absent:
        raise SpecError("", str(folder), f"the data lack columns the truth names: {absent[:5]}")
    if len(frame) != spec.n_rows:  # a part lost or copied in a streamed folder, say
        raise SpecError(
            "",
            str(extra_path(folder, DATA_FILE)),
            f"holds {len(frame)} rows where spec.yaml has {spec.n_rows}",
        )
    X = frame[features]
    layout = build_layout(spec)
    entries = sorted(s.name for s in layout.masks)
    if entries != sorted(truth_obj.missingness or {}):
        raise SpecError(
            "",
            str(folder),
            f"spec.yaml's missing entries {entries} are not the truth's "
            f"{sorted(truth_obj.missingness or {})}",
        )
    _read_mask(folder, truth_obj, X)
    check_row_truth(folder, spec, layout, truth_obj, X)
    labels = spec.label_names
    y = frame["y"] if labels is None else frame["y"].astype(pd.CategoricalDtype(labels))
    if labels is None and not pd.api.types.is_float_dtype(y):
        raise SpecError(
            "", str(extra_path(folder, DATA_FILE)), "y must hold the continuous outcome"
        )
    if labels is not None and y.isna().any():
        raise SpecError(
            "", str(extra_path(folder, DATA_FILE)), f"y holds values other than {labels}"
        )
    outcome_columns = _outcome_columns(layout)
    absent = [c for c in outcome_columns if c not in frame.columns]
    if absent:
        raise SpecError(
            "", str(extra_path(folder, DATA_FILE)), f"lacks the outcome's columns {absent}"
        )
    outcome = None
    if outcome_columns:
        outcome = pd.concat(
            [y.rename("y") if c == "y" else frame[c] for c in outcome_columns], axis=1
        )
        _check_outcome(spec, layout, outcome, folder)
    covariates = frame.drop(columns=[*features, "y", *(c for c in outcome_columns if c != "y")])
    if outcome is not None:
        _score_outcome(spec, layout, truth_obj, outcome, folder)
    return Dataset(X=X, y=y, covariates=covariates, truth=truth_obj, spec=spec, outcome=outcome)


def _check_outcome(spec: Spec, layout: Any, outcome: pd.DataFrame, folder: Path) -> None:
    """The outcome columns hold what the spec's outcome can (as a fit would read them)."""
    from synthbio_ppl.processes.registry import response_of

    static = layout.response
    try:
        response_of(static.field).observed_table(
            getattr(spec, static.field), static, outcome, spec.dtype
        )
    except SpecError as exc:
        raise SpecError(
            "",
            str(extra_path(folder, DATA_FILE)),
            f"column {exc.path}: {exc.value} ({exc.allowed})",
        ) from None


def _score_outcome(
    spec: Spec, layout: Any, truth: Truth, outcome: pd.DataFrame, folder: Path
) -> None:
    """The outcome's best scores, where the folder's truth lacks them (a streamed run
    writes the truth before the rows): from the per-row truth in latents."""
    from synthbio_ppl.processes.registry import response_of

    static = layout.response
    process = response_of(static.field)
    owned = getattr(truth, process.truth_field) if process.truth_field else None
    if owned is None or owned.scores:
        return
    rows = truth.latents
    if rows is None or len(rows) != len(outcome):
        raise SpecError(
            "", str(extra_path(folder, LATENTS_FILE)), "needs the outcome's per-row truth"
        )
    group = getattr(spec, static.field)
    scored = process.score_truth(
        group, owned, static, rows.reset_index(drop=True), outcome.reset_index(drop=True)
    )
    truth.latents = scored.set_axis(rows.index)


def _outcome_columns(layout: Any) -> list[str]:
    """The table's columns that hold the outcome (none without one)."""
    from synthbio_ppl.processes.registry import response_of

    static = layout.response
    return [] if static is None else response_of(static.field).columns(static)


def masked_columns(truth: Truth) -> list[str]:
    """The columns a ``missing:`` entry hides (in column order)."""
    names = {c for entry in (truth.missingness or {}).values() for c in entry["columns"].index}
    return [c for c in truth.features.index if c in names]


def _read_mask(folder: Path, truth: Truth, X: pd.DataFrame) -> None:
    """Read the masked columns' mask and complete values into the truth, checking them
    against X's NaN."""
    hiding = truth.world is None or truth.world.get("masks_hide", True)
    masked = masked_columns(truth) if hiding else []
    nan = X.isna()
    unmasked = [c for c in X.columns if c not in set(masked) and nan[c].any()]
    if unmasked:
        raise SpecError("", str(folder), f"NaN in columns no missing entry hides: {unmasked[:5]}")
    if not masked:
        return
    mask = read_extra(folder, MISSING_FILE)
    complete = read_extra(folder, COMPLETE_FILE)
    for name, frame in ((MISSING_FILE, mask), (COMPLETE_FILE, complete)):
        if frame is None or list(frame.columns) != masked or len(frame) != len(X):
            raise SpecError(
                "", str(extra_path(folder, name)), f"needs the {len(X)} rows of {masked[:5]}"
            )
    assert mask is not None and complete is not None
    if not all(pd.api.types.is_bool_dtype(t) for t in mask.dtypes):
        raise SpecError("", str(extra_path(folder, MISSING_FILE)), "must hold boolean columns")
    if not (mask.to_numpy(dtype=bool) == nan[masked].to_numpy()).all():
        raise SpecError(
            "", str(extra_path(folder, MISSING_FILE)), "does not match the NaN cells of the data"
        )
    if not all(pd.api.types.is_float_dtype(t) for t in complete.dtypes):
        raise SpecError("", str(extra_path(folder, COMPLETE_FILE)), "must hold float columns")
    values = complete.to_numpy()
    observed = X[masked].to_numpy()
    seen = ~nan[masked].to_numpy()
    if not np.isfinite(values).all() or not (values[seen] == observed[seen]).all():
        raise SpecError(
            "",
            str(extra_path(folder, COMPLETE_FILE)),
            "must be finite and equal the data wherever a cell is observed",
        )
    truth.hidden_cells = mask.set_axis(X.index)
    truth.complete_cells = complete.set_axis(X.index)
    truth.observed = X
