"""Missing values: realised rates, each mechanism's dependence, the mask, bit-identity,
bad input, files and streams, and the fit back (recovery over seeds, SBC)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest

import synthbio_ppl as sb
from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.inference.calibration import calibrate
from synthbio_ppl.inference.fitting import fit


def scene(missing: list[dict[str, Any]], n: int = 1000, **extra: Any) -> dict[str, Any]:
    return {
        "name": "holes",
        "seed": 7,
        "classes": [{"name": "healthy", "n": n}, {"name": "diseased", "n": n}],
        "informative": [{"n": 4, "effect_size": 1.0}],
        "noise": [{"n": 4, "standardise": False, "params": {"loc": 3.0, "scale": 2.0}}],
        "missing": missing,
        **extra,
    }


def within(observed: float, expected: float, cells: int) -> bool:
    """|observed − expected| < 4 binomial SE."""
    return abs(observed - expected) < 4 * np.sqrt(expected * (1 - expected) / cells)


def logistic_fit(z: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood logistic regression of m on (1, z) by Newton: coefficients and
    their standard errors from the Fisher information (independent of the library)."""
    design = np.column_stack([np.ones_like(z), z])
    beta = np.zeros(2)
    for _ in range(50):
        p = 1 / (1 + np.exp(-design @ beta))
        info = design.T @ (design * (p * (1 - p))[:, None])
        beta = beta + np.linalg.solve(info, design.T @ (m - p))
    return beta, np.sqrt(np.diag(np.linalg.inv(info)))


# ------------------------------------------------------------------ rates and mechanisms


def test_mcar_hides_the_rate_in_the_chosen_columns_only() -> None:
    data = sb.generate(scene([{"mechanism": "mcar", "rate": 0.25, "affects": "noise"}]))
    hidden = data.truth.missing
    noise = [c for c in data.X if c.startswith("noise0_")]
    assert within(hidden[noise].to_numpy().mean(), 0.25, hidden[noise].size)
    assert not hidden.drop(columns=noise).to_numpy().any()
    assert (hidden.to_numpy() == data.X.isna().to_numpy()).all()
    # MCAR: the missing cells' complete values are like the others (mean within 4 SE)
    values = data.truth.complete[noise].to_numpy()
    cells = hidden[noise].to_numpy()
    gap = values[cells].mean() - values[~cells].mean()
    assert abs(gap) < 4 * 2.0 * np.sqrt(1 / cells.sum() + 1 / (~cells).sum())


def test_mar_on_class_follows_the_logistic_per_class() -> None:
    entry = {"mechanism": "mar", "depends_on": "class", "rate": 0.2, "strength": 1.5}
    data = sb.generate(scene([{**entry, "affects": "informative"}]))
    a = float(data.truth.missingness["miss0"]["columns"]["intercept"].iloc[0])
    informative = [c for c in data.X if c.startswith("inf0_")]
    by_class = data.truth.missing[informative].groupby(data.y, observed=True).mean().mean(axis=1)
    expected = [1 / (1 + np.exp(-(a + 1.5 * k))) for k in range(2)]
    # the intercept is solved for the rate over the exact class counts
    assert np.mean(expected) == pytest.approx(0.2, abs=1e-6)  # a is stored in float32
    for k, name in enumerate(["healthy", "diseased"]):
        assert within(by_class[name], expected[k], 1000 * 4), (name, by_class[name], expected)
    assert by_class["diseased"] > by_class["healthy"]


def test_mar_on_batch_follows_the_level_steps() -> None:
    spec = scene(
        [{"mechanism": "mar", "depends_on": "batch", "rate": 0.3, "strength": -1.0}],
        batches={"n": 3, "strength": 0.2, "confounding": 0.0},
    )
    data = sb.generate(spec)
    a = float(data.truth.missingness["miss0"]["columns"]["intercept"].iloc[0])
    rows = data.truth.missing.mean(axis=1).groupby(data.covariates["batch"], observed=True)
    for level, (name, share) in enumerate(rows.mean().items()):
        expected = 1 / (1 + np.exp(-(a - level)))
        size = int((data.covariates["batch"] == name).sum())
        assert within(share, expected, size * data.X.shape[1]), (name, share, expected)


def test_mar_on_a_column_recovers_its_slope_on_the_standardised_driver() -> None:
    entry = {"mechanism": "mar", "depends_on": "inf0_0", "rate": 0.3, "strength": 2.0}
    data = sb.generate(scene([{**entry, "affects": ["noise0_0"]}]))
    table = data.truth.missingness["miss0"]["columns"]
    driver = data.X["inf0_0"].to_numpy(dtype=float)
    z = (driver - driver.mean()) / driver.std()  # the truth's centre and scale are these
    assert table["centre"].iloc[0] == pytest.approx(driver.mean(), abs=1e-5)
    assert table["scale"].iloc[0] == pytest.approx(driver.std(), rel=1e-5)
    m = data.truth.missing["noise0_0"].to_numpy().astype(float)
    beta, se = logistic_fit(z, m)
    assert abs(beta[1] - 2.0) < 4 * se[1], (beta, se)
    assert abs(beta[0] - table["intercept"].iloc[0]) < 4 * se[0]
    assert within(m.mean(), 0.3, m.size)


def test_mnar_depends_on_the_hidden_value_as_specified() -> None:
    entry = {"mechanism": "mnar", "rate": 0.3, "strength": -1.5, "affects": "noise"}
    data = sb.generate(scene([entry]))
    table = data.truth.missingness["miss0"]["columns"]
    complete = data.truth.complete
    for column, row in table.iterrows():
        z = ((complete[column] - row["centre"]) / row["scale"]).to_numpy(dtype=float)
        m = data.truth.missing[column].to_numpy().astype(float)
        beta, se = logistic_fit(z, m)
        assert abs(beta[1] + 1.5) < 4 * se[1], (column, beta, se)
        assert abs(beta[0] - row["intercept"]) < 4 * se[0], (column, beta, se)
    cells = data.truth.missing[table.index].to_numpy()
    assert within(cells.mean(), 0.3, cells.size)
    # low values go missing: the observed mean is biased upwards, the truth shows by how much
    observed = data.X[table.index].stack().mean()
    assert observed - complete[table.index].to_numpy().mean() > 0.5


def test_a_detection_limit_hides_everything_below_it() -> None:
    entry = {"mechanism": "mnar", "form": "detection_limit", "rate": 0.2, "affects": "noise"}
    data = sb.generate(scene([{**entry, "strength": -1.0}]))
    for column in [c for c in data.X if c.startswith("noise0_")]:
        hidden = data.truth.missing[column].to_numpy()
        values = data.truth.complete[column].to_numpy()
        assert values[hidden].max() < values[~hidden].min()
        assert abs(hidden.sum() - 0.2 * 2000) <= 1


@pytest.mark.parametrize("mechanism", ["mcar", "mnar"])
def test_exact_counts_are_exact_per_column(mechanism: str) -> None:
    entry = {"mechanism": mechanism, "rate": 0.15, "exact": True, "affects": "informative"}
    data = sb.generate(scene([entry], n=333))
    counts = data.truth.missing[[c for c in data.X if c.startswith("inf0_")]].sum()
    assert (counts == round(0.15 * 666)).all(), counts


def test_rate_zero_hides_nothing() -> None:
    data = sb.generate(scene([{"mechanism": "mnar", "rate": 0.0}], n=200))
    assert not data.X.isna().to_numpy().any()


def test_entries_combine_and_the_values_underneath_are_bit_identical() -> None:
    entries = [
        {"mechanism": "mcar", "rate": 0.2, "affects": "noise"},
        {"mechanism": "mnar", "rate": 0.3, "affects": ["inf0_1", "noise0_0"]},
    ]
    without = sb.generate({k: v for k, v in scene([]).items() if k != "missing"})
    data = sb.generate(scene(entries))
    assert np.array_equal(data.truth.complete.to_numpy(), without.X.to_numpy())
    untouched = ["inf0_0", "inf0_2", "inf0_3"]
    assert np.array_equal(data.X[untouched].to_numpy(), without.X[untouched].to_numpy())
    # noise0_0 is hidden by both entries: 1 − (1 − 0.2)(1 − p_mnar) on average
    assert data.X["noise0_0"].isna().mean() > data.X["noise0_1"].isna().mean()
    # an entry's mask is its own stream: adding the second leaves the first's cells
    first = sb.generate(scene(entries[:1]))
    noise = [c for c in data.X if c.startswith("noise0_")][1:]
    assert first.truth.missing[noise].equals(data.truth.missing[noise])


# ------------------------------------------------------------------ bad input

BAD = [
    ({"rate": "0.2"}, "missing[0].rate"),
    ({"rate": False}, "missing[0].rate"),
    ({"exact": "yes"}, "missing[0].exact"),
    ({"name": "inf0"}, "missing[0].name"),
    ({"rate": 1.0}, "missing[0].rate"),
    ({"rate": -0.1}, "missing[0].rate"),
    ({"rate": float("nan")}, "missing[0].rate"),
    ({"strength": float("inf")}, "missing[0].strength"),
    ({"strength": float("nan")}, "missing[0].strength"),
    ({"depends_on": "nowhere"}, "missing[0].depends_on"),
    ({"depends_on": "batch"}, "missing[0].depends_on"),
    ({"depends_on": None}, "missing[0].depends_on"),
    ({"mechanism": "mcar", "depends_on": None, "strength": 1.0}, "missing[0].strength"),
    ({"form": "detection_limit"}, "missing[0].form"),
    ({"affects": ["inf0_9"]}, "missing[0].affects[0]"),
    ({"affects": "clusters"}, "missing[0].affects"),
    ({"mechanism": "wrong"}, "missing[0].mechanism"),
]


@pytest.mark.parametrize(("change", "path"), BAD, ids=[p for _, p in BAD])
def test_bad_entries_name_the_field(change: dict[str, Any], path: str) -> None:
    entry = {"mechanism": "mar", "depends_on": "class", "rate": 0.2, **change}
    with pytest.raises(SpecError) as caught:
        sb.validate_spec(scene([{k: v for k, v in entry.items() if v is not None}]))
    assert str(caught.value).startswith(path), str(caught.value)


def test_a_hidden_driver_and_repeated_names_are_refused() -> None:
    hides = {"mechanism": "mcar", "rate": 0.1, "affects": ["inf0_0"]}
    driven = {"mechanism": "mar", "depends_on": "inf0_0", "rate": 0.1, "affects": "noise"}
    with pytest.raises(SpecError, match=r"missing\[1\]\.depends_on.*observed column"):
        sb.validate_spec(scene([hides, driven]))
    twice = [{**hides, "name": "drop"}, {**hides, "name": "drop", "affects": "noise"}]
    with pytest.raises(SpecError, match=r"missing\[1\]\.name"):
        sb.validate_spec(scene(twice))


def test_the_cli_says_one_line_for_a_bad_rate(tmp_path, capsys) -> None:
    import yaml

    from synthbio_ppl.cli import main

    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(scene([{"mechanism": "mcar", "rate": 1.5}])))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing[0].rate" in err and "Traceback" not in err


# ------------------------------------------------------------------ files and streams

STREAMED = [
    {"mechanism": "mcar", "rate": 0.2, "affects": "noise"},
    {"mechanism": "mnar", "rate": 0.3, "affects": ["inf0_1"]},
]


def test_a_folder_round_trips_the_mask_and_the_complete_values(tmp_path) -> None:
    data = sb.generate(scene(STREAMED, n=300))
    data.to_parquet(tmp_path / "d")
    back = sb.load_dataset(tmp_path / "d")
    assert back.X.equals(data.X)
    assert back.truth.missing.equals(data.truth.missing)
    assert np.array_equal(back.truth.complete.to_numpy(), data.truth.complete.to_numpy())
    assert back.truth.missingness["miss1"]["columns"].equals(
        data.truth.missingness["miss1"]["columns"]
    )
    # a mask that disagrees with the data's NaN is refused, naming the file
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "d" / "missing.parquet").to_pandas()
    table.iloc[0] = ~table.iloc[0]
    pq.write_table(
        pa.Table.from_pandas(table, preserve_index=False), tmp_path / "d" / "missing.parquet"
    )
    with pytest.raises(SpecError, match=r"missing\.parquet"):
        sb.load_dataset(tmp_path / "d")


def test_streams_and_dask_partitions_equal_generate(tmp_path) -> None:
    from synthbio_ppl.engine.dask_io import to_dask
    from synthbio_ppl.engine.parquet_writer import generate_to_parquet

    spec = scene(STREAMED, n=300)
    data = sb.generate(spec)
    generate_to_parquet(spec, tmp_path / "s", chunk_rows=256)
    streamed = sb.load_dataset(tmp_path / "s")
    assert streamed.X.equals(data.X)
    assert streamed.truth.missing.equals(data.truth.missing)
    assert np.array_equal(streamed.truth.complete.to_numpy(), data.truth.complete.to_numpy())
    frame = to_dask(spec, chunk_rows=256).compute()
    assert np.array_equal(frame[data.X.columns].to_numpy(), data.X.to_numpy(), equal_nan=True)
    exact = scene([{**STREAMED[0], "exact": True}], n=300)
    with pytest.raises(SpecError, match=r"missing\[0\]\.exact"):
        generate_to_parquet(exact, tmp_path / "e", chunk_rows=256)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]  # no staging folder left


def test_beyond_the_pilot_rows_a_sorted_table_still_gets_the_rate(tmp_path, monkeypatch) -> None:
    """With more rows than the pilot, the intercepts come from pilot rows picked at random
    from the design (rows sorted by class are represented as in the data): the realised
    MNAR rate is the spec's within its binomial SE plus the pilot's error (about 0.5/√512),
    and a stream equals the table in memory."""
    from synthbio_ppl.engine import masking
    from synthbio_ppl.engine.parquet_writer import generate_to_parquet

    monkeypatch.setattr(masking, "PILOT_ROWS", 512)
    spec = {
        "seed": 1,
        "shuffle": False,
        "classes": [{"name": "a", "n": 1500}, {"name": "b", "n": 1500}],
        "informative": [{"n": 2, "effect_size": 4.0}],
        "missing": [{"mechanism": "mnar", "rate": 0.3, "strength": -2.0}],
    }
    data = sb.generate(spec)
    share = data.truth.missing.to_numpy().mean()
    assert abs(share - 0.3) < 4 * np.hypot(np.sqrt(0.21 / 6000), 0.5 / np.sqrt(512)), share
    generate_to_parquet(spec, tmp_path / "s", chunk_rows=512)
    assert sb.load_dataset(tmp_path / "s").truth.missing.equals(data.truth.missing)


def test_the_intercepts_solve_the_rate_for_any_driver() -> None:
    """The solver's root, checked on many drivers and slopes (a case that once returned a
    bisection midpoint instead of the root)."""
    from synthbio_ppl.processes.missing.solve import intercepts

    rng = np.random.default_rng(0)
    for _ in range(60):
        z = rng.normal(size=(500, 4)) * rng.uniform(0.2, 3) + rng.normal()
        for rate in (0.01, 0.1, 0.3, 0.7):
            for b in (-4.0, -2.0, 0.5, 3.0):
                a = intercepts(z, b, rate)
                assert np.abs((1 / (1 + np.exp(-(a + b * z)))).mean(axis=0) - rate).max() < 1e-8
    base = {
        "name": "g",
        "seed": 2,
        "classes": [{"name": "h", "n": 500}, {"name": "d", "n": 500}],
        "informative": [{"n": 5, "effect_size": 1.0}],
    }
    data = sb.generate({**base, "missing": [{"mechanism": "mnar", "rate": 0.1, "strength": -2}]})
    cells = data.truth.missing.to_numpy()
    assert within(cells.mean(), 0.1, cells.size)


def test_a_table_with_nan_needs_an_entry_that_covers_it() -> None:
    spec = {k: v for k, v in scene([], n=50).items() if k != "missing"}
    data = sb.generate(spec)
    frame = data.X.copy()
    frame.iloc[3, 2] = np.nan
    with pytest.raises(SpecError, match=r"X\.inf0_2.*missing:"):
        fit(spec, frame, labels=data.y, num_warmup=5, num_samples=5, progress=False)
    frame.iloc[3, 2] = np.inf
    with pytest.raises(SpecError, match=r"X\.inf0_2.*infinite"):
        fit(spec, frame, labels=data.y, num_warmup=5, num_samples=5, progress=False)


# ------------------------------------------------------------------ fitting back

FIT_SCENE = {
    "name": "mnar_fit",
    "classes": [{"name": "healthy", "n": 100}, {"name": "diseased", "n": 100}],
    "noise": [{"name": "raw", "n": 2, "standardise": False, "params": {"loc": 5, "scale": 2}}],
    "missing": [{"mechanism": "mnar", "rate": 0.3, "strength": -2.0}],
}
NUTS = {"num_warmup": 400, "num_samples": 600, "progress": False}


def test_mnar_fit_covers_the_truth_and_the_ignorable_fit_is_biased() -> None:
    """Over 12 seeds, the MNAR model's 90% intervals cover each parameter at about the
    nominal rate (12·5 intervals: ≥ 46 covered is within 3 binomial SE of 54), and the
    loc of the ignorable fit sits above the truth in every seed (low values are missing)."""
    covered, total, shifts = 0, 0, []
    for seed in range(12):
        data = sb.generate({**FIT_SCENE, "seed": seed})
        table = fit(None, data, seed=seed, **NUTS).recovery()
        covered += int(table["covered"].sum())
        total += len(table)
        ignored = fit(None, data, seed=seed, missing="ignore", **NUTS).recovery()
        row = ignored.loc[ignored["site"] == "raw.loc"].iloc[0]
        shifts.append((row["mean"] - row["truth"]) / row["sd"])
    assert total == 12 * 5
    assert covered >= 0.9 * total - 3 * np.sqrt(total * 0.9 * 0.1), covered
    assert min(shifts) > 3, shifts


@pytest.mark.parametrize("mechanism", ["mnar", "mcar"])
def test_sbc_calibrates_the_model_and_exposes_the_ignorable_fit_under_mnar(
    mechanism: str,
) -> None:
    """40 simulations of a small scene: the model with its mechanism calibrates for MNAR
    and MCAR; the ignorable likelihood calibrates for MCAR and fails for MNAR (its loc and
    scale ranks pile up at one end). Narrow priors on loc and scale keep the simulated
    values on the scale the mechanism's constants were solved for."""
    import numpyro.distributions as dist

    entry: dict[str, Any] = {"mechanism": mechanism, "rate": 0.3}
    if mechanism == "mnar":
        entry["strength"] = -2.0
    spec = {
        "name": f"{mechanism}_sbc",
        "classes": [{"name": "a", "n": 60}, {"name": "b", "n": 60}],
        "noise": [{"name": "raw", "n": 1, "standardise": False}],
        "missing": [entry],
    }
    priors = {"raw.loc": dist.Normal(0, 1), "raw.scale": dist.LogNormal(0, 0.25)}
    runs = {
        how: calibrate(
            spec, n_sims=40, num_warmup=200, num_samples=200, n_draws=49, seed=1,
            priors=priors, missing=how, target_accept=0.95,  # 0.8: 1 of 40 MNAR fits diverged
        )
        for how in ("model", "ignore")
    }  # fmt: skip
    assert runs["model"].passes(), runs["model"].tests
    assert "miss0.intercept[0]" in runs["model"].tests.index
    assert runs["ignore"].passes() == (mechanism == "mcar"), runs["ignore"].tests


@pytest.mark.parametrize("kind", ["clusters", "structure"])
def test_joint_blocks_fit_with_hidden_cells(kind: str) -> None:
    """A correlated cluster (a joint event: flat-prior latents) and a structural scene
    (later biomarkers computed from hidden ones) fit with MNAR cells and recover ρ and
    the baseline within 3.5 posterior sd."""
    from tests.processes.test_suite import STRUCTURE

    if kind == "clusters":
        spec: dict[str, Any] = {
            "classes": [{"name": "a", "n": 100}, {"name": "b", "n": 100}],
            "clusters": [{"n": 3, "correlation": 0.6, "anchor_effect": 1.0}],
        }
        site = "clu0.correlation"
    else:
        structure = copy.deepcopy(STRUCTURE)
        structure["biomarkers"]["C"].pop("clip")
        spec = {"structure": structure}
        site = "scene.baseline"
    spec["missing"] = [{"mechanism": "mnar", "rate": 0.2, "strength": -1.0}]
    data = sb.generate({**spec, "seed": 2})
    table = fit(None, data, num_warmup=400, num_samples=400, progress=False).recovery()
    rows = table[table["site"] == site]
    z = ((rows["mean"] - rows["truth"]).abs() / rows["sd"]).to_numpy()
    assert len(rows) and (z < 3.5).all(), rows
    assert isinstance(table, pd.DataFrame)


@pytest.mark.parametrize("driver", ["region", "pseudo0_group"])
def test_mar_on_a_covariate_follows_its_level_steps(driver: str) -> None:
    """A structural scene's drawn covariate and a pseudo-class block's latent group drive
    the mask by level step: per level, σ(a + b·level) within 4 binomial SE."""
    from tests.processes.test_suite import STRUCTURE

    entry = {"mechanism": "mar", "depends_on": driver, "rate": 0.25, "strength": 1.0}
    if driver == "region":
        structure = {**copy.deepcopy(STRUCTURE), "n": 3000}
        spec: dict[str, Any] = {"seed": 4, "structure": structure}
    else:
        spec = {
            "seed": 4,
            "classes": [{"name": "a", "n": 1500}, {"name": "b", "n": 1500}],
            "pseudo_classes": [{"n": 3, "groups": 3}],
            "noise": [{"n": 3}],
        }
        entry["affects"] = "noise"
    data = sb.generate({**spec, "missing": [entry]})
    a = float(data.truth.missingness["miss0"]["columns"]["intercept"].iloc[0])
    hidden = data.truth.missing.loc[:, data.truth.missing.any()]
    codes = data.covariates[driver]
    codes = codes.cat.codes if hasattr(codes, "cat") else codes
    for level in sorted(set(codes)):
        rows = hidden[(codes == level).to_numpy()].to_numpy()
        expected = 1 / (1 + np.exp(-(a + level)))
        assert within(rows.mean(), expected, rows.size), (level, rows.mean(), expected)
    assert within(hidden.to_numpy().mean(), 0.25, hidden.size)


def test_names_that_would_share_sites_or_mean_two_things_are_refused() -> None:
    with pytest.raises(SpecError, match=r"missing\[0\]\.name.*modifier"):
        sb.validate_spec(
            scene(
                [{"name": "batch", "mechanism": "mcar", "rate": 0.1}],
                batches={"n": 2},
            )
        )
    one_class = {
        "structure": {
            "n": 50,
            "biomarkers": {"A": {"baseline": 1, "noise": 1}},
        },
        "missing": [{"mechanism": "mar", "depends_on": "class", "rate": 0.1}],
    }
    with pytest.raises(SpecError, match=r"missing\[0\]\.depends_on.*two or more classes"):
        sb.validate_spec(one_class)
    named_class = copy.deepcopy(one_class)
    named_class["structure"]["biomarkers"]["class"] = {"baseline": 1, "noise": 1}
    named_class["classes"] = [{"name": "a", "n": 25}, {"name": "b", "n": 25}]
    with pytest.raises(SpecError, match=r"missing\[0\]\.depends_on.*both the class"):
        sb.validate_spec(named_class)


def test_a_detection_limit_on_tied_values_warns_and_rate_zero_keeps_strict_json() -> None:
    import json

    structure = {"n": 400, "biomarkers": {"S": {"baseline": -5, "noise": 4, "clip": [0, 60]}}}
    entry = {"mechanism": "mnar", "form": "detection_limit", "rate": 0.3, "strength": 1.0}
    with pytest.warns(UserWarning, match="tied values"):
        sb.generate({"seed": 1, "structure": structure, "missing": [entry]})
    data = sb.generate(scene([{"mechanism": "mnar", "rate": 0.0}], n=50))
    json.loads(data.truth.to_json(), parse_constant=lambda c: pytest.fail(c))


def test_fits_with_overlapping_entries_svi_raw_families_and_no_holes() -> None:
    """Two MCAR entries on the same columns are fitted through their union (each 0.1: a
    cell is kept with probability 0.81); SVI fits an MNAR scene; a mask on a raw lognormal
    block fits by NUTS; a table whose entry hid nothing fits too."""
    spec = {
        "seed": 2,
        "classes": [{"name": "h", "n": 300}, {"name": "d", "n": 300}],
        "informative": [{"name": "inf", "n": 2}],
        "missing": [
            {"name": "a", "mechanism": "mcar", "rate": 0.1},
            {"name": "b", "mechanism": "mcar", "rate": 0.1},
        ],
    }
    table = fit(None, sb.generate(spec), **NUTS).recovery()
    rows = table[table["site"].isin(["a.intercept", "b.intercept"])]
    assert rows["covered"].mean() >= 0.5, rows
    # both entries' probabilities together explain the union's 19%
    p = 1 / (1 + np.exp(-rows["mean"].to_numpy().reshape(2, 2)))
    assert abs(1 - ((1 - p[0]) * (1 - p[1])).mean() - 0.19) < 0.05
    mnar = sb.generate({**FIT_SCENE, "seed": 1})
    with pytest.warns(RuntimeWarning, match="SVI"):  # a short run, said so
        svi = fit(None, mnar, method="svi", svi_steps=1000, progress=False).recovery()
    assert np.isfinite(svi["mean"]).all() and "miss0.strength" in set(svi["site"])
    lognormal = {
        "seed": 3,
        "classes": [{"name": "a", "n": 60}, {"name": "b", "n": 60}],
        "noise": [{"n": 2, "distribution": "lognormal", "standardise": False}],
        "missing": [{"mechanism": "mnar", "rate": 0.2, "affects": "noise"}],
    }
    table = fit(None, sb.generate(lognormal), **NUTS).recovery()
    shape = table[table["site"].isin(["noise0.mu", "noise0.sigma"])]
    assert len(shape) == 2 and ((shape["mean"] - shape["truth"]).abs() < 4 * shape["sd"]).all()
    nothing = sb.generate(scene([{"mechanism": "mcar", "rate": 0.0}], n=40))
    assert len(fit(None, nothing, num_warmup=50, num_samples=50, progress=False).recovery())


def test_fitting_refuses_exact_and_a_damaged_complete_file(tmp_path) -> None:
    exact = sb.generate(scene([{"mechanism": "mcar", "rate": 0.2, "exact": True}], n=40))
    with pytest.raises(SpecError, match=r"missing\[0\]\.exact"):
        fit(None, exact, num_warmup=5, num_samples=5, progress=False)
    assert len(
        fit(None, exact, num_warmup=20, num_samples=20, progress=False, missing="ignore").recovery()
    )
    data = sb.generate(scene([{"mechanism": "mcar", "rate": 0.2}], n=40))
    data.to_parquet(tmp_path / "d")
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "d" / "complete.parquet"
    table = pq.read_table(path).to_pandas() + 100.0
    pq.write_table(pa.Table.from_pandas(table, preserve_index=False), path)
    with pytest.raises(SpecError, match=r"complete\.parquet.*observed"):
        sb.load_dataset(tmp_path / "d")


def test_review_cases_clipped_fit_refused_rates_by_label_and_huge_strength() -> None:
    """A clipped biomarker with hidden cells is refused by the fit (one line, naming its
    clip); realised rates by class follow row labels, not positions; a float64 strength
    beyond float32's range still hides the rate."""
    from tests.processes.test_suite import STRUCTURE

    structure = copy.deepcopy(STRUCTURE)
    spec = {"seed": 1, "structure": structure}
    spec["missing"] = [{"mechanism": "mcar", "rate": 0.2, "affects": ["C"]}]
    with pytest.raises(SpecError, match=r"structure\.biomarkers\.C\.clip"):
        fit(None, sb.generate(spec), num_warmup=5, num_samples=5, progress=False)
    entry = {"mechanism": "mar", "depends_on": "class", "rate": 0.3, "strength": 3.0}
    data = sb.generate(scene([entry], n=200))
    by_label = data.truth.missing_rates(by=data.y)
    assert by_label.equals(data.truth.missing_rates(by=data.y.sort_values()))
    assert (by_label["diseased"] > by_label["healthy"]).all()
    huge = scene([{"mechanism": "mnar", "rate": 0.3, "strength": -1e39}], n=200)
    cells = sb.generate({**huge, "dtype": "float64"}).truth.missing.to_numpy()
    assert within(cells.mean(), 0.3, cells.size)
