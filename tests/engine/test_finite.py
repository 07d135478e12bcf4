"""Generation never writes non-finite values: it stops, naming the parameter or block."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import synthbio_ppl as sb
from synthbio_ppl.cli.app import main
from synthbio_ppl.core.errors import SpecError
from synthbio_ppl.engine.parquet_writer import generate_to_parquet

BASE = {"classes": [{"name": "a", "n": 50}, {"name": "b", "n": 50}]}
HUGE_FACTOR = {"n": 2, "effect": "multiplicative", "strength": 100}
OVERFLOWS = [
    ({"noise": [{"n": 2, "distribution": "lognormal", "params": {"sigma": 14}}]}, "noise[0]"),
    ({"informative": [{"n": 2, "effect_size": 1e39}]}, "informative[0].effect_size"),
    (
        {
            "informative": [{"n": 2}],
            "batches": {"n": 2, "effect": "multiplicative", "strength": 100},
        },
        "informative[0]",
    ),
    (
        {"structure": {"n": 100, "biomarkers": {"A": {"baseline": 1e39}}}},
        "structure.biomarkers.A.baseline",
    ),
]


@pytest.mark.parametrize(("extra", "path"), OVERFLOWS)
def test_overflow_is_refused_naming_its_source(extra: dict[str, Any], path: str) -> None:
    with pytest.raises(SpecError) as info:
        sb.generate({**BASE, **extra})
    assert info.value.path == path


def test_large_but_finite_values_are_generated() -> None:
    data = sb.generate({**BASE, "informative": [{"n": 2, "effect_size": 1e30}]})
    assert np.isfinite(data.X.to_numpy()).all()


def test_streamed_and_cli_generation_refuse_overflow_too(tmp_path: Path, capsys) -> None:
    spec = {**BASE, **OVERFLOWS[0][0]}
    with pytest.raises(SpecError, match="non-finite"):
        generate_to_parquet(spec, tmp_path / "s", rows=100)
    (tmp_path / "s.yaml").write_text(sb.validate_spec(spec).to_yaml())
    assert main(["generate", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "o")]) == 2
    assert "noise[0]" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_rare_non_finite_value_is_counted_not_rounded_to_zero_percent() -> None:
    from synthbio_ppl.engine.finite import check_finite
    from synthbio_ppl.model.layout import build_layout

    spec = sb.validate_spec({"name": "f", "informative": [{"n": 2}], "classes": BASE["classes"]})
    values = np.zeros((1000, 2), np.float32)
    values[417, 1] = np.inf
    with pytest.raises(SpecError, match=r"1 of 1000 values non-finite in inf0_1"):
        check_finite(spec, build_layout(spec), values)
