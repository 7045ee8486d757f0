"""Strip the lines a site repeats in its articles (its template), learned from its own pages.

A new site's articles wait (``NEWS_TEMPLATE_WARMUP`` pages, or until the crawl has nothing left
to fetch, or ``NEWS_TEMPLATE_HOLD_TIMEOUT``) so that even the first article stored is clean.
What was learned is kept in MongoDB, so a later run strips from its first page on. Patterns in
the sources file (``boilerplate``) are stripped as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from itemadapter import ItemAdapter
from pymongo.errors import PyMongoError
from scrapy.crawler import Crawler

from crawler.database import Database
from crawler.normalize import join_paragraphs, site_of, split_paragraphs
from crawler.templates import SiteTemplate
from pipelines.template_store import TemplateStore

logger = logging.getLogger(__name__)


class TemplateStripPipeline:
    def __init__(self, min_pages: int = 3, min_share: float = 0.1, warmup: int = 10,
                 hold_timeout: float = 60.0, tick: float = 0.5) -> None:
        self.min_pages = min_pages
        self.min_share = min_share
        self.warmup = warmup
        self.hold_timeout = hold_timeout
        self.tick = tick
        self.sites: dict[str, SiteTemplate] = {}
        self.loading: dict[str, asyncio.Future[SiteTemplate]] = {}
        self.held: dict[str, list[tuple[dict[str, Any], asyncio.Future[None]]]] = {}
        self.held_since: dict[str, float] = {}
        self.store: TemplateStore | None = None
        self.crawler: Crawler | None = None
        self._ticker: asyncio.Task[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TemplateStripPipeline:
        settings = crawler.settings
        pipeline = cls(
            min_pages=settings.getint("NEWS_TEMPLATE_MIN_PAGES", 3),
            min_share=settings.getfloat("NEWS_TEMPLATE_MIN_SHARE", 0.1),
            warmup=settings.getint("NEWS_TEMPLATE_WARMUP", 10),
            hold_timeout=settings.getfloat("NEWS_TEMPLATE_HOLD_TIMEOUT", 60.0),
        )
        pipeline.crawler = crawler
        return pipeline

    async def open_spider(self) -> None:
        if self.crawler is not None:
            database = Database.for_crawler(self.crawler)
            self.store = TemplateStore(database.db["site_templates"])
        self._ticker = asyncio.ensure_future(self._release_when_quiet())

    async def close_spider(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        self.release_all("spider closing")
        if self.store is not None:
            for template in self.sites.values():
                try:
                    await asyncio.to_thread(self.store.save, template)
                except PyMongoError as exc:
                    self._count("save_errors")
                    logger.warning("Site %s: template not saved (%s); the next run relearns it",
                                   template.site, type(exc).__name__)

    def _count(self, key: str, value: int = 1) -> None:
        if self.crawler is not None and self.crawler.stats is not None and value:
            self.crawler.stats.inc_value(f"news/templates/{key}", value)

    async def _template(self, site: str) -> SiteTemplate:
        """The site's template, loaded once from the store (concurrent callers wait for it)."""
        loading = self.loading.get(site)
        if loading is None:
            loading = asyncio.ensure_future(self._load(site))
            self.loading[site] = loading
        return await asyncio.shield(loading)

    async def _load(self, site: str) -> SiteTemplate:
        template = SiteTemplate(site, min_pages=self.min_pages, min_share=self.min_share)
        if self.store is not None:
            try:
                await asyncio.to_thread(self.store.load, template)
            except PyMongoError as exc:
                # Learning starts afresh for this run; the articles are held and cleaned as usual.
                self._count("load_errors")
                logger.warning("Site %s: stored template not readable (%s); learning afresh",
                               site, type(exc).__name__)
            if template.pages:
                logger.info("Site %s: template state of %d pages loaded", site, template.pages)
        self.sites[site] = template
        return template

    async def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        site = site_of(adapter["url"])
        template = await self._template(site)
        lines = split_paragraphs(adapter.get("text") or "")
        template.observe(lines)
        if template.pages >= self.warmup:
            self.release(site, "warm-up reached")
            return self.strip(adapter.asdict())
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        fields = adapter.asdict()
        self.held.setdefault(site, []).append((fields, future))
        self.held_since.setdefault(site, time.monotonic())
        self._count("held")
        await future
        return self.strip(fields)

    def strip(self, fields: dict[str, Any]) -> dict[str, Any]:
        site = site_of(fields["url"])
        template = self.sites[site]
        kept, removed = template.strip(split_paragraphs(fields.get("text") or ""))
        patterns = self._source_patterns(fields.get("source"))
        if patterns:
            extra = [line for line in kept if any(p.search(line) for p in patterns)]
            kept = [line for line in kept if line not in extra]
            removed += extra
        fields["text"] = join_paragraphs(kept)
        fields["paragraphs"] = kept
        fields["template_lines_removed"] = len(removed)
        self._count("lines_removed", len(removed))
        if removed:
            logger.debug("Removed %d template line(s) from %s: %r", len(removed),
                         fields["url"], removed[:5])
        return fields

    def _source_patterns(self, name: str | None) -> tuple[Any, ...]:
        spider = getattr(self.crawler, "spider", None)
        source = spider.source(name) if spider is not None and hasattr(spider, "source") else None
        return source.boilerplate if source is not None else ()

    def release(self, site: str, why: str) -> None:
        held = self.held.pop(site, [])
        self.held_since.pop(site, None)
        if held:
            logger.info("Site %s: releasing %d article(s) (%s; learned from %d pages)", site,
                        len(held), why, self.sites[site].pages)
        for _fields, future in held:
            if not future.done():
                future.set_result(None)

    def release_all(self, why: str) -> None:
        for site in list(self.held):
            self.release(site, why)

    async def _release_when_quiet(self) -> None:
        while True:
            await asyncio.sleep(self.tick)
            if not self.held:
                continue
            if self._crawl_is_quiet():
                self.release_all("nothing left to fetch")
                continue
            now = time.monotonic()
            for site, since in list(self.held_since.items()):
                if now - since >= self.hold_timeout:
                    self.release(site, "hold timeout")

    def _crawl_is_quiet(self) -> bool:
        """No download in progress, none scheduled and no page being extracted; or the crawl
        is shutting down (SIGTERM, CLOSESPIDER_*), which waits for the held articles."""
        engine = getattr(self.crawler, "engine", None)
        if engine is None or not getattr(engine, "running", True):
            return True
        if getattr(getattr(engine, "_slot", None), "closing", None) is not None:
            return True
        if engine.downloader.active or getattr(engine, "_start", None) is not None:
            return False
        scheduler = getattr(getattr(engine, "_slot", None), "scheduler", None)
        if scheduler is not None and scheduler.has_pending_requests():
            return False
        spider = getattr(self.crawler, "spider", None)
        return getattr(spider, "extractions_in_flight", 0) == 0
