"""``synthbio twin`` and ``synthbio fit``: inputs refused before the fit, in one line naming
the option or column, the value and what is allowed.

A column of values near 1e300 fitted and then failed in the scoring with overflow warnings;
``--learning-rate 1e300`` printed a cast warning and blamed ``data:``, ``1e-300`` rounded to
0 and "fitted"; a ``--balance`` share too small for one row blamed ``--n``; ``--bounds`` on
a CSV's date column called it categorical.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthbio_ppl.cli.app import main

QUICK = ["--method", "map", "--rank", "1", "--quiet", "--steps", "20"]


def table(scale: float = 1.0) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "x": rng.normal(size=40) * scale,
            "when": pd.date_range("2021-01-01", periods=40).astype(str),
            "status": np.repeat(["case", "control"], 20),
        }
    )


def run(tmp_path: Path, frame: pd.DataFrame, *extra: str) -> int:
    real = tmp_path / "real.csv"
    frame.to_csv(real, index=False)
    out = tmp_path / "twin"
    code = main(["twin", str(real), "--label", "status", "--out", str(out), *QUICK, *extra])
    assert not out.exists()
    return code


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.startswith("synthbio: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and "Warning" not in err
    return err


@pytest.fixture
def no_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fit fails the test (main reports it as an internal error, exit 1, not 2)."""
    import synthbio_ppl.inference.fitting as spec_fitting
    import synthbio_ppl.twins.fitting as twin_fitting

    def fit(*args: object, **kwargs: object) -> None:
        raise AssertionError("the fit ran before the refusal")

    monkeypatch.setattr(twin_fitting, "twin", fit)
    monkeypatch.setattr(spec_fitting, "fit", fit)


def test_a_column_beyond_float32_is_refused_naming_it(tmp_path, capsys, no_fit) -> None:
    assert run(tmp_path, table(1e300).drop(columns="when")) == 2
    err = one_error_line(capsys)
    assert err.startswith("synthbio: error: data.x: '") and "at row" in err, err
    assert "the twin fits in float32" in err and "rescale the column" in err


@pytest.mark.parametrize("rate", ["1e300", "3.5e38", "1e-300", "5e-324"])
def test_a_learning_rate_outside_float32_is_refused(tmp_path, capsys, no_fit, rate) -> None:
    assert run(tmp_path, table().drop(columns="when"), "--learning-rate", rate) == 2
    err = one_error_line(capsys)
    assert err.startswith(f"synthbio: error: --learning-rate: {float(rate)!r} is not allowed")
    assert "1.175e-38 to 3.403e+38" in err, err


@pytest.mark.parametrize("rate", ["1e300", "1e-300"])
def test_fit_refuses_the_same_learning_rates(tmp_path, capsys, no_fit, rate) -> None:
    """Before the folder is read (it does not exist here)."""
    assert main(["fit", str(tmp_path / "absent"), "--learning-rate", rate]) == 2
    assert one_error_line(capsys).startswith("synthbio: error: --learning-rate: ")


def test_a_balance_share_too_small_for_one_row_names_balance(tmp_path, capsys, no_fit) -> None:
    share = "case=1e-300,control=1"
    assert run(tmp_path, table().drop(columns="when"), "--balance", share, "--n", "50") == 2
    err = one_error_line(capsys)
    assert err.startswith(f"synthbio: error: --balance: {share!r} is not allowed; ")
    assert "50 rows give class 'case' 5e-299 of a row, which rounds to none" in err, err
    assert "a share of at least 1/50 of the total" in err


def test_bounds_of_a_date_kept_as_text_say_so(tmp_path, capsys, no_fit) -> None:
    assert run(tmp_path, table(), "--bounds", "when=0:1") == 2
    err = one_error_line(capsys)
    assert err.startswith("synthbio: error: --bounds: 'when=0:1' is not allowed; ")
    assert "holds dates kept as text (such as '2021-01-01')" in err, err
    assert "t = pd.to_datetime(data['when'], utc=True)" in err


@pytest.mark.parametrize(
    ("method", "flag", "value"),
    [("svi", "--warmup", "10"), ("svi", "--chains", "2"), ("svi", "--target-accept", "0.9"),
     ("nuts", "--svi-steps", "10"), ("nuts", "--learning-rate", "0.1")],
)  # fmt: skip
def test_fit_refuses_a_flag_of_the_other_method(
    tmp_path, capsys, no_fit, method: str, flag: str, value: str
) -> None:
    """Ignored before (``synthbio twin`` refused its own); refused before the folder is read."""
    code = main(["fit", str(tmp_path / "absent"), "--method", method, flag, value])
    assert code == 2
    err = one_error_line(capsys)
    assert err.startswith(f"synthbio: error: {flag}: ") and f"not {method}; drop it" in err


@pytest.mark.parametrize(("sep", "words"), [("\t", "tabs"), (";", "semicolons")])
def test_a_table_with_another_separator_says_so(tmp_path, capsys, no_fit, sep, words) -> None:
    """It read as one column, and the label was "not a column" of a list of them all."""
    real = tmp_path / "real.csv"
    table().drop(columns="when").to_csv(real, index=False, sep=sep)
    out = tmp_path / "twin"
    assert main(["twin", str(real), "--label", "status", "--out", str(out), *QUICK]) == 2
    err = one_error_line(capsys)
    assert f"reads as one column: its cells are separated by {words}, not commas" in err


def test_a_tsv_file_is_read_with_tabs(tmp_path) -> None:
    from synthbio_ppl.cli.twin_inputs import read_table

    real = tmp_path / "real.tsv"
    table().to_csv(real, index=False, sep="\t")
    assert read_table(real).columns.tolist() == ["x", "when", "status"]


def test_a_pipe_or_a_device_is_refused_not_read_forever(tmp_path, capsys) -> None:
    import os

    pipe = tmp_path / "spec.yaml"
    os.mkfifo(pipe)
    for path in (pipe, Path("/dev/zero")):
        assert main(["validate", str(path)]) == 2
        assert "not a regular file" in one_error_line(capsys)


def test_an_integer_of_thousands_of_digits_is_named(tmp_path, capsys) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("seed: " + "9" * 5000 + "\nclasses: [{name: a, n: 5}, {name: b, n: 5}]\n")
    assert main(["validate", str(spec)]) == 2  # was an internal error (exit 1)
    assert "holds a number of more than 4,300 digits" in one_error_line(capsys)


@pytest.mark.parametrize(("flag", "value"), [("--rows", "0"), ("--chunk-rows", "-5")])
def test_generate_names_its_flags(tmp_path, capsys, flag: str, value: str) -> None:
    """The engine's refusal named its arguments (rows, chunk_rows), not the flags."""
    from tests.conftest import MODELS

    argv = ["generate", str(MODELS / "demo.yaml"), "--out", str(tmp_path / "o"), flag, value]
    if flag == "--chunk-rows":
        argv += ["--rows", "100"]
    assert main(argv) == 2
    assert one_error_line(capsys).startswith(f"synthbio: error: {flag}: {value} is not allowed")


def test_fit_refuses_more_chains_than_it_can_hold(tmp_path, capsys, no_fit) -> None:
    assert main(["fit", str(tmp_path / "absent"), "--chains", "100000"]) == 2
    assert "--chains: 100000 is not allowed; must be a whole number from 1 to 256" in (
        one_error_line(capsys)
    )
