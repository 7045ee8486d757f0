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

- a page that yields no article (the spider marks the response ``news_fetched``: a 304 of an
  article, or a page that is not one), once the spider is done with it;
- an article, once it is durable: on ``crawler.signals.articles_stored`` after its batch is
  written to the database, or on ``articles_replayed`` after a spooled batch reaches it.
  Articles first, then their URL state: a crash in between refetches, never skips.

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

from crawler import signals as news_signals
from crawler.canonical import canonicalize_url
from crawler.database import Database, stores_articles
from crawler.url_state import (
    RecrawlPolicy,
    UrlStateStore,
    article_updates,
    conditional_headers,
    page_updates,
)

logger = logging.getLogger(__name__)

LISTED_KEY = "news_hint"  # request.meta: what a feed or sitemap entry says of the URL
LINK_KEY = "news_link"  # request.meta: a link found on a page
FETCHED_KEY = "news_fetched"  # response.meta: the kind of a fetch that yields no article


def fetch_info(doc: Any) -> dict[str, Any]:
    """What the spider noted of an article's fetch (status, url, listed, etag, last_modified)."""
    fetch = doc.get("_fetch") if isinstance(doc, dict) else None
    return fetch if isinstance(fetch, dict) else {}


class IncrementalStateMiddleware:
    def __init__(self, crawler: Crawler, policy: RecrawlPolicy,
                 store: UrlStateStore | None = None) -> None:
        self.crawler = crawler  # its stats, and its database (opened when the spider opens)
        self.stats: StatsCollector = crawler.stats
        self.policy = policy
        self.store = store  # given (a test), or opened on the crawl's database
        self.pending: list[dict[str, Any]] = []  # URL state not yet written
        self._lock = asyncio.Lock()
        self._writes: set[asyncio.Task[None]] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IncrementalStateMiddleware:
        if not stores_articles(crawler.settings):
            logger.info("No URL state kept: articles are not stored (pipelines.mongo."
                        "MongoPipeline is not in ITEM_PIPELINES), so every URL is fetched")
            raise NotConfigured("articles are not stored: no URL state (ITEM_PIPELINES)")
        middleware = cls(crawler, RecrawlPolicy.from_settings(crawler.settings))
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(middleware.articles_stored, signal=news_signals.articles_stored)
        crawler.signals.connect(middleware.articles_replayed,
                                signal=news_signals.articles_replayed)
        return middleware

    async def spider_opened(self, spider: Spider) -> None:
        if self.store is None:
            database = Database.for_crawler(self.crawler)
            self.store = UrlStateStore(database.db["url_state"], self.policy)
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
        """Per-source counts (news/source/<name>/<event>), read by the crawl_runs record."""
        self._count(f"news/source/{source or 'adhoc'}/{event}")

    # -- which pages to fetch ------------------------------------------------------------------

    async def process_spider_output(self, response: Response, result: AsyncIterator[Any],
                                    ) -> AsyncIterator[Any]:
        """The page requests the spider gives in a row are decided together (one read of
        their state), as soon as the spider pauses: the links of a page go to the scheduler
        before the page's own extraction has finished, not after it."""
        batch: list[Request] = []
        outputs = aiter(result)
        while True:
            pending = asyncio.ensure_future(anext(outputs, _END))
            if batch:
                await asyncio.sleep(0)  # lets the spider run up to its next output or wait
                if not pending.done():  # it waits (an extraction): the batch is complete
                    for request in await self.due(batch):
                        yield request
                    batch = []
            output = await pending
            if output is _END:
                break
            if isinstance(output, Request) and _is_page(output):
                batch.append(output)
                continue
            if batch:
                for request in await self.due(batch):
                    yield request
                batch = []
            yield output
        if batch:
            for request in await self.due(batch):
                yield request
        self._fetched(response)

    async def due(self, requests: list[Request]) -> list[Request]:
        """The requests whose URL is new, changed or due, conditional when it was fetched
        before; the others counted as skipped."""
        keys = [canonicalize_url(request.url) for request in requests]
        states = await self.load(list(dict.fromkeys(keys)))
        now = datetime.now(UTC)
        kept = []
        for key, request in zip(keys, requests, strict=True):
            state = states.get(key)
            hint = request.meta.get(LISTED_KEY)
            if isinstance(hint, dict):
                decision = self.policy.decide(state, now, published=hint.get("published"),
                                              modified=hint.get("modified"))
            else:
                decision = self.policy.decide(state, now, listed=False)
            if not decision.fetch:
                self._count_source(request.meta.get("news_source"),
                                   f"skipped_{decision.reason}")
                continue
            headers = conditional_headers(state)
            for name, value in headers.items():
                request.headers[name] = value
            kept.append(request)
        return kept

    async def load(self, urls: list[str]) -> dict[str, dict[str, Any]]:
        if self.store is None or not urls:
            return {}
        self._count("news/state/reads")
        try:
            return await asyncio.to_thread(self.store.load, urls)
        except PyMongoError as exc:
            self._count("news/state/read_errors")
            logger.warning("URL state not readable (%s): fetching %d URLs as new",
                           type(exc).__name__, len(urls))
            return {}

    # -- what a fetch leaves behind ------------------------------------------------------------

    def _fetched(self, response: Response) -> None:
        kind = response.meta.get(FETCHED_KEY)
        if isinstance(kind, str):
            self.pending.extend(page_updates(response, kind, datetime.now(UTC)))
            self._write_soon()

    def articles_stored(self, docs: list[dict[str, Any]], spooled: bool = False) -> None:
        """A batch written to the database; a spooled one gets its state when it is replayed."""
        if not spooled:
            self.articles_replayed(docs)

    def articles_replayed(self, docs: list[dict[str, Any]]) -> None:
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
        try:
            self.store.record(updates)
        except PyMongoError as exc:
            # Losing a state only means a refetch next run; the articles are safe.
            self._count("news/state/write_errors")
            logger.warning("URL state of %d page(s) not written: %s", len(updates),
                           type(exc).__name__)
            return
        self._count("news/state/recorded", len({update["url"] for update in updates}))


_END = object()  # the end of the spider's output


def _is_page(request: Request) -> bool:
    return isinstance(request.meta.get(LISTED_KEY), dict) or bool(request.meta.get(LINK_KEY))
