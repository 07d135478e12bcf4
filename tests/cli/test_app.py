"""The synthbio command line: happy paths and one-line errors with exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from synthbio_ppl.cli.app import main
from tests.conftest import MODELS


def test_generate_writes_folder_and_prints_summary(tmp_path: Path, capsys) -> None:
    out = tmp_path / "demo"
    assert main(["generate", str(MODELS / "demo.yaml"), "--out", str(out), "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    assert "roles: informative=5, anchor=1, proxy=5, noise=100, pseudo=4" in printed
    assert "Cramér's V" in printed
    assert sorted(p.name for p in out.iterdir()) == ["data.parquet", "spec.yaml", "truth.json"]
    assert "seed: 3" in (out / "spec.yaml").read_text()


def test_generate_refuses_to_overwrite_without_force(tmp_path: Path, capsys) -> None:
    out = tmp_path / "demo"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    assert main(["generate", str(MODELS / "demo.yaml"), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--force" in err
    assert (out / "keep.txt").read_text() == "precious"


def test_validate_and_describe(capsys) -> None:
    assert main(["validate", str(MODELS / "kitchen_sink.yaml")]) == 0
    assert "valid (300 rows, 3 classes)" in capsys.readouterr().out
    # a binary outcome replaces the (one) class: its labels are counted, not "1 class"
    assert main(["validate", str(MODELS / "risk_score.yaml")]) == 0
    assert "valid (2000 rows, 2 labels)" in capsys.readouterr().out
    assert main(["describe", str(MODELS / "kitchen_sink.yaml")]) == 0
    table = capsys.readouterr().out
    for expected in ("genes", "anchor+proxies", "0.8/0.5", "0.1/0.5/0.9", "uniform (raw)"):
        assert expected in table


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("classes: [{name: a, n: 5}, {name: b, n: 5}]\nclusters: [{n: 4, correlation: 1.2}]\n",
         "clusters[0].correlation: 1.2 is not allowed; must lie in (-0.3333, 1)"),
        ("classes: [{name: a, n: 5}]\nnoise: [{n: 3}]\n", "classes: "),
        ("classes: [{name: a, n: 5}, {name: b, n: 5}]\nnoise: [{n: 3, distribution: zipf}]\n",
         "noise[0].distribution: 'zipf' is not allowed"),
        ("classes: [{name: a, n: 5}, {name: b, n: 5}\n", "not valid YAML at line"),
    ],
)  # fmt: skip
def test_bad_spec_exits_2_with_one_line(tmp_path: Path, capsys, text: str, expected: str) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(text)
    out = tmp_path / "out"
    for argv in (["validate", str(spec)], ["generate", str(spec), "--out", str(out)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("synthbio: error: ") and err.count("\n") == 1
        assert expected in err, err
    assert not out.exists()


def test_usage_errors_are_one_line_too(capsys) -> None:
    assert main(["generate"]) == 2
    assert main(["frobnicate"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(line.startswith("synthbio: error:") for line in err)


def test_console_script_runs_without_traceback(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("classes: 3\n")
    proc = subprocess.run(
        [sys.executable, "-m", "synthbio_ppl.cli", "validate", str(spec)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("synthbio: error: classes: 3 is not allowed")


def test_zero_rows_is_refused_not_ignored(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["generate", str(MODELS / "demo.yaml"), "--out", str(out), "--rows", "0"]) == 2
    assert "rows: 0 is not allowed" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["validate", "{tmp}/binary.yaml"], "not a text file"),
        (["generate", "{models}/demo.yaml", "--out", "{tmp}/afile/sub"], "which is a file"),
        (["generate", "{models}/demo.yaml", "--out", ".", "--force"], "current folder"),
        (["generate", "{models}/demo.yaml", "--out", "{tmp}/o", "--seed", "-1"], "seed"),
        (["generate", "{models}/demo.yaml", "--out", "{tmp}/o", "--seed", str(2**70)], "seed"),
        (["fit", "{tmp}", "--seed", "-5"], "seed"),
        (["twin", "{tmp}/t.csv", "--label", "y", "--out", "{tmp}/o", "--seed", "x"], "whole"),
        (["cluster", "{tmp}", "--bootstrap", "-1"], "from 1 to 2^31"),
    ],
)
def test_bad_arguments_are_one_line_exit_2(
    tmp_path: Path, capsys, argv: list[str], message: str
) -> None:
    (tmp_path / "binary.yaml").write_bytes(b"\x00\xff\xfe\x80")
    (tmp_path / "afile").write_text("x")
    args = [a.format(tmp=tmp_path, models=MODELS) for a in argv]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("synthbio: error:") and message in err
    assert not (tmp_path / "o").exists()


def test_an_unwritable_output_is_one_line_exit_1(capsys) -> None:
    assert main(["generate", str(MODELS / "demo.yaml"), "--out", "/proc/synthbio-x"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("synthbio: error: ")


def test_a_closed_pipe_ends_quietly() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "synthbio_ppl.cli", "reference"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # the reader is gone before anything is written (| head -0)
    err = proc.stderr.read().decode()
    assert proc.wait() == 141 and "Traceback" not in err and err == ""


def test_an_unknown_figure_format_is_refused_before_clustering(capsys) -> None:
    assert main(["cluster", "/nonexistent", "--plot", "figure.xyz"]) == 2
    err = capsys.readouterr().err
    assert "--plot" in err and "png" in err  # refused before the folder is even read


def test_an_internal_fault_is_one_line_exit_1_and_a_traceback_with_debug(
    monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """A fault of the program (not the input) is one line on stderr and exit 1; ``--debug``
    raises it with its traceback."""
    import synthbio_ppl.model.scene as scene

    def broken(path: object) -> None:
        raise RuntimeError("a bug\nover two lines")

    monkeypatch.setattr(scene, "load_spec", broken)
    assert main(["validate", str(MODELS / "demo.yaml")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "synthbio: internal error: RuntimeError: a bug over two lines (run again with --debug "
        "for the traceback, and report it)"
    ]
    with pytest.raises(RuntimeError, match="a bug"):
        main(["--debug", "validate", str(MODELS / "demo.yaml")])


def test_describe_takes_a_dataset_folder_for_its_spec(tmp_path: Path, capsys) -> None:
    """``describe DIR`` said "'DIR' is not allowed; cannot read the file (Is a directory)";
    a dataset folder's spec is DIR/spec.yaml, which it now describes."""
    assert main(["describe", str(MODELS / "demo.yaml")]) == 0
    expected = capsys.readouterr().out
    (tmp_path / "spec.yaml").write_text((MODELS / "demo.yaml").read_text())
    assert main(["describe", str(tmp_path)]) == 0
    assert capsys.readouterr().out == expected
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["describe", str(empty)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("synthbio: error: SPEC: '")  # the value may be shortened: a long path
    assert "' is not allowed; a folder without spec.yaml" in err
    assert "describe takes a YAML spec file or a dataset folder" in err
    assert f"{empty}/spec.yaml" in err
