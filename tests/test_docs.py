"""The documentation site covers what the package has: a page per registered process, an
API entry per exported name, every lesson in the navigation. (``make docs`` builds it in
strict mode, so a broken link or reference fails ``make test``.)"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

import synthbio_ppl as sb
from synthbio_ppl.processes.registry import BLOCK_PROCESSES, MASKS, MODIFIERS, RESPONSES

ROOT = Path(__file__).resolve().parents[1]
SITE = yaml.safe_load((ROOT / "mkdocs.yml").read_text())


def _nav(entries: list) -> list[str]:
    pages = []
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages += _nav(value) if isinstance(value, list) else [value]
    return pages


NAV = _nav(SITE["nav"])


def test_every_process_has_a_page_with_its_model() -> None:
    for process in (*BLOCK_PROCESSES, *MODIFIERS, *MASKS, *RESPONSES):
        page = f"processes/{process.field}.md"
        assert page in NAV, page
        text = (ROOT / "docs" / page).read_text()
        module = re.search(r"^::: (synthbio_ppl\.processes\.\S+)", text, re.M)
        assert module is not None and module.group(1).startswith(type(process).__module__)


def test_every_exported_name_is_in_the_api_reference() -> None:
    text = (ROOT / "docs" / "api.md").read_text()
    for name, module in sb._EXPORTS.items():
        assert f"::: synthbio_ppl.{module}.{name}\n" in text, name


def test_every_lesson_and_guide_is_in_the_navigation() -> None:
    for lesson in (ROOT / "notebooks").glob("*.ipynb"):
        assert f"lessons/{lesson.name}" in NAV, lesson.name
    for page in (ROOT / "docs").glob("*.md"):
        assert page.name in NAV, page.name
