"""What the month simulation (tests/month_site.py) found broken, one test per fix, against the
real nx-27017 server: a section page's cadence, the crawl's clock, due articles no listing
names any more, gone articles, moved articles."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from scrapy.http import HtmlResponse, Request, Response
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from crawler.clock import Clock, parse_now
from crawler.config import ConfigError, check_settings
from crawler.database import Database
from crawler.middlewares.incremental import IncrementalStateMiddleware
from crawler.spiders.news import NewsSpider
from crawler.storage.article_store import ArticleStore
from crawler.url_state import (
    KIND_ARTICLE,
    KIND_GONE,
    KIND_PAGE,
    RecrawlPolicy,
    UrlStateStore,
    parse_backoff,
)

SITE = "http://news.test"
T0 = datetime(2025, 3, 3, tzinfo=UTC)
STORING = {"pipelines.mongo.MongoPipeline": 900}


def _policy() -> RecrawlPolicy:
    return RecrawlPolicy([timedelta(hours=1), timedelta(days=3)], None,
                         (timedelta(hours=1), timedelta(days=1)))


# -- a page's cadence follows its new links ----------------------------------------------------

def test_a_page_that_finds_no_new_link_backs_off_bounded_and_a_new_link_resets_it(
        mongo_db: Any) -> None:
    store = UrlStateStore(mongo_db.url_state, _policy())
    section = f"{SITE}/world/"
    waits = []
    for run, new_links in enumerate([3, 0, 0, 0, 0, 0, 0, 0, 2]):
        at = T0 + timedelta(days=run)
        store.record([{"url": section, "kind": KIND_PAGE, "status": 200, "fetched_at": at,
                       "links": 10, "new_links": new_links}], now=at)
        state = store.load([section])[section]
        due = state["next_recrawl"]
        waits.append(None if due is None else due - at)
        later = at + timedelta(minutes=30)  # the next cron run
        assert _policy().decide(state, later, listed=False).fetch is (due is None)
    hour = timedelta(hours=1)
    assert waits == [None, hour, 2 * hour, 4 * hour, 8 * hour, 16 * hour, 24 * hour,
                     24 * hour, None]
    # a 304 found nothing new either; a page at the depth limit (no links followed) tells nothing
    store.record([{"url": section, "kind": None, "status": 304, "fetched_at": T0}], now=T0)
    assert store.load([section])[section]["empty_fetches"] == 1
    store.record([{"url": section, "kind": KIND_PAGE, "status": 200, "fetched_at": T0}], now=T0)
    assert store.load([section])[section]["empty_fetches"] == 1


def test_page_backoff_setting() -> None:
    assert parse_backoff("1h,1d") == (timedelta(hours=1), timedelta(days=1))
    assert parse_backoff("") is None
    with pytest.raises(ValueError, match="two durations"):
        parse_backoff("1h")
    with pytest.raises(ConfigError, match="NEWS_PAGE_BACKOFF"):
        check_settings(Settings({"NEWS_PAGE_BACKOFF": "1h,2h,3h"}))


@pytest.fixture
def built(mongo_uri: str, mongo_db: Any) -> Iterator[tuple[IncrementalStateMiddleware, Any]]:
    crawler = get_crawler(NewsSpider, {
        "ITEM_PIPELINES": STORING, "MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db.name,
        "NEWS_RECRAWL_SCHEDULE": "1h,3d", "NEWS_MAX_AGE_DAYS": 0,
        "NEWS_PAGE_BACKOFF": "1h,1d", "NEWS_NOW": T0.isoformat()})
    middleware = IncrementalStateMiddleware.from_crawler(crawler)
    asyncio.run(middleware.spider_opened(NewsSpider()))
    yield middleware, crawler
    Database.for_crawler(crawler).close()


async def _through(middleware: IncrementalStateMiddleware, response: Response,
                   outputs: list[Any]) -> list[Any]:
    async def spider_output() -> AsyncIterator[Any]:
        for output in outputs:
            yield output

    return [out async for out in middleware.process_spider_output(response, spider_output())]


def test_a_link_first_seen_in_a_feed_this_run_is_new_to_its_section_page(
        built: Any, mongo_db: Any) -> None:
    """The feed's article was fetched (and its state written) before the section page listing
    it was read: the section still yielded a new link, so it keeps its every-run cadence."""
    middleware, _crawler = built
    section, story, old = f"{SITE}/world/", f"{SITE}/world/new.html", f"{SITE}/world/old.html"
    store = UrlStateStore(mongo_db.url_state, middleware.policy)
    store.record([{"url": section, "kind": KIND_PAGE, "status": 200,
                   "fetched_at": T0 - timedelta(hours=12), "links": 2, "new_links": 1},
                  {"url": old, "kind": KIND_ARTICLE, "status": 200,
                   "fetched_at": T0 - timedelta(days=1)},
                  {"url": story, "kind": KIND_ARTICLE, "status": 200,
                   "fetched_at": T0 + timedelta(seconds=1)}], now=T0)
    response = HtmlResponse(section, body=b"<html></html>",
                            request=Request(section, meta={"news_source": "s"}))
    response.meta["news_fetched"] = KIND_PAGE
    links = [Request(url, meta={"news_source": "s", "news_link": True}) for url in (story, old)]

    async def run() -> None:
        await _through(middleware, response, links)
        await middleware.spider_closed(NewsSpider())

    asyncio.run(run())
    state = store.load([section])[section]
    assert state["empty_fetches"] == 0 and state["next_recrawl"] is None


# -- the crawl's clock ---------------------------------------------------------------------------

def test_news_now_sets_the_clock_of_the_schedule() -> None:
    assert parse_now("") is None
    assert parse_now("2025-03-03T12:00:00") == datetime(2025, 3, 3, 12, tzinfo=UTC)
    assert parse_now("2025-03-03T12:00:00+01:00") == datetime(2025, 3, 3, 11, tzinfo=UTC)
    clock = Clock.from_settings(Settings({"NEWS_NOW": "2025-03-03T12:00:00Z"}))
    assert clock is Clock.from_settings(Settings({"NEWS_NOW": "2025-03-03T12:00:00Z"}))
    assert timedelta(0) <= clock.now() - datetime(2025, 3, 3, 12, tzinfo=UTC) < \
        timedelta(minutes=5)
    assert abs(Clock.from_settings(Settings()).now() - datetime.now(UTC)) < timedelta(seconds=5)
    with pytest.raises(ConfigError, match="NEWS_NOW: 'yesterday' is not an ISO 8601"):
        check_settings(Settings({"NEWS_NOW": "yesterday"}))


# -- due articles that no listing names any more -------------------------------------------------

def test_due_articles_are_found_by_their_own_state_not_by_an_alias(mongo_db: Any) -> None:
    store = UrlStateStore(mongo_db.url_state, _policy())
    moved, renamed = f"{SITE}/a.html", f"{SITE}/a-renamed.html"
    due_at = T0 - timedelta(hours=1)
    mongo_db.url_state.insert_many([
        {"_id": moved, "url": moved, "address": renamed, "kind": KIND_ARTICLE, "source": "s",
         "next_recrawl": due_at},  # an alias: its article (renamed) has its own state
        {"_id": renamed, "url": renamed, "address": renamed, "kind": KIND_ARTICLE,
         "source": "s", "next_recrawl": due_at},
        {"_id": f"{SITE}/b.html", "url": f"{SITE}/b.html", "kind": KIND_ARTICLE,
         "source": "s", "next_recrawl": due_at - timedelta(hours=1)},  # no address: its URL
        {"_id": f"{SITE}/later.html", "kind": KIND_ARTICLE, "source": "s",
         "next_recrawl": T0 + timedelta(hours=1)},
        {"_id": f"{SITE}/done.html", "kind": KIND_ARTICLE, "source": "s", "next_recrawl": None},
        {"_id": f"{SITE}/section/", "kind": KIND_PAGE, "source": "s", "next_recrawl": due_at},
        {"_id": f"{SITE}/other.html", "kind": KIND_ARTICLE, "source": "other",
         "next_recrawl": due_at},
        {"_id": f"{SITE}/gone.html", "kind": KIND_GONE, "source": "s", "last_status": 404,
         "next_recrawl": due_at},
    ])
    assert [doc["address"] for doc in store.due(["s"], T0)] == [
        f"{SITE}/b.html", renamed, f"{SITE}/gone.html"]


def test_due_articles_follow_the_start_requests_conditional(built: Any, mongo_db: Any) -> None:
    middleware, crawler = built
    spider = NewsSpider()
    spider.sources = [type("S", (), {"name": "s"})()]  # type: ignore[list-item]
    crawler.spider = spider
    url = f"{SITE}/delisted.html"
    mongo_db.url_state.insert_one({"_id": url, "url": url, "address": url, "source": "s",
                                   "kind": KIND_ARTICLE, "etag": '"e"',
                                   "next_recrawl": T0 - timedelta(minutes=5)})

    async def start() -> AsyncIterator[Any]:
        yield Request(f"{SITE}/feed.xml")

    async def run() -> list[Any]:
        return [r async for r in middleware.process_start(start())]

    requests = asyncio.run(run())
    assert [r.url for r in requests] == [f"{SITE}/feed.xml", url]
    assert requests[1].headers.get("If-None-Match") == b'"e"'
    assert requests[1].meta["news_via"] == "recrawl"
    assert requests[1].callback == spider.parse_page
    assert crawler.stats.get_value("news/state/due_requested") == 1


# -- gone articles -------------------------------------------------------------------------------

def test_a_404_or_410_marks_the_article_gone_and_keeps_it(built: Any, mongo_db: Any) -> None:
    middleware, crawler = built
    articles = ArticleStore(mongo_db.articles)
    articles.write([{"url": f"{SITE}/{name}.html", "title": "T", "text": "x",
                     "content_hash": name, "fetched_at": T0 - timedelta(days=1)}
                    for name in ("deleted", "missing")], now=T0 - timedelta(days=1))
    responses = []
    for name, status in (("deleted", 410), ("missing", 404)):
        url = f"{SITE}/{name}.html"
        response = Response(url, status=status, request=Request(url, meta={"news_source": "s"}))
        response.meta["news_fetched"] = KIND_GONE
        responses.append(response)

    async def run() -> None:
        for response in responses:
            await _through(middleware, response, [])
        await middleware.spider_closed(NewsSpider())

    asyncio.run(run())
    docs = {doc["url"]: doc for doc in mongo_db.articles.find()}
    assert len(docs) == 2 and all(isinstance(doc["gone_at"], datetime) for doc in docs.values())
    assert abs(docs[f"{SITE}/deleted.html"]["gone_at"] - T0) < timedelta(minutes=5)
    states = {doc["_id"]: doc for doc in mongo_db.url_state.find()}
    assert states[f"{SITE}/deleted.html"]["kind"] == KIND_GONE
    assert states[f"{SITE}/deleted.html"]["next_recrawl"] is None  # 410: never again
    assert states[f"{SITE}/missing.html"]["next_recrawl"] is not None  # 404: on schedule
    assert crawler.stats.get_value("news/state/gone_marked") == 2
    # back again (200, same content): no longer gone, still one document
    articles.write([{"url": f"{SITE}/missing.html", "title": "T", "text": "x",
                     "content_hash": "missing", "fetched_at": T0 + timedelta(days=1)}])
    back = mongo_db.articles.find_one({"url": f"{SITE}/missing.html"})
    assert "gone_at" not in back and back["first_seen"] == T0 - timedelta(days=1)


# -- moved articles ------------------------------------------------------------------------------

def _article(url: str, text: str, at: datetime, listed: str | None = None) -> dict[str, Any]:
    return {"url": url, "title": "T", "text": text, "content_hash": f"h:{text}",
            "fetched_at": at, "_fetch": {"status": 200, "url": url, "listed": listed or url}}


def test_a_moved_article_is_one_document(mongo_db: Any) -> None:
    """Fetched again through a 301 from its old URL: the old document takes the new URL
    (revisions too); when the new URL was stored first (found in a listing), the two become
    one, with the earlier first_seen."""
    store = ArticleStore(mongo_db.articles, mongo_db.article_revisions)
    store.ensure_indexes()
    old, new = f"{SITE}/a.html", f"{SITE}/a-renamed.html"
    store.write([_article(old, "v1", T0)], now=T0)
    store.write([_article(old, "v2", T0 + timedelta(hours=1))], now=T0 + timedelta(hours=1))
    later = T0 + timedelta(days=1)
    result = store.write([_article(new, "v2", later, listed=old)], now=later)
    assert result.unchanged == 1
    (doc,) = mongo_db.articles.find()
    assert doc["url"] == new and doc["moved_from"] == [old] and doc["first_seen"] == T0
    assert doc["revision"] == 2
    assert [r["url"] for r in mongo_db.article_revisions.find()] == [new]

    other_old, other_new = f"{SITE}/b.html", f"{SITE}/b-renamed.html"
    store.write([_article(other_old, "b", T0)], now=T0)
    store.write([_article(other_new, "b", later)], now=later)  # listed under its new URL
    assert mongo_db.articles.count_documents({"url": {"$in": [other_old, other_new]}}) == 2
    store.write([_article(other_new, "b", later, listed=other_old)], now=later)
    (merged,) = mongo_db.articles.find({"url": {"$in": [other_old, other_new]}})
    assert merged["url"] == other_new and merged["moved_from"] == [other_old]
    assert merged["first_seen"] == T0 and merged.get("duplicate_of") is None
    # an edit later keeps where it came from
    store.write([_article(other_new, "b2", later + timedelta(hours=1))])
    assert mongo_db.articles.find_one({"url": other_new})["moved_from"] == [other_old]
