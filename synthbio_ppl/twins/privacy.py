"""Privacy of a twin: distance to closest record (DCR) and membership inference.

Distances are Euclidean on standardised features. Synthetic rows' DCRs to ``real_train``
are set beside those of fresh real rows (``real_holdout``); a distance-based attacker then
tries to tell training rows from holdout rows by their distance to the synthetic table.
See ``TwinPrivacy``. scikit-learn is imported only when a table is scored.

Missing cells: when a table has a NaN feature cell, distances are scikit-learn's
``nan_euclidean_distances``: the Euclidean distance over the features observed in both
rows, scaled by √(p / shared), so rows are compared on what both have without imputing.
Two rows sharing no observed feature are infinitely far apart; a row with no finite
distance to any row has DCR inf, and the attack ranks it as the farthest. A median or 5th
percentile of DCRs that reaches such a row is inf (``None`` in ``to_dict``), on purpose.
"""

from __future__ import annotations

import numpy as np

from synthbio_ppl.twins.report import TwinPrivacy

EXACT_COPY_DISTANCE = 1e-8


def _privacy(scaled: dict[str, np.ndarray], seed: int) -> TwinPrivacy:
    from sklearn.metrics import roc_auc_score

    train, holdout, synth = scaled["real_train"], scaled["real_holdout"], scaled["synthetic"]
    dcr_synth = _nearest_distance(train, synth)
    dcr_holdout = _nearest_distance(train, holdout)
    holdout_p5 = _percentile(dcr_holdout, 5)

    n_side = min(len(train), len(holdout))
    rng = np.random.default_rng(seed)
    members = train[_subsample(rng, len(train), n_side)]
    outsiders = holdout[_subsample(rng, len(holdout), n_side)]
    candidates = np.concatenate([members, outsiders])
    is_member = np.concatenate([np.ones(n_side), np.zeros(n_side)])
    attack_distance = _nearest_distance(synth, candidates)
    finite = attack_distance[np.isfinite(attack_distance)]
    farthest = (finite.max() if finite.size else 0.0) + 1.0
    attack_score = -np.where(np.isfinite(attack_distance), attack_distance, farthest)
    return TwinPrivacy(
        dcr_synthetic_median=float(np.median(dcr_synth)),
        dcr_synthetic_p5=_percentile(dcr_synth, 5),
        dcr_holdout_median=float(np.median(dcr_holdout)),
        dcr_holdout_p5=holdout_p5,
        share_closer_than_holdout_p5=float(np.mean(dcr_synth < holdout_p5)),
        exact_copies=float(np.mean(dcr_synth < EXACT_COPY_DISTANCE)),
        mia_auc=float(roc_auc_score(is_member, attack_score)),
        mia_n_per_side=n_side,
    )


def _percentile(distances: np.ndarray, q: float) -> float:
    """``np.percentile(distances, q)`` (linear), with an inf DCR (a row sharing no observed
    feature with any row) counted as the largest distance: the result is inf when the
    interpolation reaches an inf, computed directly rather than by numpy's inf − inf (NaN
    and a RuntimeWarning)."""
    if np.isfinite(distances).all():
        return float(np.percentile(distances, q))
    ordered = np.sort(distances)  # inf last
    h = (len(ordered) - 1) * q / 100
    k = int(np.floor(h))
    if np.isinf(ordered[k]) or (h > k and np.isinf(ordered[k + 1])):
        return float("inf")
    # both neighbours finite: a finite stand-in for the infs changes neither of them
    return float(np.percentile(np.minimum(ordered, ordered[k + 1 if h > k else k]), q))


def _nearest_distance(reference: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Euclidean distance from each query row to its nearest reference row.

    The neighbour is found by scikit-learn; the distance to it is then recomputed as
    ‖q − r‖ directly, so an exact copy gives 0 rather than rounding noise.
    """
    from sklearn.neighbors import NearestNeighbors

    if np.isnan(reference).any() or np.isnan(queries).any():
        return _nearest_nan_distance(reference, queries)
    index = NearestNeighbors(n_neighbors=1).fit(reference)
    nearest = index.kneighbors(queries, return_distance=False)[:, 0]
    return np.linalg.norm(queries - reference[nearest], axis=1)


def _nearest_nan_distance(
    reference: np.ndarray, queries: np.ndarray, cells: int = 4_000_000
) -> np.ndarray:
    """Nearest-neighbour distances (queries,) under scikit-learn's ``nan_euclidean``, in
    chunks of at most ``cells`` pairs; the nearest pair's distance is recomputed directly
    (an exact copy gives 0); inf where a query shares no observed feature with any row."""
    from sklearn.metrics.pairwise import nan_euclidean_distances

    p = reference.shape[1]
    out = np.full(len(queries), np.inf)
    step = max(1, cells // max(1, len(reference)))
    for start in range(0, len(queries), step):
        block = queries[start : start + step]
        distances = nan_euclidean_distances(block, reference)
        distances = np.where(np.isnan(distances), np.inf, distances)
        nearest = np.argmin(distances, axis=1)
        gaps = block - reference[nearest]
        shared = (~np.isnan(gaps)).sum(axis=1)
        squares = np.where(np.isnan(gaps), 0.0, gaps**2).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            exact = np.sqrt(p / shared * squares)
        found = np.isfinite(distances[np.arange(len(block)), nearest]) & (shared > 0)
        out[start : start + len(block)] = np.where(found, exact, np.inf)
    return out


def _subsample(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """All ``n`` row indices when ``size == n``, else ``size`` drawn without replacement."""
    if size == n:
        return np.arange(n)
    return np.sort(rng.choice(n, size=size, replace=False))
