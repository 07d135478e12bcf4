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


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"n_pseudo_groups": 1}, "n_pseudo_groups"),
        ({"n_pseudo_groups": -2}, "n_pseudo_groups"),
        ({"n_pseudo_groups": 2.0}, "n_pseudo_groups"),
        ({"n_pseudo_groups": 101}, "n_pseudo_groups"),  # more groups than the 100 rows
        ({"n_pseudo_groups": 2, "pseudo_size": 0}, "pseudo_size"),
        ({"pseudo_size": True}, "pseudo_size"),
        ({"return_groups": 1}, "return_groups"),
        ({"return_groups": "yes"}, "return_groups"),
    ],
)
def test_bad_group_arguments_name_themselves(options: dict[str, Any], name: str) -> None:
    with pytest.raises(sb.SpecError) as info:
        sb.make_biomedical_classification(**options)
    assert info.value.path == name


GROUPED = {
    "n_samples": 90,
    "n_informative": 3,
    "n_noise": 4,
    "weights": [2.0, 1.0],
    "n_batches": 3,
    "confounding": 0.5,
    "n_pseudo_groups": 4,
    "pseudo_size": 3,
    "random_state": 11,
}


def test_groups_label_every_row_as_generate_does() -> None:
    """Arrays: one int64 code per row, the class × batch counts those of the truth's table,
    and the same labels ``sb.generate`` gives the equivalent spec (its covariates)."""
    X, y, groups, truth = sb.make_biomedical_classification(
        **GROUPED, return_groups=True, return_truth=True
    )
    assert set(groups) == {"batch", "pseudo0_group"}
    for codes in groups.values():
        assert codes.shape == (90,) and codes.dtype == np.int64
    assert X.shape == (90, 3 + 4 + 3)
    table = truth.batch["table"].to_numpy()
    counts = np.zeros((2, 3), dtype=np.int64)
    np.add.at(counts, (y, groups["batch"]), 1)
    np.testing.assert_array_equal(counts, table)
    np.testing.assert_array_equal(np.bincount(groups["batch"]), table.sum(axis=0))
    assert np.bincount(groups["pseudo0_group"]).tolist() == [23, 23, 22, 22]  # balanced

    spec = {
        "name": "equivalent",
        "seed": 11,
        "classes": [{"name": "class0", "n": 60}, {"name": "class1", "n": 30}],
        "informative": [{"n": 3, "effect_size": 1.0}],
        "noise": [{"n": 4}],
        "pseudo_classes": [{"n": 3, "groups": 4}],
        "batches": {"n": 3, "strength": 0.5, "confounding": 0.5},
    }
    data = sb.generate(spec)
    np.testing.assert_array_equal(X, data.X.to_numpy())
    np.testing.assert_array_equal(groups["batch"], data.covariates["batch"].cat.codes)
    np.testing.assert_array_equal(groups["pseudo0_group"], data.covariates["pseudo0_group"])


def test_groups_as_frame_match_the_arrays() -> None:
    X, y, frame = sb.make_biomedical_classification(**GROUPED, as_frame=True, return_groups=True)
    _, _, arrays = sb.make_biomedical_classification(**GROUPED, return_groups=True)
    assert frame.columns.tolist() == ["batch", "pseudo0_group"]
    assert frame.index.equals(X.index) and len(frame) == len(y) == 90
    assert frame["batch"].cat.categories.tolist() == ["batch0", "batch1", "batch2"]
    np.testing.assert_array_equal(frame["batch"].cat.codes, arrays["batch"])
    np.testing.assert_array_equal(frame["pseudo0_group"], arrays["pseudo0_group"])
    assert frame["pseudo0_group"].dtype == np.int64


def test_groups_hold_only_the_designs_asked_for() -> None:
    _, y, only_batch = sb.make_biomedical_classification(n_batches=2, return_groups=True)
    assert set(only_batch) == {"batch"} and only_batch["batch"].shape == y.shape
    X, _, none = sb.make_biomedical_classification(as_frame=True, return_groups=True)
    assert none.shape == (len(X), 0)
    assert len(sb.make_biomedical_classification(return_groups=False)) == 2


def test_numpy_integers_are_integers_and_settings_are_checked_without_their_blocks() -> None:
    import numpy as np
    import pytest

    from synthbio_ppl.core.errors import SpecError

    X, _ = sb.make_biomedical_classification(
        n_samples=np.int64(40), n_informative=np.int32(2), n_noise=np.int64(3)
    )
    assert X.shape == (40, 5)
    for kwargs, path in (
        ({"weights": "ab"}, "weights"),
        ({"confounding": 2}, "confounding"),
        ({"batch_strength": float("nan")}, "batch_strength"),
        ({"correlation": 2.0}, "correlation"),
    ):
        with pytest.raises(SpecError) as info:
            sb.make_biomedical_classification(**kwargs)
        assert info.value.path == path


def test_class_shares_are_relative_however_large() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow in their sum or their share of the rows
        for shares, first in (([1e308, 1e308], 200), ([1e305, 3e305], 100)):
            _, y = sb.make_biomedical_classification(n_samples=400, weights=shares)
            assert (y == 0).sum() == first


@pytest.mark.parametrize("shares", [[1.0, float("inf")], [1.0, -2.0], [1.0, float("nan")]])
def test_a_bad_class_share_is_pointed_at(shares: list[float]) -> None:
    with pytest.raises(sb.SpecError, match=r"weights\[1\] is .*: a share must be a positive") as e:
        sb.make_biomedical_classification(weights=shares)
    assert e.value.path == "weights"
