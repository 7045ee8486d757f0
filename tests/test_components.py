"""Our Scrapy components built the Scrapy way, each through ``from_crawler`` of a crawler from
``scrapy.utils.test.get_crawler`` (its settings in, its counts in ``crawler.stats``); the
crawls that use them are in test_crawl*.py."""

from __future__ import annotations

import logging
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler.extensions.archive import META_KEY, WarcArchive
from crawler.extensions.progress import Progress
from crawler.extensions.retry_backoff import RetryBackoff
from crawler.extensions.summary import RunSummary
from crawler.items import ArticleItem, Fetch
from crawler.middlewares.archive_locations import ArchiveLocations
from crawler.sources import Source
from pipelines.normalize import NormalizePipeline


def _crawler(**settings: Any) -> Crawler:
    crawler = get_crawler(Spider, settings)
    crawler.stats.open_spider()
    return crawler


def test_normalize_counts_articles_and_empty_texts() -> None:
    crawler = _crawler()
    pipeline = NormalizePipeline.from_crawler(crawler)
    fetch = Fetch(200, "http://site.test/a", "http://site.test/a")
    doc = pipeline.process_item(ArticleItem("http://site.test/a", text="One line.", fetch=fetch))
    assert doc["url"] == "http://site.test/a" and doc["_fetch"]["status"] == 200
    pipeline.process_item(ArticleItem("http://site.test/b", text=""))
    with pytest.raises(DropItem, match="without a URL"):
        pipeline.process_item(ArticleItem("", text="No address."))
    stored = {"url": "http://site.test/c", "text": "A document."}  # the storage pipeline's
    assert pipeline.process_item(stored) is stored
    with pytest.raises(DropItem, match="not an article item"):
        pipeline.process_item(["not", "an", "item"])
    assert crawler.stats.get_value("news/normalize/articles") == 2
    assert crawler.stats.get_value("news/normalize/empty_text") == 1
    assert crawler.stats.get_value("news/normalize/not_article_item") == 1


def _archived(middleware: ArchiveLocations, location: Any) -> list[Any]:
    future: Future[Any] = Future()
    future.set_result(location)
    request = Request("http://site.test/a", meta={META_KEY: future})
    response = HtmlResponse(request.url, body=b"<html></html>", request=request)
    return list(middleware.process_spider_output(response, [ArticleItem(request.url)]))


def test_an_article_whose_page_was_not_archived_is_dropped_only_when_required() -> None:
    crawler = _crawler(NEWS_ARCHIVE_REQUIRED=True)
    assert _archived(ArchiveLocations.from_crawler(crawler), None) == []
    assert crawler.stats.get_value("news/archive/articles_dropped") == 1
    crawler = _crawler()
    assert _archived(ArchiveLocations.from_crawler(crawler), None) == [
        ArticleItem("http://site.test/a")]
    assert crawler.stats.get_value("news/archive/articles_dropped") is None


def test_an_unwritable_archive_is_said_and_counted_once(tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    crawler = _crawler(NEWS_ARCHIVE_DIR=str(blocker / "archive"))
    archive = WarcArchive.from_crawler(crawler)
    with caplog.at_level(logging.ERROR):
        archive.spider_opened(Spider("news"))
    archive.executor.shutdown()
    assert crawler.stats.get_value("news/archive/errors") == 1
    assert "WARC archive not writable" in caplog.text
    assert "crawling on without archiving" in caplog.text


@pytest.mark.parametrize(("component", "settings"), [
    (WarcArchive, {"NEWS_ARCHIVE": False}),
    (ArchiveLocations, {"NEWS_ARCHIVE": False}),
    (RetryBackoff, {"NEWS_RETRY_BACKOFF": 0}),
    (RetryBackoff, {"RETRY_ENABLED": False}),
    (Progress, {"NEWS_PROGRESS_INTERVAL": 0}),
])
def test_a_component_switched_off_is_not_configured(component: Any,
                                                    settings: dict[str, Any]) -> None:
    with pytest.raises(NotConfigured):
        component.from_crawler(_crawler(**settings))


def test_retry_backoff_reads_its_settings() -> None:
    backoff = RetryBackoff.from_crawler(_crawler(NEWS_RETRY_BACKOFF=0.5,
                                                 NEWS_RETRY_BACKOFF_MAX=3))
    assert [backoff.delay(n) for n in range(6)] == [0.0, 0.5, 1.0, 2.0, 3.0, 3.0]


def test_the_run_summary_reads_the_crawlers_stats(caplog: pytest.LogCaptureFixture) -> None:
    crawler = _crawler()
    for event, value in (("discovered", 3), ("fetched", 3), ("articles", 2), ("rejected", 1)):
        crawler.stats.set_value(f"news/source/wire/{event}", value)
    crawler.stats.set_value("news/run/outcome", "ok")
    spider = Spider("news")
    spider.sources = [Source(name="wire", start_urls=["http://site.test/"])]  # type: ignore[attr-defined]
    with caplog.at_level(logging.INFO):
        RunSummary.from_crawler(crawler).spider_closed(spider, "finished")
    assert "Run summary (finished, outcome ok):" in caplog.text
    assert "wire" in caplog.text


def test_progress_counts_pages_in_flight_from_the_downloader_signals() -> None:
    from scrapy import signals

    from crawler.signals import request_dequeued

    crawler = _crawler(NEWS_PROGRESS_INTERVAL=60)
    progress = Progress.from_crawler(crawler)
    spider = Spider("x")
    requests = [Request(f"http://site.test/{n}", meta={"news_source": "site"}) for n in range(3)]
    for request in requests:
        crawler.signals.send_catch_log(signals.request_scheduled, request=request, spider=spider)
    for request in requests[:2]:
        crawler.signals.send_catch_log(request_dequeued, request=request)
        crawler.signals.send_catch_log(signals.request_reached_downloader, request=request,
                                       spider=spider)
    numbers = progress.snapshot()
    assert (numbers["done"], numbers["in_flight"], numbers["queued"]) == (0, 2, 1)
    crawler.signals.send_catch_log(signals.request_left_downloader, request=requests[0],
                                   spider=spider)
    numbers = progress.snapshot()
    assert (numbers["done"], numbers["in_flight"], numbers["queued"]) == (1, 1, 1)
    assert numbers["stragglers"] == [("site", 2)]
