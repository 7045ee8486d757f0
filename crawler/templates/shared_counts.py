"""The count store of a distributed crawl: a site's line counts shared live by every worker.

Used by :class:`pipelines.template_strip.TemplateStripPipeline` when the crawl is distributed
(``NEWS_REDIS_URL``): a site's pages are counted in MongoDB (:class:`SharedTemplateStore`),
whichever worker fetched them, and an article is stripped with the counts of all of them.

Once a site has many pages counted (:attr:`SharedCounts.steady`), its pages are counted in
batches (every tick, or every ``batch`` pages) and its articles are stripped with the site's
possible template lines (those on at least ``NEWS_TEMPLATE_MIN_PAGES`` pages) as read at most
``refresh`` seconds before: the database sees a few operations per second per site instead of
several per article.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from pymongo.errors import PyMongoError

from crawler.templates.model import SiteTemplate
from crawler.templates.shared_store import SharedTemplateStore

logger = logging.getLogger(__name__)


class SharedCounts:
    shared = True

    def __init__(self, store: SharedTemplateStore, min_pages: int = 3, min_share: float = 0.1,
                 warmup: int = 10, count: Any = None, refresh: float = 2.0,
                 batch: int = 50) -> None:
        self.store = store
        self.min_pages = min_pages
        self.min_share = min_share
        self.warmup = warmup
        self.count = count or (lambda key, value=1: None)
        self.refresh = refresh  # seconds a warmed-up site's template lines are reused
        self.batch = batch  # pages of a warmed-up site counted together
        self.templates: dict[str, SiteTemplate] = {}
        self.observed: set[str] = set()
        self.backlog: dict[str, list[list[str]]] = {}  # warmed-up sites' pages to count
        self.cached: dict[str, tuple[float, SiteTemplate]] = {}
        self.last: dict[str, SiteTemplate] = {}  # what was read last of a site's lines
        self.refreshing: dict[str, asyncio.Future[SiteTemplate]] = {}

    @property
    def steady(self) -> int:
        """Pages of a site after which its pages are counted in batches: by then a template
        line is on many more than ``min_pages`` pages, so a page not yet counted (its own, or
        a batch's) cannot decide whether a line is a template."""
        return max(self.warmup, 10 * self.min_pages)

    async def open(self) -> None:
        await asyncio.to_thread(self.store.ensure_indexes)

    async def load(self, site: str) -> SiteTemplate:
        try:
            await asyncio.to_thread(self.store.ensure_imported, site)
        except PyMongoError as exc:
            self.count("load_errors")
            logger.warning("Site %s: stored template not imported (%s)", site,
                           type(exc).__name__)
        template = SiteTemplate(site, min_pages=self.min_pages, min_share=self.min_share)
        self.templates[site] = template
        return template

    async def observe(self, template: SiteTemplate, lines: list[str]) -> None:
        site = template.site
        if template.pages >= self.steady:
            # A warmed-up site: its page is counted in the next batch.
            self.backlog.setdefault(site, []).append(lines)
            if len(self.backlog[site]) >= self.batch:
                await self._observe_backlog(site)
            return
        try:
            template.pages = await asyncio.to_thread(self.store.observe, site, lines)
        except PyMongoError as exc:
            self.count("observe_errors")
            logger.warning("Site %s: page not counted in the shared store (%s)", site,
                           type(exc).__name__)
        self.observed.add(site)

    async def stripping(self, template: SiteTemplate, lines: list[str]) -> SiteTemplate:
        site = template.site
        if template.pages >= self.steady:
            # Stripped with the site's template lines as read at most `refresh` seconds ago.
            return await self._cached(template)
        try:
            fresh = await asyncio.to_thread(self.store.template, site, lines, self.min_pages,
                                            self.min_share)
        except PyMongoError as exc:
            self.count("load_errors")
            logger.warning("Site %s: shared template not readable (%s); stripping with "
                           "what this worker read before", site, type(exc).__name__)
            return self.last.get(site, template)
        template.pages = max(template.pages, fresh.pages)
        self.last[site] = fresh
        return fresh

    async def counted(self, sites: list[str]) -> dict[str, int]:
        try:
            return await asyncio.to_thread(self.store.pages_of, sites)
        except PyMongoError:
            return {}

    async def tick(self) -> None:
        await self._observe_backlog()

    async def close(self, templates: dict[str, SiteTemplate]) -> None:
        await self._observe_backlog()
        for site in sorted(self.observed):
            try:
                await asyncio.to_thread(self.store.export, site)
            except PyMongoError as exc:
                self.count("save_errors")
                logger.warning("Site %s: shared template not exported (%s)", site,
                               type(exc).__name__)

    async def _observe_backlog(self, only: str | None = None) -> None:
        for site in [only] if only else list(self.backlog):
            pages = self.backlog.pop(site, [])
            if not pages:
                continue
            self.observed.add(site)
            try:
                count = await asyncio.to_thread(self.store.observe_many, site, pages)
            except PyMongoError as exc:
                self.count("observe_errors", len(pages))
                logger.warning("Site %s: %d page(s) not counted in the shared store (%s)", site,
                               len(pages), type(exc).__name__)
                continue
            template = self.templates.get(site)
            if template is not None:
                template.pages = max(template.pages, count)

    async def _cached(self, template: SiteTemplate) -> SiteTemplate:
        site = template.site
        cached = self.cached.get(site)
        if cached is None or time.monotonic() - cached[0] > self.refresh:
            refreshing = self.refreshing.get(site)
            if refreshing is None:
                refreshing = asyncio.ensure_future(self._candidates(site))
                self.refreshing[site] = refreshing
            try:
                await asyncio.shield(refreshing)
            except PyMongoError as exc:
                self.count("load_errors")
                logger.warning("Site %s: shared template not readable (%s); stripping with "
                               "what this worker read before", site, type(exc).__name__)
            finally:
                self.refreshing.pop(site, None)
        cached = self.cached.get(site)
        return cached[1] if cached is not None else self.last.get(site, template)

    async def _candidates(self, site: str) -> SiteTemplate:
        template = await asyncio.to_thread(self.store.candidates, site, self.min_pages,
                                           self.min_share)
        self.cached[site] = (time.monotonic(), template)
        return template
