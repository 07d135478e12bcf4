"""Warnings on the command line: one line each, ``synthbio: warning: <message>``.

A successful fit printed each warning Python's way, the file, line and source over two to
four lines. ``main`` now prints each (the package's and third-party ones) as one line on
stderr, and restores Python's own format when it returns; ``--debug`` keeps it.
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest

from synthbio_ppl.cli.app import main
from tests.conftest import MODELS

SPEC = str(MODELS / "demo.yaml")


@pytest.fixture
def warning_validate(monkeypatch: pytest.MonkeyPatch) -> None:
    """``validate`` warns twice (one of ours over two lines, one from elsewhere) and then
    succeeds."""
    import synthbio_ppl.model.scene as scene

    load = scene.load_spec

    def load_spec(path: object) -> object:
        message = "10% of the NUTS transitions diverged:\n  the draws may be biased."
        warnings.warn(message, stacklevel=2)
        warnings.warn_explicit(
            "a third-party\tchange", FutureWarning, "/site/other/module.py", 7, module="other"
        )
        return load(path)

    monkeypatch.setattr(scene, "load_spec", load_spec)


def test_each_warning_is_one_line(warning_validate, capsys) -> None:
    shown = warnings.showwarning
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main(["validate", SPEC]) == 0
        assert warnings.showwarning is shown  # restored on return
    captured = capsys.readouterr()
    assert "valid" in captured.out
    assert captured.err.splitlines() == [
        "synthbio: warning: 10% of the NUTS transitions diverged: the draws may be biased.",
        "synthbio: warning: a third-party change",
    ]


WARN_THEN_RUN = """
import sys, warnings
import synthbio_ppl.model.scene as scene
load = scene.load_spec
def load_spec(path):
    warnings.warn("diverged:\\n  the draws may be biased.", RuntimeWarning)
    return load(path)
scene.load_spec = load_spec
from synthbio_ppl.cli.app import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("debug", [False, True])
def test_the_command_prints_one_line_and_debug_pythons_format(debug: bool) -> None:
    """As run: ``--debug`` keeps Python's format (file, line, category, source)."""
    argv = ["--debug"] * debug + ["validate", SPEC]
    proc = subprocess.run(
        [sys.executable, "-c", WARN_THEN_RUN, *argv], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    if debug:
        assert "<string>:6: RuntimeWarning: diverged:" in proc.stderr, proc.stderr
    else:
        assert proc.stderr == "synthbio: warning: diverged: the draws may be biased.\n"


def test_a_command_that_fails_prints_its_error_line_alone(warning_validate, capsys) -> None:
    """Warnings before a refusal (an SVI fit not converged, then a full disk) are left out:
    a failed command's stderr is its one error line."""
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main(["validate", str(MODELS / "no_such_spec.yaml")]) != 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("synthbio: error:"), err


def test_a_warning_repeated_by_every_chunk_is_printed_once(monkeypatch, capsys) -> None:
    """A streamed run warned once per chunk: 40 identical lines for one condition."""
    import synthbio_ppl.model.scene as scene

    load = scene.load_spec

    def load_spec(path: object) -> object:
        for _ in range(40):
            warnings.warn("counts of counts0 reach 2^31", RuntimeWarning, stacklevel=2)
        warnings.warn("another", UserWarning, stacklevel=2)
        return load(path)

    monkeypatch.setattr(scene, "load_spec", load_spec)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main(["validate", SPEC]) == 0
    assert capsys.readouterr().err.splitlines() == [
        "synthbio: warning: counts of counts0 reach 2^31 (×40)",
        "synthbio: warning: another",
    ]
