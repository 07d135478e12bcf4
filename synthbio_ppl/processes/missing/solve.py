"""Solving a mechanism's intercepts for the requested share of missing cells.

For each column j, a_j solves mean_i σ(a_j + b·z_ij) = rate over the rows given (the
whole row design for class, batch or group drivers, as each level's count of rows; the
pilot rows where the driver is drawn), so the expected realised rate is the spec's. A
detection limit is the rate's quantile of z. Numpy: bookkeeping before the draw, like the
row design.
"""

from __future__ import annotations

from synthbio_ppl.core.lazy import np

_BLOCK = 256
"""Columns solved at once (bounds the (rows, columns) temporaries)."""


NEVER = -1e30
"""The log-odds (and detection limit) of a rate of 0: no cell goes missing, in any dtype,
and the truth's JSON stays standard (no -Infinity)."""


def logit(p: float) -> float:
    return NEVER if p == 0.0 else float(np.log(p) - np.log1p(-p))


def intercepts(
    z: np.ndarray, strength: float, rate: float, weights: np.ndarray | None = None
) -> np.ndarray:
    """a_j with mean_i σ(a_j + strength·z_ij) = rate: ``z`` (rows, m) -> (m,) float64.

    ``weights`` (rows,): how many rows each row of ``z`` stands for (a level's count),
    making the mean a weighted one. Safeguarded Newton within the bracket [logit(rate) ∓
    |b|·max|z| ∓ 1], where the mean is on either side of the rate; ``NEVER`` for rate 0.
    """
    m = z.shape[1]
    if rate == 0.0:
        return np.full(m, NEVER)
    out = np.empty(m)
    for start in range(0, m, _BLOCK):
        part = z[:, start : start + _BLOCK]
        out[start : start + _BLOCK] = _solve(part, strength, rate, weights)
    return out


def _mean(values: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    if weights is None:
        return values.mean(axis=0, dtype=np.float64)
    return np.average(values.astype(np.float64), axis=0, weights=weights)


def _solve(z: np.ndarray, b: float, rate: float, weights: np.ndarray | None) -> np.ndarray:
    from scipy.special import expit

    # float32 cells (as the model computes them), float64 means and intercepts
    wide = z.dtype == np.float64
    with np.errstate(over="ignore"):
        bz = b * z.astype(np.float64) if wide else (b * z).astype(np.float32)
    tolerance = (1e-12 if wide else 1e-7) * max(rate, 1e-3)
    with np.errstate(over="ignore", invalid="ignore"):
        reach = np.abs(bz).max(axis=0).astype(np.float64) + 1.0 if bz.size else np.ones(z.shape[1])
    reach = np.minimum(reach, 1e300)
    low, high = logit(rate) - reach, logit(rate) + reach
    # start where the probit approximation of E σ(a + b·Z), Z ~ N(0, 1), puts the root
    with np.errstate(over="ignore"):
        start = logit(rate) * np.sqrt(1 + np.pi * min(b * b, 1e300) / 8)
    a = np.clip(np.full(z.shape[1], start), low, high)
    for _ in range(200):
        p = expit(a.astype(bz.dtype) + bz)
        gap = _mean(p, weights) - rate
        if np.abs(gap).max() <= tolerance:  # the current a solves it
            break
        low = np.where(gap < 0, a, low)
        high = np.where(gap > 0, a, high)
        slope = _mean(p * (1 - p), weights)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = a - gap / slope
        inside = np.isfinite(newton) & (newton > low) & (newton < high)
        a = np.where(gap == 0, a, np.where(inside, newton, (low + high) / 2))
    return a


def standardise(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard deviations (1 for a constant column): (rows, m) -> (m,).

    Finite values whose sum or squared deviations overflow float64 (values near 1e300)
    get the same moments from the column divided by its largest magnitude."""
    with np.errstate(over="ignore", invalid="ignore"):
        centre = values.mean(axis=0, dtype=np.float64)
        scale = values.std(axis=0, dtype=np.float64)
    wide = ~(np.isfinite(centre) & np.isfinite(scale))
    if wide.any():
        part = np.asarray(values[:, wide], dtype=np.float64)
        span = np.abs(part).max(axis=0, initial=0.0)
        span = np.where(np.isfinite(span) & (span > 0), span, 1.0)
        with np.errstate(over="ignore", invalid="ignore"):
            centre[wide] = (part / span).mean(axis=0) * span
            scale[wide] = (part / span).std(axis=0) * span
    return centre, np.where(scale > 0, scale, 1.0)


def limits(z: np.ndarray, strength: float, rate: float) -> np.ndarray:
    """Detection limits on the standardised scale, one of each column's own values (in
    z's dtype, as the model compares them): strength < 0 hides the cells below the k-th
    smallest value, > 0 those above the k-th largest, k = round(rate · rows). Tied values
    at the limit stay together, so the realised share can differ (``limit_shares``)."""
    n = z.shape[0]
    k = int(np.floor(rate * n + 0.5))
    if k == 0:
        return np.full(z.shape[1], NEVER if strength < 0 else -NEVER, dtype=z.dtype)
    if k >= n:  # every cell
        return np.full(z.shape[1], -NEVER if strength < 0 else NEVER, dtype=z.dtype)
    ordered = np.sort(z, axis=0)
    # halfway between the last cell hidden and the first kept, so that rounding in the
    # model's own z never moves a cell across (tied values still go together)
    if strength < 0:
        last, first = ordered[k - 1], ordered[k]
    else:
        last, first = ordered[n - k], ordered[n - 1 - k]
    return np.where(last != first, last / 2 + first / 2, first).astype(z.dtype)


def limit_shares(z: np.ndarray, strength: float, limit: np.ndarray) -> np.ndarray:
    """The share of each column's cells beyond its limit (what the model will hide)."""
    return (z < limit).mean(axis=0) if strength < 0 else (z > limit).mean(axis=0)
