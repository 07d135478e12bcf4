"""Fidelity of a twin: its marginals, correlations, class balance and missing cells against
``real_train``.

Per feature the two-sample Kolmogorov–Smirnov statistic and the Wasserstein distance in
units of the real-train sd; the distance between the Pearson correlation matrices; the
total variation distance between the class shares; the missing fractions per feature and
class. See ``TwinFidelity`` for the formulas and for what is done with missing cells: the
marginal statistics use each column's observed cells, the correlations pairwise-complete
rows, and the missing fractions are compared on their own.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp, wasserstein_distance

from synthbio_ppl.twins.missingness import compare_missing, overall_missing
from synthbio_ppl.twins.report import TwinFidelity
from synthbio_ppl.twins.scoring_inputs import _mean, _sd


def _fidelity(
    values: dict[str, np.ndarray],
    scaled: dict[str, np.ndarray],
    codes: dict[str, np.ndarray],
    classes: list[Hashable],
    features: pd.Index,
) -> TwinFidelity:
    real, synth = values["real_train"], values["synthetic"]
    p = real.shape[1]
    ks, ks_p, wasserstein = np.full(p, np.nan), np.full(p, np.nan), np.full(p, np.nan)
    for j in range(p):
        a, b = _observed(real[:, j]), _observed(synth[:, j])
        if a.size == 0 or b.size == 0:  # nothing to compare: NaN, which the means carry
            continue
        with warnings.catch_warnings():  # ties (integer columns) fall back to the asymptotic p
            warnings.filterwarnings("ignore", message="ks_2samp: Exact calculation unsuccessful")
            test = ks_2samp(a, b)
        ks[j], ks_p[j] = test.statistic, test.pvalue
        wasserstein[j] = wasserstein_distance(
            _observed(scaled["real_train"][:, j]), _observed(scaled["synthetic"][:, j])
        )
    per_feature = pd.DataFrame(
        {
            "ks": ks,
            "ks_pvalue": ks_p,
            "wasserstein": wasserstein,
            "real_mean": _mean(real),
            "synthetic_mean": _mean(synth),
            "real_sd": _sd(real),
            "synthetic_sd": _sd(synth),
            "real_missing": overall_missing(real),
            "synthetic_missing": overall_missing(synth),
        },
        index=pd.Index(features, name="feature"),
    )
    diff = _pearson(real) - _pearson(synth)
    upper = np.triu_indices(diff.shape[0], k=1)
    mean_abs = float(np.mean(np.abs(diff[upper]))) if upper[0].size else float("nan")

    n_real = np.bincount(codes["real_train"], minlength=len(classes))
    n_synth = np.bincount(codes["synthetic"], minlength=len(classes))
    balance = pd.DataFrame(
        {
            "real_n": n_real,
            "synthetic_n": n_synth,
            "real_share": n_real / n_real.sum(),
            "synthetic_share": n_synth / n_synth.sum(),
        },
        index=pd.Index(classes, name="class"),
    )
    total_variation = 0.5 * float(np.abs(balance["real_share"] - balance["synthetic_share"]).sum())
    missing = compare_missing(
        real, codes["real_train"], synth, codes["synthetic"], list(features), classes
    )
    return TwinFidelity(
        per_feature=per_feature,
        label_balance=balance,
        corr_frobenius=float(np.linalg.norm(diff)),
        corr_mean_abs_diff=mean_abs,
        label_total_variation=total_variation,
        missing=missing,
    )


def _observed(column: np.ndarray) -> np.ndarray:
    return column[~np.isnan(column)]


def _pearson(x: np.ndarray) -> np.ndarray:
    """Pearson correlation matrix (p, p); a constant column correlates 0 with every other.

    With missing cells each pair (j, k) is correlated over the rows where both are observed
    (pairwise-complete), each column centred on its mean over those rows; a pair with fewer
    than two such rows, or no spread in them, correlates 0, as a constant column does.
    """
    if not np.isnan(x).any():
        centred = x - x.mean(axis=0)
        norms = np.sqrt((centred**2).sum(axis=0))
        unit = np.divide(centred, norms, out=np.zeros_like(centred), where=norms > 0)
        corr = np.clip(unit.T @ unit, -1.0, 1.0)
    else:
        seen = (~np.isnan(x)).astype(np.float64)
        v = np.where(np.isnan(x), 0.0, x - np.where(np.isfinite(_mean(x)), _mean(x), 0.0))
        n = seen.T @ seen  # rows where j and k are both observed
        sumsq = (v**2).T @ seen  # [j, k]: Σ v_j² over the rows where k is observed
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_jk = (v.T @ seen) / n  # [j, k]: mean of v_j over those rows
            cross = v.T @ v - n * mean_jk * mean_jk.T
            ss = sumsq - n * mean_jk**2
            corr = cross / np.sqrt(ss * ss.T)
        flat = ~(ss > 1e-12 * sumsq)  # no spread (up to rounding) or no rows
        defined = (n >= 2) & ~flat & ~flat.T
        corr = np.clip(np.where(defined, corr, 0.0), -1.0, 1.0)
    np.fill_diagonal(corr, 1.0)
    return corr
