"""Twins of tables with missing cells: the likelihood of the observed cells, the learned
missing fractions, the mask drawn as a NumPyro site, and hostile input.

The known table (``holey_table``) has two classes (600 controls, 400 cases) and holes of
every kind: ``x1`` (correlated 0.7 with the complete ``x2``) is missing at random given
``x2`` (mostly when x2 is high), ``marker`` completely at random with a different rate per
class, ``assay`` was never run on controls, ``visits`` is a nullable Int64 column with
``pd.NA``, and ``sex`` a category column with NaN. One MAP fit is shared (module fixture).
Rate tolerances are 4 binomial standard errors of the synthetic fraction,
4·√(p(1 − p)/n), with p the learned rate and n the synthetic rows of the class.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from numpyro import handlers
from numpyro.distributions import BernoulliProbs, Independent, MultivariateNormal

from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.families.correlated import ClassFactorNormal
from synthbio_ppl.twins.design import _design, _shape
from synthbio_ppl.twins.fitting import twin
from synthbio_ppl.twins.model import twin_model
from synthbio_ppl.twins.observed_normal import ObservedFactorNormal, observed_cells
from synthbio_ppl.twins.posterior import Twin

N_CONTROL, N_CASE = 600, 400
RHO = 0.7
FIT = {"method": "map", "svi_steps": 3000, "learning_rate": 0.05, "seed": 0}
N_SYNTHETIC = 20_000  # balance "equal": 10,000 rows per class
MARKER_RATE = {"control": 0.05, "case": 0.35}
SEX_RATE = {"control": 0.10, "case": 0.20}


def holey_table(seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the table with holes, the same table complete); truths in the module docstring."""
    rng = np.random.default_rng(seed)
    status = np.repeat(["control", "case"], [N_CONTROL, N_CASE])
    n = len(status)
    case = status == "case"
    x2 = rng.normal(case * 1.0, 1.0)
    x1 = 0.5 * case + RHO * (x2 - case) + math.sqrt(1 - RHO**2) * rng.normal(size=n)
    full = pd.DataFrame(
        {
            "x1": x1,
            "x2": x2,
            "marker": rng.lognormal(0.6 * case, 0.6),
            "assay": rng.normal(10.0 + case, 2.0),
            "visits": pd.array(rng.poisson(2 + 2 * case), dtype="Int64"),
            "sex": pd.Categorical(rng.choice(["f", "m"], n)),
            "status": status,
        }
    )
    holey = full.copy()
    holey.loc[(x2 > 0) & (rng.random(n) < 0.9), "x1"] = np.nan  # MAR on x2
    rate = np.where(case, MARKER_RATE["case"], MARKER_RATE["control"])
    holey.loc[rng.random(n) < rate, "marker"] = np.nan
    holey.loc[~case | (rng.random(n) < 0.1), "assay"] = np.nan  # never run on controls
    holey.loc[rng.random(n) < 0.15, "visits"] = pd.NA
    sex = np.where(case, SEX_RATE["case"], SEX_RATE["control"])
    holey.loc[rng.random(n) < sex, "sex"] = np.nan
    order = rng.permutation(n)
    return holey.iloc[order].reset_index(drop=True), full.iloc[order].reset_index(drop=True)


@pytest.fixture(scope="module")
def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    return holey_table()


@pytest.fixture(scope="module")
def fitted(tables) -> Twin:
    return twin(tables[0], "status", **FIT)


@pytest.fixture(scope="module")
def synthetic(fitted: Twin) -> pd.DataFrame:
    return fitted.sample(N_SYNTHETIC, seed=5, balance="equal")


# --------------------------------------------------------------------------- likelihood


def _parameters(seed: int, n_classes: int, p: int, r: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    loc = 2.0 * rng.normal(size=(n_classes, p))
    factor = rng.normal(size=(n_classes, p, r))
    diag = np.exp(0.5 * rng.normal(size=(n_classes, p)))
    return loc, factor, diag


def test_observed_factor_normal_is_the_dense_marginal_of_the_observed_cells() -> None:
    """Each row's density equals N(μ_O, Σ_OO) of its observed sub-vector (an independent
    dense computation); complete rows equal ClassFactorNormal, empty rows give 0. Rows
    share patterns (a class and its observed columns) across and within classes."""
    loc, factor, diag = _parameters(0, n_classes=2, p=5, r=2)
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 40)
    observed = rng.random((40, 5)) > 0.4
    observed[0], observed[1] = True, False  # one complete row, one empty row
    observed[20:30] = observed[2]  # one pattern shared by rows of both classes
    value = loc[y] + 1.5 * rng.normal(size=(40, 5))
    junk = np.where(observed, value, 1e3)  # what a missing cell holds must not matter
    cov = factor @ np.swapaxes(factor, -1, -2) + diag[:, :, None] * np.eye(5)
    cells = observed_cells(observed, y)
    assert cells.seen.shape[0] % 64 == 0 and len(np.unique(np.asarray(cells.row_pattern))) < 40
    assert np.array_equal(np.asarray(cells.seen)[np.asarray(cells.row_pattern)], observed)
    assert np.array_equal(np.asarray(cells.pattern_class)[np.asarray(cells.row_pattern)], y)
    with jax.enable_x64(True):
        got = np.asarray(ObservedFactorNormal(loc, factor, diag, y, cells).log_prob(junk))
        full = np.asarray(ClassFactorNormal(loc, factor, diag, y).log_prob(value))
        for i in range(40):
            o = observed[i]
            if not o.any():
                assert got[i] == 0.0
                continue
            sub = cov[y[i]][np.ix_(o, o)]
            dense = MultivariateNormal(loc[y[i]][o], covariance_matrix=sub).log_prob(value[i][o])
            assert got[i] == pytest.approx(float(dense), rel=1e-10), i
    assert got[0] == pytest.approx(full[0], rel=1e-10)


def test_fit_uses_every_observed_cell_not_complete_rows(tables, fitted) -> None:
    """x1 is missing mostly where x2 > 0 (MAR). Integrating the missing cells out keeps
    every x2 cell in the fit and corrects x1 through the correlation: the twin's complete
    values have the complete table's class means. Dropping incomplete rows (or fitting
    x1's observed cells alone) is biased low by more than the tolerance (checked).

    Tolerance: 5 SE of the difference; the estimate of x1's mean given every x2 has
    variance σ²((1 − ρ²)/n_seen + ρ²/n), the synthetic mean σ²/(N/2)."""
    holey, full = tables
    complete = fitted.sample(N_SYNTHETIC, seed=5, balance="equal", missing=False)
    for cls in ("control", "case"):
        rows = full["status"] == cls
        n, n_seen = int(rows.sum()), int(holey.loc[rows, "x1"].notna().sum())
        tol = {}
        for column in ("x1", "x2"):
            truth = full.loc[rows, column]
            var = (1 - RHO**2) / n_seen + RHO**2 / n if column == "x1" else 1 / n
            tol[column] = 5 * truth.std() * math.sqrt(var + 2 / N_SYNTHETIC)
            got = complete.loc[complete["status"] == cls, column].mean()
            assert abs(got - truth.mean()) < tol[column], (cls, column, got, truth.mean())
        seen_mean = holey.loc[rows, "x1"].mean()  # x1's observed cells alone
        kept_x2 = holey.loc[rows & holey["x1"].notna(), "x2"].mean()  # complete rows only
        assert full.loc[rows, "x1"].mean() - seen_mean > tol["x1"], cls
        assert full.loc[rows, "x2"].mean() - kept_x2 > tol["x2"], cls


# --------------------------------------------------------------------------- learned rates


def test_rates_are_each_columns_missing_fraction_per_class(tables, fitted) -> None:
    holey, _ = tables
    rates = fitted.missing_rates
    features = [c for c in holey.columns if c != "status"]
    assert list(rates.index) == features and list(rates.columns) == ["case", "control"]
    assert rates.index.name == "column" and rates.columns.name == "class"
    for cls in ("case", "control"):
        expected = holey.loc[holey["status"] == cls, features].isna().mean()
        assert np.array_equal(rates[cls].to_numpy(), expected.to_numpy()), cls
    assert rates.loc["assay", "control"] == 1.0 and rates.loc["x2"].eq(0.0).all()


@pytest.mark.parametrize("cls", ["control", "case"])
def test_synthetic_rates_match_per_class_within_binomial_error(fitted, synthetic, cls) -> None:
    """Every column's synthetic missing fraction in class ``cls`` is within 4 SE of the
    learned one; rates of 0 and 1 are exact (no cell missing, every cell missing)."""
    rows = synthetic[synthetic["status"] == cls]
    n = len(rows)
    assert n == N_SYNTHETIC // 2
    for column, p in fitted.missing_rates[cls].items():
        got = rows[column].isna().mean()
        tol = 4 * math.sqrt(p * (1 - p) / n)
        assert abs(got - p) <= tol, (cls, column, got, p, tol)
    # power: a rate pooled over the classes is off by more than the tolerance here
    rates = fitted.missing_rates
    for column in ("x1", "marker", "sex"):
        pooled, p = rates.loc[column].mean(), rates.loc[column, cls]
        assert abs(pooled - p) > 4 * math.sqrt(p * (1 - p) / n), column


def test_values_under_the_mask_are_the_complete_draw(fitted, synthetic) -> None:
    """The mask has its own key: with missing=False (or a twin without rates) the same
    seed gives the same values, and the masked table equals them wherever observed."""
    complete = fitted.sample(N_SYNTHETIC, seed=5, balance="equal", missing=False)
    unmasked = dataclasses.replace(fitted, missing_rates=None)
    pd.testing.assert_frame_equal(
        unmasked.sample(N_SYNTHETIC, seed=5, balance="equal"), complete, check_exact=True
    )
    assert complete.notna().all().all()
    seen = synthetic.notna()
    for column in synthetic.columns:
        kept = seen[column].to_numpy()
        assert (synthetic[column][kept] == complete[column][kept]).all(), column
    assert seen["x1"].mean() < 1.0  # the comparison saw masked cells


def test_mask_is_a_bernoulli_site_of_the_model(fitted) -> None:
    """``missing`` is a NumPyro Bernoulli site (rows × columns); drawing it leaves the
    model's other values unchanged, and rates of 0/1 give no/every cell."""
    shape = _shape(fitted.layout, fitted.shape.rank)
    params = {k: jnp.asarray(v[0]) for k, v in fitted.draws.items()}
    y = np.repeat([0, 1], 50).astype(np.int32)
    rates = np.zeros((2, len(fitted.layout.columns)))
    rates[1, 0] = 1.0

    def run(design, key):
        model = handlers.substitute(handlers.seed(twin_model, 0), data=params)
        return handlers.trace(model).get_trace(design, shape=shape, missing_key=key)

    with_mask = run(_design(y, rates), jax.random.PRNGKey(3))
    without = run(_design(y), None)
    site = with_mask["hidden"]
    fn = site["fn"].base_dist if isinstance(site["fn"], Independent) else site["fn"]
    assert isinstance(fn, BernoulliProbs) and "hidden" not in without
    mask = np.asarray(site["value"]).astype(bool)
    assert mask.shape == (100, len(fitted.layout.columns))
    assert mask[50:, 0].all() and not np.delete(mask, np.s_[50:], axis=0)[:, 0].any()
    assert mask.sum() == 50
    assert np.array_equal(np.asarray(with_mask["numeric"]["value"]), without["numeric"]["value"])


def test_output_keeps_dtypes_with_their_missing_markers(tables, synthetic) -> None:
    holey, _ = tables
    assert synthetic.dtypes.to_dict() == holey.dtypes.to_dict()
    assert synthetic["visits"].dtype == "Int64" and synthetic["visits"].isna().any()
    assert synthetic["sex"].isna().any() and set(synthetic["sex"].dropna()) == {"f", "m"}


def test_class_without_observed_cells_stays_missing(fitted, synthetic) -> None:
    """``assay`` was never measured on controls: accepted, every synthetic control cell
    is missing, and the parameters say that class learned nothing for it."""
    controls = synthetic[synthetic["status"] == "control"]
    assert controls["assay"].isna().all()
    assert synthetic.loc[synthetic["status"] == "case", "assay"].notna().mean() > 0.8
    table = fitted.parameters()
    assert np.isnan(table.loc["assay", "median[control]"])
    assert np.isnan(table.loc["assay", "gaussian_sd[control]"])
    assert table.drop(index="assay").notna().all().all()
    assert np.isfinite(table.loc["assay", "median[case]"])


def test_inference_data_carries_the_rates(fitted) -> None:
    constant = fitted.to_inference_data().constant_data["missing_rate"]
    assert constant.dims == ("feature", "class")
    assert np.array_equal(constant.values, fitted.missing_rates.to_numpy())


def test_complete_table_draws_no_mask() -> None:
    rng = np.random.default_rng(2)
    table = pd.DataFrame(
        {"u": rng.normal(size=80), "v": rng.normal(size=80), "label": np.repeat(["a", "b"], 40)}
    )
    fit = twin(table, "label", rank=1, svi_steps=300)
    assert (fit.missing_rates.to_numpy() == 0).all()
    masked = fit.sample(300, seed=1)
    pd.testing.assert_frame_equal(masked, fit.sample(300, seed=1, missing=False))
    assert masked.notna().all().all()


def test_posterior_draws_share_the_mask_rates() -> None:
    """With SVI draws the rows are spread over draws; the mask follows each row's class."""
    rng = np.random.default_rng(4)
    y = np.repeat(["a", "b"], 60)
    table = pd.DataFrame({"u": rng.normal(size=120), "v": rng.normal(size=120), "label": y})
    table.loc[(y == "b") & (rng.random(120) < 0.5), "u"] = np.nan
    fit = twin(table, "label", method="svi", rank=1, svi_steps=300, num_samples=20, seed=1)
    fake = fit.sample(4000, seed=2, balance="equal")
    p = fit.missing_rates.loc["u", "b"]
    assert fake.loc[fake.label == "a", "u"].notna().all()
    got = fake.loc[fake.label == "b", "u"].isna().mean()
    assert abs(got - p) < 4 * math.sqrt(p * (1 - p) / 2000)


# --------------------------------------------------------------------------- hostile input


def _small(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "a": rng.normal(size=30),
            "b": rng.lognormal(size=30),
            "k": rng.choice(["x", "y"], 30).astype(object),
            "label": np.repeat([0.0, 1.0], 15),
        }
    )


def _hostile(change) -> pd.DataFrame:
    frame = _small()
    change(frame)
    return frame


HOSTILE = {
    "label NaN": (
        lambda f: f.__setitem__("label", f["label"].where(f.index != 4)),
        ["data.label", "'1 missing' is not allowed", "every row needs a class"],
    ),
    "column all NaN": (
        lambda f: f.__setitem__("b", np.nan),
        ["data.b", "all 30 values missing"],
    ),
    "categorical all missing": (
        lambda f: f.__setitem__("k", None),
        ["data.k", "all 30 values missing"],
    ),
    "inf beside NaN": (
        lambda f: f.loc.__setitem__(([2, 7], "a"), [np.nan, np.inf]),
        ["data.a", "1 infinite value(s), the first inf at row 7", "must be finite"],
    ),
    "constant observed cells": (
        lambda f: f.__setitem__("b", np.where(np.arange(30) % 2, 2.5, np.nan)),
        ["data.b", "constant 2.5"],
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_missing_input_is_one_readable_line(case: str) -> None:
    change, fragments = HOSTILE[case]
    with pytest.raises(SpecError) as caught:
        twin(_hostile(change), "label", svi_steps=10)
    message = str(caught.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_rows_and_classes_without_observed_values_are_accepted() -> None:
    """A row with every feature missing adds nothing but its class; a class whose cells
    of a column are all missing keeps that column missing in the twin."""
    frame = _small()
    frame.loc[0, ["a", "b", "k"]] = np.nan
    frame.loc[frame["label"] == 1.0, "b"] = np.nan
    fit = twin(frame, "label", rank=1, svi_steps=300)
    assert fit.missing_rates.loc["b", 1.0] == 1.0
    assert fit.missing_rates.loc["a", 0.0] == pytest.approx(1 / 15)
    fake = fit.sample(400, seed=0)
    assert fake.loc[fake.label == 1.0, "b"].isna().all()
    assert np.isfinite(fake["a"].dropna()).all()
