"""Template stripping in a distributed crawl: the line counts are shared live by every worker.

As :class:`TemplateStripPipeline`, but a site's pages are counted in MongoDB
(:class:`SharedTemplateStore`), whichever worker fetched them, and an article is stripped with
the counts of all of them. A new site's articles are held until the site's shared page count
reaches ``NEWS_TEMPLATE_WARMUP``, or the shared crawl is quiet (nothing pending, nothing in
flight on any worker but held articles and pending writes, nobody seeding), or
``NEWS_TEMPLATE_HOLD_TIMEOUT`` passes. A held article's queue entry is marked settled, so that
the workers holding articles do not wait for each other.

Once a site has many pages counted (:attr:`steady`), its pages are counted in batches (every
tick, or every ``batch`` pages) and its articles are stripped with the site's possible template
lines (those on at least ``NEWS_TEMPLATE_MIN_PAGES`` pages) as read at most ``refresh`` seconds
before: the database sees a few operations per second per site instead of several per article.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from itemadapter import ItemAdapter
from pymongo.errors import PyMongoError
from redis.exceptions import RedisError
from scrapy.crawler import Crawler

from crawler.database import Database
from crawler.distributed.shared import SharedCrawl
from crawler.normalize import site_of, split_paragraphs
from crawler.templates import SiteTemplate
from pipelines.shared_template_store import SharedTemplateStore
from pipelines.templates import TemplateStripPipeline

logger = logging.getLogger(__name__)


class SharedTemplateStripPipeline(TemplateStripPipeline):
    def __init__(self, *args: Any, refresh: float = 2.0, batch: int = 50, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refresh = refresh  # seconds a warmed-up site's template lines are reused
        self.batch = batch  # pages of a warmed-up site counted together
        self.shared: SharedCrawl | None = None
        self.shared_store: SharedTemplateStore | None = None
        self.observed: set[str] = set()
        self.backlog: dict[str, list[list[str]]] = {}  # warmed-up sites' pages to count
        self.cached: dict[str, tuple[float, SiteTemplate]] = {}
        self.refreshing: dict[str, asyncio.Future[SiteTemplate]] = {}

    @property
    def steady(self) -> int:
        """Pages of a site after which its pages are counted in batches: by then a template
        line is on many more than ``min_pages`` pages, so a page not yet counted (its own, or
        a batch's) cannot decide whether a line is a template."""
        return max(self.warmup, 10 * self.min_pages)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedTemplateStripPipeline:
        pipeline = super().from_crawler(crawler)
        assert isinstance(pipeline, SharedTemplateStripPipeline)
        pipeline.shared = SharedCrawl.for_crawler(crawler)
        return pipeline

    async def open_spider(self) -> None:
        await super().open_spider()
        if self.crawler is not None:
            self.shared_store = SharedTemplateStore(Database.for_crawler(self.crawler).db,
                                                    self.store)
            await asyncio.to_thread(self.shared_store.ensure_indexes)

    async def close_spider(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        self.release_all("spider closing")
        if self.shared_store is None:
            return
        await self._observe_backlog()
        for site in sorted(self.observed):
            try:
                await asyncio.to_thread(self.shared_store.export, site)
            except PyMongoError as exc:
                self._count("save_errors")
                logger.warning("Site %s: shared template not exported (%s)", site,
                               type(exc).__name__)

    async def _load(self, site: str) -> SiteTemplate:
        template = SiteTemplate(site, min_pages=self.min_pages, min_share=self.min_share)
        if self.shared_store is not None:
            try:
                await asyncio.to_thread(self.shared_store.ensure_imported, site)
            except PyMongoError as exc:
                self._count("load_errors")
                logger.warning("Site %s: stored template not imported (%s)", site,
                               type(exc).__name__)
        self.sites[site] = template
        return template

    async def process_item(self, item: Any) -> Any:
        fields = ItemAdapter(item).asdict()
        site = site_of(fields["url"])
        template = await self._template(site)
        lines = split_paragraphs(fields.get("text") or "")
        if self.shared_store is not None and template.pages >= self.steady:
            # A warmed-up site: its page is counted in the next batch, and it is stripped with
            # the site's template lines as read at most `refresh` seconds ago.
            self.backlog.setdefault(site, []).append(lines)
            if len(self.backlog[site]) >= self.batch:
                await self._observe_backlog(site)
            return await self._strip_cached(fields)
        if self.shared_store is not None:
            try:
                template.pages = await asyncio.to_thread(self.shared_store.observe, site, lines)
            except PyMongoError as exc:
                self._count("observe_errors")
                logger.warning("Site %s: page not counted in the shared store (%s)", site,
                               type(exc).__name__)
            self.observed.add(site)
        if template.pages >= self.warmup:
            self.release(site, "warm-up reached")
            return await self._strip_shared(fields)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.held.setdefault(site, []).append((fields, future))
        self.held_since.setdefault(site, time.monotonic())
        self._count("held")
        self._settle(fields)
        await future
        return await self._strip_shared(fields)

    def _settle(self, fields: dict[str, Any]) -> None:
        """A held article's request will produce nothing more: tell the other workers."""
        qid = (fields.get("_fetch") or {}).get("queue_id")
        if self.shared is not None and isinstance(qid, int):
            try:
                self.shared.settle([qid])
            except RedisError as exc:
                logger.warning("Held article not marked settled (%s)", type(exc).__name__)

    async def _strip_shared(self, fields: dict[str, Any]) -> dict[str, Any]:
        site = site_of(fields["url"])
        if self.shared_store is not None:
            lines = split_paragraphs(fields.get("text") or "")
            try:
                self.sites[site] = await asyncio.to_thread(
                    self.shared_store.template, site, lines, self.min_pages, self.min_share)
            except PyMongoError as exc:
                self._count("load_errors")
                logger.warning("Site %s: shared template not readable (%s); stripping with "
                               "what this worker knows", site, type(exc).__name__)
        return self.strip(fields)

    async def _observe_backlog(self, only: str | None = None) -> None:
        for site in [only] if only else list(self.backlog):
            pages = self.backlog.pop(site, [])
            if not pages or self.shared_store is None:
                continue
            self.observed.add(site)
            try:
                count = await asyncio.to_thread(self.shared_store.observe_many, site, pages)
            except PyMongoError as exc:
                self._count("observe_errors", len(pages))
                logger.warning("Site %s: %d page(s) not counted in the shared store (%s)", site,
                               len(pages), type(exc).__name__)
                continue
            self.sites[site].pages = max(self.sites[site].pages, count)

    async def _strip_cached(self, fields: dict[str, Any]) -> dict[str, Any]:
        site = site_of(fields["url"])
        cached = self.cached.get(site)
        if cached is None or time.monotonic() - cached[0] > self.refresh:
            refreshing = self.refreshing.get(site)
            if refreshing is None:
                refreshing = asyncio.ensure_future(self._candidates(site))
                self.refreshing[site] = refreshing
            try:
                await asyncio.shield(refreshing)
            except PyMongoError as exc:
                self._count("load_errors")
                logger.warning("Site %s: shared template not readable (%s); stripping with "
                               "what this worker read before", site, type(exc).__name__)
            finally:
                self.refreshing.pop(site, None)
        if site in self.cached:
            self.sites[site] = self.cached[site][1]
        return self.strip(fields)

    async def _candidates(self, site: str) -> SiteTemplate:
        assert self.shared_store is not None
        template = await asyncio.to_thread(self.shared_store.candidates, site, self.min_pages,
                                           self.min_share)
        self.cached[site] = (time.monotonic(), template)
        return template

    async def _release_when_quiet(self) -> None:
        while True:
            await asyncio.sleep(self.tick)
            await self._observe_backlog()
            if not self.held:
                continue
            if self._crawl_is_quiet():
                self.release_all("nothing left to fetch in the shared crawl")
                continue
            if self.shared_store is not None:
                try:
                    pages = await asyncio.to_thread(self.shared_store.pages_of, list(self.held))
                except PyMongoError:
                    pages = {}
                for site, count in pages.items():
                    if count >= self.warmup and site in self.held:
                        self.sites[site].pages = count
                        self.release(site, "warm-up reached on the shared crawl")
            now = time.monotonic()
            for site, since in list(self.held_since.items()):
                if now - since >= self.hold_timeout:
                    self.release(site, "hold timeout")

    def _crawl_is_quiet(self) -> bool:
        """Nothing to fetch in the whole shared crawl; or this worker is shutting down."""
        engine = getattr(self.crawler, "engine", None)
        if engine is None or not getattr(engine, "running", True):
            return True
        if getattr(getattr(engine, "_slot", None), "closing", None) is not None:
            return True
        if self.shared is None:
            return super()._crawl_is_quiet()
        try:
            return self.shared.status().quiet
        except RedisError:
            return False
