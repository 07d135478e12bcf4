"""The classifier the evaluation and scoring helpers use when none is given."""

from __future__ import annotations

from typing import Any


def default_estimator() -> Any:
    """Standardise, then L2 logistic regression (scikit-learn's defaults, C = 1).

    scikit-learn (extra ``eval``) is imported only when this is called.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
