"""Convergence diagnostics, the checks a fit's draws must pass, and flat parameter names."""

from __future__ import annotations

import warnings
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
    if half < 2:  # under 4 draws a chain: no variance within a half, R̂ is undefined
        return np.full(int(np.prod(draws.shape[2:], dtype=int)), np.nan)
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


RHAT_WARNING = 1.05
"""Split R̂ above this (on any fitted scalar) draws a warning."""


def check_draws(
    samples: dict[str, np.ndarray],
    free: list[str],
    stats: dict[str, np.ndarray],
    losses: np.ndarray | None,
    method: str,
) -> None:
    """Refuse draws that cannot be a posterior, and warn about ones that may not be.

    SpecError: non-finite draws; NUTS draws that never left their starting point (the log
    density is not finite there, e.g. a value below a family's support); an SVI loss that
    stays non-finite to the end. Warnings (with what to do): divergent transitions, split
    R̂ above ``RHAT_WARNING``, an SVI loss still falling. ``samples`` are (chain, draw,
    ...) per site.
    """
    from synthbio_ppl.core.errors import SpecError

    # SVI's stable update skips a step whose loss is not finite (a guide draw outside a
    # family's support), so a few such steps leave the optimisation where it was; one that
    # never comes back, with no finite loss in its last tenth of steps, left the support
    last = max(1, len(losses) // 10) if losses is not None else 0
    if losses is not None and len(losses) and not np.isfinite(losses[-last:]).any():
        finite = np.flatnonzero(np.isfinite(losses))
        first = int(finite[-1]) + 1 if finite.size else 0
        raise SpecError(
            "data",
            f"an SVI loss of {losses[first]} at step {first + 1} of {len(losses)} and at "
            "every step after",
            "the optimisation left the model's support (a start or a step where the data "
            "lie outside a family's range); lower learning_rate (--learning-rate), or fit "
            "with NUTS",
        )
    bad = [k for k, v in samples.items() if not np.isfinite(v).all()]
    if bad:
        why = (
            f"{method} found no valid starting point or diverged everywhere; check that the "
            "data fit the spec's families (e.g. lognormal or gamma values above their bound)"
        )
        raise SpecError("data", f"non-finite posterior draws of {bad[:3]}", why)
    if method == "nuts":
        draws = {k: samples[k].reshape(*samples[k].shape[:2], -1) for k in free if k in samples}
        stuck = [k for k, v in draws.items() if v.shape[1] > 1 and np.ptp(v, axis=1).max() == 0]
        if stuck:
            raise SpecError(
                "data",
                f"identical draws of {stuck[:3]}",
                "NUTS never moved from its starting point: the log density may not be finite "
                "there (check that every column lies in its family's support, e.g. lognormal "
                "or gamma values above their lower bound) or warmup found no usable step "
                "size (raise num_warmup, --warmup, or target_accept, --target-accept)",
            )
        divergent = int(np.asarray(stats.get("diverging", 0)).sum())
        if divergent:
            total = int(np.asarray(stats["diverging"]).size)
            warnings.warn(
                f"{divergent} of {total} NUTS transitions diverged: the posterior may be "
                "biased; raise target_accept (--target-accept, e.g. 0.95) or num_warmup "
                "(--warmup)",
                RuntimeWarning,
                stacklevel=3,
            )
        rhats = [split_rhat(v) for v in draws.values()]
        worst = max((float(np.nanmax(r)) for r in rhats if np.isfinite(r).any()), default=1.0)
        if worst > RHAT_WARNING:
            chains = next(iter(draws.values())).shape[0] if draws else 1
            more = "run more warmup and draws" + (", or several chains" if chains == 1 else "")
            warnings.warn(
                f"split R̂ reaches {worst:.3f} (> {RHAT_WARNING}): the "
                f"{'chain has' if chains == 1 else 'chains have'} not mixed; {more}",
                RuntimeWarning,
                stacklevel=3,
            )
    if method == "svi" and losses is not None and still_falling(np.asarray(losses)):
        warnings.warn(
            "SVI has not converged: its loss was still falling over the second half of the "
            "steps; raise svi_steps (--svi-steps)",
            RuntimeWarning,
            stacklevel=3,
        )


def still_falling(losses: np.ndarray, z: float = 3.0) -> bool:
    """Whether a loss trace still falls over its second half: the least-squares slope
    there is negative by more than ``z`` standard errors (the single-sample ELBO is noisy,
    so a flat trace has a slope within its error), and the fall over that half is more than
    the noise of one step's loss (over thousands of steps a fall of a fraction of that
    noise is significant, but the optimum is already within one estimate's error). Steps
    whose loss is not finite (skipped by the stable update) are left out."""
    from scipy.stats import linregress

    steps = np.arange(len(losses))[len(losses) // 2 :]
    half = losses[len(losses) // 2 :]
    kept = np.isfinite(half)
    steps, half = steps[kept], half[kept]
    if len(half) < 10 or np.ptp(half) == 0:
        return False
    fit = linregress(steps, half)
    noise = float(np.std(half - (fit.intercept + fit.slope * steps)))
    fall = -fit.slope * (steps[-1] - steps[0])
    return bool(fit.slope < 0 and -fit.slope > z * fit.stderr and fall > noise)
