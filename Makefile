# Fresh machine: `make demo` or `make test`. Both create .venv and install the project.
# While working: `make check` (lint, types, the tests not marked slow: under a minute).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

NEWEST ?= .venv-newest
NEWEST_PY := $(NEWEST)/bin/python
# The crawl tests `make test-newest` runs: one crawl through the downloader middlewares and
# signals (robots.txt Crawl-delay), one `scrapy crawl` with its progress lines and summary.
NEWEST_CRAWLS := tests/test_crawl_delay.py \
	tests/test_run_report.py::test_scrapy_crawl_ends_with_the_summary_table_and_logs_progress

.PHONY: demo test test-newest check lint typecheck unit fast install clean

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

# CI, after `make test`: the project against the newest Scrapy on the index (pyproject.toml
# allows any 2.x from 2.19), in a venv of its own: the fast tests and two crawls (about 2 min).
test-newest:
	test -x $(NEWEST_PY) || $(PYTHON) -m venv $(NEWEST)
	$(NEWEST_PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	$(NEWEST_PY) -m pip install --quiet --disable-pip-version-check --upgrade scrapy
	$(NEWEST_PY) -c 'import scrapy; print("test-newest: Scrapy", scrapy.__version__)'
	$(NEWEST_PY) -m pytest -q -p no:cacheprovider -m "not slow"
	$(NEWEST_PY) -m pytest -q -p no:cacheprovider $(NEWEST_CRAWLS)

clean:
	rm -rf $(VENV) $(NEWEST) data .pytest_cache .mypy_cache .ruff_cache
