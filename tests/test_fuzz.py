"""Fuzzing the contract: any spec or command line ends in exit 0 with a loadable folder, or
exit 1/2 with one line, never a traceback, never a half-written folder.

A bounded run is part of ``make test``; ``make fuzz`` runs the same properties with many
more examples (``HYPOTHESIS_PROFILE=fuzz``).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import synthbio_ppl as sb
from synthbio_ppl.cli.app import main
from tests.model.test_properties import _paths, valid_specs

settings.register_profile(
    "bounded", max_examples=25, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.register_profile(
    "fuzz", max_examples=400, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "bounded"))

ODD = st.one_of(
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=6),
    st.lists(st.integers(-3, 3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(-3, 3), max_size=2),
)


@st.composite
def specs(draw: st.DrawFn) -> dict[str, Any]:
    """A valid spec, and half the time one of its values replaced by an odd one."""
    spec = draw(valid_specs())
    if draw(st.booleans()):
        path = draw(st.sampled_from([p for p in _paths(spec) if p]))
        node = spec
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = draw(ODD)
    return spec


SPECS = specs()


def _run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, err.getvalue()


@given(spec=SPECS, rows=st.one_of(st.none(), st.integers(-5, 600)), force=st.booleans())
def test_any_spec_on_the_command_line_keeps_the_contract(
    spec: dict[str, Any], rows: int | None, force: bool
) -> None:
    work = Path(tempfile.mkdtemp(prefix="fuzz-"))
    try:
        path = work / "spec.yaml"
        path.write_text(yaml.safe_dump(spec))
        out = work / "out"
        argv = ["generate", str(path), "--out", str(out), "--quiet"]
        argv += ["--rows", str(rows)] if rows is not None else []
        argv += ["--force"] if force else []
        for command in (["validate", str(path)], ["describe", str(path)], argv):
            code, err = _run(command)
            assert code in (0, 1, 2), (command, code, err)
            assert "Traceback" not in err
            if code:
                assert err.count("\n") == 1 and err.startswith("synthbio: error: "), err
        if code == 0:
            assert sb.load_dataset(out).X.shape[0] >= 1
        else:
            assert not out.exists()
        leftovers = [p.name for p in work.iterdir() if p.name not in ("spec.yaml", "out")]
        assert leftovers == [] or all(p.endswith(".partial") for p in leftovers), leftovers
    finally:
        shutil.rmtree(work, ignore_errors=True)


FLAGS = st.lists(
    st.sampled_from(
        ["--seed", "--rows", "--chunk-rows", "--force", "--resume", "--quiet", "--progress",
         "--out", "-1", "0", "7", "2.5", "x", "1e9", "", "--"]
    ),
    max_size=6,
)  # fmt: skip


@given(flags=FLAGS, command=st.sampled_from(["generate", "validate", "describe", "fit"]))
def test_any_flags_end_in_one_line_or_success(flags: list[str], command: str) -> None:
    work = Path(tempfile.mkdtemp(prefix="fuzz-"))
    try:
        spec = work / "spec.yaml"
        spec.write_text("classes: [{name: a, n: 3}, {name: b, n: 3}]\nnoise: [{n: 2}]\n")
        cwd = os.getcwd()
        os.chdir(work)  # any relative --out lands in the scratch folder
        try:
            code, err = _run([command, str(spec), *flags])
        finally:
            os.chdir(cwd)
        assert code in (0, 1, 2), (flags, code, err)
        assert "Traceback" not in err
        if code:
            assert err.count("\n") == 1, err
    finally:
        shutil.rmtree(work, ignore_errors=True)
