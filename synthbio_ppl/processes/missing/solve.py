"""Solving a mechanism's intercepts for the requested share of missing cells.

For each column j, a_j solves mean_i σ(a_j + b·z_ij) = rate over the rows given (the
whole row design for class, batch or group drivers; the dataset's first rows where the
driver is drawn), so the expected realised rate is the spec's. A detection limit is the
rate's quantile of z. Numpy: bookkeeping before the draw, like the row design.
"""

from __future__ import annotations

from synthbio_ppl.core.lazy import np

_BLOCK = 256
"""Columns solved at once (bounds the (rows, columns) temporaries)."""


def logit(p: float) -> float:
    return -np.inf if p == 0.0 else float(np.log(p) - np.log1p(-p))


def intercepts(z: np.ndarray, strength: float, rate: float) -> np.ndarray:
    """a_j with mean_i σ(a_j + strength·z_ij) = rate: ``z`` (rows, m) -> (m,) float64.

    Safeguarded Newton within the bracket [logit(rate) ∓ |b|·max|z| ∓ 1], where the mean is
    on either side of the rate; -inf for rate 0.
    """
    m = z.shape[1]
    if rate == 0.0:
        return np.full(m, -np.inf)
    out = np.empty(m)
    for start in range(0, m, _BLOCK):
        out[start : start + _BLOCK] = _solve(z[:, start : start + _BLOCK], strength, rate)
    return out


def _solve(z: np.ndarray, b: float, rate: float) -> np.ndarray:
    bz = b * z.astype(np.float64)
    reach = np.abs(bz).max(axis=0) + 1.0 if bz.size else np.ones(z.shape[1])
    low, high = logit(rate) - reach, logit(rate) + reach
    a = np.full(z.shape[1], logit(rate))
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(a + bz)))
        gap = p.mean(axis=0) - rate
        low = np.where(gap < 0, a, low)
        high = np.where(gap > 0, a, high)
        slope = (p * (1 - p)).mean(axis=0)
        newton = a - gap / np.maximum(slope, 1e-300)
        inside = (newton > low) & (newton < high)
        a = np.where(inside, newton, (low + high) / 2)
        if np.abs(gap).max() < 1e-12 * max(rate, 1e-3):
            break
    return a


def standardise(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard deviations (1 for a constant column): (rows, m) -> (m,)."""
    values = values.astype(np.float64)
    centre = values.mean(axis=0)
    scale = values.std(axis=0)
    return centre, np.where(scale > 0, scale, 1.0)


def limits(z: np.ndarray, strength: float, rate: float) -> np.ndarray:
    """Detection limits on the standardised scale: the rate-quantile of each column's z
    (strength < 0: cells below it go missing; > 0: cells above the (1 - rate)-quantile)."""
    if rate == 0.0:
        return np.full(z.shape[1], -np.inf if strength < 0 else np.inf)
    q = rate if strength < 0 else 1.0 - rate
    return np.quantile(z.astype(np.float64), q, axis=0)
