"""Synthetic twins of a real table: fit ``twin_model`` to it with ``twin``.

``twin(df, label="target")`` fits the class-conditional copula model of
``synthbio_ppl.twins.model``: a MAP point estimate by default (seconds), ``"svi"`` for a
mean-field posterior, ``"nuts"`` for the full posterior (minutes for 30 columns). It
returns a ``Twin`` (``synthbio_ppl.twins.posterior``), whose ``sample`` draws new rows.

Missing values: the value model is fitted to the observed cells (missing numeric cells
are integrated out of each row's Gaussian, missing categorical cells skipped; no row is
dropped), and the fraction of missing cells per column and class
(``twins.missingness.missing_rates``) is stored as ``Twin.missing_rates`` for ``sample``
to reproduce.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from functools import partial
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from synthbio_ppl.core.cache import enable_compilation_cache
from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.inference.kernels import map_fit, nuts_chain, svi_fit
from synthbio_ppl.inference.programs import cached
from synthbio_ppl.twins.budget import check_twin_budget
from synthbio_ppl.twins.columns import MIN_ROWS_PER_CLASS, read_layout
from synthbio_ppl.twins.design import (
    _bucket,
    _category_codes,
    _class_codes,
    _design,
    _numeric_values,
    _pad,
    _shape,
)
from synthbio_ppl.twins.missingness import missing_rates
from synthbio_ppl.twins.model import TwinData, TwinDesign, TwinShape, twin_model
from synthbio_ppl.twins.observed_normal import observed_cells
from synthbio_ppl.twins.posterior import Twin
from synthbio_ppl.twins.settings import (
    DEFAULT_METHOD,
    check_method,
    default_rank,
    kept_draws,
    resolve_settings,
)

Method = Literal["nuts", "svi", "map"]
PARAMETERS = ("power", "loc", "noise_sd", "loading", "loading_diag")


def twin(
    data: pd.DataFrame,
    label: str,
    *,
    types: Mapping[str, str] | None = None,
    bounds: Mapping[str, tuple[float | None, float | None]] | None = None,
    rank: int | None = None,
    method: Method = DEFAULT_METHOD,
    num_warmup: int | None = None,
    num_samples: int | None = None,
    svi_steps: int | None = None,
    learning_rate: float | None = None,
    seed: int = 0,
    min_rows_per_class: int = MIN_ROWS_PER_CLASS,
) -> Twin:
    """Fit the twin model to ``data`` (one row per subject, class in column ``label``).

    ``types`` declares columns as ``continuous``/``integer``/``categorical`` (default: text,
    boolean and category columns are categorical, integer columns integer, the rest
    continuous; dates are refused with a conversion to days that works with or without a
    time zone (``twins.dates``), as are column names that are not strings or hold '/');
    nullable and float32 dtypes come back as they went in. ``bounds`` gives ``(low,
    high)`` per numeric column (default: its observed range; ``Twin.sample`` keeps draws
    within it); bounds for a categorical column are refused. ``rank`` is the number of
    latent factors per class.

    Fit settings (``twins.settings.FIT_SETTINGS``; None: the default where it applies):
    ``svi_steps`` (4000) and ``learning_rate`` (0.01) set the Adam optimisation of ``map``
    and ``svi``, ``num_warmup`` (500) the NUTS warmup, ``num_samples`` (500) the draws of
    ``svi`` and ``nuts``. One given for a method it does not apply to (``num_warmup`` with
    ``map``) is refused, not ignored. ``Twin.fit_settings`` holds the values used (None
    where a setting does not apply).

    Feature cells may be missing (NaN, None, ``pd.NA``): the fit uses the observed cells
    (see the module docstring) and the twin keeps each column's missing fraction per class
    (``Twin.missing_rates``). Raises ``SpecError`` naming the column for a missing class
    label, a column with no observed value, an infinite value or one too far out for the
    model (``twins.columns.MAX_ROBUST_Z``), complex numbers, a list in a cell, or a bad
    bound; for a table whose fit would exceed the memory limit (``twins.budget``).
    """
    check_method(method)
    _check_arguments(label, types, bounds)
    counts = (
        ("num_warmup", num_warmup),
        ("num_samples", num_samples),
        ("svi_steps", svi_steps),
        ("min_rows_per_class", min_rows_per_class),
    )
    for name, value in counts:
        if value is None and name != "min_rows_per_class":
            continue  # the default, where the setting applies
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise SpecError(name, value, "must be a whole number ≥ 1")
        if value >= 2**31:  # the compiled loops count in int32
            raise SpecError(name, f"{value:,}", f"must be below 2^31 ({2**31:,})")
    given = {
        "svi_steps": svi_steps,
        "learning_rate": learning_rate,
        "num_warmup": num_warmup,
        "num_samples": num_samples,
    }
    settings = resolve_settings(method, given)
    layout = read_layout(data, label, types, bounds, min_rows_per_class)
    p = len(layout.numeric)
    if p == 0:
        raise SpecError("data.columns", "(no numeric column)", "a twin needs a numeric column")
    rank = default_rank(p) if rank is None else rank
    if isinstance(rank, bool) or not isinstance(rank, int | np.integer) or not 1 <= rank <= p:
        raise SpecError("rank", rank, f"must be between 1 and the numeric columns ({p})")
    shape = _shape(layout, rank)
    n_levels = sum(len(c.levels) for c in layout.categorical)
    n_draws = kept_draws(method, settings)
    check_twin_budget(len(data), p, n_levels, len(layout.classes), rank, n_draws)
    y = _class_codes(data[label], layout)
    numeric, seen = _numeric_values(data, layout)
    codes = _category_codes(data, layout)
    n_rows, padded = len(y), _bucket(len(y))
    design = _design(_pad(y, padded))._replace(present=jnp.arange(padded) < n_rows)
    observed = TwinData(
        jnp.asarray(_pad(numeric, padded)),  # padding rows hold 0, each column's centre
        jnp.asarray(_pad(codes, padded)),
        None if seen.all() else observed_cells(_pad(seen, padded, fill=True), _pad(y, padded)),
    )
    rates = missing_rates(data, label, [c.name for c in layout.columns], layout.classes)
    enable_compilation_cache()
    started = time.perf_counter()
    key = jax.random.PRNGKey(seed)
    run = _fit_program(shape, method, settings)
    draws, stats = run(key, design, observed)
    draws = {k: np.asarray(v) for k, v in draws.items() if k in _sites(shape)}
    bad = [k for k, v in draws.items() if not np.isfinite(v).all()]
    if bad:
        raise SpecError("data", f"non-finite posterior draws of {bad[:3]}", "the fit diverged")
    if method == "nuts":
        share = float(np.mean(np.asarray(stats["diverging"])))
        if share > 0.01:
            warnings.warn(
                f"{share:.0%} of the NUTS transitions diverged: the draws may be biased. "
                "Strongly collinear columns make the posterior hard to explore; "
                "a smaller rank, method='svi' or method='map' are the alternatives.",
                RuntimeWarning,
                stacklevel=2,
            )
    counts = np.bincount(y, minlength=len(layout.classes))
    return Twin(
        layout=layout,
        shape=shape,
        draws=draws,
        method=method,
        class_counts=dict(zip(layout.classes, counts.tolist(), strict=True)),
        stats={k: np.asarray(v) for k, v in stats.items()},
        fit_seconds=time.perf_counter() - started,
        missing_rates=rates,
        fit_settings=settings,
    )


def _sites(shape: TwinShape) -> tuple[str, ...]:
    return PARAMETERS + tuple(f"levels{k}" for k in range(len(shape.n_levels)))


def _check_arguments(label: Any, types: Any, bounds: Any) -> None:
    """The arguments a fit cannot check by reading the table (SpecError naming them; the
    learning rate is checked with the other settings, ``twins.settings``)."""
    if not isinstance(label, str):
        raise SpecError("label", label, "must be the label column's name (a string)")
    for name, value in (("types", types), ("bounds", bounds)):
        if value is not None and not isinstance(value, Mapping):
            raise SpecError(name, value, "must be a mapping {column: ...}")


def _fit_program(shape: TwinShape, method: Method, settings: Mapping[str, Any]) -> Any:
    """``run(key, design, data) -> (draws (draw, ...), stats)``, compiled once per shape;
    ``settings`` resolved (``twins.settings.resolve_settings``: None where not used)."""
    svi_steps, learning_rate = settings["svi_steps"], settings["learning_rate"]
    num_warmup, num_samples = settings["num_warmup"], settings["num_samples"]

    def build() -> Any:
        model = partial(twin_model, shape=shape)

        def run(key: jax.Array, design: TwinDesign, data: TwinData) -> Any:
            if method == "nuts":
                return nuts_chain(model, key, design, data, {}, num_warmup, num_samples, 0.8)
            if method == "map":
                mode, losses = map_fit(model, key, design, data, {}, svi_steps, learning_rate)
                return mode, {"loss": losses}
            fitting = (svi_steps, learning_rate, "normal", num_samples, _sites(shape))
            draws, losses = svi_fit(model, key, design, data, {}, *fitting)
            return draws, {"loss": losses}

        return jax.jit(run)

    key = (method, num_warmup, num_samples, svi_steps, learning_rate)
    return cached(("twin", shape, *key), build)
