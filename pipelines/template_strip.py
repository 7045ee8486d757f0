"""Strip the lines a site repeats in its articles (its template), learned from its own pages.

A new site's first articles are held until its template is learned, so that even the first
article stored is clean. A site's held articles are released as soon as

- the site has ``NEWS_TEMPLATE_WARMUP`` pages counted (the warm-up is reached); or
- nothing of the site is pending any more (no request of it scheduled, being downloaded or
  being parsed: :class:`crawler.fetches.FetchTracker`), so its count cannot grow in this crawl;
  in a distributed crawl, where other workers fetch the site too: the shared crawl is quiet;
- the held articles take more than ``NEWS_TEMPLATE_HOLD_MAX_BYTES`` of responses (at most two
  thirds of ``SCRAPER_SLOT_MAX_ACTIVE_SIZE``; the site held longest goes first), so that held
  articles never make Scrapy stop downloading;
- last resort, ``NEWS_TEMPLATE_HOLD_TIMEOUT``: held that long, and no fetch of the site has made
  progress for that long either (never while the site's pages are still coming in).

When the crawl closes early (Ctrl-C, SIGTERM, ``CLOSESPIDER_*``) the pages already being
fetched or extracted are counted first (they may complete a warm-up); then a held article
whose site's template is learned (its warm-up reached, or every page of the site seen) is
stripped and stored, and one whose site's template is not learned yet is *not stored*
(``DropItem``, ``news/templates/not_stored``): its URL state is not written either, so the next
run fetches it again, and stores it clean. Nothing is ever stored with a template not learned.
(In a distributed crawl, whose requests are acknowledged in the shared queue, closing releases
them as before.)

The line counts live in a *count store* (crawler/templates/): ``LocalCounts`` (this process,
kept in MongoDB's ``site_templates`` between runs) or, in a distributed crawl, ``SharedCounts``
(counted live in MongoDB by every worker). Patterns in the
sources file (``boilerplate``) are stripped as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.canonical import join_paragraphs, site_of, split_paragraphs
from crawler.database import Database, stores_articles
from crawler.distributed import redis_url
from crawler.fetches import FetchTracker
from crawler.items import ArticleItem
from crawler.templates.counts import LocalCounts, TemplateCounts
from crawler.templates.local_store import TemplateStore
from crawler.templates.model import SiteTemplate

if TYPE_CHECKING:
    from crawler.distributed.shared import SharedCrawl

logger = logging.getLogger(__name__)

_MIN_RESPONSE_SIZE = 1024  # what Scrapy's scraper counts for a response, at least


@dataclass
class _Held:
    item: ArticleItem
    future: asyncio.Future[bool]  # True: strip and store it; False: do not store it
    size: int


class TemplateStripPipeline:
    """``counts``: the count store; None: the one of the crawler's database, opened with the
    spider (a local store, or the shared one when ``shared`` is given). ``fetches``: what of
    each site is pending; None: a site's pages may always come."""

    def __init__(self, crawler: Crawler, counts: TemplateCounts | None = None,
                 min_pages: int = 3, min_share: float = 0.1, warmup: int = 10,
                 hold_timeout: float = 60.0, hold_max_bytes: int = 64 * 1024 * 1024,
                 tick: float = 0.5, fetches: FetchTracker | None = None,
                 shared: SharedCrawl | None = None) -> None:
        self.crawler = crawler  # its stats, database, spider (sources) and engine (closing)
        self.min_pages = min_pages
        self.min_share = min_share
        self.warmup = warmup
        self.hold_timeout = hold_timeout
        self.hold_max_bytes = hold_max_bytes
        self.tick = tick
        self.counts: TemplateCounts = counts or LocalCounts(None, min_pages, min_share)
        self._counts_given = counts is not None
        self.sites: dict[str, SiteTemplate] = {}
        self.loading: dict[str, asyncio.Future[SiteTemplate]] = {}
        self.held: dict[str, list[_Held]] = {}
        self.held_since: dict[str, float] = {}  # insertion order: the site held longest first
        self.held_bytes = 0
        self.fetches = fetches
        self.shared = shared  # when distributed
        self._ticker: asyncio.Task[None] | None = None
        self._closing_since: float | None = None  # when the crawl was seen closing

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TemplateStripPipeline:
        settings = crawler.settings
        fetches = FetchTracker.for_crawler(crawler)
        shared = None
        if redis_url(settings):
            from crawler.distributed.shared import SharedCrawl

            shared = SharedCrawl.for_crawler(crawler)
        pipeline = cls(
            crawler,
            min_pages=settings.getint("NEWS_TEMPLATE_MIN_PAGES", 3),
            min_share=settings.getfloat("NEWS_TEMPLATE_MIN_SHARE", 0.1),
            warmup=settings.getint("NEWS_TEMPLATE_WARMUP", 10),
            hold_timeout=settings.getfloat("NEWS_TEMPLATE_HOLD_TIMEOUT", 60.0),
            # Held responses stay under two thirds of the scraper's budget, whatever it is
            # set to: the rest is for the responses being parsed.
            hold_max_bytes=min(settings.getint("NEWS_TEMPLATE_HOLD_MAX_BYTES", 64 * 1024 * 1024),
                               settings.getint("SCRAPER_SLOT_MAX_ACTIVE_SIZE") * 2 // 3),
            fetches=fetches,
            shared=shared,
        )
        fetches.on_idle(pipeline._site_idle)
        return pipeline

    async def open_spider(self) -> None:
        # Without the storage pipeline no database: templates learned in this run only.
        if not self._counts_given and stores_articles(self.crawler.settings):
            db = Database.for_crawler(self.crawler).db
            store = TemplateStore(db["site_templates"])
            if self.shared is not None:
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
        self._ticker = asyncio.ensure_future(self._watch())

    async def close_spider(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        self.settle_all("spider closing")
        await self.counts.close(self.sites)

    def _count(self, key: str, value: int = 1) -> None:
        if value:
            self.crawler.stats.inc_value(f"news/templates/{key}", value)

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
        size = self.fetches.item_bytes(item) if self.fetches is not None else 0
        lines = split_paragraphs(item.text or "")
        await self.counts.observe(template, lines)
        if self.fetches is not None:
            self.fetches.item_counted(item)
        if template.pages >= self.warmup:
            self.release(site, "warmup", "warm-up reached")
            return await self._strip(item, lines)
        if not self._may_grow(site):
            self.release(site, "all_seen", "all its pages seen")
            return await self._strip(item, lines)
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.held.setdefault(site, []).append(
            _Held(item, future, max(size, _MIN_RESPONSE_SIZE)))
        self.held_since.setdefault(site, time.monotonic())
        self.held_bytes += max(size, _MIN_RESPONSE_SIZE)
        self._count("held")
        if self.shared is not None:
            self._settle(item)
        self._keep_within_budget()
        if not await future:
            raise DropItem(f"not stored: the crawl closed before the template of {site} was "
                           f"learned; fetched again next run", log_level="DEBUG")
        return await self._strip(item, lines)

    def _may_grow(self, site: str) -> bool:
        """Can the site still show pages this crawl? Always, as far as this process knows, in
        a distributed crawl (the shared crawl's quiet decides) or without a fetch tracker."""
        if self.fetches is None or self.counts.shared:
            return True
        return self.fetches.is_pending(site)

    def _site_idle(self, site: str | None) -> None:
        """The fetch tracker: nothing of ``site`` (None: of any site) is pending any more."""
        for name in [site] if site is not None else list(self.held):
            if name in self.held and not self._may_grow(name):
                self.release(name, "all_seen", "all its pages seen")

    def _settle(self, item: ArticleItem) -> None:
        """A held article's request will produce nothing more: tell the other workers."""
        qid = item.fetch.queue_id if item.fetch is not None else None
        if isinstance(qid, int) and self.shared is not None:
            try:
                self.shared.settle([qid])
            except RedisError as exc:
                logger.warning("Held article not marked settled (%s)", type(exc).__name__)

    def _keep_within_budget(self) -> None:
        """Held articles keep their responses counted by Scrapy's scraper (past
        SCRAPER_SLOT_MAX_ACTIVE_SIZE it stops downloading): past the budget, release the
        sites held longest."""
        while self.held_bytes > self.hold_max_bytes and self.held_since:
            self.release(next(iter(self.held_since)), "budget", "held bytes over the budget")

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

    def release(self, site: str, key: str, why: str) -> None:
        held = self.held.pop(site, [])
        self.held_since.pop(site, None)
        if not held:
            return
        self.held_bytes -= sum(entry.size for entry in held)
        self._count(f"released/{key}")
        logger.info("Site %s: releasing %d article(s) (%s; learned from %d pages)", site,
                    len(held), why, self.sites[site].pages)
        for entry in held:
            if not entry.future.done():
                entry.future.set_result(True)

    def release_all(self, key: str, why: str) -> None:
        for site in list(self.held):
            self.release(site, key, why)

    def learned(self, site: str) -> bool:
        """Is the site's template learned: its warm-up reached, or every page of the site
        seen in this crawl (its count cannot grow)?"""
        template = self.sites.get(site)
        return (template is not None and template.pages >= self.warmup) or \
            not self._may_grow(site)

    def settle_all(self, why: str) -> None:
        """The crawl is closing: store the held articles of the sites whose template is
        learned, and not the others (their URL state is not written: fetched again next run).
        A distributed crawl's held articles are all released (their requests are settled in
        the shared queue already)."""
        if self.shared is not None:
            self.release_all("closing", why)
            return
        for site in list(self.held):
            if self.learned(site):
                self.release(site, "closing", why)
            else:
                self.drop(site, why)

    def drop(self, site: str, why: str) -> None:
        """Do not store the site's held articles: its template is not learned."""
        held = self.held.pop(site, [])
        self.held_since.pop(site, None)
        if not held:
            return
        self.held_bytes -= sum(entry.size for entry in held)
        self._count("not_stored", len(held))
        template = self.sites.get(site)
        logger.info("Site %s: %d held article(s) not stored (%s before its template was "
                    "learned: %d of %d pages); the next run fetches them again", site,
                    len(held), why, template.pages if template is not None else 0, self.warmup)
        for entry in held:
            if not entry.future.done():
                entry.future.set_result(False)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.tick)
            await self.counts.tick()
            if not self.held:
                continue
            if self._closing():
                if self._settled():
                    self.settle_all("crawl closing")
                continue
            if self.counts.shared:
                if self._shared_quiet():
                    self.release_all("quiet", "nothing left to fetch in the shared crawl")
                    continue
                for site, pages in (await self.counts.counted(list(self.held))).items():
                    if pages >= self.warmup and site in self.held:
                        self.sites[site].pages = max(self.sites[site].pages, pages)
                        self.release(site, "warmup", "warm-up reached on the shared crawl")
            elif self.fetches is not None and not self.fetches.busy:
                self.release_all("quiet", "nothing left to fetch")
                continue
            self._time_out()

    def _time_out(self) -> None:
        """The last resort: held ``hold_timeout`` and no fetch of the site has moved for as
        long (the fetch tracker missed an end, or a distributed crawl lost a worker)."""
        now = time.monotonic()
        for site, since in list(self.held_since.items()):
            if now - since < self.hold_timeout:
                continue
            if (self.fetches is None or not self.fetches.is_pending(site)
                    or self.fetches.idle_for(site) >= self.hold_timeout):
                self.release(site, "timeout", "hold timeout")

    def _settled(self) -> bool:
        """Closing: have the pages already being fetched or extracted been counted (they may
        complete a site's warm-up)? Last resort: closing for ``hold_timeout`` already."""
        now = time.monotonic()
        if self._closing_since is None:
            self._closing_since = now
        if self.fetches is None or not self.fetches.active:
            return True
        return now - self._closing_since >= self.hold_timeout

    def _closing(self) -> bool:
        """The crawl is shutting down (SIGTERM, CLOSESPIDER_*): it waits for the held articles.
        The engine backs out while closing, not because its downloader or scraper is full."""
        engine = self.crawler._engine  # None before a crawl (Scrapy reads it so too)
        if engine is None:
            return False
        if not engine.running:
            return True
        scraper_slot = engine.scraper.slot
        if scraper_slot is None:  # the scraper has closed
            return True
        return bool(engine.needs_backout() and not engine.downloader.needs_backout()
                    and not scraper_slot.needs_backout())

    def _shared_quiet(self) -> bool:
        try:
            return bool(self.shared is not None and self.shared.status().quiet)
        except RedisError:
            return False
