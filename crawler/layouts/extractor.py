"""The crawl's extraction with learned layouts: the spider's ``extractor``.

:class:`LayoutExtractor` wraps the :class:`~crawler.extraction_pool.ExtractionPool`. For each
page it loads its site's layouts once (``site_layouts``; again every ``RELOAD`` seconds while
the site has none, so the workers of a distributed crawl share what one learned), asks the
:class:`~crawler.layouts.book.LayoutBook` what the page tries, runs
:func:`crawler.layouts.task.extract_page` in the pool, counts what happened
(``news/layout/...``) and writes what the report changed. Without a database (``ITEM_PIPELINES``
without storage) layouts are learned for the crawl only. ``NEWS_LAYOUTS = False``: every page
goes the full way, as before layouts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from pymongo.errors import PyMongoError
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from crawler.canonical import site_of
from crawler.database import Database, stores_articles
from crawler.encoding import EncodedPage
from crawler.extraction_pool import ExtractionPool
from crawler.items import Extraction
from crawler.layouts.book import CLOSED, CONFIRMED, LEARNED, Event, LayoutBook
from crawler.layouts.store import LayoutStore
from crawler.layouts.task import FAST, LayoutReport

logger = logging.getLogger(__name__)

RELOAD = 30.0  # seconds between reads of a site's layouts while it has none open
GATE_PER_WORKER = 2  # pages given to the pool at once, per extraction worker


class LayoutExtractor:
    def __init__(self, pool: ExtractionPool, book: LayoutBook | None,
                 stats: StatsCollector | None = None, store: LayoutStore | None = None) -> None:
        self.pool = pool
        self.book = book  # None: layouts off
        self.stats = stats
        self.store = store
        self._loaded: dict[str, float] = {}  # site -> when its layouts were last read
        self._loading: dict[str, asyncio.Future[None]] = {}
        self._writes: set[asyncio.Task[None]] = set()
        self._gate: asyncio.Semaphore | None = None
        self.read_only = False
        self.crawler: Crawler | None = None  # opens the store when the spider opens

    @classmethod
    def from_crawler(cls, crawler: Crawler, pool: ExtractionPool) -> LayoutExtractor:
        settings = crawler.settings
        book = LayoutBook(
            sample_every=settings.getint("NEWS_LAYOUT_SAMPLE"),
            learn_pages=max(1, settings.getint("NEWS_LAYOUT_LEARN_PAGES")),
            max_failures=max(1, settings.getint("NEWS_LAYOUT_MAX_FAILURES")),
            max_layouts=max(1, settings.getint("NEWS_LAYOUT_MAX_PER_SITE")),
        ) if settings.getbool("NEWS_LAYOUTS") else None
        extractor = cls(pool, book)
        extractor.crawler = crawler
        crawler.signals.connect(extractor.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extractor.spider_closed, signal=signals.spider_closed)
        return extractor

    async def spider_opened(self, spider: Spider) -> None:
        """The crawl's stats, and the layouts of its database (``site_layouts``) when it
        stores articles."""
        assert self.crawler is not None
        self.stats = self.crawler.stats
        # ``newscrawl reextract --dry-run`` reads the layouts and writes none.
        self.read_only = bool(getattr(spider, "dry_run", False))
        if self.book is None or not stores_articles(self.crawler.settings):
            return
        database = Database.for_crawler(self.crawler)
        self.store = LayoutStore(database.db["site_layouts"])
        try:
            await asyncio.to_thread(self.store.ensure_indexes)
        except PyMongoError as exc:
            logger.warning("Layout indexes not created (%s)", type(exc).__name__)

    async def spider_closed(self, spider: Spider) -> None:
        await self.close()

    async def extract(self, html: str | EncodedPage, url: str, *,
                      hinted: bool = False) -> Extraction:
        if self.book is None:
            return await self.pool.extract(html, url, hinted=hinted)
        site = site_of(url)
        if self._gate is None:
            self._gate = asyncio.Semaphore(GATE_PER_WORKER * self.pool.workers)
        # A page is planned (which layouts it tries) when a worker is about to take it, not
        # when it arrives: a site's layout learned from its first pages serves the pages
        # fetched meanwhile, instead of every page fetched before it was learned going the
        # full way. The pool never idles for it: GATE_PER_WORKER pages per worker are out.
        async with self._gate:
            await self._load(site)
            plan = self.book.plan(site, url)
            result = await self.pool.extract(html, url, hinted=hinted, layouts=plan.layouts,
                                             sample=plan.sample, fresh=plan.fresh,
                                             observe_page=plan.observe)
        report = result.layout
        if isinstance(report, LayoutReport):
            self._count(report)
            for event in self.book.record(site, report):
                self._event(event)
        return result

    def _inc(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(key)

    def _count(self, report: LayoutReport) -> None:
        self._inc(f"news/layout/{'fast' if report.path == FAST else 'full'}")
        if report.sampled:
            self._inc("news/layout/sampled")
        if report.miss:
            self._inc(f"news/layout/miss/{report.miss}")
        if report.by_layout:
            self._inc("news/layout/article_by_layout")

    def _event(self, event: Event) -> None:
        layout = event.layout
        if event.kind == LEARNED:
            self._inc("news/layout/learned")
            logger.info("Layout %d of %s learned from %d pages: container %s, %d drops",
                        layout.version, layout.site, len(layout.learned_from), layout.container,
                        len(layout.drops))
        elif event.kind == CLOSED:
            self._inc(f"news/layout/closed/{layout.closed_reason}")
            if layout.closed_reason == "disagreed":
                self._inc("news/layout/disagreed")
            logger.info("Layout %d of %s closed (%s): its pages go the full way until a new "
                        "one is learned", layout.version, layout.site, layout.closed_reason)
        elif event.kind == CONFIRMED:
            self._inc("news/layout/confirmed")
        else:
            self._inc("news/layout/updated")
        self._save_soon(layout)

    async def _load(self, site: str) -> None:
        assert self.book is not None
        if self.store is None:
            return
        loaded = self._loaded.get(site)
        if loaded is not None and (self.book.has_open(site)
                                   or time.monotonic() - loaded < RELOAD):
            return
        pending = self._loading.get(site)
        if pending is not None:
            await pending
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._loading[site] = future
        try:
            layouts = await asyncio.to_thread(self.store.load, site)
            self.book.add(site, layouts)
        except PyMongoError as exc:
            self._inc("news/layout/read_errors")
            logger.warning("Layouts of %s not readable (%s): learned anew", site,
                           type(exc).__name__)
        finally:
            self._loaded[site] = time.monotonic()
            del self._loading[site]
            future.set_result(None)

    def _save_soon(self, layout: Any) -> None:
        if self.store is None or self.read_only:
            return
        doc_store = self.store
        task = asyncio.ensure_future(asyncio.to_thread(self._save, doc_store, layout))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    def _save(self, store: LayoutStore, layout: Any) -> None:
        try:
            store.save(layout)
        except PyMongoError as exc:
            self._inc("news/layout/write_errors")
            logger.warning("Layout %d of %s not saved (%s): learned again next run",
                           layout.version, layout.site, type(exc).__name__)

    async def close(self) -> None:
        """Wait for the layouts being written."""
        while self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)
