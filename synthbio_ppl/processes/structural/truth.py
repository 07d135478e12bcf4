"""Ground truth of a structural scene: its formulas, tables and population moments.

Population moments are exact where the model is linear-Gaussian enough to allow it. For a
cell c (one level of every covariate), with M = (I − C)⁻¹ (C the dependency coefficients),

    E[x | c]   = M·(baseline + S[c] − C·centres + L·μ_f[c])
    Cov[x | c] = M·(L·diag(σ_f[c]²)·Lᵀ + diag(noise²))·Mᵀ,

exact for every biomarker none of whose ancestors is clipped. A clipped biomarker whose own
and ancestors' noise is normal is Gaussian within the cell before its clip, so its mean and
sd come from the clipped-normal formulas; otherwise they are NaN. Level tables mix cells
with their probabilities P(c) = Π P(level | parent level).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

from synthbio_ppl.processes.structural.layout import StructuralLayout
from synthbio_ppl.processes.structural.spec import StructuralSpec

MAX_CELLS = 4096
"""Beyond this many covariate cells the population moments are not computed (NaN)."""


def covariate_columns(spec: StructuralSpec, codes: np.ndarray) -> dict[str, pd.Categorical]:
    """Each covariate's per-row codes as a categorical with its level names."""
    levels = spec.level_names()
    return {
        name: pd.Categorical.from_codes(np.asarray(codes[:, c]), categories=levels[name])
        for c, name in enumerate(spec.covariates)
    }


def latent_frame(spec: StructuralSpec, latents: np.ndarray) -> pd.DataFrame:
    """Per-row latent factor values, one column per factor."""
    return pd.DataFrame(latents, columns=pd.Index(list(spec.factors)), copy=False)


def structural_truth(
    spec: StructuralSpec, layout: StructuralLayout, sites: dict[str, np.ndarray]
) -> dict[str, Any]:
    """Tables of the scene, from the model's own parameter sites.

    covariates: covariate, by, parent_level, level, probability (conditional where `by`).
    marginals: covariate, level, probability (marginal).
    factors: factor, level of ``by`` (or "all"), mean, sd.
    biomarkers: formula, baseline, noise, family, clip, evaluation order.
    loadings / shifts: biomarker × factor, biomarker × ``covariate=level``.
    level_means / level_sds: population mean and sd of every biomarker, overall (``all``)
        and per ``covariate=level`` (NaN where not exact, see module docstring).
    """
    p = _Params(spec, layout, sites)
    means, sds = p.level_moments()
    return {
        "name": spec.name,
        "covariates": p.covariate_table(),
        "marginals": p.marginal_table(),
        "factors": p.factor_table(),
        "biomarkers": p.biomarker_table(),
        "loadings": pd.DataFrame(p.L, index=p.markers, columns=list(layout.factors)),
        "shifts": p.shift_table(),
        "level_means": means,
        "level_sds": sds,
    }


def structure_to_dict(structure: dict[str, Any], frame_out: Any) -> dict[str, Any]:
    """JSON-ready form: DataFrames through ``frame_out`` under ``tables``."""
    tables = {k: frame_out(v) for k, v in structure.items() if isinstance(v, pd.DataFrame)}
    return {"name": structure["name"], "tables": tables}


def structure_from_dict(data: dict[str, Any], frame_in: Any) -> dict[str, Any]:
    """Inverse of :func:`structure_to_dict`."""
    return {"name": data["name"], **{k: frame_in(v) for k, v in data["tables"].items()}}


class _Params:
    """The scene's parameter values, arranged as dense arrays."""

    def __init__(self, spec: StructuralSpec, layout: StructuralLayout, sites: dict) -> None:
        self.spec, self.layout, s = spec, layout, layout.name
        self.levels = spec.level_names()
        self.markers = list(layout.biomarkers)
        b, f = len(self.markers), len(layout.factors)
        self.probs = [np.asarray(sites[f"{s}.{c}.probs"], float) for c in layout.covariates]
        self.f_mean = [np.asarray(sites[f"{s}.{n}.mean"], float) for n in layout.factors]
        self.f_sd = [np.asarray(sites[f"{s}.{n}.sd"], float) for n in layout.factors]
        self.baseline = np.asarray(sites[f"{s}.baseline"], float)
        self.noise = np.asarray(sites[f"{s}.noise"], float)
        self.L = np.zeros((b, f))
        for (i, j), v in zip(layout.loadings, sites.get(f"{s}.loading", []), strict=True):
            self.L[i, j] += float(v)
        self.shift = list(zip(layout.shifts, map(float, sites.get(f"{s}.shift", [])), strict=True))
        self.C = np.zeros((b, b))
        self.offset = np.zeros(b)  # −Σ coef·centre
        for (child, parent, centre), v in zip(
            layout.edges, sites.get(f"{s}.coef", []), strict=True
        ):
            self.C[child, parent] += float(v)
            self.offset[child] -= float(v) * centre

    def covariate_table(self) -> pd.DataFrame:
        rows = []
        for c, name in enumerate(self.layout.covariates):
            parent = self.layout.parents[c]
            by = "" if parent < 0 else self.layout.covariates[parent]
            table = self.probs[c].reshape(-1, self.layout.n_levels[c])
            parent_levels = self.levels[by] if by else [""]
            for pl, row in zip(parent_levels, table, strict=True):
                for level, prob in zip(self.levels[name], row, strict=True):
                    rows.append((name, by, pl, level, float(prob)))
        columns = ["covariate", "by", "parent_level", "level", "probability"]
        return pd.DataFrame(rows, columns=columns)

    def cells(self) -> tuple[list[tuple[int, ...]], np.ndarray]:
        """Every combination of covariate levels and its probability."""
        combos = list(itertools.product(*(range(n) for n in self.layout.n_levels)))
        weights = np.ones(len(combos))
        for k, combo in enumerate(combos):
            for c, level in enumerate(combo):
                parent = self.layout.parents[c]
                row = self.probs[c] if parent < 0 else self.probs[c][combo[parent]]
                weights[k] *= row[level]
        return combos, weights

    def marginal_table(self) -> pd.DataFrame:
        rows = []
        if int(np.prod(self.layout.n_levels, dtype=float)) <= MAX_CELLS:
            combos, weights = self.cells()
            for c, name in enumerate(self.layout.covariates):
                for lv, level in enumerate(self.levels[name]):
                    share = sum(w for k, w in zip(combos, weights, strict=True) if k[c] == lv)
                    rows.append((name, level, float(share)))
        return pd.DataFrame(rows, columns=["covariate", "level", "probability"])

    def factor_table(self) -> pd.DataFrame:
        rows = []
        for f, name in enumerate(self.layout.factors):
            by = {self.layout.mean_by[f], self.layout.sd_by[f]} - {-1}
            cov = self.layout.covariates[by.pop()] if len(by) == 1 else ""
            levels = self.levels[cov] if cov else ["all"]
            for lv, level in enumerate(levels):
                mean = self._factor_at(self.f_mean[f], self.layout.mean_by[f], {cov: lv})
                sd = self._factor_at(self.f_sd[f], self.layout.sd_by[f], {cov: lv})
                rows.append((name, cov, level, mean, sd))
        return pd.DataFrame(rows, columns=["factor", "by", "level", "mean", "sd"])

    def _factor_at(self, values: np.ndarray, by: int, at: dict[str, int]) -> float:
        if by < 0:
            return float(values)
        name = self.layout.covariates[by]
        return float(values[at[name]]) if name in at else float("nan")

    def biomarker_table(self) -> pd.DataFrame:
        rows = {}
        for b, name in enumerate(self.markers):
            low, high = self.layout.clips[b]
            rows[name] = {
                "formula": self.formula(b),
                "baseline": float(self.baseline[b]),
                "noise": float(self.noise[b]),
                "family": self.layout.families[b],
                "clip_low": np.nan if low is None else low,
                "clip_high": np.nan if high is None else high,
                "order": self.layout.order.index(b),
            }
        return pd.DataFrame.from_dict(rows, orient="index")

    def shift_table(self) -> pd.DataFrame:
        columns = [f"{c}={lv}" for c in self.layout.covariates for lv in self.levels[c]]
        table = pd.DataFrame(0.0, index=self.markers, columns=columns)
        for (b, c, lv), value in self.shift:
            cov = self.layout.covariates[c]
            table.loc[self.markers[b], f"{cov}={self.levels[cov][lv]}"] += value
        return table

    def formula(self, b: int) -> str:
        """``52 + 12·X + 0.45·(Height − 160) + 7·[sex=male] + N(0, 2.8²)``, clip appended."""
        terms = [f"{self.baseline[b]:.6g}"]
        for f, name in enumerate(self.layout.factors):
            if self.L[b, f] != 0:
                terms.append(_signed(self.L[b, f], name))
        for (child, parent, centre), coef in zip(self.layout.edges, self._coefs(), strict=True):
            if child == b:
                inner = self.markers[parent] + (f" − {centre:.6g}" if centre else "")
                terms.append(_signed(coef, f"({inner})" if centre else inner))
        for (bb, c, lv), value in self.shift:
            if bb == b:
                cov = self.layout.covariates[c]
                terms.append(_signed(value, f"[{cov}={self.levels[cov][lv]}]"))
        family = self.layout.families[b]
        law = "N" if family == "normal" else family
        text = " ".join([terms[0], *terms[1:]]) + f" + {law}(0, {self.noise[b]:.6g}²)"
        low, high = self.layout.clips[b]
        if low is not None or high is not None:
            text += f", clipped to [{_bound(low, '-∞')}, {_bound(high, '∞')}]"
        return text

    def _coefs(self) -> list[float]:
        return [float(self.C[child, parent]) for child, parent, _ in self.layout.edges]

    def level_moments(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        columns = ["all"] + [f"{c}={lv}" for c in self.layout.covariates for lv in self.levels[c]]
        means = pd.DataFrame(np.nan, index=self.markers, columns=columns)
        sds = means.copy()
        if int(np.prod(self.layout.n_levels, dtype=float)) > MAX_CELLS:
            return means, sds
        combos, weights = self.cells()
        moments = [self.cell_moments(combo) for combo in combos]
        first = np.array([m for m, _ in moments])  # (cells, B)
        with np.errstate(over="ignore"):  # values near 1e300: see _spread below
            second = np.array([v + m**2 for m, v in moments])
        groups: dict[str, np.ndarray] = {"all": np.ones(len(combos), bool)}
        for c, name in enumerate(self.layout.covariates):
            for lv, level in enumerate(self.levels[name]):
                groups[f"{name}={level}"] = np.array([k[c] == lv for k in combos])
        for column, mask in groups.items():
            w = weights * mask
            total = w.sum()
            if total <= 0:
                continue
            mean = w @ first / total
            means[column] = mean
            with np.errstate(over="ignore", invalid="ignore"):
                sd = np.sqrt(np.maximum(w @ second / total - mean**2, 0.0))
            wide = ~np.isfinite(sd) & np.isfinite(mean)
            if wide.any():
                sd[wide] = _spread(w / total, first[:, wide], mean[wide], moments, wide)
            sds[column] = sd
        return means, sds

    def cell_moments(self, combo: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of every biomarker in one covariate cell (NaN where not exact)."""
        nb = len(self.markers)
        at = dict(zip(self.layout.covariates, combo, strict=True))
        factors = range(len(self.layout.factors))
        m_f = np.array(
            [self._factor_at(self.f_mean[f], self.layout.mean_by[f], at) for f in factors]
        )
        s_f = np.array([self._factor_at(self.f_sd[f], self.layout.sd_by[f], at) for f in factors])
        a = self.baseline + self.offset
        for (b, c, lv), value in self.shift:
            a[b] += value if combo[c] == lv else 0.0
        M = np.linalg.inv(np.eye(nb) - self.C)
        mean = M @ (a + self.L @ m_f.reshape(-1))
        with np.errstate(over="ignore", invalid="ignore"):
            cov = M @ (self.L @ np.diag(s_f.reshape(-1) ** 2) @ self.L.T + np.diag(self.noise**2))
            var = np.diag(cov @ M.T).copy()
            if not np.isfinite(var).all():  # a sd near 1e300: as Σ (M·sd)², so a variance
                # beyond float64 is inf for its biomarker alone (not 0·inf for the rest)
                root = np.hstack([M @ self.L * s_f.reshape(-1), M * self.noise])
                var = (root**2).sum(axis=1)
        ancestors = self._ancestors()
        clipped = np.array([lo is not None or hi is not None for lo, hi in self.layout.clips])
        normal = np.array([f == "normal" for f in self.layout.families])
        for b in range(nb):
            if clipped[ancestors[b]].any():
                mean[b] = var[b] = np.nan
            elif clipped[b]:
                if not normal[ancestors[b] | (np.arange(nb) == b)].all():
                    mean[b] = var[b] = np.nan
                else:
                    mean[b], var[b] = clipped_normal_moments(
                        mean[b], np.sqrt(var[b]), *self.layout.clips[b]
                    )
        return mean, var

    def _ancestors(self) -> np.ndarray:
        """``[b, a]`` is True when biomarker a is an ancestor of b (a path of depends_on)."""
        n = len(self.markers)
        edge = np.zeros((n, n), dtype=int)
        for child, parent, _ in self.layout.edges:
            edge[child, parent] = 1
        reach = edge > 0
        for _ in range(n):
            reach = reach | ((reach.astype(int) @ edge) > 0)
        return reach


def _spread(
    w: np.ndarray,
    first: np.ndarray,
    mean: np.ndarray,
    moments: list[tuple[np.ndarray, np.ndarray]],
    wide: np.ndarray,
) -> np.ndarray:
    """The sd of a mixture of cells whose second moments overflow float64 (means near
    1e300): √(Σ w·(var + (mean_cell − mean)²)), about the mixture's mean; inf where even
    that overflows."""
    var = np.array([v[wide] for _, v in moments])
    cells = w > 0  # the cells of the level (an infinite variance elsewhere is not 0·inf)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.sqrt(w[cells] @ (var[cells] + (first[cells] - mean) ** 2))


def clipped_normal_moments(
    mu: float, sigma: float, low: float | None, high: float | None
) -> tuple[float, float]:
    """Mean and variance of clip(X, low, high), X ~ N(μ, σ²).

    With α = (low − μ)/σ, β = (high − μ)/σ:
    E = low·Φ(α) + high·(1 − Φ(β)) + μ·(Φ(β) − Φ(α)) + σ·(φ(α) − φ(β))
    E[Y²] = low²·Φ(α) + high²·(1 − Φ(β)) + (μ² + σ²)·(Φ(β) − Φ(α))
            + 2μσ·(φ(α) − φ(β)) + σ²·(α·φ(α) − β·φ(β))
    """
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):  # a bound near 1e308
        return _clipped_normal_moments(mu, sigma, low, high)


def _clipped_normal_moments(
    mu: float, sigma: float, low: float | None, high: float | None
) -> tuple[float, float]:
    from scipy.stats import norm

    alpha = -np.inf if low is None else (low - mu) / sigma
    beta = np.inf if high is None else (high - mu) / sigma
    p_low, p_high = norm.cdf(alpha), norm.sf(beta)
    inside = 1.0 - p_low - p_high
    d_a, d_b = norm.pdf(alpha), norm.pdf(beta)
    ad_a = 0.0 if low is None else alpha * d_a
    bd_b = 0.0 if high is None else beta * d_b
    lo = 0.0 if low is None else low
    hi = 0.0 if high is None else high
    first = lo * p_low + hi * p_high + mu * inside + sigma * (d_a - d_b)
    second = (  # bound·(bound·p): a far bound with p = 0 adds 0 rather than overflowing
        lo * (lo * p_low)
        + hi * (hi * p_high)
        + (mu**2 + sigma**2) * inside
        + 2 * mu * sigma * (d_a - d_b)
        + sigma**2 * (ad_a - bd_b)
    )
    return float(first), float(max(second - first**2, 0.0))


def _signed(value: float, term: str) -> str:
    sign = "−" if value < 0 else "+"
    magnitude = abs(value)
    return f"{sign} {term}" if magnitude == 1 else f"{sign} {magnitude:.6g}·{term}"


def _bound(value: float | None, open_side: str) -> str:
    return open_side if value is None else f"{value:.6g}"
