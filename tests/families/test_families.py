"""Standardised families: mean 0, variance 1, so a shift of d is a population Cohen's d."""

from __future__ import annotations

import numpy as np
import pytest

import synthbio_ppl as sb
from synthbio_ppl.families.table import FAMILY_NAMES

SHAPES = {"lognormal": {"sigma": 0.8}, "student_t": {"df": 7}, "gamma": {"shape": 1.5}}
SHAPES["beta"] = {"a": 0.7, "b": 3.0}
N = 40_000  # per class


@pytest.fixture(scope="module")
def families_data() -> sb.Dataset:
    spec = {
        "seed": 12,
        "classes": [{"name": "a", "n": N}, {"name": "b", "n": N}],
        "informative": [
            {"name": f, "n": 2, "effect_size": 0.7, "distribution": f, "params": SHAPES.get(f, {})}
            for f in FAMILY_NAMES
        ],
    }
    return sb.generate(spec)


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_each_class_has_unit_variance_and_mean_plus_minus_half_d(families_data, family) -> None:
    X, y = families_data.X, families_data.y
    for j in range(2):
        col = X[f"{family}_{j}"].to_numpy(dtype=float)
        for label, expected_mean in (("a", -0.35), ("b", 0.35)):
            x = col[(y == label).to_numpy()]
            n = x.size
            dev2 = (x - x.mean()) ** 2
            se_mean = x.std() / np.sqrt(n)
            se_var = dev2.std() / np.sqrt(n)  # sampling error of the variance estimate
            assert abs(x.mean() - expected_mean) < 5 * se_mean, (family, label, x.mean())
            assert abs(x.var() - 1.0) < 5 * se_var, (family, label, x.var())


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_population_cohens_d_is_the_effect_size(families_data, family) -> None:
    X, y = families_data.X, families_data.y
    a, b = (y == "a").to_numpy(), (y == "b").to_numpy()
    col = X[f"{family}_0"].to_numpy(dtype=float)
    pooled = np.sqrt((col[a].var(ddof=1) + col[b].var(ddof=1)) / 2)
    d = (col[b].mean() - col[a].mean()) / pooled
    se_d = np.sqrt(2 / N + 0.7**2 / (4 * N))  # large-sample SE of Cohen's d
    assert abs(d - 0.7) < 5 * se_d
    truth = families_data.truth.features.loc[f"{family}_0"]
    assert truth["effect_size"] == pytest.approx(0.7)
    assert truth["distribution"] == family


def test_families_really_differ_in_shape(families_data) -> None:
    """Skewness separates the families, so a family mix-up cannot pass the tests above."""
    from scipy.stats import skew

    X = families_data.X
    s = {f: skew(X[f"{f}_0"].to_numpy(dtype=float)) for f in FAMILY_NAMES}
    assert abs(s["normal"]) < 0.05 and abs(s["uniform"]) < 0.05
    assert s["exponential"] > 1.5  # ≈ 2 within class, diluted by the class shift
    assert s["lognormal"] > 2.0
    assert 1.0 < s["gamma"] < 1.8  # 2/√1.5 = 1.63 within class
    assert s["beta"] > 0.8


def test_raw_noise_keeps_the_family_parameters() -> None:
    spec = {
        "seed": 2,
        "classes": [{"name": "a", "n": 5000}, {"name": "b", "n": 5000}],
        "noise": [
            {"name": "u", "n": 3, "distribution": "uniform", "standardise": False,
             "params": {"low": -2, "high": 2}},
            {"name": "g", "n": 2, "distribution": "gamma", "standardise": False,
             "params": {"shape": 4, "rate": 2}},
        ],
    }  # fmt: skip
    data = sb.generate(spec)
    u = data.X.filter(like="u_").to_numpy()
    assert u.min() >= -2 and u.max() <= 2
    assert u.min() < -1.99 and u.max() > 1.99
    g = data.X.filter(like="g_").to_numpy(dtype=float)
    assert abs(g.mean() - 2.0) < 5 * g.std() / np.sqrt(g.size)
    assert data.truth.class_means.loc["g_0"].tolist() == pytest.approx([2.0, 2.0])
