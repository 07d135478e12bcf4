"""``synthbio twin``: the files it writes, its report, --force, and one-line errors (exit 2).

The real table is small and made here (120 rows: a skewed marker, an integer age, a
normal score and a categorical sex column); fits use ``--method map --rank 1``, so every
successful run after the first reuses one compiled program.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthbio_ppl.cli.app import main
from synthbio_ppl.core.errors import SpecError

FAST = ["--method", "map", "--rank", "1", "--types", "sex=categorical"]
FILES = [
    "missing_rates.csv",
    "parameters.csv",
    "posterior.nc",
    "report.json",
    "report.md",
    "synthetic.csv",
]


def real_table(n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    case = np.arange(n) < 50
    return pd.DataFrame(
        {
            "age": rng.integers(30, 80, n),
            "crp": rng.lognormal(0.5 + 0.8 * case, 0.7),
            "score": rng.normal(case * 1.0, 1.0),
            "sex": rng.choice(["F", "M"], n),
            "status": np.where(case, "case", "control"),
        }
    )


@pytest.fixture(scope="module")
def real_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("real") / "real.csv"
    real_table().to_csv(path, index=False)
    return path


def twin_args(real: Path, out: Path, *extra: str, quiet: bool = True) -> list[str]:
    hush = ["--quiet"] if quiet else []
    return ["twin", str(real), "--label", "status", "--out", str(out), *FAST, *hush, *extra]


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.startswith("synthbio: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def leftovers(folder: Path) -> list[str]:
    """Names in ``folder`` that a twin run may have staged (hidden partial/old folders)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# --------------------------------------------------------------------------- happy paths


def test_writes_every_file_with_a_report(real_csv: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "twin"
    assert main(twin_args(real_csv, out, "--seed", "3", quiet=False)) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert 3 <= len(printed) <= 5 and "TSTR AUC" in printed[2], printed
    assert sorted(p.name for p in out.iterdir()) == FILES
    assert leftovers(tmp_path) == []

    real = pd.read_csv(real_csv)
    synthetic = pd.read_csv(out / "synthetic.csv")
    assert list(synthetic.columns) == list(real.columns)
    assert len(synthetic) == 84  # the train rows: 120 less a stratified 30% holdout
    assert set(synthetic["sex"]) <= {"F", "M"} and set(synthetic["status"]) == {"case", "control"}
    assert (synthetic["age"] == synthetic["age"].round()).all() and (synthetic["crp"] >= 0).all()

    report = json.loads((out / "report.json").read_text())
    assert set(report) >= {"metadata", "label", "n_rows", "summary", "fidelity", "utility"}
    assert report["n_rows"] == {"real_train": 84, "real_holdout": 36, "synthetic": 84}
    meta = report["metadata"]
    assert meta["rows"] == {"input": 120, "train": 84, "holdout": 36, "synthetic": 84}
    assert meta["method"] == "map" and meta["seed"] == 3 and meta["fit_seconds"] > 0
    assert meta["input"] == str(real_csv) and meta["command"].startswith("synthbio twin ")
    assert "--seed 3" in meta["command"] and "--holdout 0.3" in meta["command"]
    for key in ("tstr_auc", "trtr_auc", "mean_ks", "mia_auc", "dcr_synthetic_median"):
        assert isinstance(report["summary"][key], float), key
    assert 0.0 <= report["privacy"]["mia_auc"] <= 1.0
    # the categorical column is scored one-hot
    features = {row["feature"] for row in report["fidelity"]["per_feature"]}
    assert {"sex=F", "sex=M", "crp"} <= features

    markdown = (out / "report.md").read_text()
    for text in ("# Synthetic twin", str(real_csv), "method: map", "seed 3", "## Twin report"):
        assert text in markdown, text
    parameters = pd.read_csv(out / "parameters.csv", index_col="column")
    assert list(parameters.index) == ["age", "crp", "score"]
    assert ((parameters["power"] > 0) & (parameters["power"] < 2)).all()
    assert (out / "posterior.nc").stat().st_size > 0


def test_parquet_in_parquet_out_balance_and_no_holdout(tmp_path: Path) -> None:
    real = tmp_path / "real.parquet"
    real_table().to_parquet(real, index=False)
    out = tmp_path / "twin"
    args = twin_args(real, out, "--holdout", "0", "--n", "60", "--balance", "equal")
    assert main(args) == 0
    assert "synthetic.parquet" in {p.name for p in out.iterdir()}
    synthetic = pd.read_parquet(out / "synthetic.parquet")
    assert synthetic["status"].value_counts().to_dict() == {"case": 30, "control": 30}
    report = json.loads((out / "report.json").read_text())
    assert report["metadata"]["rows"]["holdout"] == 0
    assert report["metadata"]["rows"]["train"] == 120
    assert report["utility"] is None and report["privacy"] is None
    assert set(report["summary"]) == {
        "mean_ks",
        "max_ks",
        "mean_wasserstein",
        "corr_frobenius",
        "corr_mean_abs_diff",
        "missing_max_abs_diff",
    }
    assert "Fidelity (no holdout)" in (out / "report.md").read_text()


def test_force_replaces_and_its_absence_refuses(real_csv: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "twin"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    assert main(twin_args(real_csv, out)) == 2
    assert "--force" in one_error_line(capsys)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]

    # --force replaces only a folder this program wrote: not one holding the user's files
    assert main([*twin_args(real_csv, out), "--force"]) == 2
    assert "did not write (keep.txt)" in one_error_line(capsys)
    (out / "keep.txt").unlink()
    assert main(twin_args(real_csv, out)) == 0  # an empty folder is taken
    assert main(twin_args(real_csv, out)) == 2  # the twin now there
    assert main([*twin_args(real_csv, out), "--force"]) == 0
    assert sorted(p.name for p in out.iterdir()) == FILES
    assert leftovers(tmp_path) == []


def test_failure_while_writing_leaves_nothing_behind(
    real_csv: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    from synthbio_ppl.twins.posterior import Twin

    def broken(self: Twin) -> None:
        raise SpecError("parameters", "(test)", "a failure while writing")

    monkeypatch.setattr(Twin, "parameters", broken)
    fresh = tmp_path / "fresh"
    assert main(twin_args(real_csv, fresh)) == 2
    one_error_line(capsys)
    assert not fresh.exists()

    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "keep.txt").write_text("precious")
    assert main([*twin_args(real_csv, kept), "--force"]) == 2
    one_error_line(capsys)
    assert [p.name for p in kept.iterdir()] == ["keep.txt"]
    assert leftovers(tmp_path) == []


def test_missing_cells_are_reproduced_and_scored(tmp_path: Path, capsys) -> None:
    """Empty CSV fields in a numeric and a categorical column: the twin learns their
    fractions per class (missing_rates.csv), the synthetic table has holes, and the
    report compares the fractions (the categorical one through its one-hot columns)."""
    table = real_table(n=240, seed=1)
    rng = np.random.default_rng(2)
    case = (table["status"] == "case").to_numpy()
    table.loc[rng.random(240) < np.where(case, 0.4, 0.05), "crp"] = np.nan
    table.loc[rng.random(240) < 0.2, "sex"] = None
    path = tmp_path / "holes.csv"
    table.to_csv(path, index=False)
    out = tmp_path / "twin"
    assert main(twin_args(path, out, "--seed", "1", quiet=False)) == 0
    printed = capsys.readouterr().out
    assert "missing cells: 2 column(s) (crp, sex)" in printed and "missing-rate |Δ|" in printed
    assert sorted(p.name for p in out.iterdir()) == FILES

    rates = pd.read_csv(out / "missing_rates.csv", index_col="column")
    assert list(rates.index) == ["age", "crp", "score", "sex"]
    assert rates.loc["crp", "case"] > rates.loc["crp", "control"]
    assert (rates.loc[["age", "score"]] == 0).all().all()
    synthetic = pd.read_csv(out / "synthetic.csv")
    assert synthetic["crp"].isna().any() and synthetic["sex"].isna().any()
    assert synthetic[["age", "score", "status"]].notna().all().all()

    report = json.loads((out / "report.json").read_text())
    assert report["metadata"]["missing"]["columns"] == ["crp", "sex"]
    assert "SimpleImputer" in report["utility"]["imputation"]
    missing = {(r["feature"], r["class"]): r for r in report["fidelity"]["missing"]}
    assert missing[("sex=F", "case")]["real_missing"] > 0  # NaN in each one-hot column
    assert missing[("sex=F", "case")]["real_missing"] == missing[("sex=M", "case")]["real_missing"]
    assert missing[("age", "control")]["synthetic_missing"] == 0
    markdown = (out / "report.md").read_text()
    assert "- missing cells: 2 column(s)" in markdown and "Missing fractions by class" in markdown


def test_complete_table_reports_no_missing_cells(real_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "twin"
    assert main(twin_args(real_csv, out, "--holdout", "0")) == 0
    assert "- missing cells: none in the train rows" in (out / "report.md").read_text()
    rates = pd.read_csv(out / "missing_rates.csv", index_col="column")
    assert (rates == 0).all().all()


def test_rows_without_a_class_or_infinities_exit_2(tmp_path: Path, capsys) -> None:
    out = tmp_path / "twin"
    for change, expected in (
        (lambda t: t.loc.__setitem__((3, "status"), None), "--label: 'status' is not allowed"),
        (lambda t: t.loc.__setitem__((5, "score"), np.inf), "data.score: '1 infinite value(s)"),
        (lambda t: t.__setitem__("crp", np.nan), "data.crp: 'all 120 values missing'"),
    ):
        table = real_table()
        change(table)
        path = tmp_path / "bad.csv"
        table.to_csv(path, index=False)
        assert main(twin_args(path, out)) == 2
        err = one_error_line(capsys)
        assert expected in err, err
    assert not out.exists()


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--label", "nope"], "--label: 'nope' is not allowed; must be a column of real.csv"),
        (["--types", "sex=categorical,age=float"], "--types: 'age=float'"),
        (["--types", "sex"], "--types: 'sex' is not allowed; each item must be COL=KIND"),
        (["--types", "height=integer"], "'height' is not a column"),
        (["--types", "status=categorical"], "names the label"),
        (["--balance", "case=abc"], "--balance: 'case=abc'"),
        (["--balance", "sick=1"], "'sick' is not a class; classes are case, control"),
        (["--balance", "case=0,control=1"], "at least two classes"),
        (["--bounds", "crp=5"], "--bounds: 'crp=5' is not allowed; each item must be COL=LOW:HIGH"),
        (["--bounds", "crp=a:9"], "--bounds: 'crp=a:9' is not allowed; 'a' is not a number"),
        (["--bounds", "crp=9:1"], "LOW must be below HIGH"),
        (["--bounds", "crp=inf:"], "a low bound of inf leaves no value"),  # was unbounded
        (["--bounds", "crp=:-inf"], "a high bound of -inf leaves no value"),
        (["--holdout", "0.95"], "--holdout: 0.95 is not allowed; must lie in [0, 0.9)"),
        (["--holdout", "-0.1"], "must lie in [0, 0.9)"),
        (["--n", "0"], "--n: 0 is not allowed"),
        (["--method", "hmc"], "invalid choice: 'hmc'"),
    ],
)  # fmt: skip
def test_bad_options_exit_2_with_one_line(
    real_csv: Path, tmp_path: Path, capsys, extra: list[str], expected: str
) -> None:
    out = tmp_path / "twin"
    assert main(twin_args(real_csv, out) + extra) == 2
    err = one_error_line(capsys)
    assert expected in err, err
    assert not out.exists() and leftovers(tmp_path) == []


def test_bad_files_exit_2_with_one_line(tmp_path: Path, capsys) -> None:
    out = tmp_path / "twin"
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,2\n3,4,5,6\n")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    repeated = tmp_path / "repeated.csv"
    repeated.write_text("a,a,status\n1,2,x\n3,4,y\n")
    cases = [
        (["twin", str(tmp_path / "missing.csv")], "no such file"),
        (["twin", str(ragged)], "cannot be read as CSV"),
        (["twin", str(empty)], "cannot be read as CSV"),
        (["twin", str(tmp_path)], "not a folder"),
        (["twin", str(repeated)], "column names must be unique"),
    ]
    for argv, expected in cases:
        assert main([*argv, "--label", "status", "--out", str(out)]) == 2
        err = one_error_line(capsys)
        assert expected in err, err
    assert not out.exists()


def test_console_script_exits_2_without_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "synthbio_ppl.cli",
            "twin",
            str(tmp_path / "missing.csv"),
            "--label",
            "y",
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "missing.csv" in proc.stderr and "no such file" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_text_columns_need_no_declaration_and_blank_integers_stay_whole(tmp_path: Path) -> None:
    """As the Python API does: text is categorical; a CSV column of whole numbers with
    blanks (read by pandas as floats) comes back as whole numbers."""
    real = real_table()
    real["visits"] = np.where(np.arange(len(real)) % 7 == 0, np.nan, np.arange(len(real)) % 12)
    path = tmp_path / "real.csv"
    real.to_csv(path, index=False)
    out = tmp_path / "out"
    args = ["twin", str(path), "--label", "status", "--out", str(out)]
    assert main([*args, "--method", "map", "--rank", "1", "--holdout", "0"]) == 0
    synthetic = pd.read_csv(out / "synthetic.csv")
    assert set(synthetic["sex"].dropna()) <= {"F", "M"}
    visits = synthetic["visits"].dropna()
    assert len(visits) and (visits == visits.round()).all()


@pytest.mark.parametrize("share", ["1e308", "1.7e308", "1e-300"])
def test_balance_shares_at_the_ends_of_the_float_range_are_proportions(share: str) -> None:
    """The shares' sum overflowed (1e308 + 1e308 = inf), turning every share into 0."""
    import pandas as pd

    from synthbio_ppl.cli.twin_inputs import parse_balance

    labels = pd.Series(["case", "control", "case"])
    assert parse_balance(f"case={share},control={share}", labels) == {
        "case": 0.5,
        "control": 0.5,
    }
