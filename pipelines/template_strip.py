"""Strip the lines a site repeats in its articles (its template), learned from its own pages.

A new site's first articles are held until its template is learned, so that even the first
article stored is clean: the pipeline counts each article's page and asks the hold
(:class:`crawler.template_hold.TemplateHold`, the outermost spider middleware, found with
``crawler.get_spider_middleware``) whether it may go now; the hold alone decides when held
articles are released, or not stored when the crawl closes first (``DropItem``,
``news/templates/not_stored``: their URL state is not written, so the next run fetches them
again). Its rules and their diagram are in crawler/template_hold.py. Nothing is ever stored
with a template not learned. Without a crawl (a test) the pipeline makes a hold of its own,
for which a site's pages may always come.

The line counts live in a *count store* (crawler/templates/): ``LocalCounts`` (this process,
kept in MongoDB's ``site_templates`` between runs) or, in a distributed crawl, ``SharedCounts``
(counted live in MongoDB by every worker). Patterns in the
sources file (``boilerplate``) are stripped as well.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.canonical import join_paragraphs, site_of, split_paragraphs
from crawler.database import Database, stores_articles
from crawler.defaults import news_float, news_int
from crawler.distributed import redis_url
from crawler.items import ArticleItem
from crawler.template_hold import Held, TemplateHold, hold_settings
from crawler.templates.counts import LocalCounts, TemplateCounts
from crawler.templates.local_store import TemplateStore
from crawler.templates.model import SiteTemplate

logger = logging.getLogger(__name__)


class TemplateStripPipeline:
    """``counts``: the count store; None: the one of the crawler's database, opened with the
    spider (a local store, or the shared one in a distributed crawl). ``hold``: the template
    hold; None: the crawl's (``TemplateHold`` among the spider middlewares), or, without one,
    a hold of the pipeline's own made with ``warmup``, ``hold_timeout``, ``hold_max_bytes``
    and ``tick``, for which a site's pages may always come."""

    def __init__(self, crawler: Crawler, counts: TemplateCounts | None = None,
                 min_pages: int = 3, min_share: float = 0.1, warmup: int = 10,
                 hold_timeout: float = 60.0, hold_max_bytes: int = 64 * 1024 * 1024,
                 tick: float = 0.5, hold: TemplateHold | None = None,
                 shared: bool = False) -> None:
        self.crawler = crawler  # its stats, database and spider (sources)
        self.min_pages = min_pages
        self.min_share = min_share
        self.warmup = warmup
        self._hold_args: dict[str, Any] = {"warmup": warmup, "hold_timeout": hold_timeout,
                                           "hold_max_bytes": hold_max_bytes, "tick": tick}
        self.hold = hold
        self.shared = shared  # distributed: the shared count store
        self.counts: TemplateCounts = counts or LocalCounts(None, min_pages, min_share)
        self._counts_given = counts is not None
        self.sites: dict[str, SiteTemplate] = {}
        self.loading: dict[str, asyncio.Future[SiteTemplate]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TemplateStripPipeline:
        settings = crawler.settings
        return cls(
            crawler,
            min_pages=news_int(settings, "NEWS_TEMPLATE_MIN_PAGES"),
            min_share=news_float(settings, "NEWS_TEMPLATE_MIN_SHARE"),
            shared=bool(redis_url(settings)),
            **hold_settings(crawler),
        )

    async def open_spider(self) -> None:
        # Without the storage pipeline no database: templates learned in this run only.
        if not self._counts_given and stores_articles(self.crawler.settings):
            db = Database.for_crawler(self.crawler).db
            store = TemplateStore(db["site_templates"])
            if self.shared:
                from crawler.templates.shared_counts import SharedCounts
                from crawler.templates.shared_store import SharedTemplateStore

                shared = SharedTemplateStore(db, store, min_pages=self.min_pages,
                                             min_share=self.min_share)
                self.counts = SharedCounts(shared, self.min_pages, self.min_share, self.warmup,
                                           count=self._count)
            else:
                self.counts = LocalCounts(store, self.min_pages, self.min_share,
                                          count=self._count)
        await self.counts.open()
        if self.hold is None:
            self.hold = self._crawl_hold() or TemplateHold(self.crawler, **self._hold_args)
        self.hold.attach(self._pages, self._tick)

    def _crawl_hold(self) -> TemplateHold | None:
        try:
            return self.crawler.get_spider_middleware(TemplateHold)
        except RuntimeError:  # no engine: not in a crawl
            return None

    async def close_spider(self) -> None:
        if self.hold is not None:
            await self.hold.close()
            self.hold.settle_all("spider closing")
        await self.counts.close(self.sites)

    @property
    def held(self) -> dict[str, list[Held]]:
        return self.hold.held if self.hold is not None else {}

    @property
    def held_bytes(self) -> int:
        return self.hold.held_bytes if self.hold is not None else 0

    def _count(self, key: str, value: int = 1) -> None:
        if value:
            self.crawler.stats.inc_value(f"news/templates/{key}", value)

    def _pages(self, site: str) -> int:
        template = self.sites.get(site)
        return template.pages if template is not None else 0

    async def _tick(self, held: list[str]) -> dict[str, int]:
        """The hold's tick: the count store's, and the pages of the held sites counted by all
        workers (distributed), which the local templates take."""
        await self.counts.tick()
        if not held or not self.counts.shared:
            return {}
        counted = await self.counts.counted(held)
        for site, pages in counted.items():
            if site in self.sites:
                self.sites[site].pages = max(self.sites[site].pages, pages)
        return counted

    async def _template(self, site: str) -> SiteTemplate:
        """The site's template, loaded once from the store (concurrent callers wait for it)."""
        loading = self.loading.get(site)
        if loading is None:
            loading = asyncio.ensure_future(self._load(site))
            self.loading[site] = loading
        return await asyncio.shield(loading)

    async def _load(self, site: str) -> SiteTemplate:
        template = await self.counts.load(site)
        self.sites[site] = template
        return template

    async def process_item(self, item: ArticleItem) -> ArticleItem:
        site = site_of(item.url)
        template = await self._template(site)
        assert self.hold is not None  # opened with the spider
        size = self.hold.item_bytes(item)
        lines = split_paragraphs(item.text or "")
        await self.counts.observe(template, lines)
        if not await self.hold.wait(item, site, template.pages, size):
            raise DropItem(f"not stored: the crawl closed before the template of {site} was "
                           f"learned; fetched again next run", log_level="DEBUG")
        return await self._strip(item, lines)

    async def _strip(self, item: ArticleItem, lines: list[str]) -> ArticleItem:
        site = site_of(item.url)
        stripping = await self.counts.stripping(self.sites[site], lines)
        return self.strip(item, stripping, lines)

    def strip(self, item: ArticleItem, template: SiteTemplate | None = None,
              lines: list[str] | None = None) -> ArticleItem:
        """Remove the template's lines and the source's ``boilerplate`` from the article's
        text (``text``, ``paragraphs``; ``lines``: its paragraphs, when split already),
        counting them in ``template_lines_removed``."""
        template = template or self.sites[site_of(item.url)]
        if lines is None:
            lines = split_paragraphs(item.text or "")
        kept, removed = template.strip(lines)
        patterns = self._source_patterns(item.source)
        if patterns:
            extra = [line for line in kept if any(p.search(line) for p in patterns)]
            kept = [line for line in kept if line not in extra]
            removed += extra
        item.text = join_paragraphs(kept)
        item.paragraphs = kept
        item.template_lines_removed = len(removed)
        self._count("lines_removed", len(removed))
        if removed:
            logger.debug("Removed %d template line(s) from %s: %r", len(removed), item.url,
                         removed[:5])
        return item

    def _source_patterns(self, name: str | None) -> tuple[Any, ...]:
        spider = getattr(self.crawler, "spider", None)
        source = spider.source(name) if spider is not None and hasattr(spider, "source") else None
        return source.boilerplate if source is not None else ()
