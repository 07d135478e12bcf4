"""A generated dataset: features, labels, design covariates, ground truth and its spec."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from synthbio_ppl.core.errors import SpecError, is_disk_full
from synthbio_ppl.core.precision import LARGEST
from synthbio_ppl.data.checks import (
    AS_WRITTEN,
    check_columns,
    check_design,
    check_features,
    check_outcome_columns,
    plain,
    whole_columns,
)
from synthbio_ppl.data.describe import dataset_summary
from synthbio_ppl.data.io import (
    COMPLETE_FILE,
    DATA_FILE,
    DROPOUT_FILE,
    EFFECTS_FILE,
    EXTRA_FILES,
    LATENTS_FILE,
    MISSING_FILE,
    beside_y,
    extra_path,
    read_extra,
    read_folder,
    table_of,
    write_folder,
)
from synthbio_ppl.data.masks import masked_columns, read_mask
from synthbio_ppl.data.parts import check_recorded, row_place
from synthbio_ppl.data.row_truth import check_row_truth
from synthbio_ppl.data.truth import Truth
from synthbio_ppl.data.truth_spec import check_truth
from synthbio_ppl.model.layout import build_layout
from synthbio_ppl.model.scene import Spec, validate_spec
from synthbio_ppl.processes.block import unpadded


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
        # a replicated dataset (Fit.posterior_predictive) holds no per-row latents, masks
        # or covariates: written only where it loads back, checked before it is in place
        check = _loadable if self.truth.posterior_draw is not None else None
        try:
            return write_folder(directory, table, truth, spec, overwrite, present, check)
        except OSError as exc:
            if is_disk_full(exc):
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

    Raises SpecError naming the file (a streamed folder's part), the column or entry,
    the row and the value, and saying what is allowed, when the folder is not such a
    dataset: a missing, renamed or damaged file or column; a streamed folder's parts
    misnamed, out of order or rewritten (``data.parts``); truth.json holding an infinity, or
    NaN but as a table's blank cell (``data.truth_numbers``), or not the truth spec.yaml
    gives (``data.truth_spec``); a feature value that is text, infinite, NaN outside a
    masked column or pandas' <NA>, or in a count column not a whole number from 0; an
    outcome column (time, event) holding text; a design column absent, stray, holding a
    level the spec does not have, or rows not in the spec's row design (``data.checks``); data and
    mask that disagree (``data.masks``); per-row truth (latents, dropout) not the spec's or
    out of its range (``data.row_truth``).
    """
    if not isinstance(directory, str | os.PathLike):
        raise SpecError("directory", type(directory).__name__, "must be a folder's path")
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
    layout = build_layout(spec)
    data = extra_path(folder, DATA_FILE)
    features = truth_obj.features.index.tolist()
    if features != list(layout.columns):
        raise SpecError("", str(folder / "truth.json"), _differ(features, list(layout.columns)))
    outcome_columns = _outcome_columns(layout)
    check_columns(data, frame, features, layout, [c for c in outcome_columns if c != "y"])
    if len(frame) != spec.n_rows:  # a part lost or copied in a streamed folder, say
        raise SpecError(
            "",
            str(data),
            f"holds {len(frame)} rows where spec.yaml has {spec.n_rows}; {AS_WRITTEN}restore "
            "the written rows (filter rows after loading instead)",
        )
    X = frame[features]
    entries = sorted(s.name for s in layout.masks)
    if entries != sorted(truth_obj.missingness or {}):
        raise SpecError(
            "",
            str(folder),
            f"spec.yaml's missing entries {entries} are not the truth's "
            f"{sorted(truth_obj.missingness or {})}",
        )
    check_truth(folder, spec, layout, truth_obj)
    hiding = truth_obj.world is None or truth_obj.world.get("masks_hide", True)
    masked = masked_columns(truth_obj) if hiding else []
    check_features(data, X, masked, whole_columns(layout), LARGEST[spec.dtype])
    check_design(data, frame, spec, layout)
    check_recorded([data, *(extra_path(folder, name) for name in EXTRA_FILES)])
    read_mask(folder, truth_obj, X, masked)
    check_row_truth(folder, spec, layout, truth_obj, X)
    labels = spec.label_names
    y = frame["y"] if labels is None else frame["y"].astype(pd.CategoricalDtype(labels))
    if labels is None and not pd.api.types.is_float_dtype(y):
        raise SpecError("", str(data), "y must hold the continuous outcome")
    if labels is not None and y.isna().any():
        row = int(np.argmax(y.isna().to_numpy()))
        raise SpecError(
            f"{row_place(data, row)}, column 'y'",
            plain(frame["y"].iloc[row]),
            f"must be one of {labels}",
        )
    absent = [c for c in outcome_columns if c not in frame.columns]
    if absent:
        raise SpecError("", str(data), f"lacks the outcome's columns {absent}")
    check_outcome_columns(data, frame, [c for c in outcome_columns if c != "y"])
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


def _differ(features: list[str], columns: list[str]) -> str:
    """How the truth's feature table parts from the spec's columns, in words."""
    at = next(
        (i for i, (a, b) in enumerate(zip(features, columns, strict=False)) if a != b),
        min(len(features), len(columns)),
    )
    here = repr(features[at]) if at < len(features) else "nothing"
    there = repr(columns[at]) if at < len(columns) else "nothing"
    padded = ""
    if at < min(len(features), len(columns)) and unpadded(features[at]) == columns[at]:
        padded = "; written with zero-padded names by an earlier version: generate it again"
    return (
        f"its features name {here} where the spec's column {at} is {there} "
        f"({len(features)} features, the spec {len(columns)} columns){padded}"
    )


def _loadable(staging: Path) -> None:
    """SpecError unless the folder written in ``staging`` loads: a replicated dataset of a
    scene with per-row latents (counts, outcomes), masks or covariates lacks them."""
    try:
        load_dataset(staging)
    except SpecError as exc:
        raise SpecError(
            "as_datasets",
            "a replicated dataset of this scene",
            "cannot be written as a folder: it holds no per-row latents, masks or covariates "
            "of its own; use its X, y and truth in memory "
            f"(loading it would say: {exc.allowed})",
        ) from None
