"""compare_tests: Welch's t against Mann–Whitney U on normal and heavy-tailed families."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from synthbio_ppl.teaching.power import COLUMNS, TESTS, compare_tests
from tests.conftest import RANKING_SPEC

ALPHA = 0.05
LOGNORMAL = {"distribution": "lognormal", "params": {"sigma": 1.0}}


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    # 2 replicates × 200 features: 400 tests behind each share, so the SE of a power
    # near 0.7 is about 0.023 and that of a type-I error at alpha 0.011.
    return compare_tests(
        ["normal", LOGNORMAL],
        1.0,
        n_per_class=12,
        n_informative=200,
        n_noise=200,
        replicates=2,
        alpha=ALPHA,
        seed=0,
    )


def row(table: pd.DataFrame, family: str, test: str) -> pd.Series:
    (index,) = np.flatnonzero((table["family"] == family) & (table["test"] == test))
    return table.iloc[index]


def gap_se(a: pd.Series, b: pd.Series) -> float:
    """SE of a difference of two powers, as if independent (they share the features, which
    correlates them positively, so this overstates the SE: a conservative tolerance)."""
    return float(np.hypot(a["power_se"], b["power_se"]))


def test_the_table_is_tidy(table: pd.DataFrame) -> None:
    assert list(table.columns) == COLUMNS
    assert table[["family", "test"]].values.tolist() == [
        [family, test] for family in ("normal", "lognormal(sigma=1)") for test in TESTS
    ]
    assert (table["effect_size"] == 1.0).all()
    assert (table["n_informative"] == 400).all() and (table["n_noise"] == 400).all()
    assert table.attrs["alpha"] == ALPHA and table.attrs["classes"] == ("a", "b")
    p, m = table["power"], table["n_informative"]
    assert np.allclose(table["power_se"], np.sqrt(p * (1 - p) / m))


def test_on_normal_data_the_t_test_is_at_least_as_powerful(table: pd.DataFrame) -> None:
    t, u = row(table, "normal", "welch_t"), row(table, "normal", "mann_whitney_u")
    # Welch's t is the better test under normality (U's efficiency is 3/π ≈ 0.95)
    assert t["power"] >= u["power"] - 3 * gap_se(t, u)
    se = np.sqrt(ALPHA * (1 - ALPHA) / t["n_noise"])  # the type-I share's SE under H0
    for test in (t, u):
        assert abs(test["type1_error"] - ALPHA) <= 3 * se


def test_on_heavy_tails_the_rank_test_is_more_powerful(table: pd.DataFrame) -> None:
    t = row(table, "lognormal(sigma=1)", "welch_t")
    u = row(table, "lognormal(sigma=1)", "mann_whitney_u")
    assert u["power"] - t["power"] > 3 * gap_se(t, u)


def test_a_scene_is_scored_from_its_truth() -> None:
    # RANKING_SPEC: 8 informative features at d = 2, 4 cluster features without a class
    # shift and 50 noise features, all normal.
    table = compare_tests(RANKING_SPEC, replicates=1)
    assert table["family"].tolist() == ["normal", "normal"]
    assert table["effect_size"].tolist() == [2.0, 2.0]
    assert table["n_informative"].tolist() == [8, 8] and table["n_noise"].tolist() == [54, 54]
    assert (table["power"] == 1.0).all()  # d = 2 at 100 rows per class: power ≈ 1 − 1e-20


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"spec_or_families": ["normal", "cauchy"]}, r"spec_or_families\[1\]: unknown family"),
        ({"spec_or_families": [{"distribution": "student_t", "params": {"df": 1}}]}, "df"),
        ({"spec_or_families": ["normal", "normal"]}, "spec_or_families lists a family twice"),
        ({"spec_or_families": []}, "spec_or_families"),
        ({"spec_or_families": "normal", "effect_sizes": [0.0]}, "effect_sizes"),
        ({"spec_or_families": "normal", "n_per_class": 1}, "n_per_class"),
        ({"spec_or_families": "normal", "replicates": 0}, "replicates"),
        ({"spec_or_families": "normal", "alpha": 1.5}, "alpha"),
        ({"spec_or_families": "normal", "seed": -1}, "seed"),
        ({"spec_or_families": RANKING_SPEC, "effect_sizes": 1.0}, "effect_sizes: a scene"),
    ],
)
def test_bad_arguments_are_named(arguments: dict[str, Any], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        compare_tests(**arguments)


def test_a_single_family_by_name_or_entry_and_a_misspelt_one_named() -> None:
    import pytest

    import synthbio_ppl as sb

    small = {"n_per_class": 10, "n_informative": 2, "n_noise": 2, "replicates": 2}
    assert set(sb.compare_tests("normal", [0.5], **small)["family"]) == {"normal"}
    entry = {"distribution": "student_t", "params": {"df": 3}}
    assert len(sb.compare_tests(entry, [0.5], **small)) == 2
    for typo in ("Normal", "student-t"):
        with pytest.raises(ValueError, match="unknown family"):
            sb.compare_tests(typo, [0.5], **small)


def test_tests_that_give_no_p_value_are_not_counted_as_misses() -> None:
    import warnings

    import numpy as np

    import synthbio_ppl as sb

    tiny = {
        "name": "tiny",
        "classes": [{"name": "a", "n": 1}, {"name": "b", "n": 1}],
        "informative": [{"n": 3}],
        "noise": [{"n": 3}],
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = sb.compare_tests(tiny, replicates=2).set_index("test")
    welch = table.loc["welch_t"]  # one row per class: no variance, no p-value
    assert welch["n_informative"] == 0 and np.isnan(welch["power"])
    assert np.isnan(welch["type1_error"]) and welch["n_noise"] == 0
