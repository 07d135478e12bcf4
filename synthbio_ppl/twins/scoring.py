"""Score a synthetic table (a "digital twin") against the real data it imitates.

Three questions, each against real tables the synthetic data was not judged on:

- **fidelity**: do the marginals, correlations and class balance match ``real_train``?
- **utility**: does a model trained on synthetic rows predict real rows as well as one
  trained on real rows (TSTR vs TRTR, both tested on ``real_holdout``)?
- **privacy**: are synthetic rows closer to the training rows than fresh real rows are
  (distance to closest record), and can an attacker tell members from non-members?

Every feature is compared in units of its real-train sd, so the numbers are unit-free.
Missing cells (NaN) are allowed and handled explicitly in each part, never by dropping
rows: fidelity compares observed cells and, separately, the missing fractions per feature
and class; utility puts scikit-learn's ``SimpleImputer`` in front of the classifier;
privacy uses ``nan_euclidean`` distances (see each module).
scikit-learn (extra ``eval``) is imported only when a table is scored. This module ties the
parts together; each part is computed in its own module (``fidelity``, ``utility``,
``privacy``, from the tables ``scoring_inputs`` checks) and reported in ``report``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from synthbio_ppl.twins.fidelity import _fidelity
from synthbio_ppl.twins.privacy import _privacy
from synthbio_ppl.twins.report import TwinReport
from synthbio_ppl.twins.scoring_inputs import (
    _check_columns,
    _classes,
    _feature_values,
    _label_codes,
    _location_scale,
    one_hot_categorical,
)
from synthbio_ppl.twins.utility import _utility

__all__ = ["score_twin"]


def score_twin(
    real_train: pd.DataFrame,
    real_holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    label: str,
    estimator: Any = None,
    seed: int = 0,
) -> TwinReport:
    """Fidelity, utility and privacy of ``synthetic`` against two disjoint real tables.

    ``real_train`` is the data the synthetic table was made from; ``real_holdout`` real
    rows it never saw. Every column but ``label`` is a feature; all three tables need the
    same feature columns, finite or NaN (missing); a categorical one (text, category) is
    compared one-hot encoded with ``real_train``'s levels (``COL=LEVEL``, 0/1, NaN where
    missing), as the twin keeps it; an infinite value, a missing
    label or a class unknown to ``real_train`` raises ``ValueError`` naming the table and
    column. ``estimator`` (a scikit-learn classifier,
    cloned for each fit; default StandardScaler + LogisticRegression(max_iter=2000)) is
    used for TSTR and TRTR. ``seed`` draws the balanced member/non-member subsample of
    the membership-inference attack. See ``TwinFidelity``, ``TwinUtility`` and
    ``TwinPrivacy`` for the formulas.
    """
    encoded = one_hot_categorical(label, real_train, real_holdout, synthetic)
    frames = dict(zip(("real_train", "real_holdout", "synthetic"), encoded, strict=True))
    features = _check_columns(frames, label)
    values = {name: _feature_values(frame, features, name) for name, frame in frames.items()}
    classes = _classes(real_train[label])
    codes = {
        name: _label_codes(frame[label], classes, name, label) for name, frame in frames.items()
    }

    mean, sd = _location_scale(values["real_train"])
    scaled = {name: (x - mean) / sd for name, x in values.items()}
    fidelity = _fidelity(values, scaled, codes, classes, features)
    utility = _utility(estimator, values, codes, classes)
    privacy = _privacy(scaled, seed)
    return TwinReport(
        fidelity=fidelity,
        utility=utility,
        privacy=privacy,
        label=label,
        n_rows={name: len(frame) for name, frame in frames.items()},
    )
