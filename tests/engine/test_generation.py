"""generate(): shapes, truth, determinism, stream isolation, chunk invariance, processes."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest

import synthbio_ppl as sb
from synthbio_ppl.core.streams import ROW_CHUNK
from synthbio_ppl.data.truth import ROLES
from synthbio_ppl.engine.draw import draw_rows
from synthbio_ppl.model.design import build_design
from synthbio_ppl.model.layout import build_layout
from synthbio_ppl.model.parameters import fixed_sites
from tests.conftest import two_classes


def test_dataset_shapes_types_and_names(small_spec: dict[str, Any]) -> None:
    data = sb.generate(small_spec)
    assert data.X.shape == (70, 14)
    assert data.X.dtypes.unique().tolist() == [np.dtype("float32")]
    assert isinstance(data.y.dtype, pd.CategoricalDtype)
    assert data.y.cat.categories.tolist() == ["healthy", "diseased"]
    assert data.y.value_counts().to_dict() == {"healthy": 40, "diseased": 30}
    assert data.covariates.columns.tolist() == ["batch", "pseudo0_group"]
    assert data.covariates["batch"].value_counts().sort_index().tolist() == [35, 21, 14]
    assert np.isfinite(data.X.to_numpy()).all()


def test_roles_cover_every_column_once(small_spec: dict[str, Any]) -> None:
    data = sb.generate(small_spec)
    features = data.truth.features
    assert features.index.tolist() == data.X.columns.tolist()
    assert set(features["role"]) <= set(ROLES)
    assert features["role"].value_counts().to_dict() == {
        "informative": 3, "proxy": 3, "anchor": 1, "noise": 5, "pseudo": 2,
    }  # fmt: skip
    assert features.loc[features["role"] == "noise", "signal"].eq(False).all()
    assert features.loc[features["role"] == "informative", "signal"].all()


def test_same_seed_is_bit_identical_and_other_seed_differs(small_spec: dict[str, Any]) -> None:
    a, b = sb.generate(small_spec), sb.generate(small_spec)
    pd.testing.assert_frame_equal(a.X, b.X)
    assert a.y.equals(b.y)
    c = sb.generate(small_spec, seed=4)
    assert not np.array_equal(a.X.to_numpy(), c.X.to_numpy())


def _named(spec: dict[str, Any], batches: str | None = None) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    if batches is None:
        spec.pop("batches")
    else:  # offsets on every feature of every block
        spec["batches"] |= {"effect": batches, "granularity": "per_feature", "affects": "all"}
    spec["shuffle"] = False
    spec["informative"][0]["name"] = "sig"
    spec["clusters"][0]["name"] = "path"
    spec["noise"][0]["name"] = "junk"
    return spec


@pytest.mark.parametrize("batches", [None, "additive", "multiplicative"])
def test_adding_removing_resizing_a_block_leaves_others_bit_identical(
    small_spec, batches: str | None
) -> None:
    data = sb.generate(_named(small_spec, batches))
    base, effects = data.X, data.truth.batch and data.truth.batch["effects"]
    grown = _named(small_spec, batches)
    grown["noise"][0]["n"] = 50
    grown["noise"][0]["distribution"] = "uniform"
    grown["informative"].append({"name": "extra", "n": 7, "effect_size": 2.0})
    grown["clusters"].insert(0, {"name": "new", "n": 3, "correlation": 0.4})
    removed = _named(small_spec, batches)
    removed["pseudo_classes"] = []
    for other in (sb.generate(grown), sb.generate(removed)):
        for column in [c for c in base.columns if not c.startswith(("junk", "pseudo"))]:
            np.testing.assert_array_equal(base[column].to_numpy(), other.X[column].to_numpy())
            if batches:  # the feature's own offsets (or factors) did not move either
                moved = other.truth.batch["effects"][column]
                np.testing.assert_array_equal(effects[column].to_numpy(), moved.to_numpy())


def test_growing_a_block_keeps_the_batch_effects_of_its_first_features(small_spec) -> None:
    small, grown = _named(small_spec, "additive"), _named(small_spec, "additive")
    grown["noise"][0]["n"] = 500
    before = sb.generate(small).truth.batch["effects"]
    after = sb.generate(grown).truth.batch["effects"]
    for column in before.columns:  # junk_0 … junk_4 among them
        np.testing.assert_array_equal(before[column], after[column])
    # each feature's offsets are its own draws: no two columns share them
    assert len({tuple(after[c]) for c in after.columns}) == after.shape[1]


@pytest.mark.parametrize("batches", [None, "additive", "multiplicative"])
def test_a_grown_block_keeps_its_first_columns_and_every_other_block(small_spec, batches) -> None:
    """A column of a lane-drawn block depends on its block, its index and the row only:
    growing blocks (past one lane program's 128 columns) moves no value, clusters' included
    (their program no longer follows the table's shape)."""
    base = sb.generate(_named(small_spec, batches)).X
    grown = _named(small_spec, batches)
    grown["noise"][0]["n"] = 777
    grown["informative"][0]["n"] = 131
    grown["pseudo_classes"][0]["n"] = 130
    other = sb.generate(grown).X
    assert other.shape[1] == base.shape[1] + 772 + 128 + 128
    for column in base.columns:
        np.testing.assert_array_equal(base[column].to_numpy(), other[column].to_numpy())
    # not vacuous: the block's own spec moves its values (another family, another seed)
    grown["noise"][0]["distribution"] = "normal"
    assert not np.array_equal(base["junk_0"], sb.generate(grown).X["junk_0"])
    reseeded = sb.generate(_named(small_spec, batches), 4).X
    assert not np.array_equal(base["junk_0"], reseeded["junk_0"])


def test_columns_of_a_lane_block_are_independent_draws(small_spec) -> None:
    """Each column has a key of its own: no two columns (or lanes of two tiles) repeat."""
    spec = _named(small_spec)
    spec["noise"][0] |= {"n": 300, "distribution": "normal"}
    X = sb.generate(spec).X.filter(like="junk_").to_numpy()
    corr = np.corrcoef(X.T)[np.triu_indices(300, 1)]
    # 70 rows: a correlation's sd is about 1/sqrt(69) = 0.12; 5 sd bounds 44,850 pairs
    assert np.abs(corr).max() < 5 / np.sqrt(69)
    assert np.unique(X[0]).size == 300


def test_values_do_not_depend_on_how_many_rows_are_drawn(small_spec: dict[str, Any]) -> None:
    small_spec["classes"][0]["n"] = 700
    spec = sb.validate_spec(small_spec)
    layout, fixed, design = build_layout(spec), fixed_sites(spec), build_design(spec)
    whole = draw_rows(layout, fixed, design, spec.seed, spec.dtype)["X"]
    for start, stop in [(0, 1), (255, 257), (300, 612), (ROW_CHUNK * 2, 730)]:
        part = draw_rows(layout, fixed, design, spec.seed, spec.dtype, start, stop)["X"]
        np.testing.assert_array_equal(part, whole[start:stop])


def test_float64_on_request_without_flipping_the_global_flag(small_spec) -> None:
    import jax

    small_spec["dtype"] = "float64"
    data = sb.generate(small_spec)
    assert data.X.dtypes.unique().tolist() == [np.dtype("float64")]
    assert not jax.config.jax_enable_x64


def test_proxy_means_are_anchor_shift_times_alpha_times_r() -> None:
    spec = {
        "seed": 21,
        "classes": [{"name": "h", "n": 20_000}, {"name": "d", "n": 20_000}],
        "clusters": [
            {"name": "eq", "n": 4, "correlation": {"h": 0.3, "d": 0.8}, "anchor_effect": 1.2,
             "proxy_attenuation": 0.5},
            {"name": "ar", "n": 4, "structure": "toeplitz", "correlation": 0.6,
             "anchor_effect": 1.0},
        ],
    }  # fmt: skip
    data = sb.generate(spec)
    X, y = data.X.to_numpy(dtype=float), data.y.to_numpy()
    # e = (-0.6, +0.6); proxy j mean e_k · α · R_k[0, j]
    expected = {
        "h": [-0.6, -0.6 * 0.5 * 0.3, -0.6 * 0.5 * 0.3, -0.6 * 0.5 * 0.3,
              -0.5, -0.5 * 0.6, -0.5 * 0.36, -0.5 * 0.216],
        "d": [0.6, 0.6 * 0.5 * 0.8, 0.6 * 0.5 * 0.8, 0.6 * 0.5 * 0.8,
              0.5, 0.5 * 0.6, 0.5 * 0.36, 0.5 * 0.216],
    }  # fmt: skip
    se = 1 / np.sqrt(20_000)
    for label, means in expected.items():
        got = X[y == label].mean(axis=0)
        assert np.all(np.abs(got - means) < 5 * se), (label, got, means)
        assert np.allclose(data.truth.class_means[label].to_numpy(), means, atol=1e-6)


def test_per_class_correlation_shows_within_each_class() -> None:
    spec = {
        "seed": 22,
        "classes": [{"name": "h", "n": 5000}, {"name": "d", "n": 5000}],
        "clusters": [{"n": 5, "correlation": {"h": 0.2, "d": 0.9}, "anchor_effect": 1.0}],
    }
    data = sb.generate(spec)
    for label, rho in (("h", 0.2), ("d", 0.9)):
        x = data.X[data.y == label].to_numpy(dtype=float)
        r = np.corrcoef(x, rowvar=False)[np.triu_indices(5, 1)]
        assert np.all(np.abs(r - rho) < 5 * (1 - rho**2) / np.sqrt(5000)), (label, r)
    assert data.truth.features["signal"].all()


def test_additive_batch_offsets_in_truth_are_what_the_data_shows() -> None:
    spec = {
        "seed": 31,
        "shuffle": False,
        "classes": [{"name": "a", "n": 6000}, {"name": "b", "n": 6000}],
        "informative": [{"name": "sig", "n": 2, "effect_size": 1.0}],
        "noise": [{"name": "z", "n": 3}],
        "batches": {"n": 3, "strength": 1.0, "affects": ["z"]},
    }
    data = sb.generate(spec)
    effects = data.truth.batch["effects"]
    assert (effects[["sig_0", "sig_1"]] == 0).all().all()
    z = data.X.filter(like="z_")
    for name, rows in z.groupby(data.covariates["batch"], observed=True):
        se = 1 / np.sqrt(len(rows))
        assert np.all(np.abs(rows.mean().to_numpy() - effects.loc[name, z.columns]) < 5 * se)
    assert effects[z.columns].abs().to_numpy().max() > 0.1  # offsets were actually drawn


def test_multiplicative_factors_are_positive_and_scale_the_data() -> None:
    spec = {
        "seed": 32,
        "classes": [{"name": "a", "n": 4000}, {"name": "b", "n": 4000}],
        "noise": [{"name": "z", "n": 4, "distribution": "exponential", "standardise": False}],
        "batches": {"n": 2, "effect": "multiplicative", "strength": 1.0},
    }
    data = sb.generate(spec)
    factors = data.truth.batch["effects"]
    assert (factors.to_numpy() > 0).all()
    assert data.truth.batch["kind"] == "factor"
    for name, rows in data.X.groupby(data.covariates["batch"], observed=True):
        se = rows.std().to_numpy() / np.sqrt(len(rows))
        assert np.all(np.abs(rows.mean().to_numpy() - factors.loc[name].to_numpy()) < 5 * se)
    assert (data.X.to_numpy() >= 0).all()  # exp(γ) > 0 keeps positive data positive


def test_scalar_granularity_gives_one_offset_per_batch(small_spec) -> None:
    small_spec["batches"]["granularity"] = "scalar"
    effects = sb.generate(small_spec).truth.batch["effects"]
    assert (effects.nunique(axis=1) == 1).all()
    assert effects.iloc[:, 0].nunique() == 3


def test_pseudo_class_features_follow_groups_not_classes() -> None:
    spec = {
        "seed": 33,
        "classes": [{"name": "a", "n": 3000}, {"name": "b", "n": 3000}],
        "pseudo_classes": [{"name": "ps", "n": 2, "groups": 2, "effect_size": 2.0}],
    }
    data = sb.generate(spec)
    x = data.X["ps_0"].to_numpy(dtype=float)
    g = data.covariates["ps_group"].to_numpy()
    y = data.y.to_numpy()
    se = 1 / np.sqrt(1500)
    assert abs(x[g == 1].mean() - x[g == 0].mean() - 2.0) < 5 * se * np.sqrt(2)
    assert abs(x[y == "b"].mean() - x[y == "a"].mean()) < 5 * np.sqrt(2) * x.std() / np.sqrt(3000)
    assert data.truth.features.loc["ps_0", "effect_size"] == 0.0


def test_three_class_means_are_centred_running_sum() -> None:
    spec = {
        "seed": 34,
        "classes": [{"name": c, "n": 10} for c in "abc"],
        "informative": [{"n": 1, "effect_size": [1.0, 2.0]}],
    }
    truth = sb.generate(spec).truth
    # running sum 0, 1, 3 centred by its mean 4/3
    assert truth.class_means.loc["inf0_0"].tolist() == pytest.approx([-4 / 3, -1 / 3, 5 / 3])
    assert truth.effect_sizes.loc["inf0_0"].to_dict() == pytest.approx(
        {"b vs a": 1.0, "c vs a": 3.0, "c vs b": 2.0}
    )


def test_parquet_round_trip(small_spec: dict[str, Any], tmp_path) -> None:
    data = sb.generate(small_spec)
    out = data.to_parquet(tmp_path / "ds")
    assert sorted(p.name for p in out.iterdir()) == ["data.parquet", "spec.yaml", "truth.json"]
    back = sb.load_dataset(out)
    pd.testing.assert_frame_equal(back.X, data.X)
    assert back.y.tolist() == data.y.tolist()
    assert back.covariates["batch"].tolist() == data.covariates["batch"].tolist()
    pd.testing.assert_frame_equal(back.truth.features, data.truth.features, check_dtype=False)
    assert back.spec == data.spec
    columns = __import__("pyarrow.parquet").parquet.read_schema(out / "data.parquet").names
    assert columns[-3:] == ["y", "batch", "pseudo0_group"]


def test_existing_folder_is_not_overwritten_without_force(small_spec, tmp_path) -> None:
    data = sb.generate(small_spec)
    out = tmp_path / "ds"
    data.to_parquet(out)
    before = (out / "data.parquet").read_bytes()
    with pytest.raises(sb.SpecError, match="not empty") as info:
        sb.generate(small_spec, seed=5).to_parquet(out)
    # the API's names, not the command line's --out/--force
    assert info.value.path == "directory" and "pass overwrite=True" in info.value.allowed
    assert "--force" not in str(info.value)
    assert (out / "data.parquet").read_bytes() == before
    sb.generate(small_spec, seed=5).to_parquet(out, overwrite=True)
    assert (out / "data.parquet").read_bytes() != before
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]  # no staging folder left behind


def test_the_command_line_names_its_flags_for_an_existing_folder(
    small_spec, tmp_path, capsys
) -> None:
    from synthbio_ppl.cli.app import main

    sb.generate(small_spec).to_parquet(tmp_path / "ds")
    (tmp_path / "s.yaml").write_text(sb.validate_spec(small_spec).to_yaml())
    assert main(["generate", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "ds")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("synthbio: error: --out: ") and "pass --force" in err
    assert "overwrite=True" not in err
    with pytest.raises(sb.SpecError, match=r"^directory: "):  # the API's names again after
        sb.generate(small_spec).to_parquet(tmp_path / "ds")


def test_make_biomedical_classification_one_liner() -> None:
    X, y = sb.make_biomedical_classification(n_samples=40, n_informative=3, n_noise=7)
    assert X.shape == (40, 10) and y.shape == (40,)
    assert sorted(np.bincount(y).tolist()) == [20, 20]
    X, y, truth = sb.make_biomedical_classification(
        n_samples=30, n_classes=3, weights=[0.5, 0.3, 0.2], n_clusters=2, cluster_size=3,
        n_batches=2, confounding=0.5, as_frame=True, return_truth=True,
    )  # fmt: skip
    assert y.value_counts().sort_index().tolist() == [15, 9, 6]
    assert truth.features.index.tolist() == X.columns.tolist()
    assert (truth.features["role"] == "anchor").sum() == 2
    with pytest.raises(sb.SpecError, match="weights"):
        sb.make_biomedical_classification(n_classes=2, weights=[1.0])


def test_force_replaces_only_a_folder_this_program_wrote(small_spec, tmp_path, capsys) -> None:
    """``generate DIR/s.yaml --out DIR --force`` replaced the user's folder, spec and notes
    with it; --force replaces a dataset (or twin) folder, nothing else."""
    from synthbio_ppl.cli.app import main

    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "s.yaml").write_text(sb.validate_spec(small_spec).to_yaml())
    (folder / "notes.txt").write_text("precious")
    argv = ["generate", str(folder / "s.yaml"), "--out", str(folder), "--force", "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "holds files this program did not write (notes.txt, s.yaml)" in err
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt", "s.yaml"]
    with pytest.raises(sb.SpecError, match="did not write"):
        sb.generate(small_spec).to_parquet(folder, overwrite=True)
    dataset = tmp_path / "ds"
    sb.generate(small_spec).to_parquet(dataset)
    sb.generate(small_spec, seed=3).to_parquet(dataset, overwrite=True)  # ours: replaced


@pytest.mark.parametrize("batches", [False, True])
def test_structural_and_count_blocks_keep_their_values_when_another_block_changes(
    batches: bool,
) -> None:
    """Blocks drawn whole (a structural scene, counts) by a program of their own: growing
    or adding another block leaves their values, latents and covariates bit-identical."""
    from tests.processes.test_suite import STRUCTURE

    scenes = [
        {"name": "iso_s", "seed": 2, "structure": STRUCTURE},
        {"name": "iso_c", "seed": 2, "classes": two_classes(40, 30), "counts": [{"n": 20}]},
    ]
    for scene in scenes:
        scene["noise"] = [{"name": "junk", "n": 3}]
        if batches:
            scene["batches"] = {"n": 2, "strength": 0.5, "granularity": "per_feature"}
        grown = copy.deepcopy(scene)
        grown["noise"] = [{"name": "junk", "n": 300}, {"name": "extra", "n": 5}]
        before, after = sb.generate(scene), sb.generate(grown)
        kept = [c for c in before.X.columns if not c.startswith("junk")]
        pd.testing.assert_frame_equal(before.X[kept], after.X[kept])
        pd.testing.assert_frame_equal(before.truth.latents, after.truth.latents)
        pd.testing.assert_frame_equal(before.covariates, after.covariates)
        # not vacuous: another seed moves them
        other = sb.generate(scene, seed=3)
        assert not np.array_equal(before.X[kept].to_numpy(), other.X[kept].to_numpy())
