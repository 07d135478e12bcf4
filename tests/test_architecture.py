"""The package's shape: layers import one way, no cycles, small modules, no kind tests.

``make lint`` runs the import-linter contracts in pyproject.toml; these tests check the
same graph more strictly (every module, imports inside functions included) and the rules
the contracts cannot express.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

from synthbio_ppl.processes.registry import BLOCK_PROCESSES, MASKS, MODIFIERS, RESPONSES

PACKAGE = Path(__file__).resolve().parent.parent / "synthbio_ppl"
MAX_LINES = 400


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in graph.find_modules_directly_imported_by(module):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles_between_any_modules() -> None:
    graph = grimp.build_graph("synthbio_ppl", cache_dir=None)
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for name in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(name)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.a")
    graph.add_import(importer="p.b", imported="p.c")
    assert _cycles(graph) == [["p.a", "p.b"]]


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_no_package_module_is_over_the_size_limit(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= MAX_LINES, path


def _kind_tests(path: Path, names: set[str]) -> list[str]:
    """Comparisons in a module's code against a process name (``block.kind == "pseudo"``,
    ``field in ("informative", ...)``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        texts = {
            leaf.value
            for operand in operands
            for leaf in ast.walk(operand)
            if isinstance(leaf, ast.Constant) and isinstance(leaf.value, str)
        }
        if texts & names:
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def test_no_process_kind_is_tested_outside_the_processes() -> None:
    """Outside ``processes/`` nothing tests a process's kind or spec field by name."""
    processes = [*BLOCK_PROCESSES, *MODIFIERS, *MASKS, *RESPONSES]
    names = {p.kind for p in BLOCK_PROCESSES} | {p.field for p in processes}
    offenders = {
        str(path.relative_to(PACKAGE)): _kind_tests(path, names)
        for path in PACKAGE.rglob("*.py")
        if "processes" not in path.relative_to(PACKAGE).parts
    }
    # (pydantic's error type "missing", a required field absent, is core.errors.ABSENT)
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_kind_test_finder_finds_one(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text('def f(block):\n    return block.kind == "pseudo" or block.n in (1, 2)\n')
    assert _kind_tests(source, {"pseudo"}) == ["line 2: block.kind == 'pseudo'"]
