"""Count blocks: the NB mean–variance relation, library sizes, DE, dropout and zero
inflation, batch factors, dtypes, bit-identity, bad input, files and streams, the fit."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest

import synthbio_ppl as sb
from synthbio_ppl.core.errors import SpecError


def scene(n: int = 400, classes: int = 2, **block: Any) -> dict[str, Any]:
    names = ["ctrl", "treated", "other"][:classes]
    return {
        "name": "rna",
        "seed": 5,
        "classes": [{"name": c, "n": n} for c in names],
        "counts": [{"name": "genes", "n": 60, **block}],
    }


def expected_means(data: sb.Dataset, block: str = "genes") -> np.ndarray:
    """μ_ij = L_i / median · μ̄_j · 2^lfc(j, y_i) (no batches), from the truth."""
    spec_block = next(b for b in data.spec.counts if b.name == block)
    genes = data.truth.features[data.truth.features["block"] == block]
    library = data.truth.latents[f"{block}.library_size"].to_numpy()
    classes = data.spec.class_names
    lfc = np.zeros((len(data.y), len(genes)))
    codes = data.y.cat.codes.to_numpy()
    for k, cls in enumerate(classes[1:], start=1):
        pair = data.truth.effect_sizes[f"{cls} vs {classes[0]}"][genes.index].to_numpy()
        lfc[codes == k] = pair
    return (
        library[:, None] / spec_block.library_size.median * genes["base_mean"].to_numpy() * 2**lfc
    )


# ------------------------------------------------------------------ the law of the counts


def test_poisson_counts_have_variance_equal_to_the_mean() -> None:
    data = sb.generate(scene(distribution="poisson"))
    mean = expected_means(data)
    x = data.X.to_numpy()
    residual = (x - mean) / np.sqrt(mean)
    # Pearson residuals of 48,000 cells: mean 0, variance 1 (SE √((κ−1)/n), κ estimated)
    kurtosis = ((residual - residual.mean()) ** 4).mean() / residual.var() ** 2
    assert abs(residual.mean()) < 4 / np.sqrt(residual.size)
    assert abs(residual.var() - 1) < 4 * np.sqrt((kurtosis - 1) / residual.size)
    assert data.truth.features["dispersion"].isna().all()


def test_per_gene_variance_follows_the_negative_binomial_relation() -> None:
    """Per gene, Σ (x − μ)² equals Σ κ₂ = Σ (μ + φμ²) within its sampling error: the
    variance of a squared residual is κ₄ + 2κ₂², from the negative binomial's cumulants
    κ₂ = μ + φμ², κ₄ = μ + 7φμ² + 12φ²μ³ + 6φ³μ⁴ (the spread of 800 heavy-tailed squares
    underestimates it for the most dispersed genes)."""
    data = sb.generate(scene(dispersion={"bcv": 0.5, "trend": 2.0, "spread": 0.3}))
    mean = expected_means(data)
    phi = data.truth.features["dispersion"].to_numpy()
    k2 = mean + phi * mean**2
    k4 = mean + 7 * phi * mean**2 + 12 * phi**2 * mean**3 + 6 * phi**3 * mean**4
    squares = (data.X.to_numpy() - mean) ** 2
    z = (squares.sum(0) - k2.sum(0)) / np.sqrt((k4 + 2 * k2**2).sum(0))
    assert np.abs(z).max() < 4.5, z  # 60 genes: the largest |z| of 60 normals
    # the trend: low-mean genes are more dispersed (φ = bcv² + trend/μ̄ around the trend)
    base = data.truth.features["base_mean"].to_numpy()
    centre = np.log(0.25 + 2.0 / base)
    residual = np.log(phi) - centre
    assert abs(residual.mean()) < 4 * 0.3 / np.sqrt(60) and 0.15 < residual.std() < 0.45


def test_library_sizes_follow_their_law_and_are_the_expected_totals() -> None:
    spec = scene(
        n=1000,
        library_size={"median": 20000, "sdlog": 0.4},
        differential_expression={"fraction": 0.0},
    )
    data = sb.generate(spec)
    library = data.truth.latents["genes.library_size"].to_numpy()
    logs = np.log(library)
    assert abs(logs.mean() - np.log(20000)) < 4 * 0.4 / np.sqrt(2000)
    assert abs(logs.std() - 0.4) < 4 * 0.4 / np.sqrt(2 * 2000)
    # a row's expected total is L_i · Σ_j μ̄_j / median, and Σ μ̄_j ≈ median
    total = data.truth.features["base_mean"].sum()
    ratio = data.X.sum(axis=1).to_numpy() / (library * total / 20000)
    assert abs(ratio.mean() - 1) < 4 * ratio.std() / np.sqrt(len(ratio))


def test_de_genes_log_ratio_of_normalised_means_estimates_the_true_lfc() -> None:
    spec = scene(
        n=2000,
        library_size={"median": 50000, "sdlog": 0.2},
        dispersion={"bcv": 0.2},
        differential_expression={"fraction": 0.3, "log2_fold_change": 1.0, "down_share": 0.5},
    )
    data = sb.generate(spec)
    genes = data.truth.features
    library = data.truth.latents["genes.library_size"].to_numpy()
    normalised = data.X.to_numpy() / library[:, None]
    treated = (data.y == "treated").to_numpy()
    a, b = normalised[~treated], normalised[treated]
    estimate = np.log2(b.mean(0) / a.mean(0))
    # delta method: var(log2 m̂) = var / (n m²) / ln(2)²
    se = np.sqrt(b.var(0) / (len(b) * b.mean(0) ** 2) + a.var(0) / (len(a) * a.mean(0) ** 2))
    se /= np.log(2)
    z = (estimate - genes["log2_fold_change"].to_numpy()) / se
    assert np.abs(z).max() < 4.5, z
    de = genes["de"].to_numpy()
    assert 5 <= de.sum() <= 35  # Binomial(60, 0.3): 18 ± 3.5
    assert set(genes.loc[de, "de_treated"]) <= {"up", "down"}
    assert (genes.loc[~de, "log2_fold_change"] == 0).all()
    assert (
        np.sign(genes.loc[de, "log2_fold_change"])
        == genes.loc[de, "de_treated"].map({"up": 1, "down": -1})
    ).all()
    # the truth's effect sizes for count columns are log2 fold changes, and DE genes signal
    assert np.allclose(data.truth.effect_sizes["treated vs ctrl"], genes["log2_fold_change"])
    assert (genes["signal"] == de).all()


def test_three_classes_have_a_state_per_class_against_the_first() -> None:
    data = sb.generate(scene(classes=3, differential_expression={"fraction": 0.5}))
    genes = data.truth.features
    assert {"de_treated", "de_other"} <= set(genes.columns)
    lfc = data.truth.effect_sizes
    pair = lfc["other vs treated"].to_numpy()
    expected = lfc["other vs ctrl"].to_numpy() - lfc["treated vs ctrl"].to_numpy()
    assert np.allclose(pair, expected)
    # states are independent per class: some genes are DE in one class only
    one = (genes["de_treated"] != "none") ^ (genes["de_other"] != "none")
    assert one.any()


def test_dropout_zeroes_cells_with_the_logistic_probability() -> None:
    spec = scene(n=500, library_size={"median": 2000}, dropout={"midpoint": 1.0, "slope": 1.5})
    data = sb.generate(spec)
    mean = expected_means(data)
    p = 1 / (1 + np.exp(1.5 * (np.log(mean) - 1.0)))
    dropped = data.truth.dropout.to_numpy()
    assert dropped.shape == data.X.shape and dropped.dtype == bool
    assert (data.X.to_numpy()[dropped] == 0).all()
    # realised share against the expected share (SE from Σ p(1−p))
    se = np.sqrt((p * (1 - p)).sum()) / p.size
    assert abs(dropped.mean() - p.mean()) < 4 * se
    # low-mean cells drop out more
    low = mean < np.median(mean)
    assert dropped[low].mean() > dropped[~low].mean()
    # dropout raises the zeros above the NB's own
    no_dropout = sb.generate(scene(n=500, library_size={"median": 2000}))
    assert (data.X.to_numpy() == 0).mean() > (no_dropout.X.to_numpy() == 0).mean() + 0.05


def test_zero_inflation_adds_structural_zeros_at_its_rate() -> None:
    spec = scene(n=500, distribution="zero_inflated_negative_binomial", zero_inflation=0.3)
    data = sb.generate(spec)
    dropped = data.truth.dropout.to_numpy()
    assert abs(dropped.mean() - 0.3) < 4 * np.sqrt(0.3 * 0.7 / dropped.size)


def test_outliers_are_high_expression_genes() -> None:
    spec = scene(n=50, base_mean={"outlier_probability": 0.2, "outlier_location": 4.0})
    data = sb.generate({**spec, "counts": [{**spec["counts"][0], "n": 500}]})
    genes = data.truth.features
    flags = genes["outlier"].to_numpy()
    assert abs(flags.mean() - 0.2) < 4 * np.sqrt(0.2 * 0.8 / 500)
    assert genes.loc[flags, "base_mean"].median() > 10 * genes.loc[~flags, "base_mean"].median()


# ------------------------------------------------------------------ composition


def test_batch_factors_are_positive_and_multiply_the_mean() -> None:
    spec = scene(n=600, differential_expression={"fraction": 0.0})
    spec["batches"] = {"n": 2, "strength": 0.5, "confounding": 0.0}
    data = sb.generate(spec)
    genes = data.truth.features
    factors = genes[["batch_factor_batch0", "batch_factor_batch1"]].to_numpy()
    assert (factors > 0).all()
    offsets = data.truth.batch["effects"].to_numpy().T
    assert np.allclose(factors, np.exp(offsets), rtol=1e-5)
    library = data.truth.latents["genes.library_size"].to_numpy()
    normalised = data.X.to_numpy() / library[:, None]
    batch = data.covariates["batch"].to_numpy()
    ratio = normalised[batch == "batch1"].mean(0) / normalised[batch == "batch0"].mean(0)
    expected = factors[:, 1] / factors[:, 0]
    log_error = np.log(ratio / expected)
    assert np.abs(log_error).mean() < 0.1  # each ratio's log has SE ≈ 0.05 (600 rows a batch)


def test_multiplicative_batches_act_on_the_mean_too() -> None:
    spec = scene(n=300)
    spec["batches"] = {"n": 3, "effect": "multiplicative", "strength": 0.4}
    data = sb.generate(spec)
    factors = data.truth.features.filter(like="batch_factor_").to_numpy()
    assert np.allclose(factors, data.truth.batch["effects"].to_numpy().T)


def test_count_columns_are_integers_beside_float_blocks() -> None:
    spec = scene(n=100)
    spec["informative"] = [{"n": 3, "effect_size": 1.0}]
    data = sb.generate(spec)
    dtypes = data.X.dtypes
    assert (dtypes[[c for c in data.X if c.startswith("genes_")]] == np.int32).all()
    assert (dtypes[[c for c in data.X if c.startswith("inf0_")]] == np.float32).all()
    assert (data.X.filter(like="genes_").to_numpy() >= 0).all()


def test_missing_cells_in_count_columns_stay_nan_in_float_columns() -> None:
    spec = scene(n=200)
    spec["missing"] = [{"mechanism": "mcar", "rate": 0.1, "affects": "counts"}]
    data = sb.generate(spec)
    assert data.X.isna().to_numpy().mean() == pytest.approx(0.1, abs=0.02)
    assert (data.X.dtypes == np.float32).all()
    observed = data.X.to_numpy()
    seen = ~np.isnan(observed)
    assert (observed[seen] == np.round(observed[seen])).all()


def test_adding_a_block_changes_no_count_and_rows_are_chunk_invariant() -> None:
    from synthbio_ppl.engine.draw import draw_rows
    from synthbio_ppl.engine.generation import generate
    from synthbio_ppl.model.design import build_design
    from synthbio_ppl.model.layout import build_layout
    from synthbio_ppl.model.parameters import fixed_sites
    from synthbio_ppl.model.scene import as_spec

    spec = scene(n=300, dropout={"midpoint": 0.5})
    base = generate(spec)
    wider = copy.deepcopy(spec)
    wider["noise"] = [{"n": 7}]
    other = generate(wider)
    assert other.X[base.X.columns].equals(base.X)
    assert other.truth.dropout.equals(base.truth.dropout)
    resolved = as_spec(spec)
    layout = build_layout(resolved)
    part = draw_rows(layout, fixed_sites(resolved), build_design(resolved), 5, "float32", 300, 557)
    assert (part["X"] == base.X.to_numpy()[300:557]).all()


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("block", "path"),
    [
        ({"n": 0}, "counts[0].n"),
        ({"distribution": "binomial"}, "counts[0].distribution"),
        ({"library_size": {"median": 0}}, "counts[0].library_size.median"),
        ({"library_size": {"median": float("nan")}}, "counts[0].library_size.median"),
        ({"dispersion": {"bcv": -0.1}}, "counts[0].dispersion.bcv"),
        ({"dispersion": {"trend": -1}}, "counts[0].dispersion.trend"),
        ({"differential_expression": {"fraction": 1.0}}, "counts[0].differential_expression"),
        ({"differential_expression": {"down_share": 1.5}}, "counts[0].differential_expression"),
        ({"dropout": {"slope": 0}}, "counts[0].dropout.slope"),
        ({"zero_inflation": 0.2}, "counts[0].zero_inflation"),
        ({"distribution": "zero_inflated_negative_binomial"}, "counts[0].zero_inflation"),
        ({"base_mean": {"outlier_probability": 1.0}}, "counts[0].base_mean"),
        ({"base_mean": {"shape": "many"}}, "counts[0].base_mean.shape"),
        ({"library": 1}, "counts[0].library"),
    ],
)
def test_bad_count_fields_are_named(block: dict[str, Any], path: str) -> None:
    spec = scene(n=10)
    spec["counts"] = [{"n": 5, **block}]
    with pytest.raises(SpecError) as error:
        sb.generate(spec)
    assert error.value.path.startswith(path), error.value.message


def test_batches_can_select_count_blocks_by_kind() -> None:
    spec = scene(n=100)
    spec["informative"] = [{"n": 2}]
    spec["batches"] = {"n": 2, "affects": "counts"}
    data = sb.generate(spec)
    affected = data.truth.features["batch_affected"]
    assert affected[[c for c in data.X if c.startswith("genes_")]].all()
    assert not affected[["inf0_0", "inf0_1"]].any()


# ------------------------------------------------------------------ files and streams


def test_parquet_round_trip_keeps_dtypes_library_sizes_and_dropout(tmp_path: Any) -> None:
    spec = scene(n=100, dropout={"midpoint": 0.0})
    data = sb.generate(spec)
    data.to_parquet(tmp_path / "d")
    back = sb.load_dataset(tmp_path / "d")
    pd.testing.assert_frame_equal(back.X, data.X)
    pd.testing.assert_frame_equal(back.truth.dropout, data.truth.dropout)
    pd.testing.assert_frame_equal(back.truth.latents, data.truth.latents)
    assert back.truth.features["de"].dtype == bool
    # a damaged per-row truth file is named, not loaded
    dropout, latents = data.truth.dropout, data.truth.latents
    first_nonzero = np.flatnonzero(data.X[dropout.columns[0]].to_numpy() > 0)[0]
    damaged = {
        "dropout.parquet": [
            (dropout.iloc[:-1], "rows"),
            (dropout.astype(np.int8), "true/false"),
            (_set(dropout.astype("boolean"), 0, dropout.columns[0], pd.NA), "true/false"),
            (dropout.rename(columns={dropout.columns[0]: "other"}), "columns"),
            (dropout.iloc[:, :3], "columns"),
            (_set(dropout, first_nonzero, dropout.columns[0], True), "not 0"),
        ],
        "latents.parquet": [(latents.iloc[:-1], "rows")],
    }
    for name, cases in damaged.items():
        for frame, reason in cases:
            frame.to_parquet(tmp_path / "d" / name)
            with pytest.raises(SpecError, match=reason) as info:
                sb.load_dataset(tmp_path / "d")
            assert name in str(info.value)
        {"dropout.parquet": dropout, "latents.parquet": latents}[name].to_parquet(
            tmp_path / "d" / name
        )
    (tmp_path / "d" / "dropout.parquet").unlink()
    with pytest.raises(SpecError, match="missing: the spec has dropout"):
        sb.load_dataset(tmp_path / "d")


def _set(frame: pd.DataFrame, row: int, column: str, value: Any) -> pd.DataFrame:
    out = frame.copy()
    out.iloc[row, out.columns.get_loc(column)] = value
    return out


def test_a_stream_writes_the_same_counts_and_dropout(tmp_path: Any) -> None:
    spec = scene(n=300, dropout={"midpoint": 0.0})
    data = sb.generate(spec)
    sb.generate_to_parquet(spec, tmp_path / "s", chunk_rows=256, progress=False)
    back = sb.load_dataset(tmp_path / "s")
    pd.testing.assert_frame_equal(back.X, data.X)
    pd.testing.assert_frame_equal(back.truth.dropout, data.truth.dropout)


# ------------------------------------------------------------------ fitting


def test_the_likelihood_is_numpyros_negative_binomial_and_poisson() -> None:
    """The fit's per-cell log pmf (its μ-free part computed once for the three DE states)
    equals NumPyro's NegativeBinomial2, Poisson and zero-inflated NB log densities."""
    import jax.numpy as jnp
    import numpyro.distributions as dist

    from synthbio_ppl.processes.counts.model import _cell_log_prob, _constant_log_pmf

    x = jnp.array([0.0, 1.0, 5.0, 100.0, 0.0, 7.0])
    mean = jnp.array([0.5, 2.0, 5.0, 80.0, 40.0, 0.1])
    r = jnp.array([2.0, 10.0, 0.5, 30.0, 5.0, 1.0])
    gate = jnp.array([0.2, 0.5, 0.1, 0.3, 0.9, 0.05])
    nb = _cell_log_prob(mean, r, None, x, _constant_log_pmf(x, r))
    assert np.allclose(nb, dist.NegativeBinomial2(mean, r).log_prob(x), atol=1e-4)
    poisson = _cell_log_prob(mean, None, None, x, _constant_log_pmf(x, None))
    assert np.allclose(poisson, dist.Poisson(mean).log_prob(x), atol=1e-4)
    zinb = _cell_log_prob(mean, r, gate, x, _constant_log_pmf(x, r))
    expected = dist.ZeroInflatedNegativeBinomial2(mean, r, gate=gate).log_prob(x)
    assert np.allclose(zinb, expected, atol=1e-4)


def test_a_fit_refuses_hidden_counts_it_would_have_to_draw() -> None:
    spec = scene(n=50)
    spec["counts"][0]["n"] = 4
    spec["missing"] = [{"mechanism": "mnar", "rate": 0.2, "affects": "counts"}]
    data = sb.generate(spec)
    with pytest.raises(SpecError, match="missing='ignore'"):
        sb.fit(None, data, num_warmup=5, num_samples=5, progress=False)


def test_svi_recovers_log_fold_changes_and_dispersions_of_many_genes() -> None:
    spec = scene(
        n=150,
        library_size={"median": 20000, "sdlog": 0.2},
        differential_expression={"fraction": 0.3, "log2_fold_change": 1.5, "spread": 0.3},
    )
    spec["counts"][0]["n"] = 200
    data = sb.generate(spec)
    result = sb.fit(
        None,
        data,
        method="svi",
        svi_steps=4000,
        learning_rate=0.03,
        num_samples=200,
        progress=False,
    )
    genes = data.truth.features
    lfc = result.posterior["genes.log2_fold_change"].mean(0)[:, 0]
    truth = genes["log2_fold_change"].to_numpy()
    de = genes["de"].to_numpy()
    # DE genes: the posterior mean is close to the truth (a few low-count genes are
    # hard to call); non-DE genes: near 0
    assert np.median(np.abs(lfc[de] - truth[de])) < 0.15
    assert np.corrcoef(lfc, truth)[0, 1] > 0.9
    assert np.median(np.abs(lfc[~de])) < 0.1
    probability = result.posterior["genes.de_probability"].mean(0)[:, 0]
    assert probability[de].mean() > 0.9 and probability[~de].mean() < 0.2
    dispersion = result.posterior["genes.dispersion"].mean(0)
    log_error = np.log(dispersion / genes["dispersion"].to_numpy())
    assert abs(np.median(log_error)) < 0.15


# ------------------------------------------------------------------ AnnData


def test_to_anndata_carries_counts_truth_and_dropout(tmp_path: Any) -> None:
    import anndata

    spec = scene(n=40, dropout={"midpoint": 0.0})
    spec["informative"] = [{"n": 2}]
    spec["batches"] = {"n": 2}
    data = sb.generate(spec)
    adata = data.to_anndata()
    genes = [c for c in data.X if c.startswith("genes_")]
    assert adata.shape == (80, 60) and list(adata.var_names) == genes
    assert adata.X.dtype == np.int32 and (data.X[genes].to_numpy() == adata.X).all()
    assert (
        adata.var["log2_fold_change"] == data.truth.features.loc[genes, "log2_fold_change"]
    ).all()
    assert (adata.obs["genes.library_size"].to_numpy() == data.truth.latents.iloc[:, 0]).all()
    assert list(adata.obs["y"]) == list(data.y) and "batch" in adata.obs
    assert (adata.layers["dropout"].toarray() == data.truth.dropout.to_numpy()).all()
    adata.write_h5ad(tmp_path / "d.h5ad")
    back = anndata.read_h5ad(tmp_path / "d.h5ad")
    assert (back.X == adata.X).all() and back.var.equals(adata.var)
    everything = data.to_anndata(blocks=["inf0", "genes"])
    assert everything.shape == (80, 62) and everything.X.dtype != np.int32
    with pytest.raises(SpecError, match="blocks"):
        data.to_anndata(blocks=["nope"])


def test_posterior_predictive_keeps_the_fitted_de_states() -> None:
    """Replicated tables draw each DE state from its conditional posterior, not from the
    prior: DE genes keep their fold changes (otherwise 70% of them would lose it)."""
    spec = scene(
        n=60,
        library_size={"median": 20000},
        differential_expression={"fraction": 0.3, "log2_fold_change": 2.0, "spread": 0.2},
    )
    spec["counts"][0]["n"] = 30
    data = sb.generate(spec)
    result = sb.fit(None, data, method="svi", svi_steps=3000, learning_rate=0.03, progress=False)
    replicated = result.posterior_predictive(n_draws=40)
    treated = (data.y == "treated").to_numpy()

    def log_ratio(x: np.ndarray) -> np.ndarray:
        return np.log2((x[..., treated, :].mean(-2) + 0.5) / (x[..., ~treated, :].mean(-2) + 0.5))

    observed = log_ratio(data.X.to_numpy())
    mean_replicated = log_ratio(replicated).mean(0)
    de = data.truth.features["de"].to_numpy()
    assert de.sum() >= 4
    assert np.abs(mean_replicated[de] - observed[de]).max() < 0.4


def test_counts_beyond_int32_are_refused_not_wrapped() -> None:
    spec = scene(n=50, library_size={"median": 1.0e9, "sdlog": 2.0})
    spec["counts"][0]["base_mean"] = {"outlier_probability": 0.5, "outlier_location": 10.0}
    spec["counts"][0]["n"] = 5
    with pytest.raises(SpecError, match="2\\^31") as error:
        sb.generate(spec)
    assert error.value.path == "counts[0]"


def test_a_tiny_gamma_shape_keeps_the_truth_finite() -> None:
    data = sb.generate(scene(n=20, base_mean={"shape": 0.01}))
    assert np.isfinite(data.truth.effect_sizes.to_numpy()).all()
    assert (data.truth.features["base_mean"] > 0).all()


# ------------------------------------------------------------------ review findings


def test_blocks_with_dropout_or_zero_inflation_fit() -> None:
    """The gate's settings are population sites: a fit traces them outside the rows plate."""
    spec = scene(n=30, library_size={"median": 500}, dropout={"midpoint": 0.5})
    spec["counts"][0]["n"] = 6
    fitted = sb.fit(None, sb.generate(spec), method="svi", svi_steps=200, progress=False)
    assert np.isfinite(fitted.posterior["genes.dispersion"]).all()
    spec["counts"][0].update(distribution="zero_inflated_negative_binomial", zero_inflation=0.2)
    fitted = sb.fit(None, sb.generate(spec), num_warmup=100, num_samples=100, progress=False)
    assert np.isfinite(fitted.posterior["genes.dispersion"]).all()


def test_deep_libraries_fit_in_float64() -> None:
    from synthbio_ppl.inference.problem import build_problem

    spec = scene(n=10, library_size={"median": 1.0e7})
    spec["counts"][0]["n"] = 3
    data = sb.generate(spec)
    assert build_problem(None, data).spec.dtype == "float64"
    shallow = sb.generate(scene(n=10))
    assert build_problem(None, shallow).spec.dtype == "float32"


def test_a_count_fit_refuses_values_that_are_not_counts() -> None:
    data = sb.generate(scene(n=10))
    frame = data.to_frame()
    frame["genes_0"] = frame["genes_0"] + 0.5
    with pytest.raises(SpecError, match="whole numbers") as error:
        sb.fit(data.spec, frame, method="svi", svi_steps=5, progress=False)
    assert error.value.path == "X.genes_0"
    frame["genes_0"] = -1
    with pytest.raises(SpecError, match="whole numbers"):
        sb.fit(data.spec, frame, method="svi", svi_steps=5, progress=False)


def test_masked_count_columns_are_checked_for_overflow_too() -> None:
    spec = scene(
        n=20, differential_expression={"fraction": 0.5, "log2_fold_change": 10, "spread": 2}
    )
    spec["counts"][0]["n"] = 200
    spec["missing"] = [{"mechanism": "mcar", "rate": 0.1}]
    with pytest.raises(SpecError) as error:
        sb.generate(spec)
    assert error.value.path == "counts[0]"


def test_to_anndata_finds_count_blocks_when_cells_are_missing() -> None:
    spec = scene(n=20)
    spec["informative"] = [{"n": 3}]
    spec["missing"] = [{"mechanism": "mcar", "rate": 0.1, "affects": "counts"}]
    data = sb.generate(spec)
    assert list(data.to_anndata().var_names) == [c for c in data.X if c.startswith("genes_")]
    assert data.to_anndata("inf0").shape[1] == 3
    with pytest.raises(SpecError, match="blocks"):
        data.to_anndata([])
