"""Counterfactual worlds: ``generate(spec, without=..., do=...)``.

Expected effects come from the spec's formulas (a batch offset, a shift, a loading, a
coefficient), not from the code's output: both worlds share every key, so an effect is
the formula's value up to float32 rounding of the values it is the difference of."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import synthbio_ppl as sb
from synthbio_ppl.core.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]
ROUNDING = 2e-5  # float32: a few ulps of values of order 1–100, relative


def haalsi(n: int = 800) -> dict:
    spec = yaml.safe_load((ROOT / "models" / "haalsi_like.yaml").read_text())
    spec["structure"]["n"] = n
    return spec


def batch_scene(effect: str = "additive", **extra: object) -> dict:
    return {
        "name": "worlds",
        "seed": 3,
        "classes": [{"name": "a", "n": 150}, {"name": "b", "n": 150}],
        "informative": [{"name": "inf", "n": 4, "effect_size": 1.0}],
        "noise": [{"name": "noise", "n": 6}],
        "batches": {
            "n": 3,
            "effect": effect,
            "strength": 0.8,
            "confounding": 0.5,
            "affects": ["inf"],
        },
        **extra,
    }


def test_without_additive_batches_removes_each_rows_offset_and_nothing_else() -> None:
    spec = batch_scene()
    data, clean = sb.generate(spec), sb.generate(spec, without=["batches"])
    affected = data.truth.features["batch_affected"].to_numpy()
    assert affected.sum() == 4 and (~affected).sum() == 6
    codes = data.covariates["batch"].cat.codes.to_numpy()
    offsets = data.truth.batch["effects"].to_numpy()[codes]  # (rows, features) per row
    difference = (data.X - clean.X).to_numpy()
    scale = np.abs(data.X.to_numpy()).max()
    np.testing.assert_allclose(difference, offsets, atol=ROUNDING * scale, rtol=0)
    assert (data.X.to_numpy()[:, ~affected] == clean.X.to_numpy()[:, ~affected]).all()
    assert data.y.equals(clean.y) and data.covariates.equals(clean.covariates)
    # the batch-free world's own truth: zero offsets, the same assignment
    assert (clean.truth.batch["effects"].to_numpy() == 0).all()
    assert clean.truth.batch["table"].equals(data.truth.batch["table"])
    effects = clean.truth.effects
    assert list(effects.columns) == data.X.columns[affected].tolist()
    np.testing.assert_allclose(effects.to_numpy(), -offsets[:, affected], atol=ROUNDING * scale)
    world = clean.truth.world
    assert world["without"] == ["batches"] and world["rows_intervened"] == 300
    assert repr(clean).endswith("world='without batches')") and "world=" not in repr(data)
    assert "counterfactual world: without batches (300 rows)" in clean.summary()
    expected_mean = -offsets[:, affected].mean(axis=0)
    np.testing.assert_allclose(list(world["average_effect"].values()), expected_mean, atol=1e-4)


def test_without_multiplicative_batches_divides_by_each_rows_factor() -> None:
    spec = batch_scene("multiplicative")
    data, clean = sb.generate(spec), sb.generate(spec, without="batches")
    affected = data.truth.features["batch_affected"].to_numpy()
    codes = data.covariates["batch"].cat.codes.to_numpy()
    factors = data.truth.batch["effects"].to_numpy()[codes][:, affected]
    assert not np.allclose(factors, 1.0)
    ratio = data.X.to_numpy()[:, affected] / clean.X.to_numpy()[:, affected]
    np.testing.assert_allclose(ratio, factors, rtol=ROUNDING)
    assert (data.X.to_numpy()[:, ~affected] == clean.X.to_numpy()[:, ~affected]).all()


def test_without_missing_gives_the_complete_values() -> None:
    spec = batch_scene(missing=[{"affects": ["noise"], "mechanism": "mcar", "rate": 0.3}])
    data, full = sb.generate(spec), sb.generate(spec, without=["missing"])
    assert data.X.isna().to_numpy().sum() > 0 and not full.X.isna().to_numpy().any()
    assert (full.X.to_numpy() == data.truth.complete.to_numpy()).all()
    assert full.truth.hidden_cells is None and full.truth.effects.shape[1] == 0
    both = sb.generate(spec, without=["missing", "batches"])
    assert not both.X.isna().to_numpy().any()


def test_without_dropout_keeps_every_count_that_was_not_dropped() -> None:
    spec = {
        "name": "sc",
        "seed": 2,
        "classes": [{"name": "a", "n": 100}, {"name": "b", "n": 100}],
        "counts": [{"name": "gene", "n": 30, "dropout": {"midpoint": 1.0, "slope": 1.0}}],
    }
    data, kept = sb.generate(spec), sb.generate(spec, without="dropout")
    dropped = data.truth.dropout.to_numpy()
    assert dropped.mean() > 0.05
    before, after = data.X.to_numpy(), kept.X.to_numpy()
    assert (before[~dropped] == after[~dropped]).all()
    assert (before[dropped] == 0).all() and (after[dropped] > 0).any()
    assert not kept.truth.dropout.to_numpy().any()


def test_do_a_covariate_moves_its_descendants_by_the_formulas() -> None:
    spec = haalsi()
    data, men = sb.generate(spec), sb.generate(spec, do={"sex": "male"})
    female = (data.covariates["sex"] == "female").to_numpy()
    assert (men.covariates["sex"] == "male").all()
    height = (men.X["Height"] - data.X["Height"]).to_numpy()
    np.testing.assert_allclose(height[female], 12.0, atol=ROUNDING * 200)  # shifts.sex.male
    assert (height[~female] == 0).all()
    weight = (men.X["Weight"] - data.X["Weight"]).to_numpy()
    np.testing.assert_allclose(weight[female], 7 + 0.45 * 12, atol=ROUNDING * 200)
    hip = (men.X["Hip"] - data.X["Hip"]).to_numpy()
    np.testing.assert_allclose(hip[female], -4.0, atol=ROUNDING * 200)  # female shift 4 lost
    for untouched in ("Pulse", "Waist", "CESD_score"):  # no path from sex
        assert (men.X[untouched] == data.X[untouched]).all()
    assert (men.truth.latents.to_numpy() == data.truth.latents.to_numpy()).all()
    assert men.covariates["region"].equals(data.covariates["region"])
    world = men.truth.world
    assert world["levels_changed"] == {"sex": int(female.sum())}
    np.testing.assert_allclose(world["average_effect"]["Height"], 12 * female.mean(), atol=1e-3)
    assert "Pulse" not in men.truth.effects


def test_do_a_factor_for_some_rows_only() -> None:
    spec = haalsi()
    data = sb.generate(spec)
    chosen = np.arange(len(data.X)) % 3 == 0
    per_row = np.where(chosen, 0.0, np.nan)
    world = sb.generate(spec, do={"X": per_row})
    x = data.truth.latents["X"].to_numpy()
    moved = (world.X["Waist"] - data.X["Waist"]).to_numpy()
    inside = chosen & (data.X["Waist"] > 0).to_numpy()  # Waist: no clip
    np.testing.assert_allclose(moved[inside], 13 * (0 - x[inside]), atol=ROUNDING * 200)
    assert (world.X.to_numpy()[~chosen] == data.X.to_numpy()[~chosen]).all()
    assert world.truth.world["rows_intervened"] == chosen.sum()
    assert world.truth.world["do"] == {"X": f"per row ({chosen.sum()} rows set)"}
    on_treated = world.truth.world["average_effect_on_intervened"]["Waist"]
    np.testing.assert_allclose(on_treated, moved[chosen].mean(), rtol=1e-6)


def test_do_a_feature_moves_the_outcome_by_its_coefficient() -> None:
    spec = yaml.safe_load((ROOT / "models" / "risk_score.yaml").read_text())
    spec["outcome"]["n"] = 500
    data, world = sb.generate(spec), sb.generate(spec, do={"marker_0": 0.0})
    eta = "outcome.linear_predictor"
    before = data.truth.latents[eta].to_numpy()
    after = world.truth.latents[eta].to_numpy()
    x = data.X["marker_0"].to_numpy()
    np.testing.assert_allclose(after - before, 1.0 * (0 - x), atol=1e-4)  # coefficient 1.0
    others = [c for c in data.X.columns if c != "marker_0"]
    assert (world.X[others].to_numpy() == data.X[others].to_numpy()).all()
    assert (world.X["marker_0"] == 0).all()


@pytest.mark.parametrize(
    ("without", "do", "path", "allowed"),
    [
        (["batch"], None, "without[0]", "this scene can switch off: batches"),
        ("dropout", None, "without[0]", "this scene can switch off: batches"),
        ([1], None, "without[0]", "a name such as 'batches'"),
        (["batches", "batches"], None, "without[1]", "named twice"),
        (None, {"inf_0": 10**400}, "do.inf_0", "a finite number of the scene's float32"),
        (None, {"inf_0": 1e39}, "do.inf_0", "a finite number of the scene's float32"),
        (None, {"smoker": "never"}, "do.smoker", "not a variable of this scene"),
        (None, {"inf_0": "high"}, "do.inf_0", "a finite number"),
        (None, {"inf_0": float("inf")}, "do.inf_0", "a finite number"),
        (None, {"inf_0": True}, "do.inf_0", "a finite number"),
        (None, {"inf_0": [1.0, 2.0]}, "do.inf_0", "one per row (300"),
        (None, {"inf_0": [10**400] + [None] * 299}, "do.inf_0[0]", "a finite number"),
        (None, {"inf_0": pd.Series([1.0] * 300, index=range(1, 301))}, "do.inf_0", "indexed"),
        (None, "inf_0=1", "do", "a mapping"),
    ],
)
def test_bad_worlds_are_named(without: object, do: object, path: str, allowed: str) -> None:
    with pytest.raises(SpecError) as info:
        sb.generate(batch_scene(), without=without, do=do)
    assert info.value.path == path and allowed in str(info.value)


def test_bad_levels_are_named_by_row() -> None:
    levels = ["male"] * 799 + ["other"]
    with pytest.raises(SpecError, match=r"do\.sex\[799\].*one of the levels \['female', 'male'\]"):
        sb.generate(haalsi(), do={"sex": levels})


def test_a_world_round_trips_through_its_folder(tmp_path: Path) -> None:
    world = sb.generate(batch_scene(), without=["batches"])
    loaded = sb.load_dataset(world.to_parquet(tmp_path / "clean"))
    assert loaded.truth.world == world.truth.world
    assert loaded.truth.effects.equals(world.truth.effects)
    assert (loaded.X.to_numpy() == world.X.to_numpy()).all()
    spec = batch_scene(missing=[{"affects": ["noise"], "mechanism": "mcar", "rate": 0.3}])
    full = sb.generate(spec, without="missing")
    assert not sb.load_dataset(full.to_parquet(tmp_path / "full")).X.isna().to_numpy().any()


def test_the_cli_draws_worlds_and_names_bad_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from synthbio_ppl.cli import main

    spec = tmp_path / "h.yaml"
    spec.write_text(yaml.safe_dump(haalsi(300), sort_keys=False))
    assert main(["generate", "--do", "sex=male", str(spec), "--out", str(tmp_path / "m"),
                 "--do", "X=0", "--quiet"]) == 0  # fmt: skip
    world = sb.load_dataset(tmp_path / "m").truth.world
    assert world["do"] == {"sex": "male", "X": 0.0}
    cases = [
        (["--do", "X=abc"], "do.X: 'abc'"),
        (["--do", "sex"], "NAME=VALUE"),
        (["--without", "batches"], "without[0]"),
        (["--do", "sex=male", "--rows", "600"], "drop --rows"),
        (["--do", "sex=male", "--do", "sex=female"], "do.sex: 'sex=female'"),
    ]
    capsys.readouterr()
    for extra, words in cases:
        code = main(["generate", str(spec), "--out", str(tmp_path / "x"), *extra])
        error = capsys.readouterr().err
        assert code == 2 and not (tmp_path / "x").exists(), extra
        assert words in error and error.count("\n") == 1, error


TWO_DEVICES = """
import sys, numpy as np, jax, yaml
import synthbio_ppl as sb
assert len(jax.devices()) == 2
spec = yaml.safe_load(open(sys.argv[1]))
rows = np.arange(spec["structure"]["n"]) % 2 == 0
world = sb.generate(spec, do={"Height": np.where(rows, 170.0, np.nan), "sex": "male"})
np.save(sys.argv[2], world.X.to_numpy())
"""


def test_a_world_on_two_devices_equals_one(tmp_path: Path) -> None:
    spec = haalsi(700)
    path = tmp_path / "h.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    subprocess.run(
        [sys.executable, "-c", TWO_DEVICES, str(path), str(tmp_path / "two.npy")],
        check=True, env=env, cwd=ROOT, timeout=600,
    )  # fmt: skip
    rows = np.arange(700) % 2 == 0
    one = sb.generate(spec, do={"Height": np.where(rows, 170.0, np.nan), "sex": "male"})
    assert (np.load(tmp_path / "two.npy") == one.X.to_numpy()).all()
    assert (one.X["Height"].to_numpy()[rows] == 170.0).all()
    men = sb.generate(spec, do={"sex": "male"}).X["Height"].to_numpy()
    assert (one.X["Height"].to_numpy()[~rows] == men[~rows]).all()  # rows left as they were


def test_do_a_cluster_column_by_its_name() -> None:
    spec = yaml.safe_load((ROOT / "models" / "risk_score.yaml").read_text())
    spec["outcome"]["n"] = 300
    data, world = sb.generate(spec), sb.generate(spec, do={"panel_anchor": 0.0})
    assert (world.X["panel_anchor"] == 0).all()
    others = [c for c in data.X.columns if c != "panel_anchor"]
    assert (world.X[others].to_numpy() == data.X[others].to_numpy()).all()
    eta = "outcome.linear_predictor"
    moved = world.truth.latents[eta] - data.truth.latents[eta]
    np.testing.assert_allclose(moved, 0.6 * (0 - data.X["panel_anchor"]), atol=1e-4)
    with pytest.raises(SpecError, match=r"panel_anchor … panel_proxy3"):
        sb.generate(spec, do={"panel_0": 0.0})


def test_an_events_causes_are_counted_not_subtracted() -> None:
    spec = yaml.safe_load((ROOT / "models" / "survival_cohort.yaml").read_text())
    variable = next(iter(spec["outcome"]["coefficients"]))
    data = sb.generate(spec)
    world = sb.generate(spec, do={variable: 3.0})
    assert "outcome.event" not in world.truth.effects
    changed = int((world.outcome["event"] != data.outcome["event"]).sum())
    assert changed > 0 and world.truth.world["levels_changed"]["outcome.event"] == changed
    assert (world.truth.effects["outcome.time"] != 0).any()


def test_a_series_is_matched_by_row_and_any_missing_marker_keeps_a_row() -> None:
    spec = batch_scene()
    data = sb.generate(spec)
    shuffled = pd.Series(np.arange(300.0)).sample(frac=1.0, random_state=1)  # row i: i
    world = sb.generate(spec, do={"inf_0": shuffled})
    assert (world.X["inf_0"].to_numpy() == np.arange(300.0)).all()
    keep = pd.array([pd.NA] * 299 + [2.5], dtype="Float64")
    one = sb.generate(spec, do={"inf_0": keep})
    assert one.truth.world["rows_intervened"] == 1 and one.X["inf_0"].iloc[-1] == 2.5
    assert (one.X["inf_0"].iloc[:-1] == data.X["inf_0"].iloc[:-1]).all()
    nan32 = [np.float32("nan")] * 299 + [1.0]
    assert sb.generate(spec, do={"inf_0": nan32}).truth.world["rows_intervened"] == 1


def test_a_count_is_set_to_a_whole_number_only() -> None:
    spec = {
        "name": "c",
        "seed": 1,
        "classes": [{"name": "a", "n": 40}, {"name": "b", "n": 40}],
        "counts": [{"name": "gene", "n": 5}],
    }
    for value in (5.5, -3, 1e30):
        with pytest.raises(SpecError, match=r"do\.gene_0: .* a count: a whole number"):
            sb.generate(spec, do={"gene_0": value})
    assert (sb.generate(spec, do={"gene_0": 7}).X["gene_0"] == 7).all()


def test_a_world_that_cannot_be_drawn_is_named_by_what_made_it() -> None:
    spec = yaml.safe_load((ROOT / "models" / "risk_score.yaml").read_text())
    spec["outcome"]["n"] = 300
    with pytest.raises(SpecError) as info:
        sb.generate(spec, do={"marker_0": 50.0})  # every row positive: no AUC
    assert info.value.path == "do.marker_0"
    assert "the world it makes cannot be drawn (outcome.prevalence" in str(info.value)
    survival = yaml.safe_load((ROOT / "models" / "survival_cohort.yaml").read_text())
    with pytest.raises(SpecError, match=r"^do\.marker_0: .*cannot be drawn"):
        sb.generate(survival, do={"marker_0": -1e30})


def test_without_batches_also_removes_the_outcomes_batch_shifts() -> None:
    spec = {
        "name": "ob",
        "seed": 4,
        "noise": [{"name": "x", "n": 3}],
        "batches": {"n": 3, "strength": 0.5},
        "outcome": {
            "kind": "continuous",
            "n": 300,
            "coefficients": {"x_0": 1.0},
            "noise_sd": 1.0,
            "batch_effect": 1.0,
        },
    }
    data, clean = sb.generate(spec), sb.generate(spec, without="batches")
    shift = np.asarray(data.truth.outcome.parameters["outcome.batch_shift"])
    codes = data.covariates["batch"].cat.codes.to_numpy()
    assert np.abs(shift).max() > 0.1
    eta = "outcome.linear_predictor"
    moved = (clean.truth.latents[eta] - data.truth.latents[eta]).to_numpy()
    np.testing.assert_allclose(moved, -shift[codes], atol=1e-5)
    np.testing.assert_allclose(clean.y - data.y, -shift[codes], atol=1e-5)  # same noise


def test_a_world_is_budgeted_for_both_tables_and_their_effects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from synthbio_ppl.engine.budget import LIMIT_VARIABLE, request_bytes
    from synthbio_ppl.model.layout import build_layout

    spec = sb.validate_spec(batch_scene())
    layout = build_layout(spec)
    one, two = request_bytes(spec, layout, 300), request_bytes(spec, layout, 300, paired=True)
    table = 300 * layout.n_features * 3 * 4  # three float32 copies of the table
    assert two - one == table + 8 * 300 * layout.n_features
    monkeypatch.setenv(LIMIT_VARIABLE, str((one + two) // 2))
    sb.generate(spec)
    with pytest.raises(SpecError, match="two worlds and their effects"):
        sb.generate(spec, without="batches")
