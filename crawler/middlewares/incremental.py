"""Incremental crawl state, in the style of scrapy-deltafetch: which pages to fetch again, and
what each fetch leaves behind (docs/cron.md, "What a run fetches"; docs/settings.md).

A spider middleware over the ``news`` spider's page requests (``news_hint`` in ``meta``: an
entry of a feed or sitemap; ``news_link``: a link found on a page). For each response's batch
of them it reads the stored ``url_state`` documents (one ``find`` with ``$in``, in a thread),
asks :meth:`crawler.url_state.RecrawlPolicy.decide`, drops what is not due (counted
``news/source/<name>/skipped_<reason>``) and makes the others conditional (``If-None-Match``,
``If-Modified-Since``). A database that cannot be read: ``news/state/read_errors``, and the
batch is fetched as new.

What a fetch leaves behind is written in a thread, one write at a time:

- a page that yields no article (the spider marks the response ``news_fetched``: a 304, a
  page that is not an article, or one gone: 404, 410), once the spider is done with it; a
  page's links and how many were new go with it (its cadence, ``NEWS_PAGE_BACKOFF``); a gone
  page's stored article gets its ``gone_at`` first;
- an article, once it is durable: the storage pipeline (pipelines/mongo.py) hands this
  middleware each batch it wrote (:meth:`IncrementalStateMiddleware.articles_stored`), a
  spooled batch once it reaches the database. Articles first, then their URL state: a crash in
  between refetches, never skips. Nothing comes back through a signal: the state of a fetch is
  recorded where it ends (the spider for a page, the storage pipeline for an article).

Without the storage pipeline (``crawler.database.stores_articles``) there is no state to keep:
recording a fetch whose article is not stored would make the next real crawl skip it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import PyMongoError
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response
from scrapy.statscollectors import StatsCollector

from crawler import keys as meta_keys
from crawler.browser import AGAIN_KEY  # request.meta: the same page again, through the browser
from crawler.canonical import canonicalize_url
from crawler.clock import Clock
from crawler.database import Database, stores_articles
from crawler.per_source import SourceCounts
from crawler.storage.article_store import ArticleStore
from crawler.url_state import (
    KIND_GONE,
    RecrawlPolicy,
    UrlStateStore,
    article_updates,
    conditional_headers,
    page_updates,
)

logger = logging.getLogger(__name__)

LISTED_KEY = meta_keys.HINT  # request.meta: what a feed or sitemap entry says of the URL
LINK_KEY = meta_keys.LINK  # request.meta: a link found on a page

FETCHED_KEY = meta_keys.FETCHED  # response.meta: the kind of a fetch that yields no article


def fetch_info(doc: Any) -> dict[str, Any]:
    """What the spider noted of an article's fetch (status, url, listed, etag, last_modified)."""
    fetch = doc.get("_fetch") if isinstance(doc, dict) else None
    return fetch if isinstance(fetch, dict) else {}


class IncrementalStateMiddleware:
    def __init__(self, crawler: Crawler, policy: RecrawlPolicy,
                 store: UrlStateStore | None = None, clock: Clock | None = None) -> None:
        self.crawler = crawler  # its stats, and its database (opened when the spider opens)
        self.stats: StatsCollector = crawler.stats
        self.policy = policy
        self.clock = clock or Clock()  # NEWS_NOW
        self.store = store  # given (a test), or opened on the crawl's database
        self.articles: ArticleStore | None = None  # marked gone_at on a 404 or 410
        self.pending: list[dict[str, Any]] = []  # URL state not yet written
        self._lock = asyncio.Lock()
        self._writes: set[asyncio.Task[None]] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IncrementalStateMiddleware:
        if not stores_articles(crawler.settings):
            logger.info("No URL state kept: articles are not stored (pipelines.mongo."
                        "MongoPipeline is not in ITEM_PIPELINES), so every URL is fetched")
            raise NotConfigured("articles are not stored: no URL state (ITEM_PIPELINES)")
        middleware = cls(crawler, RecrawlPolicy.from_settings(crawler.settings),
                         clock=Clock.from_settings(crawler.settings))
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    async def spider_opened(self, spider: Spider) -> None:
        if self.store is None:
            database = Database.for_crawler(self.crawler)
            self.store = UrlStateStore(database.db["url_state"], self.policy)
            self.articles = ArticleStore(database.db["articles"])
        try:
            await asyncio.to_thread(self.store.ensure_indexes)
        except PyMongoError as exc:
            self._count("news/state/index_errors")
            logger.warning("URL state indexes not created (%s): reads may be slow",
                           type(exc).__name__)
        if self.pending:  # replayed from the spool as the storage pipeline opened
            self._write_soon()

    async def spider_closed(self, spider: Spider) -> None:
        """After the storage pipeline's last batch: the last URL state, before the database
        closes (engine_stopped)."""
        while self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)
        await self.flush()

    def _count(self, key: str, value: int = 1) -> None:
        if value:
            self.stats.inc_value(key, value)

    def _count_source(self, source: str | None, event: str) -> None:
        """Per-source counts (crawler/per_source.py), read by the crawl_runs record."""
        SourceCounts.for_crawler(self.crawler).add(source, event)

    # -- which pages to fetch ------------------------------------------------------------------

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """The start requests, then the articles due on the recrawl schedule, by their last
        address, whether or not a feed, sitemap or page still lists them: a deleted article
        left every listing (its 404 or 410 is how ``gone_at`` is learned), a moved one answers
        with its new address. A due URL listed as well is fetched once (the duplicate filter)."""
        async for output in start:
            yield output
        spider = self.crawler.spider
        make = getattr(spider, "recrawl_request", None)
        sources = [source.name for source in getattr(spider, "sources", [])]
        if self.store is None or make is None or not sources:
            return
        now = self.clock.now()
        try:
            due = await asyncio.to_thread(self.store.due, sources, now)
        except PyMongoError as exc:
            self._count("news/state/read_errors")
            logger.warning("Due recrawls not readable (%s): only listed ones are fetched",
                           type(exc).__name__)
            return
        for state in due:
            request = make(state["address"], state.get("source"))
            for name, value in conditional_headers(state).items():
                request.headers[name] = value
            self._count("news/state/due_requested")
            yield request

    async def process_spider_output(self, response: Response, result: AsyncIterator[Any],
                                    ) -> AsyncIterator[Any]:
        """The page requests the spider gives in a row are decided together (one read of
        their state), as soon as the spider pauses: the links of a page go to the scheduler
        before the page's own extraction has finished, not after it."""
        batch: list[Request] = []
        links = [0, 0, canonicalize_url(response.url)]  # the page's links, new ones, its key
        outputs = aiter(result)
        while True:
            pending = asyncio.ensure_future(anext(outputs, _END))
            if batch:
                await asyncio.sleep(0)  # lets the spider run up to its next output or wait
                if not pending.done():  # it waits (an extraction): the batch is complete
                    for request in await self.due(batch, links):
                        yield request
                    batch = []
            output = await pending
            if output is _END:
                break
            if isinstance(output, Request) and _is_page(output):
                batch.append(output)
                continue
            if batch:
                for request in await self.due(batch, links):
                    yield request
                batch = []
            yield output
        if batch:
            for request in await self.due(batch, links):
                yield request
        self._fetched(response, links)

    async def due(self, requests: list[Request], links: list[Any] | None = None,
                  ) -> list[Request]:
        """The requests whose URL is new, changed or due, conditional when it was fetched
        before; the others counted as skipped. ``links`` (``[links, new links, the page's
        URL]``): adds the links among them, and those new to the page (not seen before the
        page's last fetch: a link first found in a feed earlier in this run is new to its
        section page too), to its two counts."""
        keys = [canonicalize_url(request.url) for request in requests]
        page = links[2] if links is not None else None
        states = await self.load(list(dict.fromkeys(keys)), also=[page] if page else [])
        page_fetched = _last_fetched(states.get(page)) if page else None
        now = self.clock.now()
        kept = []
        for key, request in zip(keys, requests, strict=True):
            state = states.get(key)
            hint = request.meta.get(LISTED_KEY)
            if isinstance(hint, dict):
                decision = self.policy.decide(state, now, published=hint.get("published"),
                                              modified=hint.get("modified"))
            else:
                decision = self.policy.decide(state, now, listed=False)
            if links is not None and request.meta.get(LINK_KEY):
                links[0] += 1
                links[1] += state is None or page_fetched is None or \
                    _first_seen(state) > page_fetched
            if not decision.fetch:
                self._count_source(request.meta.get(meta_keys.SOURCE),
                                   f"skipped_{decision.reason}")
                continue
            headers = conditional_headers(state)
            for name, value in headers.items():
                request.headers[name] = value
            kept.append(request)
        return kept

    async def load(self, urls: list[str], also: list[str] | None = None,
                   ) -> dict[str, dict[str, Any]]:
        """The states of ``urls`` (and of ``also``, the page they were found on), one read."""
        if self.store is None or not urls:
            return {}
        self._count("news/state/reads")
        try:
            return await asyncio.to_thread(self.store.load, [*urls, *(also or [])])
        except PyMongoError as exc:
            self._count("news/state/read_errors")
            logger.warning("URL state not readable (%s): fetching %d URLs as new",
                           type(exc).__name__, len(urls))
            return {}

    # -- what a fetch leaves behind ------------------------------------------------------------

    def _fetched(self, response: Response, links: list[Any]) -> None:
        kind = response.meta.get(FETCHED_KEY)
        if isinstance(kind, str):
            self.pending.extend(page_updates(response, kind, self.clock.now(),
                                             (links[0], links[1]) if links[0] else None))
            self._write_soon()

    def articles_stored(self, docs: list[dict[str, Any]]) -> None:
        """The acknowledgement of the storage pipeline: a batch of article documents is in the
        database; their URL state follows."""
        self.pending.extend(update for doc in docs for update in article_updates(
            doc, fetch_info(doc)))
        self._write_soon()

    def _write_soon(self) -> None:
        if self.store is None or not self.pending:
            return
        task = asyncio.ensure_future(self.flush())
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def flush(self) -> None:
        """Write the pending URL state, one write at a time (a state is read, merged and
        replaced: two writes of one URL at once would lose a fetch)."""
        async with self._lock:
            updates, self.pending = self.pending, []
            if updates and self.store is not None:
                await asyncio.to_thread(self.record, updates)

    def record(self, updates: list[dict[str, Any]]) -> None:
        assert self.store is not None
        now = self.clock.now()
        gone = [update["url"] for update in updates if update.get("kind") == KIND_GONE]
        try:
            if gone and self.articles is not None:  # the article first, then its URL state
                self._count("news/state/gone_marked", self.articles.mark_gone(gone, now))
            self.store.record(updates, now=now)
        except PyMongoError as exc:
            # Losing a state only means a refetch next run; the articles are safe.
            self._count("news/state/write_errors")
            logger.warning("URL state of %d page(s) not written: %s", len(updates),
                           type(exc).__name__)
            return
        self._count("news/state/recorded", len({update["url"] for update in updates}))


_END = object()  # the end of the spider's output


def _last_fetched(state: dict[str, Any] | None) -> datetime | None:
    value = state.get("last_fetched") if state else None
    return _utc(value) if isinstance(value, datetime) else None


def _first_seen(state: dict[str, Any]) -> datetime:
    value = state.get("first_seen")
    return _utc(value) if isinstance(value, datetime) else datetime.min.replace(tzinfo=UTC)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _is_page(request: Request) -> bool:
    if request.meta.get(AGAIN_KEY):  # a page just fetched, again through the browser: no new URL
        return False
    return isinstance(request.meta.get(LISTED_KEY), dict) or bool(request.meta.get(LINK_KEY))
