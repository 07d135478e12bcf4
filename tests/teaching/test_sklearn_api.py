"""make_biomedical_classification validates its arguments as scikit-learn does."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import synthbio_ppl as sb


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"n_samples": 1e4}, "n_samples"),
        ({"n_samples": 60.5}, "n_samples"),
        ({"n_samples": -1}, "n_samples"),
        ({"n_samples": 1}, "n_samples"),
        ({"n_classes": 1}, "n_classes"),
        ({"n_noise": True}, "n_noise"),
        ({"n_batches": 1}, "n_batches"),
        ({"weights": [float("nan"), 1.0]}, "weights"),
        ({"weights": [1.0]}, "weights"),
        ({"random_state": -5}, "random_state"),
        ({"random_state": 2**40}, "random_state"),
        ({"random_state": "seven"}, "random_state"),
    ],
)
def test_bad_arguments_name_themselves(options: dict[str, Any], name: str) -> None:
    with pytest.raises(sb.SpecError) as info:
        sb.make_biomedical_classification(**options)
    assert info.value.path == name


def test_random_state_follows_scikit_learn() -> None:
    a, _ = sb.make_biomedical_classification(random_state=7)
    b, _ = sb.make_biomedical_classification(random_state=7)
    assert np.array_equal(a, b)
    c, _ = sb.make_biomedical_classification(random_state=np.random.RandomState(1))
    d, _ = sb.make_biomedical_classification(random_state=np.random.RandomState(1))
    assert np.array_equal(c, d)
    e, _ = sb.make_biomedical_classification(random_state=None)
    f, _ = sb.make_biomedical_classification(random_state=None)
    assert not np.array_equal(e, f)  # None: a fresh seed each call, as in scikit-learn
