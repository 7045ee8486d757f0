"""The ``news`` spider: finds articles in feeds, sitemaps and HTML pages and extracts them.

``scrapy crawl news -a url=URL`` crawls one feed, sitemap or page; ``-a source=NAME`` one
source of the sources file; no argument, every source. What a URL is, is found out from the
response, not from its name.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.gz import gunzip

from crawler import keys
from crawler import signals as news_signals
from crawler.browser import (
    AGAIN_KEY,
    BROWSER_KEY,
    REFERS_KEY,
    BrowserUnavailable,
    browser_meta,
    browser_timeout,
    rendered,
)
from crawler.canonical import canonicalize_url, same_site
from crawler.clock import Clock
from crawler.dates import SourceZone, resolve_naive, zone_from, zone_of
from crawler.defaults import news_bool, news_float, news_get, news_int
from crawler.discovery import DiscoveryError, Entry, detect_kind, parse_sitemap, read_feed
from crawler.encoding import EncodedPage
from crawler.extraction.classify import refusal_kind
from crawler.extraction_backlog import ExtractionBacklog
from crawler.extraction_pool import ExtractionPool
from crawler.items import ArticleItem, Extraction, Fetch
from crawler.layouts.extractor import LayoutExtractor
from crawler.layouts.task import FAST, LayoutReport
from crawler.per_source import SourceCounts
from crawler.sources import Source, select_sources
from crawler.url_state import (
    GONE_STATUSES,
    KIND_GONE,
    KIND_PAGE,
    KIND_UNCHANGED,
    listed_key,
    validators,
)

logger = logging.getLogger(__name__)

_GZIP_MAGIC = b"\x1f\x8b"
# What a page's request knew, kept when the page is requested again through the browser.
_CARRIED_META = (keys.SOURCE, keys.VIA, keys.HINTED, keys.HINT, keys.LINK, "depth",
                 "redirect_urls", "redirect_reasons")


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, *args: Any, url: str | None = None, source: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.url = url
        self.source_name = source
        self.sources: list[Source] = []
        self.depth_limit = 2  # DEPTH_LIMIT: link hops from an HTML page; 0: no limit
        self.max_sitemap_size = 50 * 1024 * 1024
        self.extractor = ExtractionPool()
        self.backlog = ExtractionBacklog()  # from_crawler: the crawl's, NEWS_EXTRACTION_BACKLOG
        self.layouts: LayoutExtractor | None = None  # from_crawler: the site layouts
        self.links = LinkExtractor()
        self._naive_reported: set[str] = set()  # sources told about times without zone
        self.clock = Clock()  # NEWS_NOW: the time an article is fetched at
        self.browser = False  # NEWS_BROWSER: pages that need a browser are rendered
        self.browser_timeout = 30.0  # NEWS_BROWSER_TIMEOUT, seconds

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider: NewsSpider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.depth_limit = settings.getint("DEPTH_LIMIT")
        spider.clock = Clock.from_settings(settings)
        spider.max_sitemap_size = settings.getint("DOWNLOAD_MAXSIZE") or spider.max_sitemap_size
        spider.browser = news_bool(settings, "NEWS_BROWSER")
        spider.browser_timeout = browser_timeout(settings)
        spider.extractor = ExtractionPool(
            workers=settings.getint("NEWS_EXTRACT_WORKERS") or None,
            max_tasks_per_child=news_int(settings, "NEWS_EXTRACT_MAX_TASKS_PER_CHILD"),
            min_words=news_int(settings, "NEWS_MIN_WORDS"),
            timeout=news_float(settings, "NEWS_EXTRACT_TIMEOUT"),
        )
        spider.sources = select_sources(news_get(settings, "NEWS_SOURCES"),
                                        name=spider.source_name, url=spider.url)
        spider.layouts = LayoutExtractor.from_crawler(crawler, spider.extractor)
        spider.backlog = ExtractionBacklog.for_crawler(crawler)
        crawler.signals.connect(spider._close_pool, signal=scrapy.signals.spider_closed)
        return spider

    def _close_pool(self) -> None:
        self.extractor.close()

    def source(self, name: str) -> Source | None:
        return next((s for s in self.sources if s.name == name), None)

    async def start(self) -> AsyncIterator[Request]:
        for source in self.sources:
            for url in source.urls:
                yield Request(url, callback=self.parse_start, errback=self.on_error,
                              meta={keys.SOURCE: source.name})

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
            feed = read_feed(body, response.url)
        except DiscoveryError as exc:
            self._count("news/discovery/bad_feed")
            logger.warning("Unreadable feed %s: %s", response.url, exc)
            return
        if feed.recovered:
            self._recovered(response, "feed", feed.recovered, len(feed.entries))
        logger.info("Feed %s lists %d entries", response.url, len(feed.entries))
        entries = self._zoned(response, feed.entries)
        async for request in self._listed(response, entries, via="feed"):
            yield request

    async def _from_sitemap(self, response: Response, body: bytes) -> AsyncIterator[Request]:
        try:
            sitemap = parse_sitemap(body)
        except DiscoveryError as exc:
            self._count("news/discovery/bad_sitemap")
            logger.warning("Unreadable sitemap %s: %s", response.url, exc)
            return
        if sitemap.recovered:
            self._recovered(response, "sitemap", sitemap.recovered, len(sitemap.entries))
        logger.info("Sitemap %s (%s) lists %d entries", response.url, sitemap.kind,
                    len(sitemap.entries))
        if sitemap.kind == "index":
            for entry in self._usable(response, sitemap.entries)[0]:
                yield response.follow(entry.url, callback=self.parse_start,
                                      errback=self.on_error,
                                      meta={keys.SOURCE: response.meta.get(keys.SOURCE),
                                            keys.VIA: "sitemap"})
            return
        entries = self._zoned(response, sitemap.entries)
        async for request in self._listed(response, entries, via="sitemap"):
            yield request

    def _recovered(self, response: Response, kind: str, problem: str, entries: int) -> None:
        self._count("news/discovery/recovered")
        logger.warning("Recovered the malformed %s %s (%s): %d entries read", kind, response.url,
                       problem[:200], entries)

    async def _listed(self, response: Response, entries: list[Entry],
                      via: str) -> AsyncIterator[Request]:
        """Requests for the entries of a feed or sitemap, with what the entry says (``news_hint``:
        crawler/middlewares/incremental.py drops those not new, changed or due)."""
        source = response.meta.get(keys.SOURCE)
        entries, urls, _keys = self._usable(response, entries)
        self._count_source(source, "discovered", len(entries))
        for url, entry in zip(urls, entries, strict=True):
            hinted = via == "feed" or entry.published is not None or entry.title is not None
            yield self._page_request(url, source, meta={
                keys.VIA: via,
                keys.HINTED: hinted,
                keys.HINT: {"title": entry.title, "published": entry.published,
                              "modified": entry.modified},
            })

    def _zoned(self, response: Response, entries: list[Entry]) -> list[Entry]:
        """Entry times that state no zone, placed in the source's ``timezone`` when it has one;
        else counted (``news/dates/naive_listed``): the age cut-off takes them as UTC."""
        zone = self._zone(response.meta.get(keys.SOURCE))
        zoned = []
        for entry in entries:
            published, modified = entry.published, entry.modified
            for value in (published, modified):
                if value is not None and zone_of(value) == "none" and zone is None:
                    self._count("news/dates/naive_listed")
                    self._report_naive(response.meta.get(keys.SOURCE), entry.url, value)
            if zone is not None:
                published = resolve_naive(published, zone) if published else None
                modified = resolve_naive(modified, zone) if modified else None
            zoned.append(dataclasses.replace(entry, published=published, modified=modified))
        return zoned

    def _zone(self, name: str | None) -> SourceZone | None:
        source = self.source(name or "")
        return source.zone if source is not None else None

    def _usable(self, response: Response, entries: list[Entry],
                ) -> tuple[list[Entry], list[str], list[str]]:
        """The entries whose URL can be requested, their URLs as published (resolved against
        the base: what is fetched) and their canonical URLs (their identity, the key of their
        URL state). One bad URL ("http://[oops/", "javascript:...") must not lose the rest of
        the list."""
        kept: list[Entry] = []
        urls: list[str] = []
        keys: list[str] = []
        for entry in entries:
            try:
                url = response.urljoin(entry.url)
                Request(url)  # ValueError for what Scrapy cannot request
                key = canonicalize_url(url)
            except ValueError as exc:
                self._count("news/discovery/bad_url")
                logger.info("Unusable URL %r in %s: %s", entry.url[:200], response.url, exc)
                continue
            kept.append(entry)
            urls.append(url)
            keys.append(key)
        return kept, urls, keys

    def _page_request(self, url: str, source: str | None,
                      meta: dict[str, Any] | None = None) -> Request:
        """A page request (made conditional by crawler/middlewares/incremental.py when the URL
        was fetched before)."""
        through = self._source_renders(source)
        return Request(
            url, callback=self.parse_page, errback=self.on_error,
            meta={keys.SOURCE: source, "handle_httpstatus_list": [304], **(meta or {}),
                  **(browser_meta(self.browser_timeout) if through else {})},
        )

    def _source_renders(self, name: str | None) -> bool:
        """Whether the source's pages go through the browser (``render: browser``)."""
        source = self.source(name or "")
        return self.browser and source is not None and source.renders

    def _may_render(self, response: Response) -> bool:
        """Whether a page may be requested again through the browser: once at most."""
        return self.browser and not response.meta.get(BROWSER_KEY)

    def _render_request(self, response: Response) -> Request:
        """The page once more, through the browser: its response goes through
        :meth:`parse_page` again (not counted as fetched again, its links not followed
        again). Not filtered as a duplicate, nor decided again by the URL state."""
        meta = {key: response.meta[key] for key in _CARRIED_META if key in response.meta}
        meta.update(browser_meta(self.browser_timeout, again=True))
        meta["handle_httpstatus_list"] = [304]
        if response.meta.get(keys.ARCHIVE) is not None:  # its record, for the rendered one
            meta[REFERS_KEY] = response.meta[keys.ARCHIVE]
        response.meta[keys.RENDER_REQUESTED] = True
        return Request(response.url, callback=self.parse_page, errback=self.on_error,
                       dont_filter=True, meta=meta)

    def recrawl_request(self, url: str, source: str | None) -> Request:
        """A stored article due on the recrawl schedule, fetched again by its last address
        (crawler/middlewares/incremental.py adds it to the start requests)."""
        return self._page_request(url, source, meta={keys.VIA: "recrawl"})

    # -- pages -----------------------------------------------------------------------------

    async def parse_page(self, response: Response) -> AsyncIterator[Any]:
        """An HTML page: store it when it is an article, follow its links within depth."""
        source = response.meta.get(keys.SOURCE)
        if response.status == 304:
            self._count_source(source, "not_modified")
            self.mark_fetched(response, kind=KIND_UNCHANGED)  # a section page stays a page
            return
        if not isinstance(response, TextResponse):
            self._count("news/page/not_text")
            logger.info("Skipped non-text response %s", response.url)
            return
        if rendered(response):
            self._count("news/browser/rendered")
            self._count_source(source, "rendered")
        if not response.meta.get(AGAIN_KEY):
            self._count_source(source, "fetched")
        if self._source_renders(source) and self._may_render(response):
            yield self._render_request(response)  # a start page of a source that renders
            return
        if self.follows_links(response):
            async for request in self._follow_links(response):
                yield request
        result = await self._extract(response)
        if result.metadata_error:  # page_metadata raised in the worker
            self._count("news/extract/metadata_errors")
        if result.html_repaired:  # read with the HTML5 parser (crawler/extraction/repair.py)
            self._count("news/extract/html_repaired")
        if result.extract_error:  # over NEWS_EXTRACT_TIMEOUT, or its worker died
            self._count(f"news/extract/{result.extract_error}")
            return
        self._count("news/page/extracted")
        if not result.item.text:
            self._count_source(source, "empty_text")
        if (not result.is_article and refusal_kind(result.page_kind) == "too_short"
                and (result.declared_article or response.meta.get(keys.HINTED))
                and self._may_render(response)):
            # An article by its word, without its text in the HTML: scripts write it.
            logger.info("Declared article without text (%s): through the browser: %s",
                        result.page_kind, response.url)
            yield self._render_request(response)
            return
        if not result.is_article:
            self._count("news/page/not_article")
            self._count_source(source, "rejected")
            self._count_source(source, f"refused_{refusal_kind(result.page_kind)}")
            self.mark_fetched(response, kind=KIND_PAGE)
            logger.info("Not an article (%s): %s", result.page_kind, response.url)
            return
        if isinstance(result.layout, LayoutReport) and result.layout.path == FAST:
            self._count_source(source, "fast")  # through its site's learned layout
        yield self._item(response, result.item)

    async def _extract(self, response: TextResponse) -> Extraction:
        """The page's extraction. Its text is decoded in the extraction worker
        (crawler/encoding.py: EncodedPage), never in the crawl process: not on the response
        nor in ``parse_page``'s frame, which both last as long as an article held for its
        site's template (crawler/template_hold.py) waits, nor while the page waits for a
        worker."""
        page = EncodedPage(response.body, response.encoding)
        with self.backlog.extracting(len(page.body)):
            self.crawler.stats.max_value("news/backlog/peak_pages", self.backlog.pages)
            result = await (self.layouts or self.extractor).extract(
                page, response.url, hinted=bool(response.meta.get(keys.HINTED)))
        if result.encoding_repaired:
            self._count("news/page/encoding_repaired")  # Windows-1252 declared as UTF-8
        return result

    def mark_fetched(self, response: Response, kind: str) -> None:
        """Hook: a fetch that yields no article to store (``kind``: ``KIND_UNCHANGED`` for a
        304, which keeps the URL's kind, ``KIND_PAGE`` for a page that is not an article,
        ``KIND_GONE`` for a page gone: 404, 410).

        The crawl marks the response (``news_fetched`` meta) for
        crawler/middlewares/incremental.py to keep its URL state; a subclass that fetches
        nothing (``ReextractSpider``) overrides it."""
        response.meta[keys.FETCHED] = kind

    def follows_links(self, response: Response) -> bool:
        """Hook: whether the links of the HTML page ``response`` are followed (a subclass
        that must not crawl further, ``ReextractSpider``, overrides it).

        Not when a feed or sitemap listed the page (``news_via``), nor when it is at
        ``DEPTH_LIMIT`` (its links, one hop further, would be dropped by the depth middleware,
        crawler/middlewares/link_depth.py, after their URL state was read for nothing)."""
        if response.meta.get(keys.VIA) or response.meta.get(AGAIN_KEY):
            return False  # listed by a feed or sitemap; or followed when fetched without browser
        return not self.depth_limit or int(response.meta.get("depth", 0)) < self.depth_limit

    async def _follow_links(self, response: TextResponse) -> AsyncIterator[Request]:
        # Each link as published, once per canonical URL (its identity).
        links: dict[str, str] = {}
        for link in self.links.extract_links(response):
            if same_site(link.url, response.url):
                links.setdefault(canonicalize_url(link.url), link.url)
        source = response.meta.get(keys.SOURCE)
        for url in links.values():
            yield self._page_request(url, source, meta={keys.LINK: True})

    def _item(self, response: Response, item: ArticleItem) -> ArticleItem:
        """The extracted article with what the crawl knows of it: its source, its fetch, the
        feed's or sitemap's title and date when the page has none, the source's language."""
        hint: dict[str, Any] = response.meta.get(keys.HINT) or {}
        found = validators(response)
        item.source = response.meta.get(keys.SOURCE)
        item.fetched_at = self.clock.now()
        item.fetch = Fetch(status=response.status, url=canonicalize_url(response.url),
                           listed=listed_key(response), etag=found.get("etag"),
                           last_modified=found.get("last_modified"))
        if not item.title and hint.get("title"):
            item.title = hint["title"]
        if item.published is None and hint.get("published") is not None:
            item.published = hint["published"]
            item.published_source = response.meta.get(keys.VIA)
        source = self.source(item.source or "")
        if not item.language and source and source.language:
            item.language, item.language_source = source.language, "source"
        self._date_zones(item, hint, source.zone if source is not None else None)
        self._count("news/page/article")
        name = item.source
        self._count_source(name, "articles")
        self._count_source(name, "no_date", int(item.published is None))
        self._count_source(name, "no_author", int(not item.authors))
        self._count_source(name, "paywalled", int(bool(item.paywalled)))
        return item

    def _date_zones(self, item: ArticleItem, hint: dict[str, Any],
                    zone: SourceZone | None) -> None:
        """The page's times that state no zone take the zone of the feed's or sitemap's date
        for the article when that shows the same wall-clock time, else the source's
        ``timezone``; what stays without zone is counted, and stored as its wall clock
        (docs/dates.md)."""
        if isinstance(item.published, datetime):
            item.published = resolve_naive(zone_from(item.published, _dated(hint, "published")),
                                           zone)
        if isinstance(item.modified, datetime):
            item.modified = resolve_naive(zone_from(item.modified, _dated(hint, "modified")),
                                          zone)
        if isinstance(item.published, datetime):
            kind = zone_of(item.published)
            if kind == "none":
                self._count("news/dates/naive")
                self._report_naive(item.source, item.url, item.published)
            elif kind == "source":
                self._count("news/dates/source_zone")

    def _report_naive(self, source: str | None, url: str, value: datetime) -> None:
        """Say once per source that its times state no zone, and what to do about it."""
        name = source or "adhoc"
        if name in self._naive_reported:
            return
        self._naive_reported.add(name)
        logger.info("Source %s states times without zone (%s at %s): stored as wall-clock "
                    "times (published_zone none); set its 'timezone' in the sources file "
                    "(docs/dates.md)", name, value.isoformat(), url)

    def on_error(self, failure: Any) -> None:
        request = getattr(failure, "request", None)
        if request is not None:
            self.crawler.signals.send_catch_log(news_signals.request_failed, request=request)
        url = getattr(request, "url", "?")
        if failure.check(BrowserUnavailable):  # one warning said why (crawler/browser.py)
            source = request.meta.get(keys.SOURCE) if request is not None else None
            self._count("news/page/not_article")
            self._count_source(source, "rejected")
            self._count_source(source, "refused_needs_browser")
            logger.info("Not an article (needs a browser): %s", url)
            return
        if request is not None and request.meta.get(BROWSER_KEY):
            self._count("news/browser/failed")
        if failure.check(HttpError):  # an IgnoreRequest too, but a failed fetch: say which
            status = failure.value.response.status
            source = request.meta.get(keys.SOURCE) if request is not None else None
            self._count("news/fetch/ignored")
            self._count(f"news/fetch/http_status/{status}")
            self._count_source(source, "errors")
            logger.warning("Fetch failed for %s: Ignoring non-200 response (HTTP %d, source %s)",
                           url, status, source or "adhoc")
            if status in GONE_STATUSES and request is not None and \
                    request.callback == self.parse_page:
                self.mark_fetched(failure.value.response, kind=KIND_GONE)  # gone_at, no recrawl
            return
        if failure.check(IgnoreRequest):
            self._count("news/fetch/ignored")
            logger.info("Not fetched %s: %s", url, failure.getErrorMessage())
            return
        source = request.meta.get(keys.SOURCE) if request is not None else None
        self._count_source(source, "errors")
        self._count(f"news/fetch/error/{failure.type.__name__}")
        logger.warning("Fetch failed for %s: %s", url, failure.getErrorMessage())

    def _count(self, key: str, value: int = 1) -> None:
        if value:
            self.crawler.stats.inc_value(key, value)

    def _count_source(self, source: str | None, event: str, value: int = 1) -> None:
        """Per-source counts (crawler/per_source.py), read by the crawl_runs record."""
        SourceCounts.for_crawler(self.crawler).add(source, event, value)



def _dated(hint: dict[str, Any], key: str) -> datetime | None:
    value = hint.get(key)
    return value if isinstance(value, datetime) else None
