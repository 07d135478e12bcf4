"""Hostile input the loader once let through, for ``fit`` to trip on later: truth.json's
parameters and tables, nullable columns, counts, outcome columns, truth.json and
spec.yaml that disagree, streamed parts rewritten without their row record, a cut part.
Each is refused on load in one line naming the file, the entry or column and the value."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

import synthbio_ppl as sb
from synthbio_ppl.engine.parquet_writer import generate_to_parquet
from tests.data.test_tampered_folders import MIXED, SURVIVAL, _swap, cell, copy, edit, refused

CENSORED = {
    **SURVIVAL,
    "outcome": {**SURVIVAL["outcome"], "censoring": {"end_of_study": 3.0}},
}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hostile")
    plain = {**SURVIVAL, "shuffle": False}  # no batches, groups, nor shuffled classes
    return {
        "mixed": sb.generate(MIXED).to_parquet(root / "mixed"),
        "censored": sb.generate(CENSORED).to_parquet(root / "censored"),
        "streamed": generate_to_parquet(MIXED, root / "streamed", rows=900, chunk_rows=256),
        "plain": generate_to_parquet(plain, root / "plain", rows=1200, chunk_rows=256),
    }


def _edit_truth(folder: Path, change) -> None:
    truth = json.loads((folder / "truth.json").read_text())
    change(truth)
    (folder / "truth.json").write_text(json.dumps(truth))


def _edit_spec(folder: Path, change) -> None:
    spec = yaml.safe_load((folder / "spec.yaml").read_text())
    change(spec)
    (folder / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))


# -- 1. truth.json's parameters


@pytest.mark.parametrize(
    ("value", "shown"),
    [('"abc"', "'abc' is not allowed"), ("9" * 400, "9999"), ("[0.5, null]", "[0.5, None]")],
    ids=["text", "400 digits", "null inside"],
)
def test_a_truth_parameter_that_is_not_a_number_is_named(
    written: dict[str, Path], tmp_path: Path, value: str, shown: str
) -> None:
    folder = copy(written, "mixed", tmp_path)
    _edit_truth(folder, lambda t: t["parameters"].__setitem__("batch.strength", "@@"))
    text = (folder / "truth.json").read_text().replace('"@@"', value)
    (folder / "truth.json").write_text(text)
    message = refused(folder)
    assert "truth.json entry parameters.batch.strength: " + shown in message, message
    assert "a finite number, or a list of them of one shape" in message


def test_a_drawn_parameter_of_the_wrong_shape_is_named(
    written: dict[str, Path], tmp_path: Path
) -> None:
    """batch.offset is drawn, not set by the spec: its one value would broadcast over every
    batch and feature in a fit's recovery table; the truth rebuilt from it differs (first
    in the count block's batch factors, exp(offset))."""
    folder = copy(written, "mixed", tmp_path)
    _edit_truth(folder, lambda t: t["parameters"].__setitem__("batch.offset", [1.0]))
    message = refused(folder)
    assert "truth.json entry features['gene_0', 'batch_factor_batch0']: " in message, message
    assert "spec.yaml and truth.json's parameters give 2.718281828459045 there" in message
    assert "spec.yaml and truth.json were not written together" in message


def test_a_fixed_parameter_of_the_wrong_shape_is_named(
    written: dict[str, Path], tmp_path: Path
) -> None:
    folder = copy(written, "mixed", tmp_path)
    _edit_truth(folder, lambda t: t["parameters"].__setitem__("inf.effect_size", [1.0, 1.0]))
    message = refused(folder)
    assert "truth.json entry parameters.inf.effect_size: [1.0, 1.0] is not allowed" in message
    assert "give [1.0] there" in message, message


# -- 2, 3. nullable columns holding <NA>


def test_a_nullable_mask_cell_holding_na_is_named(written: dict[str, Path], tmp_path: Path) -> None:
    folder = copy(written, "mixed", tmp_path)
    edit(folder / "missing.parquet", cell("inf_1", 4, pd.NA, "boolean"))
    message = refused(folder)
    assert "missing.parquet row 4, column 'inf_1': <NA> is not allowed" in message, message
    assert "true (missing) or false (observed)" in message


@pytest.mark.parametrize("column", ["sub_0", "gene_2"])
def test_a_nullable_integer_feature_holding_na_is_named(
    written: dict[str, Path], tmp_path: Path, column: str
) -> None:
    folder = copy(written, "mixed", tmp_path)

    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame[column] = frame[column].round().astype("Int64")
        frame.loc[3, column] = pd.NA
        return frame

    edit(folder / "data.parquet", change)
    message = refused(folder)
    assert f"data.parquet row 3, column '{column}': <NA> is not allowed" in message, message
    assert "no missing: entry of the spec hides this column" in message


def test_na_in_a_masked_column_of_a_nullable_type_is_named(
    written: dict[str, Path], tmp_path: Path
) -> None:
    folder = copy(written, "mixed", tmp_path)
    edit(folder / "data.parquet", lambda f: f.astype({"inf_0": "Float64"}))
    message = refused(folder)
    assert "column 'inf_0': <NA> is not allowed" in message, message
    assert "NaN in a float column" in message


# -- 4. counts


@pytest.mark.parametrize(("value", "kind"), [(-3, None), (2.5, float)])
def test_a_negative_or_fractional_count_is_named(
    written: dict[str, Path], tmp_path: Path, value: float, kind: object
) -> None:
    folder = copy(written, "mixed", tmp_path)
    edit(folder / "data.parquet", cell("gene_1", 5, value, kind))
    message = refused(folder)
    assert f"data.parquet row 5, column 'gene_1': {value} is not allowed" in message, message
    assert "a count column holds whole numbers from 0 to 2^31 - 1" in message


# -- 5. the truth's own tables


@pytest.mark.parametrize(
    ("table", "value", "shown", "rule"),
    [
        ("class_means", float("nan"), "nan", "truth.json's parameters give -0.5 there"),
        ("effect_sizes", float("nan"), "nan", "truth.json's parameters give 1.0 there"),
        ("class_means", "x", "'x'", "the truth's class means and effect sizes are numbers"),
        ("effect_sizes", "x", "'x'", "the truth's class means and effect sizes are numbers"),
    ],
    ids=["class means nan", "effect sizes nan", "class means text", "effect sizes text"],
)
def test_nan_or_text_in_the_truths_tables_is_named(
    written: dict[str, Path], tmp_path: Path, table: str, value: object, shown: str, rule: str
) -> None:
    """Blank cells are not written there: a NaN differs from the truth rebuilt from the
    parameters (a structural biomarker without a closed-form mean has NaN in both)."""
    folder = copy(written, "mixed", tmp_path)
    _edit_truth(folder, lambda t: t[table]["data"][1].__setitem__(0, value))
    message = refused(folder)
    column = "a" if table == "class_means" else "b vs a"
    assert f"truth.json entry {table}['inf_1', '{column}']: {shown} is not allowed" in message
    assert rule in message, message


# -- 6. the outcome's columns


def test_a_survival_time_stored_as_text_is_named(written: dict[str, Path], tmp_path: Path) -> None:
    folder = copy(written, "censored", tmp_path)
    edit(folder / "data.parquet", lambda f: f.astype({"time": str}))
    message = refused(folder)
    assert "data.parquet row 0, column 'time': '" in message, message
    assert "the outcome's columns hold numbers (this one holds text)" in message


# -- 7. truth.json and spec.yaml that disagree


DISAGREEING = {
    "outcome null in truth.json": (
        "censored",
        lambda folder: _edit_truth(folder, lambda t: t.__setitem__("outcome", None)),
        "truth.json entry outcome: None is not allowed; spec.yaml and truth.json's parameters "
        "give an entry (OutcomeTruth) there",
    ),
    "missing affects edited in spec.yaml": (
        "mixed",
        lambda folder: _edit_spec(
            folder, lambda s: s["missing"][0].__setitem__("affects", ["sub"])
        ),
        "truth.json entry missingness.miss0.columns: ['inf_0', 'inf_1', 'inf_2'] is not allowed; "
        "spec.yaml and truth.json's parameters give the rows ['sub_0', 'sub_1'] there",
    ),
    "end_of_study edited in spec.yaml": (
        "censored",
        lambda folder: _edit_spec(
            folder, lambda s: s["outcome"]["censoring"].__setitem__("end_of_study", 1.0)
        ),
        "truth.json entry parameters.outcome.end_of_study: 3.0 is not allowed; spec.yaml's "
        "outcome.end_of_study gives 1.0",
    ),
}


@pytest.mark.parametrize("case", DISAGREEING)
def test_a_truth_and_spec_that_disagree_are_refused(
    written: dict[str, Path], tmp_path: Path, case: str
) -> None:
    name, change, expected = DISAGREEING[case]
    folder = copy(written, name, tmp_path)
    change(folder)
    message = refused(folder)
    assert expected in message, message
    assert "spec.yaml and truth.json were not written together" in message


# -- 8, 9. streamed parts


def _rewrite(part: Path) -> None:
    """Through pandas, as a user would: the part's row record is dropped."""
    frame = pd.read_parquet(part)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), part)


def _rewrite_and_swap(folder: Path) -> None:
    """Parts 0 and 1 of the data and the latents rewritten, then swapped (part 2 keeps
    its record; the classes do not betray them: both parts are class a's rows)."""
    for table in ("data", "latents"):
        for index in (0, 1):
            _rewrite(folder / table / f"part-{index:06d}.parquet")
    _swap(folder, 0, 1, ["data", "latents"])


REWRITTEN = {
    "parts rewritten and swapped": (
        _rewrite_and_swap,
        "data/part-000000.parquet' is not allowed; carries no record of its rows (synthbio.rows "
        "in its metadata), which part-000002.parquet carries: a streamed run writes it into "
        "every part, so this one was rewritten",
    ),
    "a per-row table's parts rewritten": (
        lambda folder: [_rewrite(part) for part in (folder / "latents").iterdir()],
        "latents/part-000000.parquet' is not allowed; carries no record of its rows "
        "(synthbio.rows in its metadata), which data/part-000000.parquet carries",
    ),
}


@pytest.mark.parametrize("case", REWRITTEN)
def test_parts_rewritten_without_their_row_record_are_refused(
    written: dict[str, Path], tmp_path: Path, case: str
) -> None:
    """No batches, groups nor shuffled classes: only the parts' row record tells."""
    change, expected = REWRITTEN[case]
    folder = copy(written, "plain", tmp_path)
    change(folder)
    assert expected in refused(folder)


def test_a_cut_last_part_says_how_many_rows_it_lost(
    written: dict[str, Path], tmp_path: Path
) -> None:
    folder = copy(written, "streamed", tmp_path)
    last = folder / "data" / "part-000003.parquet"
    pq.write_table(pq.read_table(last).slice(0, 10), last)  # its row record kept
    message = refused(folder)
    assert "part-000003.parquet' is not allowed; holds 10 rows where it was written with 132" in (
        message
    ), message
    assert "(rows 768:900 of the table): 122 rows fewer" in message


def test_untouched_folders_still_load(written: dict[str, Path]) -> None:
    for folder in written.values():
        data = sb.load_dataset(folder)
        assert np.isfinite(data.X.to_numpy(dtype=float)[~data.X.isna().to_numpy()]).all()


def test_loading_compares_the_truth_without_jax(tmp_path: Path) -> None:
    """A raw-scale noise block's level mean is a NumPyro distribution's mean: the spec
    fixes all its parameters, so its class means are taken as written, and loading (the
    truth rebuilt) imports no JAX."""
    raw = {"name": "assay", "n": 2, "distribution": "uniform", "standardise": False}
    spec = {**MIXED, "noise": [{**raw, "params": {"low": -2.0, "high": 2.0}}]}
    folder = sb.generate(spec).to_parquet(tmp_path / "raw")
    code = (
        "import sys, synthbio_ppl as sb; sb.load_dataset(sys.argv[1]); "
        "print(sorted(m for m in ('jax', 'numpyro') if m in sys.modules))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(folder)], capture_output=True, text=True, check=True
    )
    assert run.stdout.strip() == "[]", run.stderr[-2000:]


def test_a_feature_beyond_the_specs_dtype_is_named(tmp_path) -> None:
    """A float32 spec's column rewritten as float64 holding 1e39: it loaded, and fit
    refused it later."""
    import pandas as pd

    spec = {"classes": [{"name": "a", "n": 20}, {"name": "b", "n": 20}], "noise": [{"n": 2}]}
    folder = sb.generate(spec).to_parquet(tmp_path / "d")
    frame = pd.read_parquet(folder / "data.parquet")
    frame["noise0_0"] = frame["noise0_0"].astype("float64")
    frame.loc[3, "noise0_0"] = 1e39
    frame.to_parquet(folder / "data.parquet", index=False)
    with pytest.raises(
        sb.SpecError, match=r"row 3, column 'noise0_0': 1e\+39 .*beyond ±3\.403e\+38"
    ):
        sb.load_dataset(folder)
