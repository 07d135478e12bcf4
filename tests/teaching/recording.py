"""A scikit-learn classifier that records the matrix each fit receives (for leak tests)."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

SEEN: list[np.ndarray] = []
"""Every matrix a ``Recorder`` was fitted on, in order (clear it before a run)."""


class Recorder(ClassifierMixin, BaseEstimator):
    """Records ``X`` in ``SEEN`` at each fit; predicts equal class probabilities."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> Recorder:
        SEEN.append(np.array(X, dtype=float, copy=True))
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.full(len(X), self.classes_[0])
