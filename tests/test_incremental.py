"""The incremental crawl state middleware, built directly against the real nx-27017 server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, Request, Response
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from crawler import signals as news_signals
from crawler.database import Database, stores_articles
from crawler.middlewares.incremental import IncrementalStateMiddleware
from crawler.spiders.news import NewsSpider
from crawler.url_state import KIND_ARTICLE, KIND_PAGE, KIND_UNCHANGED, UrlStateStore

STORING = {"pipelines.mongo.MongoPipeline": 900}
SITE = "http://news.test"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def built(mongo_uri: str, mongo_db: Any) -> Iterator[tuple[IncrementalStateMiddleware, Any]]:
    crawler = get_crawler(NewsSpider, {"ITEM_PIPELINES": STORING, "MONGO_URI": mongo_uri,
                                       "MONGO_DATABASE": mongo_db.name,
                                       "NEWS_RECRAWL_SCHEDULE": "1h,6h",
                                       "NEWS_MAX_AGE_DAYS": 7})
    middleware = IncrementalStateMiddleware.from_crawler(crawler)
    asyncio.run(middleware.spider_opened(NewsSpider()))
    yield middleware, crawler
    Database.for_crawler(crawler).close()


def _state(url: str, **fields: Any) -> dict[str, Any]:
    return {"_id": url, "url": url, "source": "s", "kind": KIND_ARTICLE,
            "first_seen": NOW - timedelta(hours=3), "last_fetched": NOW - timedelta(hours=2),
            "next_recrawl": NOW + timedelta(hours=1), **fields}


def _listed(url: str, published: datetime | None = None,
            modified: datetime | None = None) -> Request:
    return Request(url, meta={"news_source": "s", "news_via": "feed", "news_hint": {
        "title": None, "published": published, "modified": modified}})


def _link(url: str) -> Request:
    return Request(url, meta={"news_source": "s", "news_link": True})


async def _through(middleware: IncrementalStateMiddleware, response: Response,
                   outputs: list[Any]) -> list[Any]:
    async def spider_output() -> AsyncIterator[Any]:
        for output in outputs:
            yield output

    return [out async for out in middleware.process_spider_output(response, spider_output())]


def _stats(crawler: Any) -> dict[str, Any]:
    return {k: v for k, v in crawler.stats.get_stats().items() if k.startswith("news/")}


def test_listed_entries_and_links_are_decided_and_made_conditional(built: Any,
                                                                   mongo_db: Any) -> None:
    middleware, crawler = built
    mongo_db.url_state.insert_many([
        _state(f"{SITE}/not-due"),
        _state(f"{SITE}/due", etag='"v1"', last_modified="Mon, 01 Jan 2024 00:00:00 GMT",
               next_recrawl=NOW - timedelta(minutes=1)),
        _state(f"{SITE}/changed", etag='"v2"'),
        _state(f"{SITE}/section", kind=KIND_PAGE, next_recrawl=None),
        _state(f"{SITE}/linked-article"),
    ])
    feed = HtmlResponse(f"{SITE}/feed", body=b"<html></html>", request=Request(f"{SITE}/feed"))
    start = Request(f"{SITE}/other-start")  # not a page request: passed on untouched
    outputs = [
        _listed(f"{SITE}/new"), _listed(f"{SITE}/not-due"), _listed(f"{SITE}/due"),
        _listed(f"{SITE}/changed", modified=NOW), _listed(f"{SITE}/old", published=NOW
                                                          - timedelta(days=30)),
        _listed(f"{SITE}/section"), start, _link(f"{SITE}/section"),
        _link(f"{SITE}/linked-article"), _link(f"{SITE}/?utm_source=x&b=2&a=1"),
    ]
    kept = asyncio.run(_through(middleware, feed, outputs))
    urls = [r.url for r in kept]
    assert urls == [f"{SITE}/new", f"{SITE}/due", f"{SITE}/changed", start.url,
                    f"{SITE}/section", f"{SITE}/?utm_source=x&b=2&a=1"]
    by_url = {r.url: r for r in kept}
    assert by_url[f"{SITE}/due"].headers.get("If-None-Match") == b'"v1"'
    assert by_url[f"{SITE}/due"].headers.get("If-Modified-Since") == \
        b"Mon, 01 Jan 2024 00:00:00 GMT"
    assert by_url[f"{SITE}/changed"].headers.get("If-None-Match") == b'"v2"'
    assert "If-None-Match" not in by_url[f"{SITE}/new"].headers
    stats = _stats(crawler)
    # one read for each run of page requests: the listed entries, then the links
    assert stats == {"news/source/s/skipped_not_due": 3, "news/source/s/skipped_too_old": 1,
                     "news/state/reads": 2}


def test_a_response_without_an_article_leaves_its_state(built: Any, mongo_db: Any) -> None:
    middleware, crawler = built
    listed = f"{SITE}/moved"
    request = Request(f"{SITE}/story", meta={"news_source": "s", "redirect_urls": [listed],
                                             "redirect_reasons": [301]})
    not_modified = Response(f"{SITE}/story", status=304, request=request,
                            headers={"ETag": '"e1"'})
    not_modified.meta["news_fetched"] = KIND_UNCHANGED
    page = HtmlResponse(f"{SITE}/section?b=1&a=2", body=b"<html></html>",
                        request=Request(f"{SITE}/section?b=1&a=2", meta={"news_source": "s"}))
    page.meta["news_fetched"] = KIND_PAGE
    feed = HtmlResponse(f"{SITE}/feed", body=b"<html></html>", request=Request(f"{SITE}/feed"))

    async def run() -> None:
        await _through(middleware, not_modified, [])
        await _through(middleware, page, [])
        await _through(middleware, feed, [])  # not marked: no state
        await middleware.spider_closed(NewsSpider())

    asyncio.run(run())
    states = {d["_id"]: d for d in mongo_db.url_state.find()}
    assert set(states) == {f"{SITE}/story", listed, f"{SITE}/section?a=2&b=1"}
    assert states[listed]["kind"] == KIND_ARTICLE and states[listed]["etag"] == '"e1"'
    assert states[listed]["last_status"] == 304
    assert states[f"{SITE}/section?a=2&b=1"]["kind"] == KIND_PAGE
    assert states[f"{SITE}/section?a=2&b=1"]["next_recrawl"] is None
    assert _stats(crawler) == {"news/state/recorded": 3}


def test_a_304_keeps_the_kind_of_the_url(built: Any, mongo_db: Any) -> None:
    """A section page that answers 304 stays a page (fetched again at every run through its
    links); an article that answers 304 stays an article with its next recrawl."""
    middleware, _crawler = built
    section, story = f"{SITE}/rubrique/culture/", f"{SITE}/story-304"
    store = UrlStateStore(mongo_db.url_state, middleware.policy)
    store.record([{"url": section, "source": "s", "kind": KIND_PAGE, "status": 200},
                  {"url": story, "source": "s", "kind": KIND_ARTICLE, "status": 200,
                   "published": datetime.now(UTC)}])
    responses = []
    for url in (section, story):
        response = Response(url, status=304, request=Request(url, meta={"news_source": "s"}))
        response.meta["news_fetched"] = KIND_UNCHANGED
        responses.append(response)

    async def run() -> None:
        for _ in range(3):  # three runs in a row, each answered 304
            for response in responses:
                await _through(middleware, response, [])
            await middleware.flush()
        await middleware.spider_closed(NewsSpider())

    asyncio.run(run())
    states = {d["_id"]: d for d in mongo_db.url_state.find()}
    assert states[section]["kind"] == KIND_PAGE and states[section]["next_recrawl"] is None
    assert states[section]["fetches"] == 4 and states[section]["last_status"] == 304
    assert states[story]["kind"] == KIND_ARTICLE and states[story]["next_recrawl"] is not None
    later = datetime.now(UTC)
    link = middleware.policy.decide(states[section], later, listed=False)
    assert link.fetch and link.reason == "page"


def _doc(url: str) -> dict[str, Any]:
    return {"url": url, "source": "s", "content_hash": "h", "published": NOW,
            "fetched_at": NOW, "_fetch": {"status": 200, "url": url, "listed": f"{url}/listed",
                                          "etag": '"a"'}}


def test_articles_get_their_state_once_the_storage_pipeline_says_they_are_stored(
        built: Any, mongo_db: Any) -> None:
    # pipelines/mongo.py hands over each batch it wrote (a spooled one once replayed), never
    # through a signal
    middleware, crawler = built

    async def run() -> None:
        crawler.signals.send_catch_log(news_signals.articles_stored,
                                       docs=[_doc(f"{SITE}/signalled")], spooled=False)
        middleware.articles_stored([_doc(f"{SITE}/written")])
        await middleware.spider_closed(NewsSpider())
        assert {d["_id"] for d in mongo_db.url_state.find()} == {
            f"{SITE}/written", f"{SITE}/written/listed"}
        middleware.articles_stored([_doc(f"{SITE}/spooled")])  # replayed from the spool
        await middleware.spider_closed(NewsSpider())

    asyncio.run(run())
    states = {d["_id"]: d for d in mongo_db.url_state.find()}
    assert set(states) == {f"{SITE}/written", f"{SITE}/written/listed", f"{SITE}/spooled",
                           f"{SITE}/spooled/listed"}
    state = states[f"{SITE}/spooled"]
    assert state["kind"] == KIND_ARTICLE and state["etag"] == '"a"' and state["fetches"] == 1
    assert state["next_recrawl"] == NOW + timedelta(hours=1)
    assert _stats(crawler) == {"news/state/recorded": 4}


def test_an_unreadable_or_unwritable_state_is_counted_and_fetched_as_new(
        caplog: pytest.LogCaptureFixture) -> None:
    import pymongo

    crawler = get_crawler(NewsSpider, {"ITEM_PIPELINES": STORING})
    middleware = IncrementalStateMiddleware.from_crawler(crawler)
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        "mongodb://127.0.0.1:1", serverSelectionTimeoutMS=200, connectTimeoutMS=200)
    middleware.store = UrlStateStore(client.news.url_state, middleware.policy)
    feed = HtmlResponse(f"{SITE}/feed", body=b"<html></html>", request=Request(f"{SITE}/feed"))

    async def run() -> list[Any]:
        kept = await _through(middleware, feed, [_listed(f"{SITE}/a"), _link(f"{SITE}/b")])
        middleware.articles_stored([_doc(f"{SITE}/a")])
        await middleware.spider_closed(NewsSpider())
        return kept

    kept = asyncio.run(run())
    client.close()
    assert [r.url for r in kept] == [f"{SITE}/a", f"{SITE}/b"]
    assert _stats(crawler) == {"news/state/reads": 1, "news/state/read_errors": 1,
                               "news/state/write_errors": 1}
    assert "URL state not readable (ServerSelectionTimeoutError): fetching 2 URLs as new" \
        in caplog.text
    assert "URL state of 2 page(s) not written: ServerSelectionTimeoutError" in caplog.text


def test_no_state_without_stored_articles(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    crawler = get_crawler(NewsSpider, {"ITEM_PIPELINES": {}})
    with pytest.raises(NotConfigured):
        IncrementalStateMiddleware.from_crawler(crawler)
    assert "No URL state kept: articles are not stored" in caplog.text
    assert "every URL is fetched" in caplog.text


def test_stores_articles_knows_the_storage_pipeline() -> None:
    assert stores_articles(Settings({"ITEM_PIPELINES": STORING}))
    assert stores_articles(Settings({"ITEM_PIPELINES": {  # a subclass stores too
        "pipelines.reextract_store.ReextractStore": 900}}))
    assert not stores_articles(Settings({"ITEM_PIPELINES": {}}))
    assert not stores_articles(Settings({"ITEM_PIPELINES": {
        "pipelines.mongo.MongoPipeline": None, "pipelines.normalize.NormalizePipeline": 200}}))
    assert not stores_articles(Settings({"ITEM_PIPELINES": "{}"}))


def test_the_links_of_a_page_go_out_before_its_extraction_ends(built: Any) -> None:
    """The spider yields a page's links, then waits for the page's extraction: the links are
    decided (one read) and passed on while it waits, not held until the article comes."""
    middleware, crawler = built
    extracted = asyncio.Event()
    links = [_link(f"{SITE}/link-{i}") for i in range(3)]

    async def spider_output() -> AsyncIterator[Any]:
        for link in links:
            yield link
        await extracted.wait()  # the extraction pool at work
        yield {"url": f"{SITE}/page"}

    async def crawl() -> list[Any]:
        page = HtmlResponse(f"{SITE}/page", body=b"<html></html>",
                            request=Request(f"{SITE}/page"))
        received: list[Any] = []
        async for output in middleware.process_spider_output(page, spider_output()):
            if len(received) == len(links) - 1:
                assert not extracted.is_set()
            received.append(output)
            if len(received) == len(links):  # every link out while the extraction runs
                extracted.set()
        return received

    received = asyncio.run(asyncio.wait_for(crawl(), timeout=10))
    assert [r.url for r in received[:3]] == [r.url for r in links]
    assert crawler.stats.get_value("news/state/reads") == 1  # the three links read together
    assert received[3] == {"url": f"{SITE}/page"}
