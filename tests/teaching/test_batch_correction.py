"""``correct_batches`` and ``score_correction``: corrections scored against the batch-free
world of the same rows."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import synthbio_ppl as sb


def scene(confounding: float) -> dict:
    return {
        "name": "correction",
        "seed": 11,
        "classes": [{"name": "control", "n": 90}, {"name": "case", "n": 90}],
        "informative": [{"name": "signal", "n": 8, "effect_size": 1.2}],
        "noise": [{"name": "noise", "n": 20}],
        "batches": {"n": 3, "strength": 1.0, "confounding": confounding},
    }


@pytest.fixture(scope="module")
def confounded() -> sb.Dataset:
    return sb.generate(scene(0.9))


def test_centring_and_scaling_leave_every_batch_with_the_overall_moments(
    confounded: sb.Dataset,
) -> None:
    X, batch = confounded.X.astype(np.float64), confounded.covariates["batch"]
    centred = sb.correct_batches(X, batch, method="center")
    scaled = sb.correct_batches(X, batch, method="scale")
    assert centred.index.equals(X.index) and list(centred.columns) == list(X.columns)
    for level in batch.cat.categories:
        rows = (batch == level).to_numpy()
        np.testing.assert_allclose(centred[rows].mean(), X.mean(), atol=1e-9)
        np.testing.assert_allclose(scaled[rows].mean(), X.mean(), atol=1e-9)
        np.testing.assert_allclose(scaled[rows].std(ddof=0), X.std(ddof=0), rtol=1e-9)
    # within a batch, centring moves every row by the same amount
    rows = (batch == "batch0").to_numpy()
    shift = (centred[rows] - X[rows]).to_numpy()
    np.testing.assert_allclose(shift, np.broadcast_to(shift[0], shift.shape), atol=1e-5)


def test_score_correction_scores_the_batch_free_world_as_perfect_and_the_data_by_its_offsets(
    confounded: sb.Dataset,
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = sb.score_correction({}, confounded)
    assert list(scores.index) == ["uncorrected", "batch_free"]
    free = scores.loc["batch_free"]
    assert free["rmse"] == 0 and free["rmse_centred"] == 0 and free["class_effect_error"] == 0
    assert free["class_effect_kept"] == 1
    codes = confounded.covariates["batch"].cat.codes.to_numpy()
    offsets = confounded.truth.batch["effects"].to_numpy()[codes]  # the truth, per row
    assert scores.loc["uncorrected", "rmse"] == pytest.approx(np.sqrt((offsets**2).mean()), 1e-4)
    assert scores.loc["uncorrected", "batch_auc"] > 0.95  # offsets of sd 1 give the batch away


def test_combat_without_the_class_removes_biology_when_batches_are_confounded(
    confounded: sb.Dataset,
) -> None:
    X, batch, y = confounded.X, confounded.covariates["batch"], confounded.y
    tables = {
        "combat": sb.correct_batches(X, batch),
        "combat_class": sb.correct_batches(X, batch, covariates=y),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = sb.score_correction(tables, confounded)
    # At confounding 0.9 most of a batch is one class: removing each batch's mean removes
    # most of the class difference too (kept ≈ 1 − c·share), unless the class is protected.
    # Eight features of d = 1.2 at 90 rows per class estimate "kept" to about ±0.05.
    assert scores.loc["combat", "class_effect_kept"] < 0.75
    assert scores.loc["combat_class", "class_effect_kept"] == pytest.approx(1.0, abs=0.15)
    for name in tables:
        assert scores.loc[name, "rmse_centred"] < 0.5 * scores.loc["uncorrected", "rmse_centred"]


def test_balanced_batches_lose_no_biology_to_combat() -> None:
    data = sb.generate(scene(0.0))
    corrected = sb.correct_batches(data.X, data.covariates["batch"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = sb.score_correction(corrected, data)
    assert scores.loc["corrected", "class_effect_kept"] == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda d: sb.correct_batches(d.X, d.covariates.batch, method="ratio"), "method must"),
        (lambda d: sb.correct_batches(d.X, d.covariates.batch[:5]), "batch's index is not X's"),
        (lambda d: sb.correct_batches(d.X, list(d.covariates.batch[:5])), "batch must have one"),
        (lambda d: sb.correct_batches(d.X, d.covariates.batch, method=["center"]), "method"),
        (
            lambda d: sb.correct_batches(d.X, [1, "1"] + [2] * (len(d.X) - 2), "center"),
            "differ only in type",
        ),
        (
            lambda d: sb.correct_batches(d.X, d.covariates.batch, covariates=d.X["noise_0"]),
            "continuous",
        ),
        (
            lambda d: sb.correct_batches(d.X, d.covariates.batch, covariates=[None] * len(d.X)),
            "covariates has 180 missing",
        ),
        (
            lambda d: sb.correct_batches(d.X.assign(noise_0=1.0), d.covariates.batch),
            r"\['noise_0'\] constant in batch 'batch0'",
        ),
        (lambda d: sb.score_correction({"uncorrected": d.X}, d), "names a reference row"),
        (lambda d: sb.score_correction(d.X.set_axis(d.X.index + 1), d), r"rows \(index\)"),
        (lambda d: sb.score_correction(d.X.replace(d.X.iloc[0, 0], np.inf), d), "infinite"),
        (lambda d: sb.correct_batches(d.X, [None] * len(d.X)), "batch has 180 missing"),
        (lambda d: sb.correct_batches(d.X, ["b0"] * len(d.X)), "at least two batches"),
        (
            lambda d: sb.correct_batches(d.X, d.covariates.batch, "center", covariates=d.y),
            "method='combat' only",
        ),
        (
            lambda d: sb.correct_batches(d.X.where(d.X > 0), d.covariates.batch),
            "NaN",
        ),
        (lambda d: sb.score_correction(d.X.iloc[:, :3], d), "shaped like data.X"),
        (lambda d: sb.score_correction(d.X * np.nan, d), "holds NaN"),
        (lambda d: sb.score_correction(d.X.to_numpy(), d), "must be a DataFrame"),
        (lambda d: sb.score_correction(d.X.rename(columns=str.upper), d), "not data.X's"),
    ],
)
def test_bad_input_is_named(confounded: sb.Dataset, call: object, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        call(confounded)  # type: ignore[operator]


def test_score_correction_refuses_data_it_cannot_score() -> None:
    plain = sb.generate({"classes": [{"name": "a", "n": 20}, {"name": "b", "n": 20}],
                         "noise": [{"n": 3}]})  # fmt: skip
    with pytest.raises(ValueError, match="no batches"):
        sb.score_correction(plain.X, plain)
    world = sb.generate(scene(0.5), without="batches")
    with pytest.raises(ValueError, match="counterfactual"):
        sb.score_correction(world.X, world)


def test_combat_refuses_a_class_confounded_completely_with_batch() -> None:
    spec = scene(1.0)
    spec["batches"]["n"] = 2
    data = sb.generate(spec)
    with pytest.raises(ValueError, match="confounded with batch"):
        sb.correct_batches(data.X, data.covariates["batch"], covariates=data.y)


def test_combat_without_inmoose_names_the_extra(
    confounded: sb.Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "inmoose.pycombat", None)
    with pytest.raises(ImportError, match=r"synthbio_ppl\[batch\]"):
        sb.correct_batches(confounded.X, confounded.covariates["batch"])


def test_a_table_with_reordered_columns_scores_as_the_same_table(confounded: sb.Dataset) -> None:
    corrected = sb.correct_batches(confounded.X, confounded.covariates["batch"], "center")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = sb.score_correction({"a": corrected, "b": corrected[corrected.columns[::-1]]},
                                     confounded)  # fmt: skip
    pd.testing.assert_series_equal(scores.loc["a"], scores.loc["b"], check_names=False)


def test_rows_are_matched_by_index(confounded: sb.Dataset) -> None:
    batch = confounded.covariates["batch"]
    shuffled = confounded.X.sample(frac=1.0, random_state=0)
    centred = sb.correct_batches(shuffled, batch)  # batch matched to X's rows by label
    in_order = sb.correct_batches(confounded.X, batch)
    pd.testing.assert_frame_equal(centred.loc[in_order.index], in_order, atol=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = sb.score_correction({"a": in_order, "b": centred}, confounded)
    pd.testing.assert_series_equal(scores.loc["a"], scores.loc["b"], check_names=False)


def test_a_scene_with_missing_values_is_scored_on_its_complete_values() -> None:
    spec = scene(0.5)
    spec["missing"] = [{"affects": ["noise"], "mechanism": "mcar", "rate": 0.2}]
    data = sb.generate(spec)
    imputed = data.X.fillna(data.X.mean())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = sb.score_correction(sb.correct_batches(imputed, data.covariates.batch), data)
    assert scores.loc["batch_free", "rmse"] == 0
    assert scores.loc["corrected", "rmse_centred"] < scores.loc["uncorrected", "rmse_centred"]


def test_arrays_in_frames_out(confounded: sb.Dataset) -> None:
    out = sb.correct_batches(confounded.X.to_numpy(), np.asarray(confounded.covariates.batch))
    assert isinstance(out, pd.DataFrame) and out.shape == confounded.X.shape
