"""Model-based oversampling: new minority rows drawn from a fitted twin, not interpolated.

SMOTE and ADASYN place new rows on segments between minority neighbours, so they never
leave the minority's convex hull and copy its outliers. ``TwinOversampler`` fits the twin
model (``synthbio_ppl.twins.fitting``) to the training rows — every class, because the column
shapes λ are shared and the majority helps to estimate them — and adds rows of the classes
that need them, drawn from their class's fitted distribution. It follows
imbalanced-learn's sampler API (``fit_resample``, ``sampling_strategy``), so an
``imblearn.pipeline.Pipeline`` applies it to the training folds only.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

from synthbio_ppl.core.errors import SpecError, check_seed

SamplingStrategy = str | float | Mapping[Hashable, int]
_LABEL = "__class__"


def target_counts(y: np.ndarray, sampling_strategy: SamplingStrategy) -> dict[Hashable, int]:
    """Rows to *add* per class, with imbalanced-learn's meanings of ``sampling_strategy``:
    ``"auto"``/``"not majority"`` (every class up to the majority), ``"minority"``,
    ``"not minority"``, ``"all"``, a float (binary: minority/majority ratio after
    resampling) or a mapping class → wanted rows after resampling."""
    classes, counts = np.unique(y, return_counts=True)
    have = dict(zip(classes.tolist(), counts.tolist(), strict=True))
    top = int(counts.max())
    majority = classes.tolist()[int(np.argmax(counts))]
    minority = classes.tolist()[int(np.argmin(counts))]
    if isinstance(sampling_strategy, Mapping):
        unknown = [str(k) for k in sampling_strategy if k not in have]
        if unknown:
            raise SpecError("sampling_strategy", unknown, f"classes are {list(have)}")
        for cls, rows in sampling_strategy.items():  # imbalanced-learn's: rows, whole
            if isinstance(rows, bool) or not isinstance(rows, Integral):
                allowed = "must be the class's rows after resampling, a whole number (int)"
                raise SpecError(f"sampling_strategy.{cls}", rows, allowed)
        short = {k: v for k, v in sampling_strategy.items() if v < have[k]}
        if short:
            raise SpecError("sampling_strategy", short, "oversampling cannot remove rows")
        return {k: int(sampling_strategy.get(k, have[k])) - have[k] for k in have}
    if isinstance(sampling_strategy, Real) and not isinstance(sampling_strategy, bool):
        if not np.isfinite(float(sampling_strategy)):
            raise SpecError("sampling_strategy", sampling_strategy, "must be a finite ratio")
        if len(have) != 2:
            raise SpecError("sampling_strategy", sampling_strategy, "a ratio needs two classes")
        # imbalanced-learn's count: int(ratio × majority), rounded down
        wanted = int(np.floor(float(sampling_strategy) * top))
        if not 0 < sampling_strategy <= 1 or wanted < have[minority]:
            raise SpecError(
                "sampling_strategy",
                sampling_strategy,
                f"must be in (0, 1] and at least the current ratio {have[minority] / top:.3f}",
            )
        return {k: (wanted - have[k] if k == minority else 0) for k in have}
    chosen = {
        "auto": [k for k in have if k != majority],
        "not majority": [k for k in have if k != majority],
        "minority": [minority],
        "not minority": [k for k in have if k != minority],
        "all": list(have),
    }.get(str(sampling_strategy))
    if chosen is None:
        allowed = "'auto', 'minority', 'not minority', 'not majority', 'all', a float or a dict"
        raise SpecError("sampling_strategy", sampling_strategy, f"must be {allowed}")
    return {k: (top - have[k] if k in chosen else 0) for k in have}


class TwinOversampler:
    """imbalanced-learn compatible sampler: ``fit_resample(X, y) -> (X_res, y_res)``.

    The real rows come first, unchanged; the new rows follow. ``method`` is the twin's fit
    (``"map"``: fast enough for every CV fold; ``"nuts"``: draws carry the posterior);
    other keyword arguments (``rank``, ``svi_steps``, ``types``...) go to ``twin``.
    ``random_state`` seeds both the fit and the draws.
    """

    _estimator_type = "sampler"

    def __init__(
        self,
        sampling_strategy: SamplingStrategy = "auto",
        *,
        method: str = "map",
        rank: int | None = None,
        random_state: int | None = 0,
        twin_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.sampling_strategy = sampling_strategy
        self.method = method
        self.rank = rank
        self.random_state = random_state
        self.twin_options = twin_options

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's arguments (scikit-learn's ``clone`` relies on it)."""
        names = ("sampling_strategy", "method", "rank", "random_state", "twin_options")
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params: Any) -> TwinOversampler:
        for name, value in params.items():
            if name not in self.get_params():
                raise SpecError(f"TwinOversampler.{name}", value, "not a parameter")
            setattr(self, name, value)
        return self

    def fit(self, X: Any, y: Any) -> TwinOversampler:
        self.fit_resample(X, y)
        return self

    def fit_resample(self, X: Any, y: Any) -> tuple[Any, Any]:
        """Original rows plus model-drawn rows of the classes ``sampling_strategy`` names."""
        from synthbio_ppl.twins.fitting import twin

        frame, names = _as_frame(X)
        labels = np.asarray(y)
        if labels.ndim != 1 or len(labels) != len(frame):
            raise SpecError("y", labels.shape, f"needs one label per row of X ({len(frame)})")
        if not len(frame):
            raise SpecError("X", "no rows", "needs rows of at least two classes")
        missing = int(pd.isna(labels).sum())
        if missing:
            raise SpecError("y", f"{missing} missing label(s)", "give every row its class")
        check_seed(0 if self.random_state is None else self.random_state, "random_state")
        add = target_counts(labels, self.sampling_strategy)
        self.sampling_strategy_ = add
        if sum(add.values()) == 0:
            return X, y
        seed = 0 if self.random_state is None else int(self.random_state)
        label = _LABEL
        while label in frame.columns:  # a feature of that name: the label takes another
            label = f"_{label}"
        table = frame.assign(**{label: labels})
        options = dict(self.twin_options or {})
        self.twin_ = twin(table, label, method=self.method, rank=self.rank, seed=seed, **options)
        wanted = {k: v for k, v in add.items() if v > 0}
        # n given: one row to add in all is a count, not a share of the real table's size
        new = self.twin_.sample(sum(wanted.values()), seed=seed + 1, balance=wanted)
        new_y = new.pop(label).to_numpy(dtype=labels.dtype)
        if isinstance(X, pd.DataFrame):
            X_res: Any = pd.concat([X, new.set_axis(X.columns, axis=1)], ignore_index=True)
        else:
            X_res = np.concatenate([np.asarray(X), new[names].to_numpy(dtype=np.asarray(X).dtype)])
        y_res: Any = np.concatenate([labels, new_y])
        if isinstance(y, pd.Series):
            y_res = pd.Series(y_res, name=y.name, dtype=y.dtype)
        return X_res, y_res


def oversample(
    X: Any,
    y: Any,
    *,
    sampling_strategy: SamplingStrategy = "auto",
    method: str = "map",
    random_state: int | None = 0,
    **twin_options: Any,
) -> tuple[Any, Any]:
    """``TwinOversampler(...).fit_resample(X, y)`` in one call."""
    sampler = TwinOversampler(
        sampling_strategy,
        method=method,
        random_state=random_state,
        rank=twin_options.pop("rank", None),
        twin_options=twin_options,
    )
    return sampler.fit_resample(X, y)


def _as_frame(X: Any) -> tuple[pd.DataFrame, list[str]]:
    """``X`` as a DataFrame with string column names (the twin's columns)."""
    if isinstance(X, pd.DataFrame):
        frame = X.copy()
        frame.columns = [str(c) for c in X.columns]
        return frame, list(frame.columns)
    values = np.asarray(X)
    if values.ndim != 2:
        raise SpecError("X", values.shape, "must be 2-D (rows × features)")
    names = [f"x{j}" for j in range(values.shape[1])]
    return pd.DataFrame(values, columns=names), names
