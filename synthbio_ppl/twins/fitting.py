"""Synthetic twins of a real table: fit ``twin_model`` to it, then sample new rows.

``twin(df, label="target")`` fits the class-conditional copula model of
``synthbio_ppl.twins.model``: a MAP point estimate by default (seconds), ``"svi"`` for a
mean-field posterior, ``"nuts"`` for the full posterior (minutes for 30 columns).
``Twin.sample(n, seed=..., balance=...)`` runs the same model forward: with ``svi``/``nuts``
each synthetic row takes its parameters from one posterior draw (rows are split evenly
over the draws), so the table carries the fit's uncertainty rather than one plug-in
estimate. Class counts are exact: the real table's balance by default, equal classes, or
given counts/shares.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from numpyro import handlers

from synthbio_ppl.core.cache import enable_compilation_cache
from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.inference.programs import STATS, cached, map_fit, nuts_chain, svi_fit
from synthbio_ppl.twins.columns import MIN_ROWS_PER_CLASS, TwinLayout, read_layout
from synthbio_ppl.twins.model import TwinData, TwinDesign, TwinShape, loadings, twin_model

Method = Literal["nuts", "svi", "map"]
Balance = None | Literal["equal"] | Mapping[Hashable, float]
PARAMETERS = ("power", "loc", "noise_sd", "loading", "loading_diag")


def default_rank(n_numeric: int) -> int:
    """r = ⌈0.4·p⌉ capped at p − 1 (at least 1): 12 factors for 30 columns. On the
    breast-cancer table 6 factors left the correlation error 1.7× larger (Frobenius 2.49
    vs 1.50, mean of 3 splits) and 20 gained nothing (1.65); see benchmarks/RESULTS.md."""
    return max(1, min(n_numeric - 1, math.ceil(0.4 * n_numeric)))


def twin(
    data: pd.DataFrame,
    label: str,
    *,
    types: Mapping[str, str] | None = None,
    bounds: Mapping[str, tuple[float | None, float | None]] | None = None,
    rank: int | None = None,
    method: Method = "map",
    num_warmup: int = 500,
    num_samples: int = 500,
    svi_steps: int = 4000,
    learning_rate: float = 0.01,
    seed: int = 0,
    min_rows_per_class: int = MIN_ROWS_PER_CLASS,
) -> Twin:
    """Fit the twin model to ``data`` (one row per subject, class in column ``label``).

    ``types`` declares columns as ``continuous``/``integer``/``categorical`` (required for
    non-numeric columns); ``bounds`` gives ``(low, high)`` per column (default: 0 below for
    columns that are never negative). ``rank`` is the number of latent factors per class.
    """
    if method not in ("nuts", "svi", "map"):
        raise SpecError("method", method, "must be 'nuts', 'svi' or 'map'")
    for name, value in (("num_warmup", num_warmup), ("num_samples", num_samples)):
        if value < 1:
            raise SpecError(name, value, "must be ≥ 1")
    layout = read_layout(data, label, types, bounds, min_rows_per_class)
    p = len(layout.numeric)
    if p == 0:
        raise SpecError("data.columns", "(no numeric column)", "a twin needs a numeric column")
    rank = default_rank(p) if rank is None else rank
    if isinstance(rank, bool) or not isinstance(rank, int | np.integer) or not 1 <= rank <= p:
        raise SpecError("rank", rank, f"must be between 1 and the numeric columns ({p})")
    shape = _shape(layout, rank)
    y = _class_codes(data[label], layout)
    numeric = data[[c.name for c in layout.numeric]].to_numpy(dtype=np.float32)
    codes = _category_codes(data, layout)
    n_rows, padded = len(y), _bucket(len(y))
    design = _design(layout, _pad(y, padded))._replace(present=jnp.arange(padded) < n_rows)
    fill = np.array([c.centre for c in layout.numeric], dtype=np.float32)
    observed = TwinData(
        jnp.asarray(np.vstack([numeric, np.tile(fill, (padded - n_rows, 1))])),
        jnp.asarray(_pad(codes, padded)),
    )
    enable_compilation_cache()
    started = time.perf_counter()
    key = jax.random.PRNGKey(seed)
    run = _fit_program(shape, method, num_warmup, num_samples, svi_steps, learning_rate)
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
    )


def _bucket(n_rows: int) -> int:
    """Rows padded up to a multiple of 64 (of 512 beyond 4,096): CV folds and refits of
    similar tables then reuse one compiled fit."""
    step = 64 if n_rows <= 4096 else 512
    return step * math.ceil(n_rows / step)


def _pad(values: np.ndarray, rows: int) -> np.ndarray:
    """``values`` with zero rows appended up to ``rows`` rows."""
    extra = np.zeros((rows - len(values), *values.shape[1:]), dtype=values.dtype)
    return np.concatenate([values, extra])


def _sites(shape: TwinShape) -> tuple[str, ...]:
    return PARAMETERS + tuple(f"levels{k}" for k in range(len(shape.n_levels)))


def _shape(layout: TwinLayout, rank: int) -> TwinShape:
    return TwinShape(
        n_classes=len(layout.classes),
        n_numeric=len(layout.numeric),
        rank=rank,
        n_levels=tuple(len(c.levels) for c in layout.categorical),
        integer=tuple(c.kind == "integer" for c in layout.numeric),
    )


def _design(layout: TwinLayout, y: np.ndarray) -> TwinDesign:
    numeric = layout.numeric
    low = [-np.inf if c.low is None else c.low for c in numeric]
    high = [np.inf if c.high is None else c.high for c in numeric]
    return TwinDesign(
        y=jnp.asarray(y, dtype=jnp.int32),
        centre=jnp.asarray([c.centre for c in numeric], dtype=jnp.float32),
        scale=jnp.asarray([c.scale for c in numeric], dtype=jnp.float32),
        low=jnp.asarray(low, dtype=jnp.float32),
        high=jnp.asarray(high, dtype=jnp.float32),
    )


def _class_codes(values: pd.Series, layout: TwinLayout) -> np.ndarray:
    labels = np.asarray(values, dtype=object)
    return pd.Categorical(labels, categories=list(layout.classes)).codes.astype(np.int32)


def _category_codes(data: pd.DataFrame, layout: TwinLayout) -> np.ndarray:
    codes = [
        pd.Categorical(np.asarray(data[c.name], dtype=object), categories=list(c.levels)).codes
        for c in layout.categorical
    ]
    if not codes:
        return np.zeros((len(data), 0), dtype=np.int32)
    return np.stack(codes, axis=-1).astype(np.int32)


def _fit_program(
    shape: TwinShape,
    method: Method,
    num_warmup: int,
    num_samples: int,
    svi_steps: int,
    learning_rate: float,
) -> Any:
    """``run(key, design, data) -> (draws (draw, ...), stats)``, compiled once per shape."""

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

    settings = (method, num_warmup, num_samples, svi_steps, learning_rate)
    return cached(("twin", shape, *settings), build)


# --------------------------------------------------------------------------- the twin


@dataclass(frozen=True)
class Twin:
    """A fitted twin: the table's layout, posterior draws of every parameter site."""

    layout: TwinLayout
    shape: TwinShape
    draws: dict[str, np.ndarray]
    method: str
    class_counts: dict[Hashable, int]
    stats: dict[str, np.ndarray]
    fit_seconds: float

    @property
    def n_draws(self) -> int:
        return int(self.draws["power"].shape[0])

    def counts(self, n: int | None = None, balance: Balance = None) -> dict[Hashable, int]:
        """Rows per class for ``n`` rows: the real balance (None), ``"equal"``, or a mapping
        class → weight. Whole-number weights that add up to ``n`` (or with ``n`` omitted)
        are row counts; any other weights are proportions ({0: 1, 1: 3} with n = 100 gives
        25 and 75)."""
        classes = list(self.layout.classes)
        real = np.array([self.class_counts[c] for c in classes], dtype=float)
        if isinstance(balance, Mapping):
            unknown = [str(k) for k in balance if k not in classes]
            if unknown:
                raise SpecError("balance", unknown, f"classes are {classes}")
            given = np.array([float(balance.get(c, 0)) for c in classes])
            if (given < 0).any() or given.sum() <= 0:
                raise SpecError("balance", dict(balance), "needs non-negative values, not all 0")
            whole = np.allclose(given, np.round(given)) and given.sum() > 1.0 + 1e-9
            if whole and (n is None or round(given.sum()) == n):
                return dict(zip(classes, np.round(given).astype(int).tolist(), strict=True))
            shares = given / given.sum()
        elif isinstance(balance, str) and balance == "equal":
            shares = np.full(len(classes), 1.0 / len(classes))
        elif balance is None:
            shares = real / real.sum()
        else:
            raise SpecError("balance", balance, "must be None, 'equal' or a mapping class → share")
        n = int(real.sum()) if n is None else n
        if n < 1:
            raise SpecError("n", n, "must be ≥ 1")
        return dict(zip(classes, _largest_remainder(shares, n).tolist(), strict=True))

    def sample(
        self, n: int | None = None, *, seed: int = 0, balance: Balance = None
    ) -> pd.DataFrame:
        """A synthetic table with the real table's columns, order and dtypes; ``n`` rows
        (default: as many as the real table) in the requested class balance."""
        counts = self.counts(n, balance)
        per_class = np.array(list(counts.values()))
        rng = np.random.default_rng(seed)
        y = rng.permutation(np.repeat(np.arange(len(per_class)), per_class)).astype(np.int32)
        n_rows = len(y)
        n_draws = min(self.n_draws, n_rows)
        per_draw = math.ceil(n_rows / n_draws)
        padded = _pad(y, n_draws * per_draw)
        pick = np.linspace(0, self.n_draws - 1, n_draws).round().astype(int)
        params = {k: jnp.asarray(v[pick]) for k, v in self.draws.items()}
        design = _design(self.layout, padded.reshape(n_draws, per_draw))
        numeric, codes = _forward(self.shape)(jax.random.PRNGKey(seed), params, design)
        total = n_draws * per_draw
        numeric = np.asarray(numeric).reshape(total, self.shape.n_numeric)[:n_rows]
        codes = np.asarray(codes).reshape(total, len(self.shape.n_levels))[:n_rows]
        return self._table(y, numeric, codes)

    def _table(self, y: np.ndarray, numeric: np.ndarray, codes: np.ndarray) -> pd.DataFrame:
        layout = self.layout
        columns: dict[str, Any] = {}
        for j, column in enumerate(layout.numeric):
            values = numeric[:, j].astype(np.float64)
            if pd.api.types.is_integer_dtype(column.dtype):  # also a column typed continuous
                values = np.rint(values)
            columns[column.name] = values.astype(column.dtype)
        for k, column in enumerate(layout.categorical):
            values = np.asarray(column.levels, dtype=object)[codes[:, k]]
            columns[column.name] = _restore(values, column.dtype)
        labels = np.asarray(layout.classes, dtype=object)[y]
        columns[layout.label] = _restore(labels, layout.label_dtype)
        return pd.DataFrame({name: columns[name] for name in layout.order})

    def _covariance(self, c: int) -> np.ndarray:
        """Class ``c``'s Gaussian-scale covariance W Wᵀ + diag(σ²), one per draw (D, p, p)."""
        factor = np.asarray(
            loadings(
                jnp.asarray(self.draws["loading"][:, c]),
                jnp.asarray(self.draws["loading_diag"][:, c]),
                self.shape.rank,
            )
        )
        cov = factor @ np.swapaxes(factor, -1, -2)
        index = np.arange(cov.shape[-1])
        cov[:, index, index] += self.draws["noise_sd"][:, c] ** 2
        return cov

    def correlation(self, cls: Hashable) -> pd.DataFrame:
        """Posterior mean of class ``cls``'s copula correlation (numeric columns)."""
        cov = self._covariance(list(self.layout.classes).index(cls))
        sd = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
        corr = (cov / sd[:, :, None] / sd[:, None, :]).mean(axis=0)
        names = [col.name for col in self.layout.numeric]
        return pd.DataFrame(corr, index=names, columns=names)

    def parameters(self) -> pd.DataFrame:
        """Per numeric column: fitted power λ (posterior mean and sd), and per class the
        median on the data scale (m + s·ψ⁻¹(μ_c)) and the Gaussian-scale sd."""
        from synthbio_ppl.twins.power_transform import yeo_johnson_inverse

        numeric = self.layout.numeric
        centre = np.array([c.centre for c in numeric])
        scale = np.array([c.scale for c in numeric])
        power = self.draws["power"]
        table = pd.DataFrame(
            {"power": power.mean(axis=0), "power_sd": power.std(axis=0)},
            index=pd.Index([c.name for c in numeric], name="column"),
        )
        for c, name in enumerate(self.layout.classes):
            mu = np.asarray(yeo_johnson_inverse(self.draws["loc"][:, c], power))
            table[f"median[{name}]"] = (centre + scale * mu).mean(axis=0)
            var = np.diagonal(self._covariance(c), axis1=-2, axis2=-1)
            table[f"gaussian_sd[{name}]"] = np.sqrt(var).mean(axis=0)
        return table

    def to_inference_data(self) -> Any:
        """The posterior draws as ArviZ InferenceData (one chain), with named dims."""
        from synthbio_ppl.core.arviz import import_arviz

        az = import_arviz()
        numeric = [c.name for c in self.layout.numeric]
        coords: dict[str, list[Any]] = {
            "class": [str(c) for c in self.layout.classes],
            "column": numeric,
            "factor": list(range(self.shape.rank)),
        }
        dims = {
            "power": ["column"],
            "loc": ["class", "column"],
            "noise_sd": ["class", "column"],
            "loading": ["class", "column", "factor"],
            "loading_diag": ["class", "factor"],
        }
        for k, column in enumerate(self.layout.categorical):
            coords[f"{column.name}_level"] = [str(v) for v in column.levels]
            dims[f"levels{k}"] = ["class", f"{column.name}_level"]
        stats = {k: v[None] for k, v in self.stats.items() if k in STATS}  # NUTS only
        return az.from_dict(
            posterior={k: v[None] for k, v in self.draws.items()},
            sample_stats=stats or None,
            coords=coords,
            dims=dims,
            attrs={"method": self.method, "label": self.layout.label},
        )


def _largest_remainder(shares: np.ndarray, n: int) -> np.ndarray:
    """Integer counts summing to ``n`` closest to ``shares·n`` (Hamilton's method)."""
    raw = shares * n
    counts = np.floor(raw).astype(int)
    counts[np.argsort(-(raw - counts), kind="stable")[: n - counts.sum()]] += 1
    return counts


def _restore(values: np.ndarray, dtype: Any) -> Any:
    """``values`` (an object array) as a column of the real table's ``dtype``."""
    if isinstance(dtype, pd.CategoricalDtype):
        return pd.Categorical(values, dtype=dtype)
    if dtype == np.dtype(object):
        return pd.Series(values, dtype=object)
    try:
        return pd.array(values.tolist(), dtype=dtype)
    except (TypeError, ValueError):
        return pd.Series(values, dtype=object)


def _forward(shape: TwinShape) -> Any:
    """``run(key, params (draw, ...), design (draw, rows)) -> (numeric, codes)``: the model
    run forward once per posterior draw, each on its own block of rows."""

    def build() -> Any:
        model = partial(twin_model, shape=shape)

        def one(key: jax.Array, params: dict[str, jax.Array], design: TwinDesign) -> Any:
            seeded = handlers.substitute(handlers.seed(model, key), data=params)
            trace = handlers.trace(seeded).get_trace(design)
            codes = [trace[f"code{k}"]["value"] for k in range(len(shape.n_levels))]
            stacked = jnp.stack(codes, -1) if codes else jnp.zeros((design.y.shape[0], 0), int)
            return trace["table"]["value"], stacked

        def run(key: jax.Array, params: dict[str, jax.Array], design: TwinDesign) -> Any:
            keys = jax.random.split(key, design.y.shape[0])

            def block(k: jax.Array, draw: dict[str, jax.Array], y: jax.Array) -> Any:
                return one(k, draw, design._replace(y=y))

            return jax.vmap(block)(keys, params, design.y)

        return jax.jit(run)

    return cached(("twin-forward", shape), build)
