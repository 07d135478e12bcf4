"""The prior table is rendered from the processes' declarations, and the docs carry it."""

from __future__ import annotations

from synthbio_ppl.model.reference import heading, prior_table, spec_reference
from synthbio_ppl.processes.registry import BLOCK_PROCESSES, MODIFIERS
from tests.conftest import ROOT


def test_every_declared_prior_is_in_the_table() -> None:
    table = prior_table()
    for process in [*BLOCK_PROCESSES, *MODIFIERS]:
        for prior in process.priors:
            assert f"| `{process.site_prefix}.{prior.param}` | {prior.meaning} |" in table
    assert table in spec_reference()


def test_fitting_docs_carry_the_rendered_prior_table() -> None:
    docs = (ROOT / "docs" / "fitting.md").read_text()
    assert prior_table() in docs, "docs/fitting.md's prior table is stale: copy prior_table()"


def test_every_registered_spec_model_has_a_reference_section() -> None:
    text = spec_reference()
    for process in [*BLOCK_PROCESSES, *MODIFIERS]:
        for title, _ in process.reference_sections():
            assert f"## {heading(title)}\n" in text
