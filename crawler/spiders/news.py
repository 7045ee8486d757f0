"""The ``news`` spider: finds articles in feeds, sitemaps and HTML pages and extracts them.

``scrapy crawl news -a url=URL`` crawls one feed, sitemap or page; ``-a source=NAME`` one
source of the sources file; no argument, every source. What a URL is, is found out from the
response, not from its name.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from pymongo.errors import PyMongoError
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.utils.gz import gunzip

from crawler import signals as news_signals
from crawler.database import Database
from crawler.discovery import DiscoveryError, Entry, detect_kind, parse_feed, parse_sitemap
from crawler.encoding import mislabeled_utf8
from crawler.extraction.pool import ExtractionPool
from crawler.normalize import canonicalize_url, same_site
from crawler.sources import Source, SourcesError, load_sources
from crawler.url_state import (
    KIND_ARTICLE,
    KIND_PAGE,
    RecrawlPolicy,
    UrlStateStore,
    conditional_headers,
)

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
        self.policy = RecrawlPolicy([], None)
        self.url_state: UrlStateStore | None = None

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
            timeout=settings.getfloat("NEWS_EXTRACT_TIMEOUT", 30.0),
        )
        spider.sources = spider._select_sources(settings.get("NEWS_SOURCES", "sources.yaml"))
        spider.policy = RecrawlPolicy.from_settings(settings)
        spider.url_state = UrlStateStore(Database.for_crawler(crawler).db["url_state"],
                                         spider.policy)
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
            async for request in self._from_feed(response, body):
                yield request
        elif kind == "sitemap":
            async for request in self._from_sitemap(response, body):
                yield request
        elif kind == "html":
            async for result in self.parse_page(response):
                yield result
        else:
            logger.warning("Not a feed, sitemap or HTML page: %s", response.url)

    async def _from_feed(self, response: Response, body: bytes) -> AsyncIterator[Request]:
        try:
            entries = parse_feed(body, response.url)
        except DiscoveryError as exc:
            self._count("news/discovery/bad_feed")
            logger.warning("Unreadable feed %s: %s", response.url, exc)
            return
        logger.info("Feed %s lists %d entries", response.url, len(entries))
        async for request in self._listed(response, entries, via="feed"):
            yield request

    async def _from_sitemap(self, response: Response, body: bytes) -> AsyncIterator[Request]:
        try:
            sitemap = parse_sitemap(body)
        except DiscoveryError as exc:
            self._count("news/discovery/bad_sitemap")
            logger.warning("Unreadable sitemap %s: %s", response.url, exc)
            return
        logger.info("Sitemap %s (%s) lists %d entries", response.url, sitemap.kind,
                    len(sitemap.entries))
        if sitemap.kind == "index":
            for entry in self._usable(response, sitemap.entries)[0]:
                yield response.follow(entry.url, callback=self.parse_start,
                                      errback=self.on_error,
                                      meta={"news_source": response.meta.get("news_source"),
                                            "news_depth": self.max_depth})
            return
        async for request in self._listed(response, sitemap.entries, via="sitemap"):
            yield request

    async def _listed(self, response: Response, entries: list[Entry],
                      via: str) -> AsyncIterator[Request]:
        """Requests for the entries of a feed or sitemap that are new, changed or due."""
        source = response.meta.get("news_source")
        entries, urls = self._usable(response, entries)
        states = await self._states(urls)
        now = datetime.now(UTC)
        self._count_source(source, "discovered", len(entries))
        for url, entry in zip(urls, entries, strict=True):
            state = states.get(url)
            decision = self.policy.decide(state, now, published=entry.published,
                                          modified=entry.modified)
            if not decision.fetch:
                self._count_source(source, f"skipped_{decision.reason}")
                continue
            hinted = via == "feed" or entry.published is not None or entry.title is not None
            yield self._page_request(url, source, depth=self.max_depth, state=state, meta={
                "news_via": via,
                "news_hinted": hinted,
                "news_hint": {"title": entry.title, "published": entry.published,
                              "modified": entry.modified},
            })

    def _usable(self, response: Response, entries: list[Entry]) -> tuple[list[Entry], list[str]]:
        """The entries whose URL can be requested, and their canonical URLs. One bad URL
        ("http://[oops/", "javascript:...") must not lose the rest of the list."""
        kept: list[Entry] = []
        urls: list[str] = []
        for entry in entries:
            try:
                url = canonicalize_url(response.urljoin(entry.url))
                Request(url)  # ValueError for what Scrapy cannot request
            except ValueError as exc:
                self._count("news/discovery/bad_url")
                logger.info("Unusable URL %r in %s: %s", entry.url[:200], response.url, exc)
                continue
            kept.append(entry)
            urls.append(url)
        return kept, urls

    def _page_request(self, url: str, source: str | None, depth: int,
                      state: dict[str, Any] | None, meta: dict[str, Any] | None = None,
                      ) -> Request:
        """A page request; conditional when the URL was fetched before."""
        return Request(
            url, callback=self.parse_page, errback=self.on_error,
            headers=conditional_headers(state),
            meta={"news_source": source, "news_depth": depth,
                  "handle_httpstatus_list": [304], **(meta or {})},
        )

    async def _states(self, urls: list[str]) -> dict[str, dict[str, Any]]:
        if self.url_state is None or not urls:
            return {}
        try:
            return await asyncio.to_thread(self.url_state.load, urls)
        except PyMongoError as exc:
            self._count("news/state/read_errors")
            logger.warning("URL state not readable (%s): fetching %d URLs as new",
                           type(exc).__name__, len(urls))
            return {}

    # -- pages -----------------------------------------------------------------------------

    async def parse_page(self, response: Response) -> AsyncIterator[Any]:
        """An HTML page: store it when it is an article, follow its links within depth."""
        source = response.meta.get("news_source")
        if response.status == 304:
            self._count_source(source, "not_modified")
            self._fetched(response, kind=KIND_ARTICLE)
            return
        if not isinstance(response, TextResponse):
            self._count("news/page/not_text")
            logger.info("Skipped non-text response %s", response.url)
            return
        self._count_source(source, "fetched")
        depth = int(response.meta.get("news_depth", 0))
        if depth < self.max_depth:
            async for request in self._follow_links(response, depth + 1):
                yield request
        html = response.text
        if (repaired := mislabeled_utf8(response.body, response.encoding, html)) is not None:
            self._count("news/page/encoding_repaired")  # Windows-1252 declared as UTF-8
            html = repaired
        result = await self.extractor.extract(
            html, response.url, hinted=bool(response.meta.get("news_hinted")))
        if result.get("extract_error"):  # over NEWS_EXTRACT_TIMEOUT, or its worker died
            self._count(f"news/extract/{result['extract_error']}")
            return
        self._count("news/page/extracted")
        if not result["text"]:
            self._count_source(source, "empty_text")
        if not result["is_article"]:
            self._count("news/page/not_article")
            self._count_source(source, "rejected")
            self._fetched(response, kind=KIND_PAGE)
            logger.debug("Not an article (%s): %s", result["page_kind"], response.url)
            return
        yield self._item(response, result)

    def _fetched(self, response: Response, kind: str) -> None:
        """Report the URL state of a fetch that yields no article to store."""
        self.crawler.signals.send_catch_log(
            news_signals.url_fetched, update={**self._validators(response),
                                              "url": canonicalize_url(response.url),
                                              "source": response.meta.get("news_source"),
                                              "kind": kind, "status": response.status,
                                              "fetched_at": datetime.now(UTC)})

    @staticmethod
    def _validators(response: Response) -> dict[str, Any]:
        validators = {}
        for header, key in ((b"ETag", "etag"), (b"Last-Modified", "last_modified")):
            value = response.headers.get(header)
            if value:
                validators[key] = value.decode("latin-1")
        return validators

    async def _follow_links(self, response: TextResponse, depth: int) -> AsyncIterator[Request]:
        urls = list(dict.fromkeys(
            canonicalize_url(link.url) for link in self.links.extract_links(response)
            if same_site(link.url, response.url)))
        states = await self._states(urls)
        now = datetime.now(UTC)
        source = response.meta.get("news_source")
        for url in urls:
            state = states.get(url)
            decision = self.policy.decide(state, now, listed=False)
            if not decision.fetch:
                self._count_source(source, f"skipped_{decision.reason}")
                continue
            yield self._page_request(url, source, depth=depth, state=state)

    def _item(self, response: Response, result: dict[str, Any]) -> dict[str, Any]:
        hint: dict[str, Any] = response.meta.get("news_hint") or {}
        item = dict(result)
        item.pop("is_article", None)
        item["source"] = response.meta.get("news_source")
        item["fetched_at"] = datetime.now(UTC)
        item["_fetch"] = {"status": response.status, "url": canonicalize_url(response.url),
                          **self._validators(response)}
        if not item.get("title") and hint.get("title"):
            item["title"] = hint["title"]
        if item.get("published") is None and hint.get("published") is not None:
            item["published"] = hint["published"]
            item["published_source"] = response.meta.get("news_via")
        source = self.source(item["source"] or "")
        if not item.get("language") and source and source.language:
            item["language"], item["language_source"] = source.language, "source"
        self._count("news/page/article")
        name = item["source"]
        self._count_source(name, "articles")
        self._count_source(name, "no_date", int(item.get("published") is None))
        self._count_source(name, "no_author", int(not item.get("authors")))
        self._count_source(name, "paywalled", int(bool(item.get("paywalled"))))
        return item

    def on_error(self, failure: Any) -> None:
        request = getattr(failure, "request", None)
        if request is not None:
            self.crawler.signals.send_catch_log(news_signals.request_failed, request=request)
        url = getattr(request, "url", "?")
        if failure.check(IgnoreRequest):
            self._count("news/fetch/ignored")
            logger.info("Not fetched %s: %s", url, failure.getErrorMessage())
            return
        source = request.meta.get("news_source") if request is not None else None
        self._count_source(source, "errors")
        self._count(f"news/fetch/error/{failure.type.__name__}")
        logger.warning("Fetch failed for %s: %s", url, failure.getErrorMessage())

    def _count(self, key: str, value: int = 1) -> None:
        if self.crawler.stats is not None and value:
            self.crawler.stats.inc_value(key, value)

    def _count_source(self, source: str | None, event: str, value: int = 1) -> None:
        """Per-source counts (news/source/<name>/<event>), read by the crawl_runs record."""
        self._count(f"news/source/{source or 'adhoc'}/{event}", value)
