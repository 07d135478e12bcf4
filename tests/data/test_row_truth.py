"""A folder's per-row truth (latents, dropout) is read back only as the spec draws it: a
missing file, a lost, stray or mistyped column or a value out of kind is one line naming
the file and the column."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import synthbio_ppl as sb
from synthbio_ppl.cli.app import main
from synthbio_ppl.data.row_truth import latent_columns
from synthbio_ppl.engine.planning import rescale_rows
from synthbio_ppl.model.layout import build_layout
from synthbio_ppl.model.scene import load_spec, validate_spec
from tests.conftest import ROOT

COUNTS = {
    "classes": [{"name": "a", "n": 30}, {"name": "b", "n": 30}],
    "counts": [
        {
            "name": "gene",
            "n": 4,
            "library_size": {"median": 2000},
            "dropout": {"midpoint": 4.0, "slope": 1.0},
        }
    ],
}
PLAIN = {"classes": [{"name": "a", "n": 20}, {"name": "b", "n": 20}], "informative": [{"n": 3}]}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("row_truth")
    return {
        "counts": sb.generate(COUNTS).to_parquet(root / "counts"),
        "plain": sb.generate(PLAIN).to_parquet(root / "plain"),
    }


def _copy(written: dict[str, Path], name: str, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(written[name], tmp_path / name))


def _rewrite(path: Path, change: Callable[[pa.Table], pa.Table]) -> None:
    pq.write_table(change(pq.read_table(path)), path)


def _column(table: pa.Table, name: str, values: list) -> pa.Table:
    return table.set_column(table.column_names.index(name), name, pa.array(values))


LIBRARY = "gene.library_size"
CASES = {
    "latents removed": (
        "counts",
        lambda f: (f / "latents.parquet").unlink(),
        "latents.parquet' is not allowed; is missing: the spec draws per-row latents "
        "['gene.library_size']",
    ),
    "latents column renamed": (
        "counts",
        lambda f: _rewrite(f / "latents.parquet", lambda t: t.rename_columns(["size"])),
        "lacks the column 'gene.library_size'",
    ),
    "latents column added": (
        "counts",
        lambda f: _rewrite(
            f / "latents.parquet", lambda t: t.append_column("zz", pa.array([1.0] * 60))
        ),
        "holds the column 'zz', which the spec does not draw",
    ),
    "latents as text": (
        "counts",
        lambda f: _rewrite(f / "latents.parquet", lambda t: _column(t, LIBRARY, ["x"] * 60)),
        "column 'gene.library_size' holds text, not numbers",
    ),
    "latents not finite": (
        "counts",
        lambda f: _rewrite(
            f / "latents.parquet", lambda t: _column(t, LIBRARY, [1.0] * 59 + [np.inf])
        ),
        "column 'gene.library_size' holds inf at row 59; give finite numbers",
    ),
    "latents where none are drawn": (
        "plain",
        lambda f: pq.write_table(pa.table({"X": [0.0] * 40}), f / "latents.parquet"),
        "latents.parquet' is not allowed; holds latents, but the spec draws none per row",
    ),
    "dropout removed": (
        "counts",
        lambda f: (f / "dropout.parquet").unlink(),
        "dropout.parquet' is not allowed; is missing: the spec has dropout (or zero inflation)",
    ),
    "dropout column renamed": (
        "counts",
        lambda f: _rewrite(
            f / "dropout.parquet", lambda t: t.rename_columns(["x", *t.column_names[1:]])
        ),
        "lacks the column 'gene_0'",
    ),
    "dropout as numbers": (
        "counts",
        lambda f: _rewrite(f / "dropout.parquet", lambda t: _column(t, "gene_1", [0] * 60)),
        "column 'gene_1' holds int64 values, not true/false only",
    ),
    "dropout rows lost": (
        "counts",
        lambda f: _rewrite(f / "dropout.parquet", lambda t: t.slice(0, 50)),
        "dropout.parquet' is not allowed; has 50 rows, the data 60",
    ),
    "dropout where the spec has none": (
        "plain",
        lambda f: pq.write_table(pa.table({"inf0_0": [False] * 40}), f / "dropout.parquet"),
        "holds dropout marks, but the spec has no count dropout",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_damaged_row_truth_is_one_line_naming_file_and_column(
    written: dict[str, Path], tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    name, damage, message = CASES[case]
    folder = _copy(written, name, tmp_path)
    sb.load_dataset(folder)  # intact
    damage(folder)
    with pytest.raises(sb.SpecError) as info:
        sb.load_dataset(folder)
    assert message in str(info.value) and "\n" not in str(info.value), info.value
    assert main(["cluster", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_an_outcome_s_per_row_truth_is_checked_for_what_scoring_reads(tmp_path: Path) -> None:
    spec = rescale_rows(load_spec(ROOT / "models" / "risk_score.yaml"), 300)
    folder = sb.generate(spec).to_parquet(tmp_path / "risk")
    _rewrite(folder / "latents.parquet", lambda t: t.drop(["outcome.probability"]))
    with pytest.raises(sb.SpecError, match=r"lacks the column 'outcome.probability'"):
        sb.load_dataset(folder)


@pytest.mark.parametrize(
    "spec",
    [
        "survival_cohort",  # random censoring, a competing risk
        "haalsi_like",
        {
            "noise": [{"n": 3}],
            "outcome": {"kind": "survival", "n": 200, "coefficients": {"noise0": 0.5}},
        },
        {
            "noise": [{"n": 3}],
            "outcome": {"kind": "continuous", "n": 200, "r2": 0.5, "coefficients": {"noise0": 1}},
        },
    ],
)
def test_the_expected_latents_are_those_generate_draws(spec: str | dict) -> None:
    scene = (
        rescale_rows(load_spec(ROOT / "models" / f"{spec}.yaml"), 300)
        if isinstance(spec, str)
        else validate_spec(spec)
    )
    drawn, outcome, prefixes, _ = latent_columns(scene, build_layout(scene))
    columns = [str(c) for c in sb.generate(scene).truth.latents.columns]
    assert [c for c in columns if c in drawn or c in outcome] == [*drawn, *outcome]
    assert all(c.startswith(prefixes) for c in columns if c not in drawn and c not in outcome)
