"""Feature rankings and selected feature sets scored against the truth: ``rank_features``
(by effect size), ``selection_scores`` (precision, recall, F1) and ``selection_stability``
(agreement of sets selected on resamples).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from synthbio_ppl.data.truth import Truth
from synthbio_ppl.teaching.effect_sizes import EffectMissing, cliffs_delta, cohens_d
from synthbio_ppl.teaching.inputs import class_pair

__all__ = ["rank_features", "selection_scores", "selection_stability", "true_effect"]

Method = Literal["cohens_d", "cliffs_delta"]


def true_effect(truth: Truth, a: Hashable, b: Hashable) -> pd.Series:
    """Population Cohen's d of ``b − a`` per feature from the truth (float Series; the
    truth's ``effect_size``, last vs first class, as fallback)."""
    table = truth.effect_sizes
    if f"{b} vs {a}" in table.columns:
        return table[f"{b} vs {a}"]
    if f"{a} vs {b}" in table.columns:
        return -table[f"{a} vs {b}"]
    return truth.features["effect_size"]


def rank_features(
    X: Any,
    y: Any,
    truth: Truth | None = None,
    method: Method = "cohens_d",
    classes: Sequence[Hashable] | None = None,
    missing: EffectMissing = "raise",
) -> pd.DataFrame:
    """Features sorted by |effect| (largest first), ties kept in column order.

    Columns: ``rank`` (1 = strongest), ``effect`` (signed, ``b − a``), ``abs_effect``; with
    a ``truth``: ``role``, ``signal`` and ``true_effect_size`` (population Cohen's d of the
    same pair, whatever ``method`` is). ``missing`` as in ``cohens_d`` ("raise", or
    "complete_case" / "available_case" for NaN in ``X``); a feature whose effect is NaN
    (too few observed cells) ranks last.
    """
    stats = {"cohens_d": cohens_d, "cliffs_delta": cliffs_delta}
    if method not in stats:
        raise ValueError(f"method must be one of {sorted(stats)}; got {method!r}")
    effect = stats[method](X, y, classes, missing)
    strength = np.abs(effect.to_numpy())
    order = np.argsort(-np.where(np.isnan(strength), -1.0, strength), kind="stable")
    ranked = pd.DataFrame(
        {
            "rank": np.arange(1, len(effect) + 1),
            "effect": effect.to_numpy()[order],
            "abs_effect": np.abs(effect.to_numpy()[order]),
        },
        index=pd.Index(effect.index[order], name="feature"),
    )
    ranked.attrs["method"] = method
    ranked.attrs["missing"] = missing
    if truth is None:
        return ranked
    unknown = ranked.index.difference(truth.features.index)
    if len(unknown):
        raise ValueError(f"features not in the truth: {unknown[:5].tolist()} ...")
    a, b = class_pair(y, classes)
    ranked["role"] = truth.features["role"].reindex(ranked.index)
    ranked["signal"] = truth.features["signal"].reindex(ranked.index).astype(bool)
    ranked["true_effect_size"] = true_effect(truth, a, b).reindex(ranked.index).astype(float)
    return ranked


def _signal_of(truth: Truth | pd.Series) -> pd.Series:
    signal = truth.features["signal"] if isinstance(truth, Truth) else truth
    return signal.astype(bool)


def _as_names(selected: Any, universe: pd.Index) -> pd.Index:
    """A selection (names, or a boolean mask over ``universe``) as an Index of names."""
    arr = np.asarray(selected)
    if arr.dtype == bool:
        if arr.shape != (len(universe),):
            raise ValueError(f"a boolean selection needs one entry per feature ({len(universe)})")
        return universe[arr]
    names = pd.Index(list(dict.fromkeys(selected)))
    unknown = names.difference(universe)
    if len(unknown):
        raise ValueError(f"selected features not in the truth: {unknown[:5].tolist()}")
    return names


def selection_scores(selected: Iterable[Hashable] | np.ndarray, truth: Truth | pd.Series) -> dict:
    """Precision, recall and F1 of a selected feature set against the truth's ``signal``.

        precision = TP / |selected|,  recall = TP / |signal|,
        F1 = 2·TP / (|selected| + |signal|)  (the harmonic mean of the two).

    ``selected``: feature names, or a boolean mask over the truth's features. ``truth``: a
    Truth or a boolean Series (feature → signal). Precision is NaN for an empty selection,
    recall NaN when no feature carries signal, F1 NaN when both are empty.
    """
    signal = _signal_of(truth)
    chosen = _as_names(selected, signal.index)
    tp = int(signal.reindex(chosen).sum())
    n_sel, n_sig = len(chosen), int(signal.sum())
    return {
        "n_selected": n_sel,
        "n_signal": n_sig,
        "true_positives": tp,
        "false_positives": n_sel - tp,
        "false_negatives": n_sig - tp,
        "precision": tp / n_sel if n_sel else float("nan"),
        "recall": tp / n_sig if n_sig else float("nan"),
        "f1": 2 * tp / (n_sel + n_sig) if n_sel + n_sig else float("nan"),
    }


def selection_stability(sets: Sequence[Iterable[Hashable]], n_features: int) -> dict:
    """Agreement of feature sets selected on different resamples (mean over all pairs).

        Jaccard(A, B) = |A ∩ B| / |A ∪ B|   (two empty sets count as 1),
        Kuncheva(A, B) = (r·n − k²) / (k·(n − k)),   r = |A ∩ B|, k = |A| = |B|.

    Kuncheva's index corrects the overlap for chance (0 = chance, 1 = identical) and is
    defined only when every set has the same size k with 0 < k < n; otherwise it is NaN
    and ``note`` says why.
    """
    if len(sets) < 2:
        raise ValueError("stability needs at least two selected sets")
    lists = [list(dict.fromkeys(s)) for s in sets]
    vocab = pd.Index(list(dict.fromkeys(f for s in lists for f in s)))
    if len(vocab) > n_features:
        raise ValueError(f"the sets name {len(vocab)} features, more than n_features={n_features}")
    member = np.zeros((len(lists), len(vocab)))
    for i, s in enumerate(lists):
        member[i, vocab.get_indexer(s)] = 1.0
    inter = member @ member.T
    sizes = member.sum(axis=1)
    union = sizes[:, None] + sizes[None, :] - inter
    upper = np.triu_indices(len(lists), k=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        jaccard = np.where(union > 0, inter / union, 1.0)[upper]
    k = sizes[0]
    note = ""
    kuncheva = float("nan")
    if not np.all(sizes == k):
        note = f"Kuncheva's index needs equal set sizes; got sizes {sorted(set(sizes.astype(int)))}"
    elif not 0 < k < n_features:
        note = f"Kuncheva's index needs 0 < k < n_features; got k={int(k)}, n={n_features}"
    else:
        kuncheva = float(np.mean((inter[upper] * n_features - k**2) / (k * (n_features - k))))
    return {
        "n_sets": len(lists),
        "n_features": n_features,
        "sizes": sizes.astype(int).tolist(),
        "mean_jaccard": float(np.mean(jaccard)),
        "kuncheva": kuncheva,
        "note": note,
    }
