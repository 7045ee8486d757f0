# Fresh machine: `make demo` or `make test`. Both create .venv and install the project.
# While working: `make check` (lint, types, the tests not marked slow: under a minute).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test check lint typecheck unit fast install clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/newscrawl demo

lint: $(STAMP)
	$(PY) -m ruff check crawler pipelines tests benchmarks

typecheck: $(STAMP)
	$(PY) -m mypy

unit: $(STAMP)
	$(PY) -m pytest -q

# The tests not marked slow: no crawl, no subprocess (tests/conftest.py)
fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

check: lint typecheck fast

test: lint typecheck unit

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
