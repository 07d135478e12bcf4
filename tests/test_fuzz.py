"""Fuzzing the contract: any spec or command line ends in exit 0 with a loadable folder, or
exit 1/2 with one line, never a traceback, never a half-written folder. Any table handed to
``sb.twin`` (or ``synthbio twin``) twins, sampling a finite table with its columns, dtypes
and bounds, or is refused before the fit with one ``SpecError`` line naming the column.

A bounded run is part of ``make test``; ``make fuzz`` runs the same properties with many
more examples (``HYPOTHESIS_PROFILE=fuzz``).
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
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
    # the edges of float32 and float64: beyond, at and below their largest and smallest
    st.sampled_from([3.5e38, -3.4e38, 1e300, -1e308, 1e-300, 1e-40, 5e-324]),
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


# --------------------------------------------------------------------------- twin tables
# Tables of every column type a user hands ``sb.twin``/``synthbio twin``, 2–4 columns and
# at most 30 rows, a quarter of them with odd names, class sizes or labels. Categorical
# columns have at most 4 levels and rank is 1, so few compiled programs serve every table.

FLOATS = st.floats(-50, 50)
ODD_FLOATS = [math.inf, -math.inf, math.nan, 1e300, -1e300, 3.5e38, 1e-310, 2.0**63]
TEXT = st.sampled_from(["x", "", "nan", "é"])
NAMES = st.one_of(
    st.sampled_from(["a", "b", "a b", "a/b", "", " ", "y", "a.1", "A", "-x", "a=b", "0"]),
    st.integers(0, 2),
)
LABELS = {"int": [0, 1], "str": ["case", "control"], "bool": [False, True],
          "float": [0.5, 1.0], "three": ["a", "b", "c"], "mixed": [1, "1"],
          "category": ["p", "q"], "Int64": [0, 1]}  # fmt: skip
BOUNDS = [(0, None), (None, 100), (-1, 1), (math.nan, None), (1, 0), (-math.inf, math.inf), "x"]


def _ints(dtype: str) -> tuple[st.SearchStrategy, list]:
    info = np.iinfo(np.dtype(dtype.lower().removesuffix("[pyarrow]")))
    values = st.integers(max(int(info.min), -5), min(int(info.max), 60))
    return values, [int(info.min), int(info.max)] + [2**31, 10**12] * (info.bits == 64)


def _plain(dtype: str) -> Any:  # numpy ints/bools with a hole become what pandas makes
    return lambda c: pd.Series(c).to_numpy() if None in c else np.array(c, dtype=dtype)


def _floats(dtype: str) -> Any:
    return lambda c: np.array([np.nan if v is None else v for v in c]).astype(dtype)


def _objects(cells: list) -> np.ndarray:
    out = np.empty(len(cells), dtype=object)
    out[:] = cells
    return out


def _times(make: Any) -> Any:
    return lambda c: make(pd.Series([np.nan if v is None else v for v in c]), unit="s")


COLUMN_KINDS: dict[str, tuple[st.SearchStrategy, list, Any]] = {
    # kind: (cell values, odd values, cells → column)
    "float64": (FLOATS, ODD_FLOATS, _floats("float64")),
    "float32": (FLOATS, ODD_FLOATS, _floats("float32")),
    "float16": (FLOATS, ODD_FLOATS, _floats("float16")),
    "Float64": (FLOATS, ODD_FLOATS, lambda c: pd.array(c, dtype="Float64")),
    "double[pyarrow]": (FLOATS, ODD_FLOATS, lambda c: pd.array(c, dtype="double[pyarrow]")),
    "sparse": (FLOATS, ODD_FLOATS, lambda c: pd.arrays.SparseArray(_floats("float64")(c))),
    "int64": (*_ints("int64"), _plain("int64")),
    "int8": (*_ints("int8"), _plain("int8")),
    "uint8": (*_ints("uint8"), _plain("uint8")),
    "Int64": (*_ints("Int64"), lambda c: pd.array(c, dtype="Int64")),
    "UInt8": (*_ints("UInt8"), lambda c: pd.array(c, dtype="UInt8")),
    "int64[pyarrow]": (*_ints("int64"), lambda c: pd.array(c, dtype="int64[pyarrow]")),
    "bool": (st.booleans(), [], _plain("bool")),
    "boolean": (st.booleans(), [], lambda c: pd.array(c, dtype="boolean")),
    "category": (st.sampled_from("xyz"), ["w"], lambda c: pd.Categorical(c, categories=["z", "x"])),
    "object": (TEXT, [], _objects),
    "string": (TEXT, [], lambda c: pd.array(c, dtype="string")),
    "string[pyarrow]": (TEXT, [], lambda c: pd.array(c, dtype="string[pyarrow]")),
    "mixed": (st.sampled_from([1, "1", True, 2.5]), [math.nan], _objects),
    "dates": (st.integers(0, 10**9), [], _times(pd.to_datetime)),
    "durations": (st.integers(0, 10**9), [], _times(pd.to_timedelta)),
    "complex": (FLOATS, [], lambda c: _floats("float64")(c) + 0.5j),
    "lists": (st.lists(st.integers(0, 2), max_size=2), [], _objects),
}  # fmt: skip


REFUSED_KINDS = ("dates", "durations", "complex", "lists")
FEW_VALUES = ("bool", "boolean", "category", "object", "string", "string[pyarrow]", "mixed",
              "lists")  # fmt: skip


def _column(draw: st.DrawFn, n: int, hostile: bool, numeric: bool) -> Any:
    """n cells of a kind (a numeric one if ``numeric``): plain or with holes, float columns
    sometimes far from 0 or tiny; a hostile column may also be of any kind, hold one odd
    value, be constant or all missing."""
    refused = () if hostile else REFUSED_KINDS + FEW_VALUES * numeric
    kinds = sorted(k for k in COLUMN_KINDS if k not in refused)
    kind = draw(st.sampled_from(kinds))
    values, odd, make = COLUMN_KINDS[kind]
    distinct = kind not in FEW_VALUES  # else hypothesis favours columns of zeros
    cells = draw(st.lists(values, min_size=n, max_size=n, unique=distinct))
    flavours = ["plain", "plain", "holes"] + ["odd", "constant", "empty"] * hostile
    flavour = draw(st.sampled_from(flavours))
    if n and flavour == "odd" and odd:
        cells[draw(st.integers(0, n - 1))] = draw(st.sampled_from(odd))
    elif flavour == "holes":
        cells = [None if draw(st.booleans()) else c for c in cells]
    elif n and flavour == "constant":
        cells = [cells[0]] * n
    elif flavour == "empty":
        cells = [None] * n
    if values is FLOATS:
        shift, unit = draw(st.sampled_from([(0, 1)] * 4 + [(1e9, 1), (0, 1e-40), (1e12, 1e3)]))
        cells = [None if c is None else shift + unit * c for c in cells]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an odd value overflowing a small dtype
        return make(cells)


@st.composite
def twin_tables(draw: st.DrawFn) -> tuple[pd.DataFrame, Any, dict[str, Any]]:
    """(a table, its label's name, ``types``/``bounds`` for some of its columns)."""
    classes = LABELS[coding := draw(st.sampled_from(sorted(LABELS)))]
    odd = draw(st.integers(0, 3)) == 0  # odd names, class sizes or labels a quarter of the time
    sizes = st.integers(0, 10) if odd else st.sampled_from([6, 8, 10])
    labels: list[Any] = [c for c in classes for _ in range(draw(sizes))]
    n = len(labels)
    if odd and n and draw(st.booleans()):  # a row without a class
        labels[draw(st.integers(0, n - 1))] = None
    label_column: Any = pd.Series(labels, dtype=object if coding == "mixed" else None)
    if coding in ("category", "Int64"):
        label_column = pd.array(labels, dtype=coding)
    width = draw(st.integers(2, 4))
    names: list[Any] = ["y", "a", "b c", "é"][:width]
    for i in draw(st.lists(st.integers(0, width - 1), max_size=2)) if odd else []:
        names[i] = draw(NAMES)
    hostile = draw(st.integers(1, 2 * width - 2))  # one hostile column half the time
    columns = [label_column] + [_column(draw, n, i == hostile, i == 1) for i in range(1, width)]
    at = draw(st.integers(0, width - 1))  # the label need not come first
    columns.insert(at, columns.pop(0))
    names.insert(at, names.pop(0))
    frame = pd.concat([pd.Series(c).reset_index(drop=True) for c in columns], axis=1)
    frame.columns = names
    if n > 1 and draw(st.booleans()):
        frame = frame.sample(frac=1.0, random_state=draw(st.integers(0, 9)))
        frame = frame.reset_index(drop=True)
    options: dict[str, Any] = {"types": {}, "bounds": {}}
    for name in names:
        if name != names[at] and isinstance(name, str) and draw(st.integers(0, 15)) == 0:
            kinds = ["continuous", "integer", "categorical", "text"]
            options["types"][name] = draw(st.sampled_from(kinds))
        if name != names[at] and isinstance(name, str) and draw(st.integers(0, 15)) == 0:
            options["bounds"][name] = draw(st.sampled_from(BOUNDS))
    return frame, names[at], options


TWIN_TABLES = twin_tables()
FAST_TWIN = {"method": "map", "svi_steps": 5, "rank": 1}  # the cheapest fit sb.twin offers
WHERE = ("data", "label", "types", "bounds")  # what a refusal's path starts with


def _check_sample(frame: pd.DataFrame, label: Any, fitted: sb.Twin, n: int, seed: int) -> None:
    """The promises of ``Twin.sample``: n rows, the table's columns and dtypes, finite
    numbers within each column's bounds (integer columns whole), levels and classes seen
    in the table, missing cells only where the table had some."""
    synthetic = fitted.sample(n, seed=seed)
    assert len(synthetic) == n and list(synthetic.columns) == list(frame.columns)
    for name in frame.columns:
        assert synthetic[name].dtype == frame[name].dtype, (name, synthetic[name].dtype)
    assert synthetic[label].notna().all() and set(synthetic[label]) <= set(fitted.layout.classes)
    rates = fitted.missing_rates.max(axis=1)
    for column in fitted.layout.columns:
        values = synthetic[column.name]
        assert rates[column.name] > 0 or values.notna().all(), column.name
        if column.kind == "categorical":
            assert set(values.dropna()) <= set(column.levels), column.name
            continue
        x = values.dropna().to_numpy(dtype=np.float64)
        assert np.isfinite(x).all(), column.name
        assert column.low is None or (x >= column.low).all(), column.name
        assert column.high is None or (x <= column.high).all(), column.name
        if column.kind == "integer" or pd.api.types.is_integer_dtype(column.dtype):
            assert (x == np.round(x)).all(), column.name
        low = -np.inf if column.low is None else column.low
        high = np.inf if column.high is None else column.high
        inside = x[(x > low) & (x < high)]
        wide = (
            pd.api.types.is_float_dtype(column.dtype) and getattr(column.dtype, "itemsize", 8) == 8
        )
        if column.kind == "continuous" and wide and len(inside) >= 3:  # not all one value
            assert np.unique(inside).size > 1, (column.name, inside[:3])
    assert "\n" not in repr(fitted) and len(fitted.parameters()) == len(fitted.layout.numeric)


@given(table=TWIN_TABLES, n=st.integers(1, 30), seed=st.integers(0, 2**32 - 1))
def test_any_table_twins_or_is_refused_before_the_fit(
    table: tuple[pd.DataFrame, Any, dict[str, Any]], n: int, seed: int
) -> None:
    from synthbio_ppl.twins import fitting

    frame, label, options = table
    with mock.patch.object(fitting, "_fit_program", wraps=fitting._fit_program) as program:
        try:
            fitted = sb.twin(frame, label, **options, **FAST_TWIN)
        except sb.SpecError as exc:
            assert not program.called, f"refused after the fit: {exc}"
            where, _, name = exc.path.partition(".")
            assert "\n" not in str(exc) and where in WHERE, exc
            assert name in ("", "columns") or name in map(str, frame.columns), exc
            return
    _check_sample(frame, label, fitted, n, seed)


def _is_number(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _write_table(frame: pd.DataFrame, folder: Path, parquet: bool) -> Path:
    """The table as Parquet when asked and Arrow can hold it, else as CSV."""
    if parquet:
        with contextlib.suppress(Exception):  # names or cells Arrow cannot store
            frame.to_parquet(path := folder / "real.parquet", index=False)
            return path
    frame.to_csv(path := folder / "real.csv", index=False)
    return path


@settings(max_examples=max(4, settings.default.max_examples // 3))  # a run scores too
@given(
    table=TWIN_TABLES,
    parquet=st.booleans(),
    holdout=st.sampled_from(["0", "0.1", "0.3"]),
    declare=st.integers(0, 3).map(bool),
)
def test_any_table_on_the_command_line_keeps_the_contract(
    table: tuple[pd.DataFrame, Any, dict[str, Any]], parquet: bool, holdout: str, declare: bool
) -> None:
    frame, label, options = table
    work = Path(tempfile.mkdtemp(prefix="fuzz-"))
    try:
        path = _write_table(frame, work, parquet)
        types = dict(options["types"])
        if declare:  # what the message about a text column asks for
            text = [c for c in frame.columns if not _is_number(frame[c])]
            types.update({str(c): "categorical" for c in text if c != label})
        out = work / "out"
        argv = ["twin", str(path), "--label", str(label), "--out", str(out), "--quiet"]
        argv += ["--method", "map", "--rank", "1", "--holdout", holdout]
        argv += ["--types", ",".join(f"{c}={k}" for c, k in types.items())] if types else []
        code, err = _run(argv)
        assert code in (0, 1, 2), (code, err)
        assert "Traceback" not in err
        if code:
            assert err.count("\n") == 1 and err.startswith("synthbio: error: "), err
            assert not out.exists()
        else:
            written = pd.read_parquet if path.suffix == ".parquet" else pd.read_csv
            synthetic = written(out / f"synthetic{path.suffix}")
            assert list(synthetic.columns) == list(written(path).columns)
            assert (out / "report.json").exists() and (out / "posterior.nc").exists()
        expected = {path.name} | ({"out"} if code == 0 else set())
        assert {p.name for p in work.iterdir()} == expected  # no staging folder left
    finally:
        shutil.rmtree(work, ignore_errors=True)
