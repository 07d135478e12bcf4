PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint docs format fuzz bench bench-twin reference lab notebooks clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/synthbio generate models/demo.yaml --out out/demo --force

# two workers: CI has two cores (8 min against 13.5 on one, measured 2026-12-01)
test: lint docs
	$(BIN)/python -m pytest -n 2 --nbmake tests notebooks

# the documentation site (MkDocs Material, mkdocstrings, mkdocs-jupyter) in site/; strict:
# a broken link or reference fails
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# the lessons in JupyterLab (extra "teach": JupyterLab and every extra a lesson uses)
lab: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[teach]"
	$(BIN)/jupyter lab notebooks/

# execute every lesson in place, so the committed notebooks show their outputs, and stamp
# each with the hash of its cells (tests/test_notebooks.py checks it)
notebooks: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider --nbmake --overwrite notebooks
	$(BIN)/python -m tests.notebook_sources

# the contract properties of tests/test_fuzz.py with many more examples than make test runs
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q tests/test_fuzz.py

# ruff, then the layer contract of pyproject.toml (import-linter)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/bench_generate.py

# SDV needs pandas < 3 and torch: its own venv, .venv-bench (about 2 GB).
bench-twin: $(STAMP)
	test -x .venv-bench/bin/python || $(PYTHON) -m venv .venv-bench
	.venv-bench/bin/python -m pip install --quiet -e . -r benchmarks/requirements-twin.txt
	.venv-bench/bin/python benchmarks/bench_twin.py
	$(BIN)/python benchmarks/bench_oversample.py
	$(BIN)/python benchmarks/bench_oversample.py --clf rf

reference: $(STAMP)
	$(BIN)/synthbio reference > docs/spec-reference.md
	$(BIN)/python -m synthbio_ppl.model.reference docs/fitting.md

clean:
	rm -rf $(VENV) out site .cache .pytest_cache
