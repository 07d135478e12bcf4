"""Bad studies are named before any cell runs: methods, metrics, schemes, replicates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.preprocessing import StandardScaler

import synthbio_ppl as sb

BASE = {
    "classes": [{"name": "a", "n": 20}, {"name": "b", "n": 20}],
    "informative": [{"n": 2, "effect_size": 1.0}],
    "noise": [{"n": 4}],
}
PICK = {"t": "t_test"}
LR = {"lr": "logistic_regression"}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(methods={}), "methods: .*at least one"),
        (
            dict(methods={"s": StandardScaler()}),
            r"methods\.s: 'StandardScaler'.*neither selects features",
        ),
        (
            dict(methods={"r": LinearRegression()}),
            r"methods\.r: 'LinearRegression'.*neither selects",
        ),
        (dict(methods={"x": 3}), r"methods\.x: 3 .*a method is a scikit-learn selector"),
        (dict(methods={"x": "lasso"}), r"methods\.x: 'lasso'.*presets: t_test"),
        (dict(methods={"x": {"preset": "t_test", "q": 1}}), r"methods\.x\.q.*takes \['k'\]"),
        (dict(methods={"oracle": "t_test"}), "not 'oracle'"),
        (dict(methods={"f": {"fit": {"method": "gibbs"}}}), r"methods\.f\.fit\.method: 'gibbs'"),
        (dict(methods=PICK, metrics=["precison"]), r"metrics\[0\]: 'precison'.*one of precision"),
        (
            dict(methods=PICK, metrics=["auc"]),
            r"metrics\[0\]: 'auc'.*needs a classifier; no method",
        ),
        (dict(methods=LR, metrics=["recall"]), "needs a feature selector"),
        (dict(methods=PICK, metrics=["coverage"]), r"needs a fit method"),
        (dict(methods=PICK, metrics=["stability"]), "'stability' needs 2 replicates"),
        (dict(methods=PICK, metrics="precision"), "a list of metric names"),
        (dict(methods=PICK, replicates=0), "replicates: 0.*from 1"),
        (dict(methods=PICK, replicates=True), "replicates: True"),
        (dict(methods=PICK, replicates=2.5), "replicates: 2.5"),
        (dict(methods=PICK, seed=-1), "seed"),
        (
            dict(methods=LR, cv={"schemes": ["leave_one_batch_out"]}),
            "scenario 0 .* has no batches to hold out",
        ),
        (dict(methods=LR, cv={"schemes": ["group"]}), r"cv\.groups: None.*needs the covariate"),
        (
            dict(methods=LR, cv={"schemes": ["group"], "groups": "site"}),
            r"cv\.groups: 'site'.*no such covariate",
        ),
        (dict(methods=LR, cv={"schemes": ["kfold"]}), r"cv\.schemes\[0\]: 'kfold'"),
        (dict(methods=LR, cv={"n_splits": 1}), r"cv\.n_splits: 1"),
        (dict(methods=LR, cv={"folds": 3}), r"cv\.folds"),
        (dict(methods=PICK, n_jobs=0), "n_jobs: 0"),
    ],
)
def test_refused_before_any_cell(kwargs: dict, match: str) -> None:
    with pytest.raises(sb.SpecError, match=match):
        sb.study(BASE, progress=False, **kwargs)


def test_a_gap_needs_a_scene_with_a_bayes_classifier() -> None:
    grid = {"pseudo_classes": [[], [{"n": 2, "groups": 2, "effect_size": 1.0}]]}
    base = {**BASE, "pseudo_classes": []}
    with pytest.raises(sb.SpecError, match=r"metrics: 'auc_gap'.*scenario 1 .*latent row groups"):
        sb.study(base, grid, LR, ["auc_gap"], progress=False)


def test_a_scene_without_class_labels_is_refused() -> None:
    spec = {
        "noise": [{"n": 3}],
        "outcome": {"kind": "continuous", "n": 40, "coefficients": {"noise0_0": 1.0}},
    }
    with pytest.raises(sb.SpecError, match="needs two classes"):
        sb.study(spec, methods=PICK, progress=False)


def test_a_grid_error_names_the_scenario_and_field() -> None:
    with pytest.raises(
        sb.SpecError,
        match=r"scenario 1: noise\[0\]\.n=0.*noise\[0\]\.n",
    ):
        sb.study(BASE, {"noise[0].n": [4, 0]}, PICK, progress=False)


def test_an_output_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "f"
    target.write_text("x")
    with pytest.raises(sb.SpecError, match="is a file"):
        sb.study(BASE, methods=PICK, out=target, progress=False)
    assert target.read_text() == "x"


def test_a_failing_user_metric_is_named_with_its_cell() -> None:
    def broken(data: sb.Dataset, result) -> float:
        return 1 / 0

    with pytest.raises(
        sb.SpecError,
        match=r"^metrics\.broken: failed on method 't', scenario 0 \(base\), replicate 0: "
        r"ZeroDivisionError",
    ):
        sb.study(BASE, methods=PICK, metrics=["precision", broken], progress=False)


def test_a_group_scheme_holds_out_a_covariate() -> None:
    base = {**BASE, "batches": {"n": 4, "strength": 0.5}}
    study = sb.study(
        base,
        methods=LR,
        metrics=["auc"],
        cv={"schemes": ["group"], "groups": "batch", "n_splits": 2},
        progress=False,
    )
    assert set(study.table["scheme"]) == {"group"}
    assert study.table["value"].between(0, 1).all()


class _Five:
    """Not a Dask client."""


TWO_CLASSES = [{"name": "a", "n": 9}, {"name": "b", "n": 9}]
STEPS = {"class": "sklearn.pipeline.Pipeline", "params": {"steps": 5}}
HOSTILE = [
    (dict(grid={"seed": [1, 2]}), r"grid\.seed.*vary `replicates`"),
    (dict(grid={"noise[0].n": [3], "noise[00].n": [4]}), r"noise\[00\]\.n.*sets the same"),
    (dict(grid={"classes": [TWO_CLASSES], "classes[1].n": [5]}), "sets the same field"),
    (dict(grid={"informative[٠].n": [3]}), "a grid key is a spec field path"),
    (dict(grid={"noise[0].n": [10**9]}), r"grid \(scenario 0 \(noise\[0\]\.n=10+\)\).*memory"),
    (dict(metrics=[]), "at least one metric"),
    (dict(metrics=[{"precision": 1}]), r"metrics\[0\]: \{'precision': 1\}"),
    (dict(methods={"t": {"preset": ["t_test"]}}), r"methods\.t\.preset"),
    (dict(methods={"t": {"preset": "t_test", "k": -1}}), r"methods\.t: .*refuses it.*k"),
    (dict(methods={"f": {"fit": 5}}), r"methods\.f: .*a fit method is"),
    (dict(methods={"f": sb.FitMethod("map")}), r"methods\.f\.fit\.method: 'map'.*nuts or svi"),
    (dict(methods={"f": sb.FitMethod("svi", {"svi_steps": -5})}), r"f\.fit\.svi_steps: -5"),
    (dict(methods={"f": sb.FitMethod("svi", {"seed": 3})}), r"f\.fit\.seed.*fit settings are"),
    (dict(methods={"f": sb.FitMethod("svi", {"num_warmup": 9})}), r"f\.fit\.num_warmup.*'nuts'"),
    (dict(methods={"c": LinearRegression}), r"methods\.c: 'LinearRegression' .*give an instance"),
    (dict(methods={"p": STEPS}), r"methods\.p: .*scikit-learn refuses it"),
    (dict(methods=LR, cv=["random"]), r"cv: \['random'\].*a mapping"),
    (dict(methods=LR, cv={"schemes": [{"a": 1}]}), r"cv\.schemes\[0\]"),
    (dict(methods=LR, cv={"n_splits": 25}), r"cv\.n_splits: 25.*smallest class has 20 rows"),
    (dict(client=_Five()), r"client: '_Five'.*dask\.distributed\.Client"),
    (dict(out=5), r"out: 5 .*a folder path"),
    (dict(n_jobs=10**9), r"n_jobs: 1000000000.*4 per core"),
]


@pytest.mark.parametrize(("kwargs", "match"), HOSTILE)
def test_hostile_inputs_are_named_first(tmp_path: Path, kwargs: dict, match: str) -> None:
    kwargs = {"methods": PICK, **kwargs}
    with pytest.raises(sb.SpecError, match=match):
        sb.study(BASE, progress=False, **kwargs)
    assert not any(tmp_path.iterdir())


def test_numpy_numbers_are_taken() -> None:
    cv = {"n_splits": np.int64(3)}
    one = np.int64(1)
    study = sb.study(BASE, methods=LR, metrics=["auc"], cv=cv, replicates=one, n_jobs=one)
    assert study.table["value"].between(0, 1).all() and len(study.table) == 1


@pytest.mark.parametrize(
    ("returned", "match"),
    [
        ("inf0_0", "not a selection"),
        (None, "not a selection"),
        ({"selcted": ["inf0_0"]}, "keys are 'selected'"),
    ],
)
def test_a_selection_that_is_not_one_is_named(returned, match: str) -> None:
    def method(X: pd.DataFrame, y: pd.Series):
        return returned

    with pytest.raises(sb.SpecError, match=rf"methods\.m: .*{match}"):
        sb.study(BASE, methods={"m": method}, metrics=["precision"], progress=False)


@pytest.mark.parametrize("value", [[1, 2], "high", {"a": "b"}, True])
def test_a_user_metric_returns_numbers(value) -> None:
    def odd(data: sb.Dataset, result):
        return value

    with pytest.raises(sb.SpecError, match=r"^metrics\.odd: failed on .*a metric returns a number"):
        sb.study(BASE, methods=PICK, metrics=[odd], progress=False)


def test_a_failing_method_is_one_line_from_a_worker_too() -> None:
    def broken(X: pd.DataFrame, y: pd.Series) -> list[str]:
        raise RuntimeError("no")

    with pytest.raises(
        sb.SpecError,
        match=r"^methods\.b: failed on scenario 0 \(base\), replicate \d: RuntimeError: no$",
    ):
        sb.study(
            BASE,
            methods={"b": broken},
            metrics=["precision"],
            replicates=2,
            n_jobs=2,
            progress=False,
        )


def test_a_fold_that_cannot_be_scored_leaves_the_scheme_without_a_score() -> None:
    """Batches confounded completely: each batch holds one class, no AUC when held out."""
    base = {**BASE, "batches": {"n": 2, "strength": 0.5, "confounding": 1.0}}
    study = sb.study(
        base,
        methods=LR,
        metrics=["auc"],
        cv={"schemes": ["random", "leave_one_batch_out"], "n_splits": 3},
        progress=False,
    )
    rows = study.table.set_index("scheme")["value"]
    assert np.isnan(rows["leave_one_batch_out"]) and 0 <= rows["random"] <= 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(metrics=["precison"]), "did you mean 'precision'"),
        (dict(methods={"r": "random-forest"}), "did you mean 'random_forest'"),
        (
            dict(methods={"r": {"class": "sklearn.ensemble.RandomForest"}}),
            "did you mean sklearn.ensemble.RandomForest",
        ),
        (
            dict(grid={"clusters[0].correlation": [0.5]}),
            r"the base spec has no clusters; add a `clusters:` entry",
        ),
    ],
)
def test_near_misses_are_named(kwargs: dict, match: str) -> None:
    with pytest.raises(sb.SpecError, match=match):
        sb.study(BASE, **{"methods": PICK, **kwargs}, progress=False)
