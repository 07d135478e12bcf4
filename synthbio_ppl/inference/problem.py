"""A fit's problem: the spec, its layout, the observed table, its row design and the user's
choices, checked. ``build_problem`` raises ``SpecError`` (field path, value, what is
allowed) for anything the model cannot use.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import pandas as pd

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.data.checks import design_levels
from synthbio_ppl.data.dataset import Dataset
from synthbio_ppl.inference.likelihood import Site, likelihood_model, model_sites, shaped_like
from synthbio_ppl.inference.missing_cells import check_hidden_blocks, mask_constants, placeholders
from synthbio_ppl.inference.observed_table import check_whole_numbers, feature_matrix
from synthbio_ppl.model.dataset_model import RowDesign
from synthbio_ppl.model.layout import Layout, build_layout, groups_of
from synthbio_ppl.model.scene import Spec, as_spec
from synthbio_ppl.processes.registry import (
    BLOCK_PROCESSES,
    MODIFIERS,
    modifier_of,
    process_of,
    response_of,
)


@dataclass(frozen=True)
class Problem:
    """Everything a fit needs: spec, layout, observed table, design and user choices."""

    spec: Spec
    layout: Layout
    X: np.ndarray
    design: RowDesign
    columns: list[str]
    sites: dict[str, Site]
    fixed: dict[str, np.ndarray] = field(default_factory=dict)
    priors: dict[str, dist.Distribution] = field(default_factory=dict)
    truth: dict[str, np.ndarray] | None = None
    hidden: np.ndarray | None = None
    """(rows, features) bool: the missing cells of ``X`` (which hold placeholders)."""

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])

    @property
    def free(self) -> list[str]:
        """Sample sites that are fitted (not fixed)."""
        return [
            s.name for s in self.sites.values() if not s.deterministic and s.name not in self.fixed
        ]

    @functools.cached_property
    def hidden_latents(self) -> list[str]:
        """Per-row latent sites holding hidden cells (``<block>.hidden_values``): none
        without missing cells, or where the observed cells' likelihood suffices."""
        if self.hidden is None:
            return []
        from numpyro import handlers

        from synthbio_ppl.core.streams import ROWS

        model = handlers.seed(self.model(), rng_seed=0)
        design = jax.tree.map(jnp.asarray, self.design)
        trace = handlers.trace(model).get_trace(design, jnp.asarray(self.X))
        return [
            name
            for name, site in trace.items()
            if site["type"] == "sample"
            and not site["is_observed"]
            and any(frame.name == ROWS for frame in site.get("cond_indep_stack", ()))
            and name.endswith(".hidden_values")
        ]

    def model(self, noncentred: bool = False) -> Callable[..., dict[str, jax.Array]]:
        return partial(
            likelihood_model,
            layout=self.layout,
            fixed={k: jnp.asarray(v) for k, v in self.fixed.items()},
            priors=self.priors,
            noncentred=noncentred,
            hidden=None if self.hidden is None else jnp.asarray(self.hidden),
        )


def build_problem(
    spec: Spec | dict[str, Any] | str | Path | None,
    data: Dataset | pd.DataFrame,
    *,
    labels: pd.Series | np.ndarray | list[Any] | None = None,
    design: pd.DataFrame | RowDesign | None = None,
    fixed: Mapping[str, Any] | None = None,
    priors: Mapping[str, dist.Distribution] | None = None,
    missing: str = "model",
) -> Problem:
    """Check the input and assemble the observed table, its design and the site table.

    Missing cells (NaN) are allowed in the columns a ``missing:`` entry hides. ``missing``:
    ``model`` fits the entries' mechanisms with the features (the hidden cells are latent
    where the mask depends on them); ``ignore`` drops the mask's likelihood and fits the
    observed cells alone (right for MCAR and MAR, biased for MNAR).
    """
    truth = None
    outcome_frame = None
    if isinstance(data, Dataset):
        spec = data.spec if spec is None else spec
        frame, labels = data.X, data.y if labels is None else labels
        design = data.covariates if design is None else design
        outcome_frame = data.outcome
        if data.truth is not None:  # a Dataset stripped of its truth fits without one
            truth = {k: np.asarray(v) for k, v in data.truth.parameters.items()}
    elif isinstance(data, pd.DataFrame):
        frame = data
    else:
        hint = "; a dataset folder's path: load it first, sb.load_dataset(path)"
        path_like = isinstance(data, str | os.PathLike)
        raise SpecError(
            "data",
            type(data).__name__,
            "must be a Dataset or a pandas DataFrame" + (hint if path_like else ""),
        )
    if spec is None:
        raise SpecError("spec", None, "give the spec that describes the data's model")
    spec = as_spec(spec)
    layout = build_layout(spec)
    columns = layout.columns
    design_columns = list(design_levels(layout))
    response = layout.response
    outcome_columns = [] if response is None else response_of(response.field).columns(response)
    if outcome_frame is None and outcome_columns:
        outcome_frame = frame[[c for c in outcome_columns if c in frame.columns]]
        if "y" in outcome_columns and labels is not None:
            if len(labels) != len(frame):
                raise SpecError(
                    "labels", f"{len(labels)} labels", f"need one per row ({len(frame)})"
                )
            outcome_frame = pd.DataFrame({"y": np.asarray(labels)}, index=frame.index)
    if response is not None and response_of(response.field).replaces_labels(response):
        labels = None  # the outcome is y: one class
    elif labels is None and "y" in frame.columns:
        labels = frame["y"]
    if design is None:
        present = [c for c in design_columns if c in frame.columns]
        design = frame[present] if present else None
    masked = sorted({j for static in layout.masks for j in static.indices})
    skip = {"y", *design_columns, *outcome_columns}
    X = feature_matrix(frame, columns, skip, spec.dtype, masked)
    check_whole_numbers(X, layout, columns)
    y = _class_codes(labels, spec, X.shape[0])
    row_design = _row_design(design, layout, y)
    if response is not None:
        process = response_of(response.field)
        group = getattr(spec, response.field)
        observed = process.observed_table(group, response, outcome_frame, spec.dtype)
        if any(len(v) != X.shape[0] for v in observed.values()):
            raise SpecError("outcome", "rows", f"need one outcome per data row ({X.shape[0]})")
        row_design = row_design._replace(outcome=observed)
    return make_problem(spec, X, row_design, fixed, priors, truth, missing)


def make_problem(
    spec: Spec,
    X: np.ndarray,
    design: RowDesign,
    fixed: Mapping[str, Any] | None = None,
    priors: Mapping[str, dist.Distribution] | None = None,
    truth: dict[str, np.ndarray] | None = None,
    missing: str = "model",
) -> Problem:
    """A Problem from checked parts: the spec, an (rows, features) table (NaN in missing
    cells of masked columns) and its design."""
    if missing not in ("model", "ignore"):
        raise SpecError("missing", missing, "must be 'model' or 'ignore'")
    both = sorted(set(fixed or {}) & set(priors or {}))
    if both:
        raise SpecError(
            f"priors.{both[0]}", "(also in fixed)", "give a site a prior or a fixed value, not both"
        )
    needs = {p.fit_dtype(g) for p in BLOCK_PROCESSES for g in groups_of(spec, p)}
    if "float64" in needs and spec.dtype != "float64":  # e.g. counts of deep libraries
        spec = spec.model_copy(update={"dtype": "float64"})
    layout = build_layout(spec)
    hidden = None
    if layout.masks:
        X, hidden = placeholders(X)
        if hidden is None and X.shape[1] == layout.n_features:  # a table without holes:
            hidden = np.zeros(X.shape, dtype=bool)  # its masks observed all False
        if hidden is not None:
            check_hidden_blocks(layout, hidden, missing)
        if missing == "ignore":
            layout = layout.without_masks()
    sites = model_sites(layout, spec.dtype)
    fixed = {**_identifying_sites(spec, layout, sites, priors or {}), **(fixed or {})}
    fixed = {**_response_constants(spec, layout, sites), **fixed}
    empty = {
        s.name: np.zeros(s.shape) for s in sites.values() if not s.deterministic and 0 in s.shape
    }
    fixed = {**empty, **fixed}  # a site with no entries (one class: no class steps) holds nothing
    fixed = {**mask_constants(spec, layout, X, hidden, truth), **fixed}
    if layout.response is not None:
        prefixes = tuple(f"{m.site_prefix}." for m in MODIFIERS)
        effects = [s for s in sites if s.startswith(prefixes) and s not in fixed]
        response_of(layout.response.field).fit_check(layout.response, effects)
    problem = Problem(
        spec=spec,
        layout=layout,
        X=X,
        design=design,
        columns=layout.columns,
        sites=sites,
        fixed=_check_fixed(fixed, sites, spec.dtype),
        priors=_check_priors(priors or {}, sites),
        truth=truth,
        hidden=hidden,
    )
    if not problem.free:
        parameters = [s.name for s in sites.values() if not s.deterministic]
        if not parameters:
            raise SpecError(
                "spec", spec.name, "its model has no parameter to fit (add a block that has one)"
            )
        raise SpecError("fixed", sorted(problem.fixed), "leave at least one parameter site free")
    return problem


def _identifying_sites(
    spec: Spec, layout: Layout, sites: dict[str, Site], priors: Mapping[str, Any]
) -> dict[str, np.ndarray]:
    """Sites each process fixes to the spec unless given a prior (its units, say)."""
    blocks = iter(layout.blocks)
    out: dict[str, np.ndarray] = {}
    for process in BLOCK_PROCESSES:
        for group in groups_of(spec, process):
            out.update(process.identifying_sites(group, next(blocks), sites, priors))
    return out


def _response_constants(spec: Spec, layout: Layout, sites: dict[str, Site]) -> dict[str, Any]:
    """The outcome's design constants (thresholds, centres, end of study) at the spec's
    values: a fit does not estimate them."""
    static = layout.response
    if static is None:
        return {}
    from synthbio_ppl.model.parameters import fixed_sites

    names = response_of(static.field).constant_sites(static)
    values = fixed_sites(spec)
    return {name: values[name] for name in names if name in sites and name in values}


def _class_codes(labels: Any, spec: Spec, n_rows: int) -> np.ndarray:
    names = spec.class_names
    if labels is None and len(names) == 1:  # one class (e.g. a structural scene): no labels
        return np.zeros(n_rows, dtype=np.int32)
    if labels is None:
        raise SpecError("labels", None, f"give one class label per row (one of {names})")
    values = pd.Series(np.asarray(labels, dtype=object))
    if len(values) != n_rows:
        raise SpecError("labels", f"{len(values)} labels", f"need one label per row ({n_rows})")
    if values.isna().any():
        raise SpecError("labels", f"{int(values.isna().sum())} missing", "every row needs a class")
    as_text = values.map(str)
    unknown = sorted(set(as_text) - set(names))
    if unknown:
        raise SpecError("labels", unknown[:5], f"must be one of the spec's classes {names}")
    codes = pd.Categorical(as_text, categories=names).codes.astype(np.int32)
    counts = np.bincount(codes, minlength=len(names))
    if (counts < 2).any():
        shown = {name: int(n) for name, n in zip(names, counts, strict=True)}
        raise SpecError("labels", shown, "every class of the spec needs at least 2 rows to fit")
    return codes


def _row_design(
    design: pd.DataFrame | RowDesign | None, layout: Layout, y: np.ndarray
) -> RowDesign:
    """The design codes every process of the layout reads, checked against the layout."""
    if isinstance(design, RowDesign):
        return _check_row_design(design, layout, y)
    frame = pd.DataFrame(index=pd.RangeIndex(len(y))) if design is None else design
    if len(frame) != len(y):
        raise SpecError(
            "design", f"{len(frame)} rows", f"need one design row per data row ({len(y)})"
        )
    why = "design columns are observed in the fit: give each row's level"
    codes = {
        name: _codes(frame, name, levels, why) for name, levels in design_levels(layout).items()
    }
    fields: dict[str, Any] = {"y": y, "groups": {}}
    for block in layout.blocks:
        _merge(fields, process_of(block.kind).design_entries(block, codes))
    for static in layout.modifiers:
        (column,) = modifier_of(static.field).design_columns(static)
        fields["batch"] = codes[column]
    return RowDesign(**fields)


def _merge(fields: dict[str, Any], entries: dict[str, Any]) -> None:
    for key, value in entries.items():
        fields[key] = {**fields[key], **value} if key == "groups" else value


def _codes(frame: pd.DataFrame, column: str, levels: list[str], why: str) -> np.ndarray:
    if column not in frame.columns:
        raise SpecError(f"covariates.{column}", "(missing)", f"{why} ({levels})")
    values = pd.Series(np.asarray(frame[column], dtype=object))
    as_text = values.map(lambda v: str(int(v)) if isinstance(v, int | np.integer) else str(v))
    by_name = {name: i for i, name in enumerate(levels)}
    by_index = {str(i): i for i in range(len(levels))}
    codes = as_text.map(lambda v: by_name.get(v, by_index.get(v, -1)))
    unknown = sorted(set(as_text[codes < 0]))
    if unknown:
        raise SpecError(f"covariates.{column}", unknown[:5], f"must be one of {levels}")
    return codes.to_numpy(dtype=np.int32)


def _check_row_design(design: RowDesign, layout: Layout, y: np.ndarray) -> RowDesign:
    """Design codes given as a RowDesign (the class codes come from the labels)."""
    fields: dict[str, Any] = {"y": y, "groups": {}}
    for static in layout.modifiers:
        n_levels = len(next(iter(modifier_of(static.field).design_columns(static).values())))
        values = design.batch
        if values is None:
            raise SpecError("design.batch", None, "missing; the spec's layout needs it")
        values = np.asarray(values)
        if values.shape != y.shape or not ((values >= 0) & (values < n_levels)).all():
            raise SpecError(
                "design.batch", values.shape, f"needs {len(y)} integer codes in [0, {n_levels})"
            )
        fields["batch"] = values.astype(np.int32)
    for block in layout.blocks:
        _merge(fields, process_of(block.kind).checked_design(block, design, len(y)))
    return RowDesign(**fields)


def _check_fixed(
    fixed: Mapping[str, Any], sites: dict[str, Site], dtype: str
) -> dict[str, np.ndarray]:
    out = {}
    params = [s.name for s in sites.values() if not s.deterministic]
    for name, value in fixed.items():
        if name not in params:
            raise SpecError(f"fixed.{name}", value, f"not a parameter site; sites: {params}")
        site = sites[name]
        try:
            array = np.broadcast_to(np.asarray(value, dtype=dtype), site.shape).copy()
        except ValueError:
            raise SpecError(f"fixed.{name}", value, f"needs shape {site.shape}") from None
        if not bool(np.all(site.prior.support(jnp.asarray(array)))):
            raise SpecError(
                f"fixed.{name}", value, f"must lie in the site's support {site.prior.support}"
            )
        out[name] = array
    return out


def _check_priors(
    priors: Mapping[str, Any], sites: dict[str, Site]
) -> dict[str, dist.Distribution]:
    params = [s.name for s in sites.values() if not s.deterministic]
    for name, prior in priors.items():
        if name not in params:
            raise SpecError(f"priors.{name}", prior, f"not a parameter site; sites: {params}")
        if not isinstance(prior, dist.Distribution):
            raise SpecError(f"priors.{name}", prior, "must be a numpyro distribution")
        site = sites[name]
        try:
            shaped = shaped_like(prior, site.prior)
        except ValueError as exc:
            raise SpecError(f"priors.{name}", prior, str(exc)) from None
        draws = shaped.sample(jax.random.PRNGKey(0), (256,))
        if not bool(np.all(site.prior.support(draws))):
            raise SpecError(
                f"priors.{name}",
                type(prior).__name__,
                f"its draws leave the site's support {site.prior.support}",
            )
    return dict(priors)
