"""``Twin``: a fitted twin, its posterior draws, and sampling synthetic tables from it.

``Twin.sample(n, seed=..., balance=...)`` runs ``twin_model`` forward (the posterior
predictive): with ``svi``/``nuts`` draws each synthetic row takes its parameters from one
posterior draw (rows are split evenly over the draws), so the table carries the fit's
uncertainty rather than one plug-in estimate. Class counts are exact: the real table's
balance by default, equal classes, or given counts/shares. The fitted parameters are read
back by ``parameters``, ``correlation`` and ``to_inference_data`` (ArviZ).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from functools import partial
from numbers import Integral
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from numpyro import handlers

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.core.rounding import largest_remainder
from synthbio_ppl.inference.kernels import STATS
from synthbio_ppl.inference.programs import cached
from synthbio_ppl.twins.columns import TwinLayout
from synthbio_ppl.twins.design import _design, _pad
from synthbio_ppl.twins.model import TwinDesign, TwinShape, loadings, twin_model

Balance = None | Literal["equal"] | Mapping[Hashable, float]


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
            try:
                given = np.array([float(balance.get(c, 0)) for c in classes])
            except (TypeError, ValueError):
                raise SpecError("balance", dict(balance), "needs numbers") from None
            if not np.isfinite(given).all() or (given < 0).any() or given.sum() <= 0:
                raise SpecError(
                    "balance", dict(balance), "needs finite, non-negative values, not all 0"
                )
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
        if isinstance(n, bool) or not isinstance(n, Integral) or n < 1:
            raise SpecError("n", n, "must be a whole number (int) ≥ 1")
        return dict(zip(classes, largest_remainder(n, shares).tolist(), strict=True))

    def sample(
        self, n: int | None = None, *, seed: int = 0, balance: Balance = None
    ) -> pd.DataFrame:
        """A synthetic table with the real table's columns, order and dtypes; ``n`` rows
        (default: as many as the real table) in the requested class balance."""
        if isinstance(seed, bool) or not isinstance(seed, Integral) or not 0 <= seed < 2**32:
            raise SpecError("seed", seed, "must be a whole number in [0, 2^32)")
        if n is not None and (isinstance(n, bool) or not isinstance(n, Integral) or n < 1):
            raise SpecError("n", n, "must be a whole number (int) ≥ 1")
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
            columns[column.name] = pd.array(values, dtype=column.dtype)  # nullable dtypes too
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
