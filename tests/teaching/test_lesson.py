"""``sb.setup_lesson``: the three-line start of a lesson notebook."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import synthbio_ppl as sb

ROOT = Path(__file__).resolve().parents[2]


def test_finds_the_catalogue_from_the_notebooks_folder_and_the_root() -> None:
    for start in (ROOT / "notebooks", ROOT):
        models, scene = sb.setup_lesson(start=start)
        assert models.resolve() == (ROOT / "models").resolve()
        assert scene("demo")["name"] == "demo"
    with pd.option_context("display.precision", 6):
        sb.setup_lesson(precision=2, start=ROOT)
        assert pd.get_option("display.precision") == 2


def test_says_where_it_looked_and_names_a_bad_precision(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no models/ folder"):
        sb.setup_lesson(start=tmp_path)
    with pytest.raises(ValueError, match="precision"):
        sb.setup_lesson(precision=-1, start=ROOT)


def test_refuses_a_start_that_is_no_folder_and_a_precision_pandas_cannot_show() -> None:
    with pytest.raises(ValueError, match="start must be a folder"):
        sb.setup_lesson(start=5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="from 0 to 15"):
        sb.setup_lesson(precision=10**6, start=ROOT)
