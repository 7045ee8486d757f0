"""A crawl that does not store its articles (``-s ITEM_PIPELINES={} -o out.jsonl``) needs no
database at all: none is opened, none started, no URL state or run record kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.demo.server import DemoServer
from crawler.demo.truth import article_truth
from tests.conftest import ROOT, log_of


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoServer]:
    with DemoServer() as server:
        yield server


@pytest.mark.parametrize("uri", ["mongodb://127.0.0.1:1", ""])
def test_a_crawl_without_storage_needs_no_database(demo: DemoServer, tmp_path: Path,
                                                   uri: str) -> None:
    """``MONGO_URI`` pointing at nothing, or empty (which would start the embedded server):
    the articles are in the feed export, and nothing touched a database."""
    site = demo.site("rundschau")
    out = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"url={site.feed_url}",
               "-o", str(out), "-s", "ITEM_PIPELINES={}", "-s", f"MONGO_URI={uri}",
               "-s", "NEWS_ALLOWED_PRIVATE_NETWORKS=127.0.0.0/8", "-s", "NEWS_MAX_AGE_DAYS=0",
               "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0",
               "-s", "NEWS_EXTRACT_WORKERS=2"]
    env = {k: v for k, v in os.environ.items() if k != "MONGO_URI"}
    env.update(SCRAPY_SETTINGS_MODULE="crawler.settings", PYTHONPATH=str(ROOT))
    # In a folder of its own: the data directory (NEWS_DATA_DIR "data") is relative to it.
    proc = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, log_of(proc)
    exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    truth = {u for u, t in article_truth(demo.sites).items() if t.source == "rundschau"}
    assert {a["url"] for a in exported} == truth, log_of(proc)
    data = tmp_path / "data"
    assert not (data / "db").exists() and not (data / "nx-27017.json").exists()
    assert "nx-27017" not in proc.stderr and "MongoDB" not in proc.stderr, log_of(proc)
    assert "No URL state kept: articles are not stored" in proc.stderr
    assert "not recorded in crawl_runs: articles are not stored" in proc.stderr
    assert "Run summary (finished, outcome ok)" in proc.stderr, log_of(proc)
