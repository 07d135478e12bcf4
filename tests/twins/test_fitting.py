"""Synthetic twins: the power transform, the class factor normal, input checks, sampling
and recovery of a known two-class table.

The known table (``real_table``) has two classes of different sizes (700 controls, 500
cases) and columns whose truth is set by hand: normal ``age``; a normal pair ``x1``/``x2``
with correlation 0.7 in controls and 0 in cases; a lognormal ``marker``; non-negative
``crp`` with many values near 0; integer ``visits``; ``score`` clipped to [0, 10]; a
``category`` column ``sex``; a string column ``site``. One MAP fit is shared by every test
(module fixtures), and a second fit of the same table with an integer label reuses its
compiled program. Tolerances are 5 standard errors of the compared statistics, computed
from the sizes of both the real and the synthetic sample (the fit learns from the real
sample, so its sampling error reaches the synthetic table); looser ones say why.
"""

from __future__ import annotations

import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from numpyro.distributions import MultivariateNormal
from scipy import stats

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.families.correlated import ClassFactorNormal
from synthbio_ppl.twins.fitting import twin
from synthbio_ppl.twins.posterior import Twin
from synthbio_ppl.twins.power_transform import YeoJohnsonInverse, yeo_johnson, yeo_johnson_inverse

LAMBDAS = np.array([0.01, 0.05, 0.3, 0.7, 1.0, 1.3, 1.7, 1.95, 1.99])

# --------------------------------------------------------------------------- power transform


def test_yeo_johnson_matches_scipy() -> None:
    """An independent implementation of the same definition (scipy.stats.yeojohnson)."""
    u = np.concatenate([-np.logspace(-3, 3, 40), [0.0], np.logspace(-3, 3, 40)])
    with jax.enable_x64(True):
        for lam in LAMBDAS:
            ours = np.asarray(yeo_johnson(jnp.asarray(u), lam))
            assert np.allclose(ours, stats.yeojohnson(u, lmbda=lam), rtol=1e-10, atol=1e-12), lam


def test_inverse_undoes_the_transform_on_a_wide_grid() -> None:
    u = np.concatenate([-np.logspace(-6, 6, 60), [0.0], np.logspace(-6, 6, 60)])
    grid_u, grid_lam = np.meshgrid(u, LAMBDAS)
    with jax.enable_x64(True):
        z = yeo_johnson(jnp.asarray(grid_u), jnp.asarray(grid_lam))
        back = np.asarray(yeo_johnson_inverse(z, jnp.asarray(grid_lam)))
    assert np.allclose(back, grid_u, rtol=1e-9, atol=1e-12)
    # float32, as the model runs: relative error of a few ulps times the condition number
    small_u, small_lam = np.meshgrid(np.linspace(-1e3, 1e3, 401), LAMBDAS)
    z32 = yeo_johnson(jnp.asarray(small_u, jnp.float32), jnp.asarray(small_lam, jnp.float32))
    back32 = np.asarray(yeo_johnson_inverse(z32, jnp.asarray(small_lam, jnp.float32)))
    assert np.allclose(back32, small_u, rtol=1e-4, atol=1e-4)


def test_transform_is_the_identity_at_lambda_one() -> None:
    u = np.linspace(-30.0, 30.0, 121)
    with jax.enable_x64(True):
        assert np.allclose(np.asarray(yeo_johnson(jnp.asarray(u), 1.0)), u, rtol=1e-12)
        assert np.allclose(np.asarray(yeo_johnson_inverse(jnp.asarray(u), 1.0)), u, rtol=1e-12)


def test_log_abs_det_jacobian_is_the_log_of_the_autodiff_slope() -> None:
    lam = np.array([0.02, 0.5, 1.0, 1.5, 1.98])
    z = 4.0 * np.random.default_rng(3).normal(size=(50, lam.size))
    z[0] = 0.0  # the kink of the definition at 0

    @jax.jit
    def check(z, lam):
        transform = YeoJohnsonInverse(lam)
        u = transform(z)
        slope = jax.vmap(jax.vmap(jax.grad(yeo_johnson_inverse)))(z, jnp.broadcast_to(lam, z.shape))
        return transform.log_abs_det_jacobian(z, u), jnp.log(slope).sum(-1), transform.inv(u)

    with jax.enable_x64(True):
        got, expected, back = check(z, lam)
        assert got.dtype == jnp.float64
    assert got.shape == (50,)
    assert np.allclose(np.asarray(got), np.asarray(expected), rtol=1e-10, atol=1e-10)
    assert np.allclose(np.asarray(back), z, rtol=1e-10, atol=1e-12)


def test_inverse_is_finite_and_increasing_for_every_finite_z() -> None:
    """In float32, as sampled: the whole Gaussian range maps back to finite data."""
    z = jnp.linspace(-50.0, 50.0, 2001, dtype=jnp.float32)
    for lam in np.linspace(0.01, 1.99, 34):
        u = np.asarray(yeo_johnson_inverse(z, jnp.float32(lam)))
        assert np.isfinite(u).all(), lam
        assert (np.diff(u) >= 0).all(), lam


# --------------------------------------------------------------------------- class factor normal


def _factor_parameters(seed: int, n_classes: int, p: int, r: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    loc = 2.0 * rng.normal(size=(n_classes, p))
    factor = rng.normal(size=(n_classes, p, r))
    diag = np.exp(0.5 * rng.normal(size=(n_classes, p)))
    return loc, factor, diag


def test_factor_normal_log_prob_equals_dense_multivariate_normal() -> None:
    loc, factor, diag = _factor_parameters(0, n_classes=3, p=5, r=2)
    y = np.array([0, 2, 1, 1, 0, 2, 2, 0, 1, 0])
    value = loc[y] + 1.5 * np.random.default_rng(1).normal(size=(4, y.size, 5))
    cov = factor @ np.swapaxes(factor, -1, -2) + diag[:, :, None] * np.eye(5)

    @jax.jit
    def both(loc, factor, diag, y, value, cov):  # one compiled program, not op by op
        got = ClassFactorNormal(loc, factor, diag, y).log_prob(value)
        return got, MultivariateNormal(loc[y], covariance_matrix=cov[y]).log_prob(value)

    with jax.enable_x64(True):
        got, dense = both(loc, factor, diag, y, value, cov)
        assert got.dtype == jnp.float64
    assert got.shape == (4, y.size)
    assert np.allclose(np.asarray(got), np.asarray(dense), rtol=1e-10)


def test_factor_normal_samples_have_each_class_moments() -> None:
    """Mean and covariance per class within 5 SE: SE(mean_j) = √(Σ_jj/n),
    SE(cov_jk) = √((Σ_jj Σ_kk + Σ_jk²)/n) for a normal sample."""
    loc, factor, diag = (a.astype(np.float32) for a in _factor_parameters(4, 2, p=4, r=2))
    y = np.repeat([0, 1], [30_000, 20_000]).astype(np.int32)
    draw = jax.jit(lambda key, *args: ClassFactorNormal(*args).sample(key))
    x = np.asarray(draw(jax.random.PRNGKey(2), loc, factor, diag, y), dtype=float)
    assert x.shape == (50_000, 4)
    for c in (0, 1):
        rows = x[y == c]
        n = len(rows)
        sigma = factor[c].astype(float) @ factor[c].T + np.diag(diag[c])
        var = np.diag(sigma)
        assert np.all(np.abs(rows.mean(axis=0) - loc[c]) < 5 * np.sqrt(var / n)), c
        se_cov = np.sqrt((np.outer(var, var) + sigma**2) / n)
        assert np.all(np.abs(np.cov(rows, rowvar=False) - sigma) < 5 * se_cov), c


# --------------------------------------------------------------------------- bad input


def small_table() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    return pd.DataFrame(
        {
            "glucose": rng.normal(5.0, 1.0, 40),
            "insulin": rng.lognormal(0.0, 0.5, 40),
            "ward": rng.choice(["a", "b"], 40),
            "status": np.repeat(["case", "control"], 20),
        }
    )


WARD = {"ward": "categorical"}


def _with(column: str, rows: list[int], value: object) -> pd.DataFrame:
    frame = small_table()
    frame[column] = frame[column].astype(object)
    frame.loc[rows, column] = value
    return frame if column in ("status", "ward") else frame.astype({column: float})


def _holey_insulin() -> pd.Series:
    return _with("insulin", [1], np.nan)["insulin"]


BAD_INPUTS = {
    "label missing": (small_table, {"label": "diagnosis", "types": WARD}, ["label", "diagnosis"]),
    "date column": (
        lambda: (t := small_table()).assign(when=pd.date_range("2020-01-01", periods=len(t))),
        {"types": WARD},
        ["data.when", "dates"],
    ),
    "column without an observed value": (
        lambda: _with("insulin", list(range(40)), np.nan),
        {"types": WARD},
        ["data.insulin", "all 40 values missing", "drop it"],
    ),
    "categorical column without an observed value": (
        lambda: _with("ward", list(range(40)), None),
        {"types": WARD},
        ["data.ward", "all 40 values missing"],
    ),
    "missing label": (
        lambda: _with("status", [2], None),
        {"types": WARD},
        ["data.status", "1 missing"],
    ),
    "one class": (
        lambda: small_table().assign(status="case"),
        {"types": WARD},
        ["data.status", "2 classes"],
    ),
    "small class": (
        lambda: small_table().assign(status=["case"] * 37 + ["control"] * 3),
        {"types": WARD},
        ["data.status", "'control': 3", "at least 5 rows"],
    ),
    "min_rows_per_class": (
        small_table,
        {"types": WARD, "min_rows_per_class": 25},
        ["data.status", "at least 25 rows"],
    ),
    "unknown type": (
        small_table,
        {"types": {**WARD, "glucose": "ordinal"}},
        ["types.glucose", "ordinal", "categorical"],
    ),
    "types of unknown column": (
        small_table,
        {"types": {**WARD, "weight": "continuous"}},
        ["types", "weight"],
    ),
    "types of the label": (
        small_table,
        {"types": {**WARD, "status": "categorical"}},
        ["types", "status"],
    ),
    "text declared numeric": (
        small_table,
        {"types": {"ward": "integer"}},
        ["types.ward", "only be categorical"],
    ),
    "bounds of unknown column": (
        small_table,
        {"types": WARD, "bounds": {"weight": (0, 1)}},
        ["bounds", "weight"],
    ),
    "bounds not containing the data": (
        small_table,
        {"types": WARD, "bounds": {"glucose": (0.0, 5.0)}},
        ["bounds.glucose", "contain the data"],
    ),
    "constant column": (
        lambda: small_table().assign(batch=3.0),
        {"types": WARD},
        ["data.batch", "constant"],
    ),
    "infinite value": (
        lambda: _with("glucose", [0], np.inf),
        {"types": WARD},
        ["data.glucose", "1 infinite value(s), the first inf at row 0"],
    ),
    "infinite value beside missing ones": (
        lambda: _with("glucose", [3, 5], -np.inf).assign(insulin=_holey_insulin()),
        {"types": WARD},
        ["data.glucose", "2 infinite value(s), the first -inf at row 3", "NaN marks a missing"],
    ),
    "bad method": (small_table, {"types": WARD, "method": "mcmc"}, ["method", "mcmc"]),
    "rank 0": (small_table, {"types": WARD, "rank": 0}, ["rank", "0"]),
    "rank above columns": (small_table, {"types": WARD, "rank": 3}, ["rank", "3", "(2)"]),
    "not a frame": (
        lambda: small_table().to_numpy(),
        {"types": WARD},
        ["data", "ndarray", "DataFrame"],
    ),
}


BAD_INPUTS["rank 1.5"] = (small_table, {"types": WARD, "rank": 1.5}, ["rank", "1.5"])
CASES = list(BAD_INPUTS)


@pytest.mark.parametrize("case", CASES)
def test_bad_input_raises_spec_error_naming_the_field(case: str) -> None:
    make, kwargs, fragments = BAD_INPUTS[case]
    kwargs = {"label": "status", "method": "map", "svi_steps": 10, **kwargs}
    with pytest.raises(SpecError) as caught:
        twin(make(), **kwargs)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)


# --------------------------------------------------------------------------- fitted twins

N_CONTROL, N_CASE = 700, 500
LOG_SIGMA = 0.6  # sd of log(marker)
RHO_CONTROL = 0.7  # corr(x1, x2) among controls; 0 among cases
TYPES = {"sex": "categorical", "site": "categorical"}
BOUNDS = {"score": (0.0, 10.0)}
NUMERIC = ["age", "x1", "x2", "marker", "crp", "visits", "score"]
FIT = {"method": "map", "svi_steps": 3000, "learning_rate": 0.05, "seed": 0}
N_SYNTHETIC = 8000  # the recovery sample, classes equal: 4000 rows each


def real_table(seed: int = 20240611) -> pd.DataFrame:
    """The known table, rows shuffled; column truths in the module docstring."""
    rng = np.random.default_rng(seed)
    parts = []
    classes = (
        ("control", N_CONTROL, (0.0, 0.0), RHO_CONTROL, 50.0, 8.0, 0.0, [0.6, 0.4]),
        ("case", N_CASE, (1.0, -0.5), 0.0, 58.0, 12.0, 0.6, [0.3, 0.7]),
    )
    for name, n, mean, rho, age, age_sd, log_mu, sex in classes:
        pair = rng.multivariate_normal(mean, [[1.0, rho], [rho, 1.0]], size=n)
        part = {
            "age": rng.normal(age, age_sd, n),
            "x1": pair[:, 0],
            "x2": pair[:, 1],
            "marker": rng.lognormal(log_mu, LOG_SIGMA, n),
            "crp": rng.exponential(0.3 if name == "control" else 0.6, n),
            "visits": rng.poisson(2 if name == "control" else 4, n),
            "score": np.clip(rng.normal(6.0 if name == "control" else 8.0, 2.5, n), 0, 10),
            "sex": rng.choice(["f", "m"], n, p=sex),
            "site": rng.choice(["north", "south", "east"], n),
            "status": name,
        }
        parts.append(pd.DataFrame(part))
    table = pd.concat(parts, ignore_index=True).sample(frac=1.0, random_state=1)
    table = table.reset_index(drop=True)
    table["sex"] = table["sex"].astype("category")
    table["site"] = table["site"].astype(object)
    return table


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return real_table()


@pytest.fixture(scope="module")
def fitted(real: pd.DataFrame) -> Twin:
    return twin(real, "status", types=TYPES, bounds=BOUNDS, **FIT)


@pytest.fixture(scope="module")
def fitted_int_label(real: pd.DataFrame) -> tuple[pd.DataFrame, Twin]:
    """The same table with label 0/1 (int64) and ``sex`` an ordered category with an unused
    level: same shapes (two observed levels), so the compiled fit is reused."""
    sex = pd.CategoricalDtype(["m", "f", "unknown"], ordered=True)
    table = real.assign(
        status=(real["status"] == "case").astype(np.int64), sex=real["sex"].astype(sex)
    )
    return table, twin(table, "status", types=TYPES, bounds=BOUNDS, **FIT)


@pytest.fixture(scope="module")
def synthetic(fitted: Twin) -> pd.DataFrame:
    return fitted.sample(N_SYNTHETIC, seed=11, balance="equal")


def test_sample_keeps_columns_order_and_dtypes(real, fitted) -> None:
    fake = fitted.sample(200, seed=1)
    assert list(fake.columns) == list(real.columns)
    assert fake.dtypes.to_dict() == real.dtypes.to_dict()
    assert fake["visits"].dtype == np.int64 and fake["age"].dtype == np.float64
    assert fake["sex"].dtype == real["sex"].dtype  # category with the real levels
    assert list(fake["sex"].cat.categories) == ["f", "m"]
    assert set(fake["site"]) == {"north", "south", "east"}
    assert set(fake["status"]) == {"case", "control"}
    assert fake.notna().all().all()


def test_object_column_keeps_object_dtype(real, fitted) -> None:
    assert real["site"].dtype == object
    assert fitted.sample(200, seed=1)["site"].dtype == object


def test_integer_label_keeps_its_dtype(fitted_int_label) -> None:
    table, fit = fitted_int_label
    fake = fit.sample(200, seed=1, balance={0: 150, 1: 50})
    assert fake["status"].dtype == np.int64
    assert fake["status"].value_counts().to_dict() == {0: 150, 1: 50}
    assert fake.dtypes.to_dict() == table.dtypes.to_dict()
    assert set(fake["sex"]) == {"m", "f"}


def test_category_dtype_is_kept_exactly(fitted_int_label) -> None:
    table, fit = fitted_int_label
    assert fit.sample(200, seed=1)["sex"].dtype == table["sex"].dtype


def test_integer_column_is_integer_valued(fitted) -> None:
    visits = fitted.sample(200, seed=1)["visits"].to_numpy()
    assert visits.dtype == np.int64 and visits.min() >= 0
    assert len(np.unique(visits)) > 3  # a real spread, not one rounded constant


def test_bounds_are_respected(real, fitted, synthetic) -> None:
    """crp and x1 keep their observed ranges (the default bounds); score the user's [0, 10].
    The fitted Gaussian copula puts mass beyond both; a fifth of the real cases sit at
    score 10, a pile the twin keeps by clipping onto it, while crp's rows beyond its range
    are drawn again rather than piled on its minimum."""
    assert (real["score"] == 10).mean() > 0.1
    for column in ("crp", "x1"):
        low, high = real[column].min(), real[column].max()
        assert synthetic[column].min() >= low and synthetic[column].max() <= high
        assert (synthetic[column] == low).mean() < 0.01  # no pile at an unpiled bound
    assert synthetic["score"].min() >= 0.0 and synthetic["score"].max() <= 10.0
    assert (synthetic["score"] == 10).mean() > 0.05
    layout = {c.name: c for c in fitted.layout.numeric}
    assert (layout["crp"].low, layout["crp"].high) == (real["crp"].min(), real["crp"].max())
    assert (layout["score"].low, layout["score"].high) == (0.0, 10.0)
    assert layout["score"].piled == (False, True) and layout["crp"].piled == (False, False)


def test_default_balance_is_the_real_one_by_largest_remainder(fitted) -> None:
    # 200 rows at 7:5 -> 116.67 and 83.33 -> floors 116 + 83 = 199, the larger remainder
    # (control, .67) takes the last row
    fake = fitted.sample(200, seed=2)
    assert fake["status"].value_counts().to_dict() == {"control": 117, "case": 83}
    assert fitted.counts(200) == {"case": 83, "control": 117}
    assert fitted.counts() == {"case": N_CASE, "control": N_CONTROL}


@pytest.mark.parametrize(
    ("balance", "n", "expected"),
    [
        ("equal", 200, {"case": 100, "control": 100}),
        ({"case": 0.3, "control": 0.7}, 200, {"case": 60, "control": 140}),
        ({"case": 1 / 3, "control": 2 / 3}, 200, {"case": 67, "control": 133}),  # 66.7/133.3
        ({"case": 50, "control": 150}, None, {"case": 50, "control": 150}),
        ({"case": 50, "control": 150}, 200, {"case": 50, "control": 150}),
        ({"case": 200}, 200, {"case": 200}),
        # whole numbers that do not add up to n are weights: 1:3 of 200
        ({"case": 1, "control": 3}, 200, {"case": 50, "control": 150}),
        ({"case": 30, "control": 30}, 200, {"case": 100, "control": 100}),
    ],
)
def test_requested_balance_gives_exact_counts(fitted, balance, n, expected) -> None:
    fake = fitted.sample(n, seed=3, balance=balance)
    assert len(fake) == sum(expected.values())
    assert fake["status"].value_counts().to_dict() == expected


@pytest.mark.parametrize(
    ("balance", "n", "fragments"),
    [
        ({"healthy": 1.0}, 200, ["balance", "healthy"]),
        ({"case": -0.2, "control": 1.2}, 200, ["balance", "non-negative"]),
        ({"case": 0, "control": 0}, 200, ["balance", "not all 0"]),
        ("uniform", 200, ["balance", "uniform"]),
        (None, 0, ["n", "≥ 1"]),
        (None, 2.5, ["n", "whole number"]),
        ({"case": float("nan"), "control": 1.0}, 200, ["balance", "finite"]),
        ({"case": float("inf"), "control": 1.0}, 200, ["balance", "finite"]),
    ],
)
def test_bad_balance_raises_spec_error(fitted, balance, n, fragments) -> None:
    with pytest.raises(SpecError) as caught:
        fitted.sample(n, seed=0, balance=balance)
    for fragment in fragments:
        assert fragment in str(caught.value), (fragment, str(caught.value))


@pytest.mark.parametrize("seed", [-5, 2**40, 1.5])
def test_a_bad_sampling_seed_is_named(fitted, seed) -> None:
    with pytest.raises(SpecError, match="seed"):
        fitted.sample(10, seed=seed)


def test_sample_is_deterministic_in_the_seed(fitted) -> None:
    first = fitted.sample(200, seed=7)
    pd.testing.assert_frame_equal(first, fitted.sample(200, seed=7))
    other = fitted.sample(200, seed=8)
    for column in ("age", "x1", "marker"):
        assert not np.allclose(first[column], other[column])
    assert not (first["status"] == other["status"]).all()


# --------------------------------------------------------------------------- recovery


def _by_class(frame: pd.DataFrame, cls: str, column: str) -> np.ndarray:
    return frame.loc[frame["status"] == cls, column].to_numpy(dtype=float)


def _se_sd(x: np.ndarray) -> float:
    """Large-sample SE of a sample sd: SE(var)/(2 sd), SE(var) = sd((x - x̄)²)/√n."""
    return float(((x - x.mean()) ** 2).std() / math.sqrt(x.size) / (2 * x.std()))


@pytest.mark.parametrize("cls", ["control", "case"])
@pytest.mark.parametrize("column", ["age", "x1", "x2", "marker"])
def test_class_means_and_sds_are_recovered(real, synthetic, cls, column) -> None:
    r, s = _by_class(real, cls, column), _by_class(synthetic, cls, column)
    se_mean = math.sqrt(r.var() / r.size + s.var() / s.size)
    assert abs(s.mean() - r.mean()) < 5 * se_mean, (s.mean(), r.mean(), se_mean)
    se_sd = math.hypot(_se_sd(r), _se_sd(s))
    assert abs(s.std() - r.std()) < 5 * se_sd, (s.std(), r.std(), se_sd)


def test_classes_keep_their_own_means(real, synthetic) -> None:
    """The class difference itself: case − control of x1 is 1, of x2 −0.5 (truth)."""
    for column, shift in (("x1", 1.0), ("x2", -0.5)):
        gap = _by_class(synthetic, "case", column).mean()
        gap -= _by_class(synthetic, "control", column).mean()
        # unit sds: the real sample's error (the fit's) plus the synthetic sample's
        se = math.sqrt(1 / N_CASE + 1 / N_CONTROL + 4 / N_SYNTHETIC)
        assert abs(gap - shift) < 5 * se, (column, gap)


def spearman_of(rho: float) -> float:
    """Spearman correlation of a bivariate normal with Pearson correlation ρ."""
    return 6 / math.pi * math.asin(rho / 2)


@pytest.mark.parametrize(("cls", "rho", "n_real"), [("control", 0.7, 700), ("case", 0.0, 500)])
def test_class_correlations_are_recovered(synthetic, cls, rho, n_real) -> None:
    """Spearman ρ of (x1, x2) near the truth's 6/π·asin(ρ/2): SE ≈ (1 − ρ²)/√n (a little
    more for Spearman than Pearson) from the real sample the fit saw and from the
    synthetic sample, each."""
    s = synthetic[synthetic["status"] == cls]
    got = stats.spearmanr(s["x1"], s["x2"]).statistic
    se = (1 - rho**2) * math.sqrt(1 / n_real + 1 / len(s))
    assert abs(got - spearman_of(rho)) < 5 * se, (cls, got)


@pytest.mark.parametrize(("cls", "rho", "n_real"), [("control", 0.7, 700), ("case", 0.0, 500)])
def test_correlation_method_matches_truth_and_sample(fitted, synthetic, cls, rho, n_real):
    corr = fitted.correlation(cls)
    assert list(corr.index) == NUMERIC and list(corr.columns) == NUMERIC
    assert np.allclose(np.diag(corr), 1.0, atol=1e-5)
    assert np.allclose(corr, corr.T, atol=1e-6)
    assert abs(corr.loc["x1", "x2"] - rho) < 5 * (1 - rho**2) / math.sqrt(n_real)
    # every other pair is independent in the truth
    others = corr.to_numpy()[np.triu_indices(len(NUMERIC), 1)]
    others = np.delete(others, 6)  # (x1, x2): row 1, column 2 of the upper triangle
    assert np.abs(others).max() < 5 / math.sqrt(n_real)
    # the sample follows the copula: ranks ignore the monotone marginal transforms, so the
    # sample's Spearman ρ estimates 6/π·asin(r/2) of the copula correlation r
    s = synthetic[synthetic["status"] == cls]
    sampled = stats.spearmanr(s["x1"], s["x2"]).statistic
    expected = spearman_of(corr.loc["x1", "x2"])
    assert abs(sampled - expected) < 5 * (1 - rho**2) / math.sqrt(len(s))


def kelly_skewness(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Quantile skewness (q90 + q10 − 2·q50)/(q90 − q10): far less noisy than the third
    moment on a heavy right tail."""
    q10, q50, q90 = np.quantile(x, [0.1, 0.5, 0.9], axis=axis)
    return (q90 + q10 - 2 * q50) / (q90 - q10)


def bootstrap_se(x: np.ndarray, statistic, seed: int = 0, reps: int = 300) -> float:
    picks = np.random.default_rng(seed).integers(0, x.size, (reps, x.size))
    return float(np.std(statistic(x[picks], axis=1)))


@pytest.mark.parametrize("cls", ["control", "case"])
def test_skewed_column_keeps_its_skew(real, synthetic, cls) -> None:
    """The lognormal marker (population skewness 2.26 at σ = 0.6, quantile skewness 0.37)
    stays right-skewed, as much as the real sample, within 5 bootstrap SEs of the two
    samples. The moment skewness of a lognormal sample is noisy (SE ≈ 0.4 at 500-700
    rows), so that comparison is loose; the quantile skewness (SE ≈ 0.045) is the sharp
    one. A symmetric model gives 0 for both and fails either."""
    r, s = _by_class(real, cls, "marker"), _by_class(synthetic, cls, "marker")
    for statistic in (stats.skew, kelly_skewness):
        se = math.hypot(bootstrap_se(r, statistic), bootstrap_se(s, statistic))
        got, want = float(statistic(s)), float(statistic(r))
        assert got > 0.2 and want > 0.2, (statistic, got, want)
        assert abs(got - want) < 5 * se, (statistic, got, want, se)


def test_symmetric_columns_stay_symmetric(real, synthetic) -> None:
    """Normal columns: skewness 0 ± 5·√(6/n_real + 6/n_synthetic) (the fitted power λ
    follows the real sample's chance skew)."""
    for cls in ("control", "case"):
        for column in ("age", "x1", "x2"):
            r, s = _by_class(real, cls, column), _by_class(synthetic, cls, column)
            assert abs(stats.skew(s)) < 5 * math.sqrt(6 / r.size + 6 / s.size), (cls, column)


# --------------------------------------------------------------------------- summaries


def test_parameters_has_one_row_per_numeric_column(real, fitted) -> None:
    table = fitted.parameters()
    assert list(table.index) == NUMERIC
    expected = ["power", "power_sd"] + [
        f"{kind}[{c}]" for c in ("case", "control") for kind in ("median", "gaussian_sd")
    ]
    assert list(table.columns) == expected
    assert ((table["power"] > 0) & (table["power"] < 2)).all()
    assert table.loc["marker", "power"] < 1  # a long right tail is pulled in
    assert (table["power_sd"] == 0).all()  # one MAP point
    for cls in ("control", "case"):
        for column in ("age", "x1"):  # normal: the median is the mean, SE 1.2533·sd/√n
            r = _by_class(real, cls, column)
            se = 1.2533 * r.std() / math.sqrt(r.size)
            assert abs(table.loc[column, f"median[{cls}]"] - np.median(r)) < 5 * se


def test_inference_data_has_named_dims(fitted) -> None:
    posterior = fitted.to_inference_data().posterior
    rank = fitted.shape.rank
    expected = {
        "power": ("chain", "draw", "column"),
        "loc": ("chain", "draw", "class", "column"),
        "noise_sd": ("chain", "draw", "class", "column"),
        "loading": ("chain", "draw", "class", "column", "factor"),
        "loading_diag": ("chain", "draw", "class", "factor"),
    }
    for name, dims in expected.items():
        assert posterior[name].dims == dims, name
    assert list(posterior["class"].values) == ["case", "control"]
    assert list(posterior["column"].values) == NUMERIC
    assert list(posterior["factor"].values) == list(range(rank))
    assert posterior.sizes["draw"] == 1 and posterior.sizes["chain"] == 1
    assert posterior["levels0"].dims == ("chain", "draw", "class", "sex_level")
    assert posterior["levels1"].dims == ("chain", "draw", "class", "site_level")
    assert list(posterior["sex_level"].values) == ["f", "m"]
    assert np.allclose(posterior["levels1"].sum("site_level"), 1.0, atol=1e-5)


def test_nuts_posterior_carries_uncertainty_and_reaches_the_sample() -> None:
    """NUTS on an easy table (two Gaussian columns, 60 rows per class): few divergences,
    a posterior sd for every λ, NUTS stats in the InferenceData, and synthetic rows spread
    over the draws, so class means in the twin sit within 5 SE of the real ones."""
    rng = np.random.default_rng(5)
    y = np.repeat(["a", "b"], 60)
    table = pd.DataFrame(
        {
            "u": rng.normal(np.where(y == "a", 0.0, 2.0), 1.0),
            "v": rng.normal(np.where(y == "a", 5.0, 4.0), 0.5),
            "label": y,
        }
    )
    fit = twin(table, "label", method="nuts", rank=1, num_warmup=150, num_samples=100, seed=2)
    assert fit.n_draws == 100 and fit.stats["diverging"].mean() <= 0.05
    assert (fit.draws["power"].std(axis=0) > 0).all()
    idata = fit.to_inference_data()
    assert idata.posterior["loc"].dims == ("chain", "draw", "class", "column")
    assert "diverging" in idata.sample_stats
    fake = fit.sample(2000, seed=3)
    for cls in ("a", "b"):
        real, synth = table[table.label == cls], fake[fake.label == cls]
        se = real[["u", "v"]].std() * np.sqrt(1 / len(real) + 1 / len(synth))
        assert ((synth[["u", "v"]].mean() - real[["u", "v"]].mean()).abs() < 5 * se).all()


def test_a_twin_prints_as_one_line(real, fitted) -> None:
    text = repr(fitted)
    assert "\n" not in text and len(text) < 300
    counts = real["status"].value_counts()
    for label, n in counts.items():
        assert f"{label}: {n}" in text
    assert fitted.n_draws == 1 and ", 1 draw, " in text and fitted.method in text  # not "1 draws"


def test_correlation_is_the_mean_of_each_draws_dense_correlation(fitted) -> None:
    """Against the definition: per draw, C = W Wᵀ + diag(σ²) scaled to unit diagonal, then
    averaged (the method never forms the (draws, p, p) stack)."""
    from synthbio_ppl.twins.model import loadings

    c = list(fitted.layout.classes).index("control")
    W = np.asarray(
        loadings(
            fitted.draws["loading"][:, c], fitted.draws["loading_diag"][:, c], fitted.shape.rank
        ),
        dtype=np.float64,
    )
    dense = W @ np.swapaxes(W, -1, -2)
    index = np.arange(dense.shape[-1])
    dense[:, index, index] += fitted.draws["noise_sd"][:, c].astype(float) ** 2
    sd = np.sqrt(np.diagonal(dense, axis1=-2, axis2=-1))
    expected = (dense / sd[:, :, None] / sd[:, None, :]).mean(axis=0)
    np.testing.assert_allclose(fitted.correlation("control").to_numpy(), expected, atol=1e-12)


def test_a_table_too_large_for_memory_is_refused_before_the_fit(monkeypatch) -> None:
    from synthbio_ppl.engine.budget import LIMIT_VARIABLE
    from synthbio_ppl.twins.budget import check_twin_budget

    # 10,000 numeric columns at the default rank (4,000): tens of GiB even for MAP
    monkeypatch.setenv(LIMIT_VARIABLE, "16G")
    with pytest.raises(SpecError, match=r"^data: .*10,000 numeric columns.*over the memory"):
        check_twin_budget(500, 10_000, 0, 2, 4_000, 1)
    check_twin_budget(500, 30, 0, 2, 12, 500)  # a clinical table fits
    monkeypatch.setenv(LIMIT_VARIABLE, "300M")  # below the runtime's own 400 MiB
    table = small_table()
    with pytest.raises(SpecError, match="raise SYNTHBIO_MEMORY_LIMIT"):
        twin(table, "status", method="map", svi_steps=5)


@pytest.mark.parametrize("share", [1e308, 1.5e308, 1e-300])
def test_shares_at_the_ends_of_the_float_range_are_proportions(fitted, share) -> None:
    """Equal shares are equal classes whatever their size: no overflow of their sum (inf
    before: 'not all 0', or a RuntimeWarning), no underflow to zero."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fitted.counts(200, {"case": share, "control": share}) == {
            "case": 100,
            "control": 100,
        }
        assert fitted.counts(200, {"case": share, "control": share * 3e-3}) == {
            "case": 199,
            "control": 1,
        }


@pytest.mark.parametrize("cls", [0, "Control", None])
def test_correlation_of_a_class_the_label_lacks_is_named(fitted, cls) -> None:
    """Labels are text here: ``correlation(0)`` (the docs' example with numeric labels)
    raised list.index's "0 is not in list"."""
    with pytest.raises(SpecError, match=r"^cls: .*must be one of the label's classes"):
        fitted.correlation(cls)
