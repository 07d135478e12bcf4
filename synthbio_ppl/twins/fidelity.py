"""Fidelity of a twin: its marginals, correlations and class balance against ``real_train``.

Per feature the two-sample Kolmogorov–Smirnov statistic and the Wasserstein distance in
units of the real-train sd; the distance between the Pearson correlation matrices; the
total variation distance between the class shares. See ``TwinFidelity`` for the formulas.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp, wasserstein_distance

from synthbio_ppl.twins.report import TwinFidelity
from synthbio_ppl.twins.scoring_inputs import _sd


def _fidelity(
    values: dict[str, np.ndarray],
    scaled: dict[str, np.ndarray],
    codes: dict[str, np.ndarray],
    classes: list[Hashable],
    features: pd.Index,
) -> TwinFidelity:
    real, synth = values["real_train"], values["synthetic"]
    with warnings.catch_warnings():  # ties (integer columns) fall back to the asymptotic p
        warnings.filterwarnings("ignore", message="ks_2samp: Exact calculation unsuccessful")
        ks = ks_2samp(real, synth, axis=0)
    wasserstein = [
        wasserstein_distance(scaled["real_train"][:, j], scaled["synthetic"][:, j])
        for j in range(real.shape[1])
    ]
    per_feature = pd.DataFrame(
        {
            "ks": np.atleast_1d(ks.statistic),
            "ks_pvalue": np.atleast_1d(ks.pvalue),
            "wasserstein": wasserstein,
            "real_mean": real.mean(axis=0),
            "synthetic_mean": synth.mean(axis=0),
            "real_sd": _sd(real),
            "synthetic_sd": _sd(synth),
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
    return TwinFidelity(
        per_feature=per_feature,
        label_balance=balance,
        corr_frobenius=float(np.linalg.norm(diff)),
        corr_mean_abs_diff=mean_abs,
        label_total_variation=total_variation,
    )


def _pearson(x: np.ndarray) -> np.ndarray:
    """Pearson correlation matrix; a constant column correlates 0 with every other."""
    centred = x - x.mean(axis=0)
    norms = np.sqrt((centred**2).sum(axis=0))
    unit = np.divide(centred, norms, out=np.zeros_like(centred), where=norms > 0)
    corr = np.clip(unit.T @ unit, -1.0, 1.0)
    np.fill_diagonal(corr, 1.0)
    return corr
