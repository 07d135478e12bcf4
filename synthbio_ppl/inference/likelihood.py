"""The likelihood side of the dataset model: priors, fixed sites, observed table, design.

``likelihood_model(design, X, layout=..., fixed=..., priors=...)`` is ``dataset_model``
with the user's choices applied through NumPyro handlers (``condition`` for fixed sites,
a prior-replacing messenger, ``reparam`` for non-centred batch effects). ``build_problem``
checks a user's table, labels and design against the spec and raises ``SpecError`` (field
path, value, what is allowed) for anything the model cannot use.
"""

from __future__ import annotations

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
from numpyro import handlers
from numpyro.infer.reparam import LocScaleReparam
from numpyro.primitives import Messenger

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.keys import ROWS
from synthbio_ppl.data.dataset import Dataset
from synthbio_ppl.data.truth import batch_names
from synthbio_ppl.engine.draw import precision
from synthbio_ppl.model.dataset_model import RowDesign, dataset_model
from synthbio_ppl.model.layout import Layout, build_layout
from synthbio_ppl.model.parameters import fixed_sites
from synthbio_ppl.model.scene import Spec, load_spec, validate_spec

BATCH_SITES = ("batch.offset", "batch.log_factor")
"""The latent batch-effect sites (additive offsets or multiplicative log-factors)."""


# --------------------------------------------------------------------------- the model


class replace_priors(Messenger):
    """Swap the prior of named sample sites (``{"inf0.effect_size": dist.Normal(0, 1)}``).

    A univariate prior is expanded to the site's batch and event shape.
    """

    def __init__(self, fn: Callable | None = None, priors: Mapping[str, Any] | None = None):
        self.priors = dict(priors or {})
        super().__init__(fn)

    def process_message(self, msg: dict[str, Any]) -> None:
        if msg["type"] == "sample" and msg["name"] in self.priors:
            msg["fn"] = shaped_like(self.priors[msg["name"]], msg["fn"])


def shaped_like(new: dist.Distribution, old: dist.Distribution) -> dist.Distribution:
    """``new`` with ``old``'s batch + event shape and event dims (scalars are expanded)."""
    shape = old.batch_shape + old.event_shape
    if new.batch_shape + new.event_shape == shape:
        return new.to_event(old.event_dim - new.event_dim) if new.event_dim < old.event_dim else new
    if new.event_dim == 0 and new.batch_shape == ():
        return new.expand(shape).to_event(old.event_dim) if shape else new
    raise ValueError(f"prior of shape {new.batch_shape + new.event_shape} for a site of {shape}")


def likelihood_model(
    design: RowDesign,
    X: jax.Array | None = None,
    *,
    layout: Layout,
    fixed: Mapping[str, Any] | None = None,
    priors: Mapping[str, Any] | None = None,
    noncentred: bool = False,
) -> dict[str, jax.Array]:
    """``dataset_model`` with user priors, fixed sites, and optionally non-centred batches.

    Non-centred: β = s·z, z ~ N(0, 1) (``LocScaleReparam(0)``), for weakly informed offsets.
    """
    model: Callable = dataset_model
    if priors:
        model = replace_priors(model, priors=priors)
    if fixed:
        model = handlers.condition(model, data=dict(fixed))
    if noncentred and layout.batches is not None:
        config = {name: LocScaleReparam(0.0) for name in BATCH_SITES if name not in (fixed or {})}
        model = handlers.reparam(model, config=config)
    return model(layout, design, X)


@dataclass(frozen=True)
class Site:
    """A site outside the rows plate: its shape, kind and prior (None for deterministic)."""

    name: str
    shape: tuple[int, ...]
    deterministic: bool
    prior: dist.Distribution | None = None


def model_sites(layout: Layout, dtype: str = "float32") -> dict[str, Site]:
    """Every sample and deterministic site outside the rows plate, in model order."""
    one = np.zeros(2, dtype=np.int32)
    groups = {b.name: one for b in layout.blocks if b.kind == "pseudo"}
    design = RowDesign(one, one if layout.batches else None, groups)
    with precision(dtype):
        model = handlers.seed(partial(likelihood_model, layout=layout), rng_seed=0)
        trace = handlers.trace(model).get_trace(design)
    sites = {}
    for name, site in trace.items():
        if site["type"] not in ("sample", "deterministic"):
            continue
        if any(frame.name == ROWS for frame in site.get("cond_indep_stack", ())):
            continue
        deterministic = site["type"] == "deterministic"
        prior = None if deterministic else site["fn"]
        sites[name] = Site(name, tuple(np.shape(site["value"])), deterministic, prior)
    return sites


def row_latents(layout: Layout) -> list[str]:
    """Latent sites inside the rows plate (a structural scene's per-row factor values)."""
    if layout.structure is None:
        return []
    return [f"{layout.structure.name}.{factor}" for factor in layout.structure.factors]


# --------------------------------------------------------------------------- the data


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

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])

    @property
    def free(self) -> list[str]:
        """Sample sites that are fitted (not fixed)."""
        return [
            s.name for s in self.sites.values() if not s.deterministic and s.name not in self.fixed
        ]

    def model(self, noncentred: bool = False) -> Callable[..., dict[str, jax.Array]]:
        return partial(
            likelihood_model,
            layout=self.layout,
            fixed={k: jnp.asarray(v) for k, v in self.fixed.items()},
            priors=self.priors,
            noncentred=noncentred,
        )


def as_spec(spec: Spec | dict[str, Any] | str | Path) -> Spec:
    """A validated Spec from a Spec, a dict, or a YAML path."""
    if isinstance(spec, str | Path):
        return load_spec(spec)
    return validate_spec(spec)


def build_problem(
    spec: Spec | dict[str, Any] | str | Path | None,
    data: Dataset | pd.DataFrame,
    *,
    labels: pd.Series | np.ndarray | list[Any] | None = None,
    design: pd.DataFrame | RowDesign | None = None,
    fixed: Mapping[str, Any] | None = None,
    priors: Mapping[str, dist.Distribution] | None = None,
) -> Problem:
    """Check the input and assemble the observed table, its design and the site table."""
    truth = None
    if isinstance(data, Dataset):
        spec = data.spec if spec is None else spec
        frame, labels = data.X, data.y if labels is None else labels
        design = data.covariates if design is None else design
        truth = {k: np.asarray(v) for k, v in data.truth.parameters.items()}
    elif isinstance(data, pd.DataFrame):
        frame = data
    else:
        raise SpecError("data", type(data).__name__, "must be a Dataset or a pandas DataFrame")
    if spec is None:
        raise SpecError("spec", None, "give the spec that describes the data's model")
    spec = as_spec(spec)
    layout = build_layout(spec)
    columns = layout.columns
    design_columns = _design_columns(layout)
    if labels is None and "y" in frame.columns:
        labels = frame["y"]
    if design is None:
        present = [c for c in design_columns if c in frame.columns]
        design = frame[present] if present else None
    X = _feature_matrix(frame, columns, {"y", *design_columns}, spec.dtype)
    y = _class_codes(labels, spec, X.shape[0])
    levels = spec.structure.level_names() if spec.structure is not None else None
    row_design = _row_design(design, layout, y, levels)
    return make_problem(spec, X, row_design, fixed, priors, truth)


def make_problem(
    spec: Spec,
    X: np.ndarray,
    design: RowDesign,
    fixed: Mapping[str, Any] | None = None,
    priors: Mapping[str, dist.Distribution] | None = None,
    truth: dict[str, np.ndarray] | None = None,
) -> Problem:
    """A Problem from checked parts: the spec, an (rows, features) table and its design."""
    layout = build_layout(spec)
    sites = model_sites(layout, spec.dtype)
    fixed = {**_factor_scale_sites(spec, sites, priors or {}), **(fixed or {})}
    return Problem(
        spec=spec,
        layout=layout,
        X=X,
        design=design,
        columns=layout.columns,
        sites=sites,
        fixed=_check_fixed(fixed, sites, spec.dtype),
        priors=_check_priors(priors or {}, sites),
        truth=truth,
    )


def _factor_scale_sites(
    spec: Spec, sites: dict[str, Site], priors: Mapping[str, Any]
) -> dict[str, np.ndarray]:
    """A structural scene's factor mean/sd sites, fixed to the spec unless given a prior.

    Loadings·factor is unchanged when a factor is rescaled and its loadings divided by the
    same number (and its mean moves into the baselines), so the data cannot tell them apart:
    the factors' location and scale are what define their units.
    """
    if spec.structure is None:
        return {}
    scene = spec.structure.name
    names = [
        f"{scene}.{factor}.{part}" for factor in spec.structure.factors for part in ("mean", "sd")
    ]
    values = fixed_sites(spec)
    return {n: np.asarray(values[n]) for n in names if n in sites and n not in priors}


def _design_columns(layout: Layout) -> list[str]:
    names = list(layout.structure.covariates) if layout.structure is not None else []
    names += ["batch"] if layout.batches is not None else []
    return names + [f"{b.name}_group" for b in layout.blocks if b.kind == "pseudo"]


def _feature_matrix(
    frame: pd.DataFrame, columns: list[str], known: set[str], dtype: str
) -> np.ndarray:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        shown = missing[:5] + ([f"... {len(missing) - 5} more"] if len(missing) > 5 else [])
        raise SpecError(
            "X",
            shown,
            f"missing feature columns; the spec's {len(columns)} columns are "
            f"{columns[0]} ... {columns[-1]} (see synthbio describe)",
        )
    extra = [str(c) for c in frame.columns if c not in set(columns) and c not in known]
    if extra:
        raise SpecError("X", extra[:5], "unknown columns for this spec; drop them or fix the spec")
    for column in columns:
        if not pd.api.types.is_numeric_dtype(frame[column]) or pd.api.types.is_bool_dtype(
            frame[column]
        ):
            raise SpecError(f"X.{column}", str(frame[column].dtype), "must be a numeric column")
    values = frame[columns].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        j = int(np.argmax(bad.any(axis=0)))
        n_bad = int(bad[:, j].sum())
        raise SpecError(
            f"X.{columns[j]}",
            f"{n_bad} missing or infinite value(s)",
            "every value must be a finite number; drop or impute those rows first",
        )
    return values.astype(dtype)


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
    design: pd.DataFrame | RowDesign | None,
    layout: Layout,
    y: np.ndarray,
    covariate_levels: dict[str, list[str]] | None = None,
) -> RowDesign:
    """Batch, pseudo-class group and covariate codes (``covariate_levels``: a structural scene's
    covariates and their level names) checked against the layout."""
    if isinstance(design, RowDesign):
        return _check_row_design(design, layout, y)
    frame = pd.DataFrame(index=pd.RangeIndex(len(y))) if design is None else design
    if len(frame) != len(y):
        raise SpecError(
            "design", f"{len(frame)} rows", f"need one design row per data row ({len(y)})"
        )
    batch = None
    if layout.batches is not None:
        names = batch_names(layout.batches.n_batches)
        batch = _codes(frame, "batch", names, "the spec has batches: give each row's batch")
    groups = {}
    for block in layout.blocks:
        if block.kind == "pseudo":
            column = f"{block.name}_group"
            levels = [str(g) for g in range(block.n_levels)]
            why = "pseudo-class groups are design in the fit: give each row's group"
            groups[block.name] = _codes(frame, column, levels, why)
    covariates = None
    if covariate_levels:
        why = "a structural scene's covariates are observed in the fit: give each row's level"
        covariates = np.stack(
            [_codes(frame, name, names, why) for name, names in covariate_levels.items()],
            axis=-1,
        )
    return RowDesign(y=y, batch=batch, groups=groups, covariates=covariates)


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
    """Batch and group codes given as a RowDesign (the class codes come from the labels)."""
    checks: dict[str, tuple[Any, int]] = {}
    if layout.batches is not None:
        checks["design.batch"] = (design.batch, layout.batches.n_batches)
    for block in layout.blocks:
        if block.kind == "pseudo":
            groups = (design.groups or {}).get(block.name)
            checks[f"design.groups.{block.name}"] = (groups, block.n_levels)
    out = {}
    for path, (values, n_levels) in checks.items():
        if values is None:
            raise SpecError(path, None, "missing; the spec's layout needs it")
        values = np.asarray(values)
        if values.shape != y.shape or not ((values >= 0) & (values < n_levels)).all():
            raise SpecError(path, values.shape, f"needs {len(y)} integer codes in [0, {n_levels})")
        out[path] = values.astype(np.int32)
    groups = {k.rsplit(".", 1)[1]: v for k, v in out.items() if k.startswith("design.groups.")}
    structure = layout.structure
    covariates = None
    if structure is not None and structure.covariates:
        covariates = np.asarray(design.covariates if design.covariates is not None else [])
        width = len(structure.covariates)
        in_range = covariates.shape == (len(y), width) and bool(
            ((covariates >= 0) & (covariates < np.asarray(structure.n_levels))).all()
        )
        if not in_range:
            raise SpecError(
                "design.covariates",
                covariates.shape,
                f"needs ({len(y)}, {width}) integer codes, column c in [0, levels of c)",
            )
        covariates = covariates.astype(np.int32)
    return RowDesign(y=y, batch=out.get("design.batch"), groups=groups, covariates=covariates)


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
