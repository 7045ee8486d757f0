"""glibc's allocator set for the crawl process and the embedded database, not the extraction
workers (crawler/malloc.py, crawler/extensions/malloc_tuning.py)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from crawler.database import EmbeddedMongo
from crawler.extensions.malloc_tuning import MallocTuning
from crawler.extraction_pool import ExtractionPool
from crawler.malloc import ENVIRONMENT_KEY, TUNABLES, child_environment, tune_process
from tests import pool_tasks

PAGE = "<html><body><article><p>One paragraph of a page.</p></article></body></html>"


def test_this_machines_allocator_takes_the_settings() -> None:
    assert tune_process()  # glibc: mallopt accepts both


def test_a_child_gets_the_settings_unless_it_has_its_own() -> None:
    assert child_environment({"PATH": "/bin"}) == {"PATH": "/bin", ENVIRONMENT_KEY: TUNABLES}
    own = {ENVIRONMENT_KEY: "glibc.malloc.arena_max=4"}
    assert child_environment(own) == own


def test_a_tuned_crawl_leaves_its_workers_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The workers keep glibc's defaults: their peak is a large page's own (crawler/malloc.py)."""
    monkeypatch.delenv(ENVIRONMENT_KEY, raising=False)
    tuning = MallocTuning.from_crawler(get_crawler(settings_dict={"NEWS_MALLOC_TUNING": True}))
    assert tuning.tuned and ENVIRONMENT_KEY not in os.environ
    pool = ExtractionPool(workers=1, task=pool_tasks.environment_of_worker)
    try:
        result = asyncio.run(pool.extract(PAGE, "http://127.0.0.1/a.html"))
    finally:
        pool.close()
    assert result.item.text == ""


def test_the_users_own_settings_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENVIRONMENT_KEY, "glibc.malloc.arena_max=4")
    tuning = MallocTuning.from_crawler(get_crawler(settings_dict={"NEWS_MALLOC_TUNING": True}))
    assert not tuning.tuned and os.environ[ENVIRONMENT_KEY] == "glibc.malloc.arena_max=4"


def test_off() -> None:
    with pytest.raises(NotConfigured):
        MallocTuning.from_crawler(get_crawler(settings_dict={"NEWS_MALLOC_TUNING": False}))


def test_the_embedded_database_starts_with_the_settings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENVIRONMENT_KEY, raising=False)
    server = EmbeddedMongo(tmp_path / "db")
    server.start()
    try:
        assert server.process is not None
        environment = Path(f"/proc/{server.process.pid}/environ").read_bytes().split(b"\0")
        ours = [e for e in environment if e.startswith(f"{ENVIRONMENT_KEY}=".encode())]
        assert ours == [f"{ENVIRONMENT_KEY}={TUNABLES}".encode()]
    finally:
        server.stop()
