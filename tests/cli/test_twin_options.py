"""``synthbio twin``: the fit settings (``--svi-steps``/``--steps``, ``--learning-rate``,
``--warmup``, ``--samples``), bounds for categorical columns, and date columns.

The fit settings were missing (every fit ran sb.twin's 4,000 steps); bounds for a text
column were ignored; a date column was refused with advice that ``--types`` could not
follow. Successful runs fit a 40-row table for 20 steps (``--holdout 0``: no scoring), so
they share one compiled program.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthbio_ppl.cli.app import build_parser, main

QUICK = ["--method", "map", "--rank", "1", "--holdout", "0", "--quiet", "--steps", "20"]
WHEN = pd.date_range("2021-03-01", periods=40, freq="29h", tz="Europe/Berlin")  # over DST


def table() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    case = np.arange(40) < 18
    return pd.DataFrame(
        {
            "age": rng.integers(30, 80, 40),
            "crp": rng.lognormal(0.5 + 0.8 * case, 0.7),
            "flag": rng.random(40) > 0.5,
            "when": WHEN,
            "status": np.where(case, "case", "control"),
        }
    )


def days(frame: pd.DataFrame) -> pd.DataFrame:
    """``when`` as days since its first date, as the refusal of a date column says."""
    t = pd.to_datetime(frame["when"], utc=True)
    return frame.assign(when=(t - t.min()) / pd.Timedelta(days=1))


@pytest.fixture(scope="module")
def numbers_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("real") / "real.csv"
    days(table()).to_csv(path, index=False)
    return path


def run(real: Path, out: Path, *extra: str, quick: list[str] = QUICK) -> int:
    return main(["twin", str(real), "--label", "status", "--out", str(out), *quick, *extra])


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.startswith("synthbio: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


@pytest.fixture
def no_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fit fails the test (main reports it as an internal error, exit 1, not 2)."""
    import synthbio_ppl.twins.fitting as fitting

    def fit(*args: object, **kwargs: object) -> None:
        raise AssertionError("the fit ran before the refusal")

    monkeypatch.setattr(fitting, "twin", fit)


# --------------------------------------------------------------------------- fit settings


@pytest.mark.parametrize("option", ["--steps", "--svi-steps"])
def test_steps_set_the_fit_length(numbers_csv: Path, tmp_path: Path, option: str) -> None:
    out = tmp_path / "twin"
    assert run(numbers_csv, out, option, "7", "--learning-rate", "0.05", quick=QUICK[:-2]) == 0
    metadata = json.loads((out / "report.json").read_text())["metadata"]
    assert metadata["svi_steps"] == 7  # the fit's losses: one per step
    assert metadata["learning_rate"] == 0.05
    assert metadata["num_warmup"] is None and metadata["num_samples"] is None  # not map's
    assert "--svi-steps 7 --learning-rate 0.05" in metadata["command"]
    assert len(pd.read_csv(out / "synthetic.csv")) == 40


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--steps", "0"], "--steps: '0': must be a whole number from 1 to 2^31 − 1"),
        (["--steps", "-3"], "--steps: '-3': must be a whole number from 1 to 2^31 − 1"),
        (["--steps", "2.5"], "argument --svi-steps/--steps: '2.5': must be a whole number"),
        (["--svi-steps", "1e3"], "'1e3': must be a whole number"),
        (["--learning-rate", "0"], "--learning-rate: 0.0 is not allowed; must be a positive"),
        (["--learning-rate", "nan"], "--learning-rate: nan is not allowed"),
        (["--learning-rate", "inf"], "--learning-rate: inf is not allowed"),
        (["--warmup", "0"], "argument --warmup: '0': must be a whole number from 1 to 2^31 − 1"),
        (["--samples", "-1"], "--samples: '-1': must be a whole number from 1 to 2^31 − 1"),
        (["--method", "nuts", "--steps", "5"],
         "--svi-steps: 5 is not allowed; applies to --method map or svi, not nuts"),
        (["--method", "nuts", "--learning-rate", "0.1"], "applies to --method map or svi"),
        (["--warmup", "5"], "--warmup: 5 is not allowed; applies to --method nuts, not map"),
        (["--method", "svi", "--warmup", "5"], "applies to --method nuts, not svi"),
        (["--samples", "5"], "--samples: 5 is not allowed; applies to --method svi or nuts"),
    ],
)  # fmt: skip
def test_bad_fit_settings_exit_2_before_the_fit(
    numbers_csv: Path, tmp_path: Path, capsys, no_fit, extra: list[str], expected: str
) -> None:
    out = tmp_path / "twin"
    assert run(numbers_csv, out, *extra, quick=["--quiet"]) == 2
    err = one_error_line(capsys)
    assert expected in err, err
    assert not out.exists()


def test_the_help_gives_sb_twins_defaults() -> None:
    """sb.twin's fit settings default to None (resolved per method from the shared table,
    ``twins.settings.FIT_SETTINGS``); the help gives the table's defaults."""
    from synthbio_ppl.cli.twin import DEFAULT_METHOD
    from synthbio_ppl.twins.fitting import twin
    from synthbio_ppl.twins.settings import FIT_SETTINGS

    assert inspect.signature(twin).parameters["method"].default == DEFAULT_METHOD
    subparsers = next(a for a in build_parser()._actions if a.dest == "command")
    help_text = " ".join(subparsers.choices["twin"].format_help().split())
    parameters = inspect.signature(twin).parameters
    assert [s.option for s in FIT_SETTINGS] == [
        "--svi-steps",
        "--learning-rate",
        "--warmup",
        "--samples",
    ]
    for setting in FIT_SETTINGS:
        assert parameters[setting.name].default is None, setting.name
        assert setting.option in help_text, setting.option
        assert f"{setting.name}; default {setting.default})" in help_text, setting.name
    assert "--svi-steps N, --steps N" in help_text


@pytest.mark.parametrize("method", ["map", "svi", "nuts"])
def test_the_command_line_and_sb_twin_refuse_the_same_settings(
    tmp_path: Path, capsys, monkeypatch, method: str
) -> None:
    """Each setting with each method: the command line exits 2 (before reading the table:
    the path does not exist) exactly where sb.twin raises a SpecError naming the setting."""
    import synthbio_ppl.twins.fitting as fitting
    from synthbio_ppl.core.errors import SpecError
    from synthbio_ppl.twins.settings import FIT_SETTINGS

    class Fitted(Exception):
        pass

    def fit(*args: object, **kwargs: object) -> None:
        raise Fitted

    monkeypatch.setattr(fitting, "_fit_program", fit)
    values = {"svi_steps": 5, "learning_rate": 0.05, "num_warmup": 5, "num_samples": 5}
    for setting in FIT_SETTINGS:
        value = values[setting.name]
        try:
            fitting.twin(days(table()), "status", method=method, **{setting.name: value})
        except Fitted:
            api_refuses = False
        except SpecError as exc:
            assert exc.path == setting.name
            api_refuses = True
        extra = ["--method", method, setting.option, str(value)]
        code = run(tmp_path / "absent.csv", tmp_path / "twin", *extra, quick=["--quiet"])
        err = capsys.readouterr().err
        assert (code == 2 and setting.option in err) == api_refuses, (setting, err)
        assert api_refuses == (method not in setting.methods)
        if not api_refuses:
            assert "REAL: " in err and "no such file" in err  # read after the settings


def test_every_fit_setting_the_fit_used_is_recorded(numbers_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "twin"
    extra = ["--method", "svi", "--steps", "5", "--samples", "3"]
    assert run(numbers_csv, out, *extra, quick=["--rank", "1", "--holdout", "0", "--quiet"]) == 0
    metadata = json.loads((out / "report.json").read_text())["metadata"]
    assert metadata["method"] == "svi"
    assert {
        k: metadata[k] for k in ("svi_steps", "learning_rate", "num_warmup", "num_samples")
    } == {
        "svi_steps": 5,
        "learning_rate": 0.01,  # sb.twin's default, which the fit used
        "num_warmup": None,  # NUTS only
        "num_samples": 3,
    }


# --------------------------------------------------------------------------- memory


def test_a_memory_refusal_advises_the_command_lines_options(
    numbers_csv: Path, tmp_path: Path, capsys, no_fit, monkeypatch
) -> None:
    """Just above the least a twin needs, the table is refused before the fit, naming
    REAL and advising --rank, --method map and --samples (not rank=, method='map')."""
    from synthbio_ppl.engine.budget import LIMIT_VARIABLE
    from synthbio_ppl.twins.budget import least_twin_bytes

    out = tmp_path / "twin"
    monkeypatch.setenv(LIMIT_VARIABLE, str(least_twin_bytes(2) + 1))
    svi = ["--method", "svi", "--samples", "50", "--quiet"]
    assert run(numbers_csv, out, *svi, quick=[]) == 2
    err = one_error_line(capsys)
    assert err.startswith("synthbio: error: REAL: '28 rows × 3 numeric columns (rank 2, 50 draws)'")
    for advice in (
        "fewer columns",
        "fewer rows",
        "a smaller --rank",
        "--method map",
        "fewer --samples",
    ):
        assert advice in err, err
    assert "method='map'" not in err and "num_samples" not in err
    assert run(numbers_csv, out, "--quiet", quick=[]) == 2  # map: no advice on samples
    err = one_error_line(capsys)
    assert "(rank 2, 1 draw)" in err and "--method map" not in err and "--samples" not in err
    monkeypatch.setenv(LIMIT_VARIABLE, "390M")
    assert run(numbers_csv, out, "--quiet", quick=[]) == 2
    err = one_error_line(capsys)
    assert "whatever the table and settings" in err and "fewer" not in err, err
    assert not out.exists()


# --------------------------------------------------------------------------- bounds


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--bounds", "flag=0:1"],
         "--bounds: 'flag=0:1' is not allowed; column 'flag' is categorical (dtype bool): "
         "bounds apply only to numeric (continuous or integer) columns"),
        (["--types", "age=categorical", "--bounds", "age=0:100"],
         "column 'age' is declared categorical in --types: bounds apply only to numeric"),
    ],
)  # fmt: skip
def test_bounds_of_a_categorical_column_exit_2(
    numbers_csv: Path, tmp_path: Path, capsys, no_fit, extra: list[str], expected: str
) -> None:
    out = tmp_path / "twin"
    assert run(numbers_csv, out, *extra) == 2
    err = one_error_line(capsys)
    assert expected in err, err
    assert not out.exists()


def test_bounds_of_a_text_column_exit_2(tmp_path: Path, capsys, no_fit) -> None:
    path = tmp_path / "real.csv"
    days(table()).assign(sex=np.where(np.arange(40) % 3, "F", "M")).to_csv(path, index=False)
    assert run(path, tmp_path / "twin", "--bounds", "sex=:1") == 2
    assert "column 'sex' is categorical (dtype object)" in one_error_line(capsys)


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_a_tz_aware_date_column_is_refused_and_the_advice_works(
    tmp_path: Path, capsys, suffix: str
) -> None:
    """A tz-aware column (Parquet: datetime64[ns, Europe/Berlin]; CSV: text with offsets)
    is refused with or without --types, each time with a conversion; converted as it
    says, the file twins."""
    path = tmp_path / f"real{suffix}"
    write = pd.DataFrame.to_parquet if suffix == ".parquet" else pd.DataFrame.to_csv
    write(table(), path, index=False)
    out = tmp_path / "twin"
    advice = "t = pd.to_datetime(data['when'], utc=True); data['when'] = (t - t.min()) / pd."
    for types in ([], ["--types", "when=continuous"], ["--types", "when=integer"]):
        assert run(path, out, *types) == 2
        err = one_error_line(capsys)
        assert "when" in err and "dates" in err and advice in err, err
        assert "can only be categorical" not in err
    assert not out.exists()

    data = pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
    t = pd.to_datetime(data["when"], utc=True)  # the advice, as the message gives it
    data["when"] = (t - t.min()) / pd.Timedelta(days=1)
    write(data, path, index=False)
    assert run(path, out) == 0
    synthetic = pd.read_parquet(out / "synthetic.parquet") if suffix == ".parquet" else None
    synthetic = pd.read_csv(out / "synthetic.csv") if synthetic is None else synthetic
    assert synthetic["when"].between(0, data["when"].max()).all()
