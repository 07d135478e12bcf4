"""Study files and ``synthbio study``: the file's fields are ``sb.study``'s arguments, its
estimators only scikit-learn's, its refusals one line (exit 2)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pandas as pd
import pytest

import synthbio_ppl as sb
from synthbio_ppl.cli.app import main

SCENE = """\
classes: [{name: a, n: 30}, {name: b, n: 30}]
informative: [{n: 3, effect_size: 1.0}]
noise: [{n: 8}]
"""
STUDY = """\
name: tiny selectors
base: scene.yaml
grid:
  informative[0].effect_size: [0.5, 1.5]
methods:
  t_test: {preset: t_test, k: 3}
  mi:
    class: sklearn.feature_selection.SelectKBest
    params: {k: 3, score_func: {function: sklearn.feature_selection.mutual_info_classif}}
  forest:
    class: sklearn.pipeline.Pipeline
    params:
      steps:
        - [scale, {class: sklearn.preprocessing.StandardScaler}]
        - [model, {class: sklearn.ensemble.RandomForestClassifier, params: {n_estimators: 10}}]
metrics: [precision, recall, auc]
replicates: 2
seed: 4
cv: {n_splits: 3}
"""


def write(folder: Path, study: str = STUDY, scene: str = SCENE) -> Path:
    (folder / "scene.yaml").write_text(scene)
    path = folder / "study.yaml"
    path.write_text(textwrap.dedent(study))
    return path


def test_a_study_file_is_sb_study_with_its_fields(tmp_path: Path) -> None:
    study, base = sb.load_study(write(tmp_path))
    assert base.informative[0].n == 3 and study.replicates == 2
    assert (
        main(["study", str(tmp_path / "study.yaml"), "--out", str(tmp_path / "out"), "--quiet"])
        == 0
    )
    table = pd.read_parquet(tmp_path / "out" / "results.parquet")
    assert set(table["method"]) == {"t_test", "mi", "forest"}
    assert set(table.loc[table["method"] == "forest", "metric"]) == {"auc"}
    assert len(table) == 2 * 2 * (2 + 2 + 1)
    assert (tmp_path / "out" / "report.md").read_text().startswith("# tiny selectors")
    from sklearn.feature_selection import SelectKBest, mutual_info_classif

    direct = sb.study(
        base,
        {"informative[0].effect_size": [0.5, 1.5]},
        {"mi": SelectKBest(mutual_info_classif, k=3)},
        ["precision"],
        2,
        seed=4,
        progress=False,
    )
    mine = table[(table["method"] == "mi") & (table["metric"] == "precision")]
    assert mine["value"].tolist() == direct.table["value"].tolist()


def test_the_command_prints_where_the_files_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path)
    assert main(["study", str(path), "--out", str(tmp_path / "o"), "--replicates", "1"]) == 0
    out = capsys.readouterr().out
    assert "2 scenario(s) × 1 replicate(s), 3 method(s)" in out and "report.md" in out


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.startswith("synthbio: error: ") and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (("replicates: 2", "replicate: 2"), "replicate.*did you mean 'replicates'"),
        (("base: scene.yaml", "base: nowhere.yaml"), "base: .*nowhere.yaml"),
        (
            ("{preset: t_test, k: 3}", "{class: os.system, params: {command: ls}}"),
            r"methods\.t_test\.class: 'os\.system'.*scikit-learn estimator class",
        ),
        (
            ("sklearn.feature_selection.mutual_info_classif", "os.getcwd"),
            r"function: 'os\.getcwd'.*scikit-learn function",
        ),
        (
            ("sklearn.feature_selection.SelectKBest", "sklearn.feature_selection.SelectKBestt"),
            r"module 'sklearn\.feature_selection' has no 'SelectKBestt'",
        ),
        (("params: {k: 3, score_func", "params: {kk: 3, score_func"), r"methods\.mi\.params.*kk"),
        (
            ("[precision, recall, auc]", "[precision, recall, auc, coverage]"),
            r"metrics\[3\]: 'coverage'.*needs a fit method",
        ),
        (
            ("informative[0].effect_size: [0.5, 1.5]", "informative[0].size: [0.5]"),
            r"grid\.informative\[0\]\.size",
        ),
        (
            ("cv: {n_splits: 3}", "cv: {n_splits: 3, schemes: [leave_one_batch_out]}"),
            "has no batches to hold out",
        ),
    ],
)
def test_bad_study_files_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: tuple[str, str], match: str
) -> None:
    assert edit[0] in STUDY
    path = write(tmp_path, STUDY.replace(*edit))
    assert main(["study", str(path), "--out", str(tmp_path / "out")]) == 2
    err = one_line(capsys)
    assert re.search(match, err), err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["study", "missing.yaml", "--out", "o"], "no such file"),
        (["study", "STUDY", "--out", "o", "--jobs", "0"], "--jobs: 0"),
        (["study", "STUDY", "--out", "o", "--replicates", "0"], "replicates"),
    ],
)
def test_bad_command_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], match: str
) -> None:
    path = write(tmp_path)
    args = [
        str(path) if a == "STUDY" else str(tmp_path / a) if a in ("o", "missing.yaml") else a
        for a in args
    ]
    assert main(args) == 2
    assert match in one_line(capsys)


def test_a_file_that_is_not_a_study(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "s.yaml").write_text("- a\n- b\n")
    assert main(["study", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "o")]) == 2
    assert "a study file is a mapping" in one_line(capsys)
    (tmp_path / "s.yaml").write_text("base: [unclosed\n")
    assert main(["study", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "o")]) == 2
    assert "not valid YAML at line 2" in one_line(capsys)


def test_an_interrupted_command_says_the_cells_are_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import synthbio_ppl.studies.runner as runner

    def stop(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "study", stop)
    assert main(["study", str(write(tmp_path)), "--out", str(tmp_path / "o")]) == 130
    assert "finished cells are kept" in capsys.readouterr().err


STUDIES = sorted((Path(__file__).resolve().parents[2] / "models" / "studies").glob("*.yaml"))


@pytest.mark.parametrize("path", STUDIES, ids=lambda p: p.stem)
def test_every_catalogue_study_is_valid(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(path)]) == 0
    assert "valid study (" in capsys.readouterr().out


def test_validate_names_a_study_file_s_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, STUDY.replace("[precision, recall, auc]", "[precision, recal]"))
    assert main(["validate", str(path)]) == 2
    assert "metrics[1]: 'recal'" in one_line(capsys)


def test_at_least_one_catalogue_study() -> None:
    assert STUDIES


def test_a_key_given_twice_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """YAML's rule; a second grid key would silently drop the first axis."""
    path = write(tmp_path, STUDY.replace("replicates: 2", "replicates: 2\nreplicates: 3"))
    assert main(["validate", str(path)]) == 2
    assert "'replicates' is given twice" in one_line(capsys)


def test_the_guide_s_study_file_is_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = Path(__file__).resolve().parents[2]
    text = (root / "docs" / "studies.md").read_text().split("```yaml\n")[1].split("```")[0]
    (tmp_path / "demo.yaml").write_text((root / "models" / "demo.yaml").read_text())
    (tmp_path / "study.yaml").write_text(text)
    assert main(["validate", str(tmp_path / "study.yaml")]) == 0
    assert "120 datasets, 3 method(s), 3 metric(s)" in capsys.readouterr().out
