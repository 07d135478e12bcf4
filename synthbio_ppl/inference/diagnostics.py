"""Convergence diagnostics and flat parameter names for recovery tables."""

from __future__ import annotations

from typing import Any

import numpy as np

from synthbio_ppl.core.arviz import import_arviz


def split_rhat(draws: np.ndarray) -> np.ndarray:
    """Rank-normalised split R̂ (Vehtari et al. 2021) of (chains, draws, k) → (k,).

    Each chain is split in halves (m = 2·chains sequences of h draws); with
    z = Φ⁻¹((rank − 3/8)/(S + 1/4)) over all S draws, R̂(z) = √(((h−1)/h·W + B/h) / W),
    W the mean within-sequence variance and B = h·var(sequence means); the result is
    the larger of R̂ of the ranks and of the folded ranks |x − median|. Works with one
    chain (ArviZ needs two).
    """
    from scipy.special import ndtri
    from scipy.stats import rankdata

    chains, n = draws.shape[:2]
    half = n // 2
    flat = draws.reshape(chains, n, -1)
    seqs = np.concatenate([flat[:, :half], flat[:, n - half :]], axis=0)

    def basic(z: np.ndarray) -> np.ndarray:
        within = z.var(axis=1, ddof=1).mean(axis=0)
        between = half * z.mean(axis=1).var(axis=0, ddof=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.sqrt(((half - 1) / half * within + between / half) / within)

    def normal_ranks(x: np.ndarray) -> np.ndarray:
        size = x.shape[0] * x.shape[1]
        ranks = rankdata(x.reshape(size, -1), axis=0)
        return ndtri((ranks - 0.375) / (size + 0.25)).reshape(x.shape)

    folded = np.abs(seqs - np.median(seqs, axis=(0, 1)))
    return np.maximum(basic(normal_ranks(seqs)), basic(normal_ranks(folded)))


def diagnostics(post: Any, names: list[str]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Split R̂ and ArviZ's bulk ESS per site."""
    az = import_arviz()
    draws = {name: post[name].values for name in names}
    ess = az.ess(az.convert_to_dataset(draws), method="bulk")
    rhat = {k: split_rhat(v).reshape(v.shape[2:]) for k, v in draws.items()}
    return rhat, {k: ess[k].values for k in names}


def flat_names(
    site: str, shape: tuple[int, ...], dim_names: list[str], coords: dict[str, list[Any]]
) -> list[str]:
    if not shape:
        return [site]
    labels = [coords.get(d, list(range(n))) for d, n in zip(dim_names, shape, strict=False)]
    while len(labels) < len(shape):
        labels.append(list(range(shape[len(labels)])))
    index = np.ndindex(*shape)
    return [
        site + "[" + ",".join(str(labels[a][i]) for a, i in enumerate(ix)) + "]" for ix in index
    ]
