"""One suite every process passes: generate → promised statistic → fit → recovery → SBC smoke.

A new process adds one row to ``CASES``: a small spec that exercises it, the statistic it
promises (checked on the generated data with a tolerance from the sampling error at that
size), and the sites a NUTS fit must recover. Every fit uses one chain and a fixed seed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom
from scipy.stats.contingency import association

import synthbio_ppl as sb
from synthbio_ppl.inference.calibration import calibrate
from synthbio_ppl.inference.fitting import Fit, fit


@dataclass(frozen=True)
class Case:
    """One process's row: ``promise(data)`` asserts what generation guarantees;
    ``recovered`` sites must have posterior means within 3 posterior sd of the truth."""

    name: str
    spec: dict[str, Any]
    promise: Callable[[sb.Dataset], None]
    recovered: tuple[str, ...]
    nuts: dict[str, Any] = field(default_factory=dict)


def outcome_promise(data: sb.Dataset) -> None:
    """Censored share 0.3 (SE √(0.3·0.7/300) = 0.026), every time within the study's 8
    years, the class labels kept beside the outcome."""
    event = data.outcome["event"].to_numpy()
    assert abs((event == 0).mean() - 0.3) < 4 * np.sqrt(0.3 * 0.7 / 300)
    assert data.outcome["time"].max() <= 8.0
    assert data.y.value_counts().to_dict() == {"healthy": 150, "diseased": 150}


def two_classes(n: int) -> list[dict[str, Any]]:
    return [{"name": "healthy", "n": n}, {"name": "diseased", "n": n}]


def _class_means(data: sb.Dataset, columns: list[str]) -> pd.DataFrame:
    return data.X[columns].groupby(data.y, observed=True).mean()


def informative_promise(data: sb.Dataset) -> None:
    """Adjacent class means differ by d (1.0, then 0.5) in every informative feature: with
    40 rows a class, each difference has SE √(2/40) = 0.22; averaged over 5 features 0.10."""
    columns = [c for c in data.X if c.startswith("inf0_")]
    means = _class_means(data, columns).mean(axis=1).to_numpy()
    steps = np.diff(means)
    assert np.abs(steps - [1.0, 0.5]).max() < 4 * 0.10, steps


def noise_promise(data: sb.Dataset) -> None:
    """Standardised Student t (df 6): mean 0, variance 1 (SE of a variance √((κ−1)/n) with
    kurtosis κ = 3 + 6/(df − 4) = 6, pooled over 4 features of 200 rows: 0.08); raw normal(3, 2):
    mean 3 (SE 2/√800 = 0.07), sd 2 (SE 2/√1600 = 0.05); no class difference."""
    heavy = data.X[[c for c in data.X if c.startswith("heavy_")]].to_numpy()
    raw = data.X[[c for c in data.X if c.startswith("raw_")]].to_numpy()
    assert abs(heavy.mean()) < 4 * 1 / np.sqrt(heavy.size)
    assert abs(heavy.var(axis=0).mean() - 1.0) < 4 * 0.08
    assert abs(raw.mean() - 3.0) < 4 * 0.07 and abs(raw.std() - 2.0) < 4 * 0.05
    diff = np.diff(_class_means(data, list(data.X.columns)).to_numpy(), axis=0)
    assert np.abs(diff).max() < 4 * np.sqrt(2 / 100) * 2.0  # the raw sd is the largest


def clusters_promise(data: sb.Dataset) -> None:
    """Per-class ρ (0.2 healthy, 0.8 diseased) between every pair of the equicorrelated
    cluster (SE of r ≈ (1 − ρ²)/√n with 60 rows a class); the anchor carries d = 1."""
    columns = [c for c in data.X if c.startswith("clu0_")]
    for name, rho in (("healthy", 0.2), ("diseased", 0.8)):
        r = data.X.loc[data.y == name, columns].corr().to_numpy()
        pairs = r[np.triu_indices(len(columns), 1)]
        assert abs(pairs.mean() - rho) < 4 * (1 - rho**2) / np.sqrt(60), (name, pairs)
    anchor = _class_means(data, ["clu0_anchor"])["clu0_anchor"]
    assert abs(anchor["diseased"] - anchor["healthy"] - 1.0) < 4 * np.sqrt(2 / 60)


def batches_promise(data: sb.Dataset) -> None:
    """Class counts and batch sizes are exact under confounding, and the truth's Cramér's V
    is that of the realised class × batch table."""
    table = pd.crosstab(data.y, data.covariates["batch"])
    assert table.sum(axis=1).tolist() == [60, 60]
    assert table.sum(axis=0).tolist() == [40, 40, 40]
    expected = association(table.to_numpy(), method="cramer")
    assert data.truth.batch["cramers_v"] == pytest.approx(expected, abs=1e-12)
    assert (data.truth.batch["table"].to_numpy() == table.to_numpy()).all()


def pseudo_promise(data: sb.Dataset) -> None:
    """Three balanced latent groups whose adjacent means differ by d = 1.5 (SE √(2/40)/2 =
    0.11 over 4 features), and no class difference beyond the one the groups' realised
    shares in each class give (levels −1.5, 0, 1.5; the rest SE √(2/60)/2 = 0.09)."""
    groups = data.covariates["pseudo0_group"]
    assert groups.value_counts().sort_index().tolist() == [40, 40, 40]
    columns = [c for c in data.X if c.startswith("pseudo0_")]
    by_group = data.X[columns].groupby(groups).mean().mean(axis=1).to_numpy()
    assert np.abs(np.diff(by_group) - 1.5).max() < 4 * 0.11
    by_class = _class_means(data, columns).mean(axis=1).to_numpy()
    shares = pd.crosstab(data.y, groups, normalize="index").to_numpy()  # (classes, groups)
    from_groups = (shares[1] - shares[0]) @ np.array([-1.5, 0.0, 1.5])
    assert abs(by_class[1] - by_class[0] - from_groups) < 4 * 0.09


def structural_promise(data: sb.Dataset) -> None:
    """Each biomarker's sample mean lies within 4 SE (population sd/√n) of the population
    mean the truth reports, and the covariate shares within 4 binomial SE."""
    tables = data.truth.structure
    n = len(data.X)
    means = tables["level_means"]["all"]
    sds = tables["level_sds"]["all"]
    for marker in data.X.columns:
        assert abs(data.X[marker].mean() - means[marker]) < 4 * sds[marker] / np.sqrt(n)
    share = (data.covariates["region"] == "urban").mean()
    assert abs(share - 0.3) < 4 * np.sqrt(0.3 * 0.7 / n)


def missing_promise(data: sb.Dataset) -> None:
    """MNAR (strength −1.5, rate 0.3) on the raw features: the missing share is the rate
    within its binomial SE (n·p cells) and missing cells hold lower values (the observed
    mean exceeds the complete mean by more than 4 SE); MAR on class (rate 0.2, strength 1)
    hides σ(a) and σ(a + 1) of the healthy and diseased cells."""
    hidden = data.truth.missing
    assert (hidden.to_numpy() == data.X.isna().to_numpy()).all()
    raw = [c for c in data.X if c.startswith("raw_")]
    cells = hidden[raw].to_numpy()
    assert abs(cells.mean() - 0.3) < 4 * np.sqrt(0.3 * 0.7 / cells.size)
    complete = data.truth.complete[raw].to_numpy()
    se = complete.std() / np.sqrt(cells.size * 0.7)
    assert data.X[raw].stack().mean() - complete.mean() > 4 * se
    entry = data.truth.missingness["by_class"]
    a = float(entry["columns"]["intercept"].iloc[0])
    rates = hidden["inf0_0"].groupby(data.y, observed=True).mean()
    for k, name in enumerate(["healthy", "diseased"]):
        p = 1 / (1 + np.exp(-(a + k)))
        assert abs(rates[name] - p) < 4 * np.sqrt(p * (1 - p) / 120), (name, rates[name], p)


def counts_promise(data: sb.Dataset) -> None:
    """Given each row's library size L_i (the truth's latents), a count has mean μ_ij =
    L_i/median · μ̄_j · 2^lfc and variance μ + φ·μ²: the Pearson residuals of all 200 × 12
    cells have mean 0 (SE 1/√2400 = 0.02) and variance 1 (SE ≈ √(κ − 1)/√2400 with the
    residuals' kurtosis κ, estimated); log library sizes have mean log(median) (SE
    0.2/√200 = 0.014)."""
    truth = data.truth
    genes = truth.features[truth.features["block"] == "genes"]
    library = truth.latents["genes.library_size"].to_numpy()
    lfc = np.where(data.y.cat.codes.to_numpy()[:, None] == 1, genes["log2_fold_change"], 0.0)
    mean = library[:, None] / 5000.0 * genes["base_mean"].to_numpy() * 2.0**lfc
    variance = mean + genes["dispersion"].to_numpy() * mean**2
    x = data.X[genes.index].to_numpy()
    assert x.dtype == np.int32
    residual = (x - mean) / np.sqrt(variance)
    n = residual.size
    kurtosis = ((residual - residual.mean()) ** 4).mean() / residual.var() ** 2
    assert abs(residual.mean()) < 4 / np.sqrt(n), residual.mean()
    assert abs(residual.var() - 1) < 4 * np.sqrt((kurtosis - 1) / n), residual.var()
    log_library = np.log(library)
    assert abs(log_library.mean() - np.log(5000.0)) < 4 * 0.2 / np.sqrt(len(library))


STRUCTURE = {
    "name": "scene",
    "n": 300,
    "covariates": {
        "region": {"levels": {"rural": 0.3, "mixed": 0.4, "urban": 0.3}},
        "sex": {"levels": {"female": 0.5, "male": 0.5}},
    },
    "factors": {
        "F": {"mean": {"by": "region", "rural": -1.0, "mixed": 0.0, "urban": 1.0}, "sd": 0.5}
    },
    "biomarkers": {
        "A": {
            "baseline": 10,
            "loadings": {"F": 2.0},
            "shifts": {"sex": {"male": 1.5}},
            "noise": 1.0,
        },
        "B": {"baseline": 5, "depends_on": {"A": {"coef": 0.5, "centre": 10}}, "noise": 0.8},
        "C": {"baseline": 0, "loadings": {"F": -1.0}, "noise": 1.0, "clip": [-3, None]},
    },
}

CASES = [
    Case(
        "informative",
        {
            "name": "informative",
            "seed": 11,
            "classes": [
                {"name": "low", "n": 40},
                {"name": "mid", "n": 40},
                {"name": "high", "n": 40},
            ],
            "informative": [{"n": 5, "effect_size": [1.0, 0.5]}],
            "noise": [{"n": 3, "distribution": "lognormal", "params": {"sigma": 0.5}}],
        },
        informative_promise,
        ("inf0.effect_size",),
    ),
    Case(
        "noise",
        {
            "name": "noise",
            "seed": 12,
            "classes": two_classes(100),
            "noise": [
                {"name": "heavy", "n": 4, "distribution": "student_t", "params": {"df": 6}},
                {"name": "raw", "n": 4, "standardise": False, "params": {"loc": 3, "scale": 2}},
            ],
        },
        noise_promise,
        ("heavy.df", "raw.loc", "raw.scale"),
    ),
    Case(
        "clusters",
        {
            "name": "clusters",
            "seed": 4,
            "classes": two_classes(60),
            "clusters": [
                {
                    "n": 4,
                    "correlation": {"healthy": 0.2, "diseased": 0.8},
                    "anchor_effect": 1.0,
                    "proxy_attenuation": 0.8,
                },
                {"n": 4, "structure": "toeplitz", "correlation": 0.6, "anchor_effect": 0.8},
            ],
        },
        clusters_promise,
        ("clu0.anchor_effect", "clu0.correlation", "clu1.correlation"),
    ),
    Case(
        "batches",
        {
            "name": "batches",
            "seed": 5,
            "classes": two_classes(60),
            "informative": [{"n": 4, "effect_size": 1.0}],
            "noise": [{"n": 2}],
            "batches": {"n": 3, "strength": 0.5, "confounding": 0.5},
        },
        batches_promise,
        ("inf0.effect_size", "batch.strength"),
    ),
    Case(
        "pseudo_classes",
        {
            "name": "pseudo",
            "seed": 6,
            "classes": two_classes(60),
            "informative": [{"n": 3, "effect_size": 1.0}],
            "pseudo_classes": [{"n": 4, "groups": 3, "effect_size": 1.5}],
        },
        pseudo_promise,
        ("inf0.effect_size", "pseudo0.effect_size"),
    ),
    Case(
        "missing",
        {
            "name": "missing",
            "seed": 9,
            "classes": two_classes(120),
            "informative": [{"n": 2, "effect_size": 1.0}],
            "noise": [{"name": "raw", "n": 2, "standardise": False, "params": {"loc": 3}}],
            "missing": [
                {"mechanism": "mnar", "rate": 0.3, "strength": -1.5, "affects": "noise"},
                {
                    "name": "by_class",
                    "mechanism": "mar",
                    "depends_on": "class",
                    "rate": 0.2,
                    "affects": "informative",
                },
            ],
        },
        missing_promise,
        ("raw.loc", "raw.scale", "miss0.strength", "by_class.strength", "inf0.effect_size"),
        {"num_warmup": 1500, "num_samples": 2000},  # hidden cells are latent: slower to mix
    ),
    Case(
        "counts",
        {
            "name": "counts",
            "seed": 21,
            "classes": two_classes(100),
            "counts": [
                {
                    "name": "genes",
                    "n": 12,
                    "library_size": {"median": 5000, "sdlog": 0.2},
                    "dispersion": {"bcv": 0.3, "spread": 0.2},
                    "differential_expression": {"fraction": 0.4, "log2_fold_change": 1.5},
                }
            ],
        },
        counts_promise,
        ("genes.dispersion", "genes.expression", "genes.lfc_magnitude"),
        {"num_warmup": 500, "num_samples": 1000},
    ),
    Case(
        "structure",
        {"name": "structural", "seed": 8, "structure": STRUCTURE},
        structural_promise,
        ("scene.loading", "scene.shift", "scene.coef", "scene.baseline"),
        {"num_warmup": 500, "num_samples": 1000},
    ),
]
CASES.append(
    Case(
        "outcome",
        {
            "name": "cohort",
            "seed": 23,
            "classes": two_classes(150),
            "informative": [{"name": "sig", "n": 2, "effect_size": 0.8}],
            "outcome": {
                "kind": "survival",
                "coefficients": {"sig": 0.6, "class=diseased": 0.4},
                "baseline": {"distribution": "weibull", "scale": 0.1, "shape": 1.3},
                "censoring": {"end_of_study": 8, "fraction": 0.3},
            },
        },
        outcome_promise,
        ("outcome.coefficients", "outcome.shape", "outcome.scale"),
    )
)
IDS = [case.name for case in CASES]
NUTS = {"num_warmup": 500, "num_samples": 2000, "seed": 1, "progress": False}
_DATA: dict[str, sb.Dataset] = {}
_FITS: dict[str, Fit] = {}


def dataset(case: Case) -> sb.Dataset:
    if case.name not in _DATA:
        _DATA[case.name] = sb.generate(case.spec)
    return _DATA[case.name]


def case_fit(case: Case) -> Fit:
    """The NUTS fit of one case's dataset, made once per test session."""
    if case.name not in _FITS:
        _FITS[case.name] = fit(None, dataset(case), **{**NUTS, **case.nuts})
    return _FITS[case.name]


def test_every_registered_process_has_a_row() -> None:
    from synthbio_ppl.processes.registry import BLOCK_PROCESSES, MASKS, MODIFIERS, RESPONSES

    assert {p.field for p in [*BLOCK_PROCESSES, *MODIFIERS, *MASKS, *RESPONSES]} <= set(IDS)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_generation_keeps_the_promise(case: Case) -> None:
    case.promise(dataset(case))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_fit_recovers_the_truth(case: Case) -> None:
    result = case_fit(case)
    table = result.recovery()
    assert table["truth"].notna().all(), "every fitted site has a truth"
    # 90% intervals: the covered count of k parameters is Binomial(k, 0.9); fewer than its
    # 0.5% quantile fails (independent intervals assumed)
    assert table["covered"].sum() >= binom.ppf(0.005, len(table), 0.9), table
    # the split R̂ at which fit warns: a weakly identified MNAR strength mixes slowly (bulk
    # ESS about 20-40 of 2,000 draws), and R̂ then varies by a few hundredths by chance
    assert (table["r_hat"] <= 1.05).all(), table
    assert int(result.idata.sample_stats["diverging"].sum()) == 0
    for site in case.recovered:
        rows = table[table["site"] == site]
        assert len(rows) > 0, site
        z = (rows["mean"] - rows["truth"]).abs() / rows["sd"]
        assert (z < 3.5).all(), rows


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_sbc_smoke(case: Case) -> None:
    """Four simulated datasets of the case's design fitted by SVI: one rank per free scalar
    parameter and simulation, each in [0, n_draws]."""
    result = calibrate(case.spec, n_sims=4, method="svi", svi_steps=200, n_draws=19, seed=2)
    ranks = result.ranks.to_numpy()
    assert ranks.shape[0] == 4 and ranks.shape[1] >= 1
    assert ranks.min() >= 0 and ranks.max() <= 19


def test_the_suite_notices_a_broken_promise() -> None:
    """A wrong effect size in the data makes the informative promise fail."""
    case = CASES[0]
    wrong = {**case.spec, "informative": [{"n": 5, "effect_size": [1.6, 0.5]}]}
    with pytest.raises(AssertionError):
        case.promise(sb.generate(wrong))
