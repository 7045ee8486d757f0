"""The extraction pool under faults: a page that hangs, a worker that dies, a broken pool.

Real spawned worker processes (pebble); the task functions live in tests/pool_tasks.py.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.encoding import EncodedPage
from crawler.extraction_pool import ERROR, TIMEOUT, ExtractionPool
from crawler.items import ArticleItem, Extraction
from tests import pool_tasks

ARTICLE = (Path(__file__).parent / "fixtures" / "pages" / "harbour-article.html").read_text(
    encoding="utf-8")
URL = "http://127.0.0.3:8601/2024/01/18/waterfront-businesses-storm-cleanup/"


@pytest.fixture
def make_pool() -> Iterator[Callable[..., ExtractionPool]]:
    pools: list[ExtractionPool] = []

    def make(task: Callable[..., Extraction], **kwargs: Any) -> ExtractionPool:
        pool = ExtractionPool(workers=kwargs.pop("workers", 2), task=task, **kwargs)
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close()


def test_a_page_over_the_time_limit_is_skipped_and_the_pool_goes_on(
        make_pool: Callable[..., ExtractionPool], caplog: pytest.LogCaptureFixture) -> None:
    pool = make_pool(pool_tasks.slow_on_marker, workers=1, timeout=1.0)

    async def run() -> tuple[Extraction, Extraction, float]:
        started = time.monotonic()
        stuck = await pool.extract("<html><body>SLOW</body></html>", "http://127.0.0.1/slow")
        elapsed = time.monotonic() - started
        return stuck, await pool.extract(ARTICLE, URL), elapsed

    stuck, good, elapsed = asyncio.run(run())
    assert stuck == Extraction(ArticleItem(url="http://127.0.0.1/slow",
                                           fetched_url="http://127.0.0.1/slow"),
                               is_article=False, page_kind="extraction timeout",
                               extract_error=TIMEOUT)
    assert elapsed < 15  # the hung worker was killed, not waited for (it sleeps 60 s)
    assert good.is_article and good.extract_error is None  # the only worker was replaced
    assert "took more than 1.0 s" in caplog.text


def test_a_worker_that_dies_is_replaced(make_pool: Callable[..., ExtractionPool],
                                        caplog: pytest.LogCaptureFixture) -> None:
    pool = make_pool(pool_tasks.crash_on_marker, workers=1)

    async def run() -> list[Extraction]:
        return [await pool.extract("<p>CRASH</p>", "http://127.0.0.1/crash"),
                await pool.extract(ARTICLE, URL),
                await pool.extract("<p>CRASH</p>", "http://127.0.0.1/crash-again"),
                await pool.extract(ARTICLE, URL)]

    crashed, good, crashed_again, good_again = asyncio.run(run())
    assert crashed.extract_error == ERROR == crashed_again.extract_error
    assert isinstance(crashed, Extraction) and crashed.page_kind == "extraction error"
    assert crashed.item.text == "" and crashed.item.fetched_url == "http://127.0.0.1/crash"
    assert good.is_article and good_again.is_article
    assert "Extraction worker died on http://127.0.0.1/crash (exit code 9)" in caplog.text


def test_an_exception_in_the_extractor_skips_the_page(
        make_pool: Callable[..., ExtractionPool], caplog: pytest.LogCaptureFixture) -> None:
    pool = make_pool(pool_tasks.raise_on_marker, workers=1)

    async def run() -> list[Extraction]:
        return [await pool.extract("<p>RAISE</p>", "http://127.0.0.1/bug"),
                await pool.extract(ARTICLE, URL)]

    failed, good = asyncio.run(run())
    assert failed.extract_error == ERROR
    assert good.is_article
    assert "Extraction of http://127.0.0.1/bug failed" in caplog.text
    assert "extractor bug" in caplog.text


def test_a_broken_pool_is_recreated(make_pool: Callable[..., ExtractionPool]) -> None:
    """Every worker killed while idle breaks a pebble pool as a whole; the next page gets a
    new pool."""
    pool = make_pool(pool_tasks.raise_on_marker, workers=2)

    async def first() -> Extraction:
        return await pool.extract(ARTICLE, URL)

    assert asyncio.run(first()).is_article
    workers = [c for c in multiprocessing.active_children() if c.name == "pebble_pool_worker"]
    assert len(workers) == 2
    for worker in workers:
        if worker.pid is not None:
            os.kill(worker.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while pool._executor is not None and pool._executor.active and time.monotonic() < deadline:
        time.sleep(0.1)

    async def after() -> list[Extraction]:
        return [await pool.extract(ARTICLE, URL) for _ in range(3)]

    results = asyncio.run(after())
    assert all(r.is_article for r in results)
    assert pool.restarts == 1


def test_in_flight_counts_pages_being_extracted(
        make_pool: Callable[..., ExtractionPool]) -> None:
    pool = make_pool(pool_tasks.slow_on_marker, workers=2, timeout=0.5)
    seen: list[int] = []

    async def run() -> None:
        task = asyncio.ensure_future(pool.extract("SLOW", "http://127.0.0.1/slow"))
        await asyncio.sleep(0.1)
        seen.append(pool.in_flight)
        await task
        seen.append(pool.in_flight)

    asyncio.run(run())
    assert seen == [1, 0]


def test_the_pool_returns_what_extract_article_returns_language_detected_in_the_crawl_process(
        make_pool: Callable[..., ExtractionPool]) -> None:
    """Workers skip language detection (its model would cost 74 MB in each); the pool detects
    it in the crawl process, so the result is the same as extract_article's, field by field."""
    from crawler.extraction.article import extract_article

    undeclared = ARTICLE.replace('<html lang="en">', "<html>")
    assert undeclared != ARTICLE
    pool = make_pool(extract_article, workers=1)

    async def run() -> list[Extraction]:
        return [await pool.extract(page, URL) for page in (ARTICLE, undeclared)]

    declared_result, undeclared_result = asyncio.run(run())
    assert declared_result == extract_article(ARTICLE, URL)
    assert (declared_result.item.language, declared_result.item.language_source) == (
        "en", "declared")
    assert undeclared_result == extract_article(undeclared, URL)
    assert (undeclared_result.item.language, undeclared_result.item.language_source) == (
        "en", "detected")


def test_a_metadata_failure_in_the_worker_comes_back_with_the_result(
        make_pool: Callable[..., ExtractionPool]) -> None:
    """page_metadata never raises; where it had to swallow an error, the worker's result says
    so (the spider counts it in news/extract/metadata_errors) and the text is still there."""
    from crawler.extraction.article import extract_article

    deep = ARTICLE.replace("</head>", '<script type="application/ld+json">' + "[" * 5000
                           + "]" * 5000 + "</script></head>", 1)
    pool = make_pool(extract_article, workers=1)

    async def run() -> list[Extraction]:
        return [await pool.extract(page, URL) for page in (ARTICLE, deep)]

    fine, failed = asyncio.run(run())
    assert fine.metadata_error is False
    assert failed.metadata_error is True
    assert failed.item.text == fine.item.text


def test_a_page_handed_over_as_downloaded_is_decoded_in_the_worker(
        make_pool: Callable[..., ExtractionPool]) -> None:
    """The spider hands a page over as its body and encoding: the worker decodes it, and
    says when it read a Windows-1252 page declared UTF-8 as Windows-1252."""
    pool = make_pool(pool_tasks.slow_on_marker, workers=1)
    latin = ARTICLE.replace("storm", "st\u00f6rm caf\u00e9")  # still Windows-1252 encodable

    async def run() -> tuple[Extraction, Extraction, Extraction]:
        return (await pool.extract(latin, URL),
                await pool.extract(EncodedPage(latin.encode("utf-8"), "utf-8"), URL),
                await pool.extract(EncodedPage(latin.encode("cp1252"), "utf-8"), URL))

    as_text, as_utf8, mislabeled = asyncio.run(run())
    assert "st\u00f6rm" in as_text.item.text
    assert as_utf8 == as_text and not as_utf8.encoding_repaired
    assert mislabeled.item.text == as_text.item.text and mislabeled.encoding_repaired
