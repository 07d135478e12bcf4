"""``Twin``: a fitted twin, its posterior draws, and sampling synthetic tables from it.

``Twin.sample(n, seed=..., balance=...)`` runs ``twin_model`` forward (the posterior
predictive): with ``svi``/``nuts`` draws each synthetic row takes its parameters from one
posterior draw (rows are split evenly over the draws), so the table carries the fit's
uncertainty rather than one plug-in estimate. Class counts are exact: the real table's
balance by default, equal classes, or given counts/shares. Cells are then set missing
with each column's missing fraction in the row's class (``missing_rates``), from a key of
their own. The fitted parameters are read back by ``parameters``, ``correlation`` and
``to_inference_data`` (ArviZ).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from functools import partial
from numbers import Integral
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from numpyro import handlers

from synthbio_ppl.core.errors import SpecError, check_seed
from synthbio_ppl.core.keys import named_key
from synthbio_ppl.inference.kernels import STATS
from synthbio_ppl.inference.programs import cached
from synthbio_ppl.twins.balance import class_counts
from synthbio_ppl.twins.budget import MAX_SAMPLE_ROWS, check_sample_budget
from synthbio_ppl.twins.columns import TwinLayout
from synthbio_ppl.twins.design import _design, _outside, _pad, _to_data, _unclipped
from synthbio_ppl.twins.model import TwinDesign, TwinShape, loadings, twin_model

Balance = None | Literal["equal"] | Mapping[Hashable, float]
REDRAWS = 16
"""Rounds of redrawing the rows with a value beyond its column's bounds (by default the
observed range); a row still outside after them is clipped."""


@dataclass(frozen=True)
class Twin:
    """A fitted twin: the table's layout, posterior draws of every parameter site.

    ``missing_rates`` (feature columns × classes, float64): the fraction of each column's
    cells missing in each class of the fitted table; None means none were.
    ``fit_settings``: the fit settings the fit used (``twins.settings``), None where one
    does not apply to ``method``.
    """

    layout: TwinLayout
    shape: TwinShape
    draws: dict[str, np.ndarray]
    method: str
    class_counts: dict[Hashable, int]
    stats: dict[str, np.ndarray]
    fit_seconds: float
    missing_rates: pd.DataFrame | None = None
    fit_settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def n_draws(self) -> int:
        return int(self.draws["power"].shape[0])

    def __repr__(self) -> str:
        """One line: the label and its classes with their rows, the columns by kind, the
        method and posterior draws (the draws themselves stay in ``draws``)."""
        layout = self.layout
        classes = ", ".join(f"{c}: {self.class_counts[c]}" for c in layout.classes)
        return (
            f"Twin(label={layout.label!r} ({classes}), {len(layout.numeric)} numeric and "
            f"{len(layout.categorical)} categorical columns, {self.method}, "
            f"{self.n_draws} draw{'' if self.n_draws == 1 else 's'}, "
            f"fitted in {self.fit_seconds:.1f} s)"
        )

    def counts(self, n: int | None = None, balance: Balance = None) -> dict[Hashable, int]:
        """Rows per class for ``n`` rows: the real balance (None), ``"equal"``, or a mapping
        class → weight. Whole-number weights that add up to ``n`` (or with ``n`` omitted)
        are row counts; any other weights are proportions ({0: 1, 1: 3} with n = 100 gives
        25 and 75), each above 0 coming to at least one row (``twins.balance``)."""
        real = {c: self.class_counts[c] for c in self.layout.classes}
        return class_counts(balance, real, n)

    def sample(
        self,
        n: int | None = None,
        *,
        seed: int = 0,
        balance: Balance = None,
        missing: bool = True,
    ) -> pd.DataFrame:
        """A synthetic table with the real table's columns, order and dtypes; ``n`` rows
        (default: as many as the real table) in the requested class balance.

        With ``missing`` (default) each cell is missing (NaN, or the dtype's NA) with its
        column's fraction in the row's class (``missing_rates``); ``missing=False`` returns
        the complete table, whose values are those under the mask for the same seed.

        Values stay within each column's bounds (by default its observed range): a row with
        a value outside them (hidden cells too) is drawn again, whole, in its class and
        from its posterior draw, up to ``REDRAWS`` times (the fitted distribution truncated
        to the bounds), then clipped; a bound the data pile up on is clipped onto at once.
        """
        check_seed(seed)
        if n is not None and (
            isinstance(n, bool) or not isinstance(n, Integral) or not 1 <= n <= MAX_SAMPLE_ROWS
        ):
            raise SpecError("n", n, "must be a whole number (int) ≥ 1 and ≤ 2^40")
        counts = self.counts(n, balance)
        per_class = np.array(list(counts.values()))
        check_sample_budget(int(per_class.sum()), len(self.layout.columns))
        rng = np.random.default_rng(seed)
        y = rng.permutation(np.repeat(np.arange(len(per_class)), per_class)).astype(np.int32)
        n_rows = len(y)
        n_draws = min(self.n_draws, n_rows)
        per_draw = math.ceil(n_rows / n_draws)
        padded = _pad(y, n_draws * per_draw)
        pick = np.linspace(0, self.n_draws - 1, n_draws).round().astype(int)
        params = {k: jnp.asarray(v[pick]) for k, v in self.draws.items()}
        rates = self._rates() if missing else None
        design = _design(padded.reshape(n_draws, per_draw), rates)
        total, p = n_draws * per_draw, self.shape.n_numeric
        key = jax.random.PRNGKey(seed)

        def draw(round_: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            # round 0 is the plain draw; later rounds redraw whole rows (same classes)
            round_key = key if round_ == 0 else jax.random.fold_in(key, round_)
            numeric, codes, mask = _forward(self.shape)(round_key, params, design)
            numeric = _unclipped(self.layout, np.asarray(numeric).reshape(total, p)[:n_rows])
            codes = np.array(codes).reshape(total, len(self.shape.n_levels))[:n_rows]
            mask = np.array(mask)
            return numeric, codes, mask.reshape(total, mask.shape[-1])[:n_rows]

        numeric, codes, mask = draw(0)
        # every cell counts, shown or hidden, and the mask stays round 0's: the mask is
        # independent of the values, so which rows are redrawn does not move its rates
        outside = _outside(self.layout, numeric)
        for round_ in range(1, REDRAWS + 1):
            if not outside.any():
                break
            fresh_numeric, fresh_codes, _ = draw(round_)
            take = outside & ~_outside(self.layout, fresh_numeric)
            numeric[take] = fresh_numeric[take]
            codes[take] = fresh_codes[take]
            outside &= ~take
        return self._table(y, _to_data(self.layout, numeric), codes, mask)

    def _rates(self) -> np.ndarray | None:
        """(classes, numeric + categorical columns) missing fractions; None if all are 0."""
        if self.missing_rates is None or not (self.missing_rates.to_numpy() > 0).any():
            return None
        order = [c.name for c in (*self.layout.numeric, *self.layout.categorical)]
        return self.missing_rates.loc[order].to_numpy(dtype=np.float64).T

    def _table(
        self, y: np.ndarray, numeric: np.ndarray, codes: np.ndarray, mask: np.ndarray
    ) -> pd.DataFrame:
        """The output frame; ``mask`` (rows, numeric + categorical columns) bool, or (rows,
        0) for no mask."""
        layout = self.layout
        p = len(layout.numeric)
        width = p + codes.shape[1]
        gone = mask.astype(bool) if mask.shape[1] else np.zeros((len(y), width), dtype=bool)
        columns: dict[str, Any] = {}
        for j, column in enumerate(layout.numeric):
            values = _in_range(numeric[:, j], column.dtype)
            values[gone[:, j]] = np.nan
            columns[column.name] = pd.array(values, dtype=column.dtype)  # nullable dtypes too
        for k, column in enumerate(layout.categorical):
            values = np.asarray(column.levels, dtype=object)[codes[:, k]]
            values[gone[:, p + k]] = np.nan
            columns[column.name] = _restore(values, column.dtype)
        labels = np.asarray(layout.classes, dtype=object)[y]
        columns[layout.label] = _restore(labels, layout.label_dtype)
        return pd.DataFrame({name: columns[name] for name in layout.order})

    def _scaled_factor(self, c: int) -> tuple[np.ndarray, np.ndarray]:
        """Class ``c``'s loadings W (D, p, r) and Gaussian-scale variances diag(W Wᵀ) + σ²
        (D, p), one per draw, without forming the (p, p) covariances."""
        factor = np.asarray(
            loadings(
                jnp.asarray(self.draws["loading"][:, c]),
                jnp.asarray(self.draws["loading_diag"][:, c]),
                self.shape.rank,
            ),
            dtype=np.float64,
        )
        variance = (factor**2).sum(axis=-1) + self.draws["noise_sd"][:, c].astype(float) ** 2
        return factor, variance

    def correlation(self, cls: Hashable) -> pd.DataFrame:
        """Posterior mean of class ``cls``'s copula correlation (numeric columns): the mean
        over draws of (W Wᵀ + diag σ²) scaled to unit diagonal, one (p, p) at a time.
        SpecError for a class the label does not have."""
        classes = list(self.layout.classes)
        if cls not in classes:
            raise SpecError("cls", cls, f"must be one of the label's classes {classes}")
        factor, variance = self._scaled_factor(classes.index(cls))
        unit = factor / np.sqrt(variance)[:, :, None]
        corr = np.zeros((unit.shape[1], unit.shape[1]))
        for draw in unit:
            corr += draw @ draw.T
        corr /= unit.shape[0]
        np.fill_diagonal(corr, 1.0)  # σ² sits on the diagonal only: each entry is 1
        names = [col.name for col in self.layout.numeric]
        return pd.DataFrame(corr, index=names, columns=names)

    def parameters(self) -> pd.DataFrame:
        """Per numeric column: fitted power λ (posterior mean and sd), and per class the
        median on the data scale (m + s·ψ⁻¹(μ_c)) and the Gaussian-scale sd; NaN for a
        class in which the column has no observed cell (its values there are the prior's,
        and ``sample`` always masks them)."""
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
            var = self._scaled_factor(c)[1]
            table[f"gaussian_sd[{name}]"] = np.sqrt(var).mean(axis=0)
            if self.missing_rates is not None:
                unseen = self.missing_rates.loc[table.index, name].to_numpy() >= 1.0
                table.loc[unseen, [f"median[{name}]", f"gaussian_sd[{name}]"]] = np.nan
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
        constant = None
        if self.missing_rates is not None:
            coords["feature"] = list(self.missing_rates.index)
            dims["missing_rate"] = ["feature", "class"]
            constant = {"missing_rate": self.missing_rates.to_numpy(dtype=np.float64)}
        return az.from_dict(
            posterior={k: v[None] for k, v in self.draws.items()},
            sample_stats=stats or None,
            constant_data=constant,
            coords=coords,
            dims=dims,
            attrs={"method": self.method, "label": self.layout.label},
        )


def _in_range(values: np.ndarray, dtype: Any) -> np.ndarray:
    """float64 ``values`` that ``dtype`` holds as they are: for an integer dtype rounded and
    clipped to its range (a uint8 column's 300 would wrap to 44), for a float dtype clipped
    to its finite range (a float16 column's 70000 would be inf)."""
    base = getattr(dtype, "numpy_dtype", None)  # a numpy dtype is falsy: no `or` here
    base = getattr(dtype, "subtype", dtype) if base is None else base
    try:
        kind = np.dtype(base)  # nullable, Arrow and sparse dtypes too
    except TypeError:
        return values.astype(np.float64)
    if np.issubdtype(kind, np.integer):
        info = np.iinfo(kind)
        top = float(info.max)
        top = top if top <= info.max else float(np.nextafter(top, 0.0))  # 2⁶³ is not an int64
        return np.clip(np.rint(values), float(info.min), top)
    if np.issubdtype(kind, np.floating):
        info = np.finfo(kind)
        return np.clip(values, float(info.min), float(info.max))
    return values.astype(np.float64)


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
    """``run(key, params (draw, ...), design (draw, rows)) -> (numeric, codes, mask)``: the
    model run forward once per posterior draw, each on its own block of rows. The mask
    (draw, rows, numeric + categorical columns) bool is the site ``missing``, drawn with
    keys from the stream ``missing`` of ``key`` (none when ``design.missing`` is None:
    shape (draw, rows, 0)); the values' keys do not depend on it."""

    def build() -> Any:
        model = partial(twin_model, shape=shape)

        def one(
            key: jax.Array, mask_key: jax.Array, params: dict[str, jax.Array], design: TwinDesign
        ) -> Any:
            seeded = handlers.substitute(handlers.seed(model, key), data=params)
            trace = handlers.trace(seeded).get_trace(design, missing_key=mask_key)
            rows = design.y.shape[0]
            codes = [trace[f"code{k}"]["value"] for k in range(len(shape.n_levels))]
            stacked = jnp.stack(codes, -1) if codes else jnp.zeros((rows, 0), int)
            mask = trace["hidden"]["value"] > 0 if "hidden" in trace else jnp.zeros((rows, 0))
            return trace["numeric"]["value"], stacked, mask

        def run(key: jax.Array, params: dict[str, jax.Array], design: TwinDesign) -> Any:
            n_draws = design.y.shape[0]
            keys = jax.random.split(key, n_draws)
            mask_keys = jax.random.split(named_key(key, "missing"), n_draws)

            def block(
                k: jax.Array, mask_key: jax.Array, draw: dict[str, jax.Array], y: jax.Array
            ) -> Any:
                return one(k, mask_key, draw, design._replace(y=y))

            return jax.vmap(block)(keys, mask_keys, params, design.y)

        return jax.jit(run)

    return cached(("twin-forward", shape), build)
