"""The ``news`` spider: finds articles in feeds, sitemaps and HTML pages and extracts them.

``scrapy crawl news -a url=URL`` crawls one feed, sitemap or page; ``-a source=NAME`` one
source of the sources file; no argument, every source. What a URL is, is found out from the
response, not from its name.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.utils.gz import gunzip

from crawler.discovery import DiscoveryError, Entry, detect_kind, parse_feed, parse_sitemap
from crawler.extraction.pool import ExtractionPool
from crawler.normalize import canonicalize_url, same_site
from crawler.sources import Source, SourcesError, load_sources

logger = logging.getLogger(__name__)

_GZIP_MAGIC = b"\x1f\x8b"


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, *args: Any, url: str | None = None, source: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.url = url
        self.source_name = source
        self.sources: list[Source] = []
        self.max_depth = 2
        self.max_sitemap_size = 50 * 1024 * 1024
        self.extractor = ExtractionPool()
        self.links = LinkExtractor()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider: NewsSpider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.max_depth = settings.getint("NEWS_MAX_DEPTH", 2)
        spider.max_sitemap_size = settings.getint("DOWNLOAD_MAXSIZE") or spider.max_sitemap_size
        spider.extractor = ExtractionPool(
            workers=settings.getint("NEWS_EXTRACT_WORKERS") or None,
            max_tasks_per_child=settings.getint("NEWS_EXTRACT_MAX_TASKS_PER_CHILD", 1000),
            min_words=settings.getint("NEWS_MIN_WORDS", 80),
        )
        spider.sources = spider._select_sources(settings.get("NEWS_SOURCES", "sources.yaml"))
        crawler.signals.connect(spider._close_pool, signal=scrapy.signals.spider_closed)
        return spider

    def _select_sources(self, path: str) -> list[Source]:
        if self.url:
            name = self.source_name or "adhoc"
            return [Source(name=name, start_urls=(self.url,))]
        sources = load_sources(path)
        if self.source_name:
            sources = [s for s in sources if s.name == self.source_name]
            if not sources:
                raise SourcesError(f"{path}: no source named {self.source_name!r}")
        return sources

    def _close_pool(self) -> None:
        self.extractor.close()

    @property
    def extractions_in_flight(self) -> int:
        return self.extractor.in_flight

    def source(self, name: str) -> Source | None:
        return next((s for s in self.sources if s.name == name), None)

    async def start(self) -> AsyncIterator[Request]:
        for source in self.sources:
            for url in source.urls:
                yield Request(url, callback=self.parse_start, errback=self.on_error,
                              meta={"news_source": source.name, "news_depth": 0})

    # -- discovery -------------------------------------------------------------------------

    async def parse_start(self, response: Response) -> AsyncIterator[Any]:
        """Any start URL or sitemap: find out what it is, then act on it."""
        body = response.body
        if body[:2] == _GZIP_MAGIC:
            try:
                body = gunzip(body, max_size=self.max_sitemap_size)
            except (OSError, ValueError) as exc:
                self._count("news/discovery/bad_gzip")
                logger.warning("Unreadable gzip body at %s: %s", response.url, exc)
                return
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
        kind = detect_kind(body, content_type)
        self._count(f"news/discovery/{kind}")
        if kind == "feed":
            for request in self._from_feed(response, body):
                yield request
        elif kind == "sitemap":
            for request in self._from_sitemap(response, body):
                yield request
        elif kind == "html":
            async for result in self.parse_page(response):
                yield result
        else:
            logger.warning("Not a feed, sitemap or HTML page: %s", response.url)

    def _from_feed(self, response: Response, body: bytes) -> Iterator[Request]:
        try:
            entries = parse_feed(body, response.url)
        except DiscoveryError as exc:
            self._count("news/discovery/bad_feed")
            logger.warning("Unreadable feed %s: %s", response.url, exc)
            return
        logger.info("Feed %s lists %d entries", response.url, len(entries))
        for entry in entries:
            yield self._article_request(response, entry, via="feed")

    def _from_sitemap(self, response: Response, body: bytes) -> Iterator[Request]:
        try:
            sitemap = parse_sitemap(body)
        except DiscoveryError as exc:
            self._count("news/discovery/bad_sitemap")
            logger.warning("Unreadable sitemap %s: %s", response.url, exc)
            return
        logger.info("Sitemap %s (%s) lists %d entries", response.url, sitemap.kind,
                    len(sitemap.entries))
        for entry in sitemap.entries:
            if sitemap.kind == "index":
                yield response.follow(entry.url, callback=self.parse_start,
                                      errback=self.on_error,
                                      meta={"news_source": response.meta.get("news_source"),
                                            "news_depth": self.max_depth})
            else:
                yield self._article_request(response, entry, via="sitemap")

    def _article_request(self, response: Response, entry: Entry, via: str) -> Request:
        hinted = via == "feed" or entry.published is not None or entry.title is not None
        return Request(
            canonicalize_url(response.urljoin(entry.url)),
            callback=self.parse_page, errback=self.on_error,
            meta={
                "news_source": response.meta.get("news_source"),
                "news_depth": self.max_depth,  # listed articles: do not crawl onwards
                "news_via": via,
                "news_hinted": hinted,
                "news_hint": {"title": entry.title, "published": entry.published,
                              "modified": entry.modified},
            },
        )

    # -- pages -----------------------------------------------------------------------------

    async def parse_page(self, response: Response) -> AsyncIterator[Any]:
        """An HTML page: store it when it is an article, follow its links within depth."""
        if not isinstance(response, TextResponse):
            self._count("news/page/not_text")
            logger.info("Skipped non-text response %s", response.url)
            return
        depth = int(response.meta.get("news_depth", 0))
        if depth < self.max_depth:
            for request in self._follow_links(response, depth + 1):
                yield request
        result = await self.extractor.extract(
            response.text, response.url, hinted=bool(response.meta.get("news_hinted")))
        self._count("news/page/extracted")
        if not result["is_article"]:
            self._count("news/page/not_article")
            logger.debug("Not an article (%s): %s", result["page_kind"], response.url)
            return
        yield self._item(response, result)

    def _follow_links(self, response: TextResponse, depth: int) -> Iterator[Request]:
        for link in self.links.extract_links(response):
            if not same_site(link.url, response.url):
                continue
            yield Request(canonicalize_url(link.url), callback=self.parse_page,
                          errback=self.on_error,
                          meta={"news_source": response.meta.get("news_source"),
                                "news_depth": depth})

    def _item(self, response: Response, result: dict[str, Any]) -> dict[str, Any]:
        hint: dict[str, Any] = response.meta.get("news_hint") or {}
        item = dict(result)
        item.pop("is_article", None)
        item["source"] = response.meta.get("news_source")
        item["fetched_at"] = datetime.now(UTC)
        item["http_status"] = response.status
        if not item.get("title") and hint.get("title"):
            item["title"] = hint["title"]
        if item.get("published") is None and hint.get("published") is not None:
            item["published"] = hint["published"]
            item["published_source"] = response.meta.get("news_via")
        source = self.source(item["source"] or "")
        if not item.get("language") and source and source.language:
            item["language"], item["language_source"] = source.language, "source"
        self._count("news/page/article")
        return item

    def on_error(self, failure: Any) -> None:
        url = getattr(getattr(failure, "request", None), "url", "?")
        if failure.check(IgnoreRequest):
            self._count("news/fetch/ignored")
            logger.info("Not fetched %s: %s", url, failure.getErrorMessage())
            return
        self._count(f"news/fetch/error/{failure.type.__name__}")
        logger.warning("Fetch failed for %s: %s", url, failure.getErrorMessage())

    def _count(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)
