"""The typed article: what extraction returns on each path, what the spider makes of it, and
what the pipelines, middlewares and exporters do with it (crawler/items.py)."""

from __future__ import annotations

import dataclasses
import io
import json
import pickle
from collections.abc import Iterator
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from itemadapter import ItemAdapter
from scrapy.exporters import JsonLinesItemExporter
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler.database import Database
from crawler.distributed import QUEUE_ID
from crawler.distributed.middleware import SharedQueueMiddleware
from crawler.document import article_document
from crawler.extensions.archive import META_KEY
from crawler.extraction import extract_article
from crawler.extraction_pool import ERROR, TIMEOUT, failed_result
from crawler.items import ArticleItem, Extraction, Fetch
from crawler.middlewares.archive_locations import ArchiveLocations
from crawler.spiders.news import NewsSpider
from crawler.warc import Location
from pipelines.normalize import NormalizePipeline

PAGES = Path(__file__).parent / "fixtures" / "pages"
EXPECTED: dict[str, dict[str, Any]] = json.loads((PAGES / "expected.json").read_text("utf-8"))
ARTICLE = "harbour-article"
ARTICLE_URL = EXPECTED[ARTICLE]["url"]


def _html(name: str) -> str:
    return (PAGES / f"{name}.html").read_text(encoding="utf-8")


# -- extraction ------------------------------------------------------------------------------


def test_an_article_page_gives_a_typed_article() -> None:
    result = extract_article(_html(ARTICLE), ARTICLE_URL + "?utm_source=x")
    assert isinstance(result, Extraction) and isinstance(result.item, ArticleItem)
    assert result.is_article and result.extract_error is None and not result.metadata_error
    item = result.item
    assert item.url == ARTICLE_URL and item.fetched_url == ARTICLE_URL + "?utm_source=x"
    assert item.title == EXPECTED[ARTICLE]["title"]
    assert item.authors == EXPECTED[ARTICLE]["authors"] and item.authors_source
    assert item.published == datetime.fromisoformat(EXPECTED[ARTICLE]["published"])
    assert item.text == "\n\n".join(item.paragraphs)
    # What the crawl adds is not extraction's to say.
    assert (item.source, item.fetched_at, item.fetch, item.archive) == (None, None, None, None)
    assert item.template_lines_removed == 0


def test_a_listing_page_gives_an_extraction_that_is_no_article() -> None:
    name = "harbour-home"
    result = extract_article(_html(name), EXPECTED[name]["url"])
    assert isinstance(result, Extraction) and isinstance(result.item, ArticleItem)
    assert not result.is_article and result.page_kind and result.extract_error is None


def test_an_unparseable_page_and_a_failed_worker_give_the_same_empty_shape() -> None:
    unparseable = extract_article("", "https://News.example/a?utm_source=x")
    assert unparseable == Extraction(
        ArticleItem(url="https://news.example/a", fetched_url="https://News.example/a?utm_source=x"),
        is_article=False, page_kind="unparseable HTML")
    timeout = failed_result("https://news.example/a", TIMEOUT)
    assert timeout == Extraction(
        ArticleItem(url="https://news.example/a", fetched_url="https://news.example/a"),
        is_article=False, page_kind="extraction timeout", extract_error=TIMEOUT)
    assert failed_result("https://news.example/a", ERROR).extract_error == ERROR


def test_the_result_crosses_processes_whole() -> None:
    """The pool pickles the result in the worker: nothing but plain values in it."""
    result = extract_article(_html(ARTICLE), ARTICLE_URL)
    raw = pickle.dumps(result)
    assert pickle.loads(raw) == result
    # The class is named once per object; the rest is the article's own data.
    assert len(raw) < 2 * len(pickle.dumps(dataclasses.asdict(result)))


# -- the spider ------------------------------------------------------------------------------


@pytest.fixture
def spider(mongo_uri: str) -> Iterator[NewsSpider]:
    crawler = get_crawler(NewsSpider, {"MONGO_URI": mongo_uri, "MONGO_DATABASE": "item_test",
                                       "NEWS_EXTRACT_WORKERS": 1})
    news = NewsSpider.from_crawler(crawler, url="http://127.0.0.3:8601/feed.xml",
                                   source="harbour")
    yield news
    news.extractor.close()
    Database.for_crawler(crawler).close()


def _response(meta: dict[str, Any] | None = None) -> HtmlResponse:
    request = Request(ARTICLE_URL + "?utm_source=feed",
                      meta={"news_source": "harbour", "news_via": "feed", **(meta or {})})
    headers = {"ETag": '"v1"', "Last-Modified": "Thu, 18 Jan 2024 10:00:00 GMT"}
    return HtmlResponse(request.url, request=request, body=_html(ARTICLE).encode(),
                        encoding="utf-8", headers=headers)


def _stat(spider: NewsSpider, key: str) -> Any:
    assert spider.crawler.stats is not None
    return spider.crawler.stats.get_value(key)


def test_the_spider_adds_its_fetch_to_the_article(spider: NewsSpider) -> None:
    response = _response()
    extracted = extract_article(response.text, response.url).item
    before = datetime.now(UTC)
    item = spider._item(response, extracted)
    assert item is extracted
    assert item.source == "harbour"
    assert item.fetched_at is not None and before <= item.fetched_at <= datetime.now(UTC)
    assert item.fetch == Fetch(status=200, url=ARTICLE_URL, listed=ARTICLE_URL, etag='"v1"',
                               last_modified="Thu, 18 Jan 2024 10:00:00 GMT")
    assert item.published_source != "feed"  # the page states its date
    assert _stat(spider, "news/page/article") == 1
    assert _stat(spider, "news/source/harbour/articles") == 1
    assert _stat(spider, "news/source/harbour/no_date") is None  # counted 0: not set


def test_the_feeds_title_and_date_stand_in_for_what_the_page_lacks(spider: NewsSpider) -> None:
    listed = datetime(2024, 1, 18, 9, 0, tzinfo=UTC)
    response = _response({"news_hint": {"title": "Listed title", "published": listed}})
    extracted = dataclasses.replace(extract_article(response.text, response.url).item,
                                    title=None, published=None, published_source=None)
    item = spider._item(response, extracted)
    assert (item.title, item.published, item.published_source) == (
        "Listed title", listed, "feed")
    assert _stat(spider, "news/source/harbour/articles") == 1


# -- pipelines, middlewares, exports ----------------------------------------------------------


def _crawled_item() -> ArticleItem:
    item = extract_article(_html(ARTICLE), ARTICLE_URL).item
    item.source = "harbour"
    item.fetched_at = datetime(2024, 1, 19, 8, 0, tzinfo=UTC)
    item.fetch = Fetch(200, ARTICLE_URL, ARTICLE_URL, etag='"v1"')
    return item


def test_the_stored_document_is_built_from_the_item() -> None:
    item = _crawled_item()
    doc = NormalizePipeline(get_crawler().stats).process_item(item)
    assert doc == {**article_document(item), "_fetch": {
        "status": 200, "url": ARTICLE_URL, "listed": ARTICLE_URL, "etag": '"v1"',
        "last_modified": None, "queue_id": None}}
    assert doc["authors_source"] == item.authors_source
    assert doc["paywall_source"] is None  # the page declares nothing
    assert "paragraphs" not in doc and "fetch" not in doc


def test_the_archive_location_and_the_queue_id_go_into_the_item() -> None:
    crawler = get_crawler()
    item = _crawled_item()
    response = HtmlResponse(ARTICLE_URL, body=b"", request=Request(ARTICLE_URL, meta={
        QUEUE_ID: 7, META_KEY: _done(Location("a.warc.gz", 10, 20))}))
    assert list(ArchiveLocations(crawler.stats).process_spider_output(response, [item])) == [item]
    assert item.archive == {"file": "a.warc.gz", "offset": 10, "length": 20}
    assert SharedQueueMiddleware(crawler).get_processed_item(item, response) is item
    assert item.fetch is not None and item.fetch.queue_id == 7


def _done(location: Location) -> Future[Location | None]:
    future: Future[Location | None] = Future()
    future.set_result(location)
    return future


def test_the_item_itself_exports_as_json() -> None:
    """Without pipelines (ITEM_PIPELINES={}) ``-o out.jsonl`` writes the item: its fetch as an
    object, its dates in ISO 8601 (Scrapy's JSON encoder)."""
    item = _crawled_item()
    item.modified = item.fetched_at + timedelta(hours=1) if item.fetched_at else None
    out = io.BytesIO()
    exporter = JsonLinesItemExporter(out)
    exporter.start_exporting()
    exporter.export_item(item)
    exporter.finish_exporting()
    exported = json.loads(out.getvalue())
    assert set(exported) == {f.name for f in dataclasses.fields(ArticleItem)}
    assert exported["fetch"] == {"status": 200, "url": ARTICLE_URL, "listed": ARTICLE_URL,
                                 "etag": '"v1"', "last_modified": None, "queue_id": None}
    assert exported["fetched_at"] == "2024-01-19T08:00:00+00:00"
    assert exported["text"] == item.text
    assert ItemAdapter(item).asdict()["fetch"] == exported["fetch"]
