"""Bad studies are named before any cell runs: methods, metrics, schemes, replicates."""

from __future__ import annotations

from pathlib import Path

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
