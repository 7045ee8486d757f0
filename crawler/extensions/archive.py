"""Archive every fetched HTML page in WARC files, off the reactor thread (crawler/warc.py).

:class:`WarcArchive` (an extension) hands each HTML response with a 2xx status, and the request
that got it, to one writer thread as soon as Scrapy has received it, so the record is written
while the page is extracted. A 304 is not archived: its content is the record of the fetch that
returned 200. :class:`ArchiveLocations` (a spider middleware) waits for the record of the page
an article was extracted from and puts its place in the item (``archive``: file, offset,
length; docs/schema.md).

The archive is best effort: when its folder cannot be written (permissions, full disk, file
size limit) one error line is logged, ``news/archive/errors`` counted, and the crawl goes on
without it. With ``NEWS_ARCHIVE_REQUIRED`` the crawl stops instead, and an article whose record
could not be written is not stored.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, Request, Response

from crawler import keys
from crawler.browser import REFERS_KEY, rendered
from crawler.defaults import news_bool, news_float, news_get, news_int
from crawler.warc import ArchiveError, ArchiveWriter, Exchange, Location, read_response

logger = logging.getLogger(__name__)

META_KEY = keys.ARCHIVE  # request.meta: the Future of the response's archive Location
# What the spider knew of a page before fetching it, kept in the record for reextract.
ARCHIVED_META = (keys.VIA, keys.HINTED, keys.HINT, "depth")


def archive_dir(settings: Any) -> Path:
    """NEWS_ARCHIVE_DIR, or ``archive`` in NEWS_DATA_DIR."""
    configured = settings.get("NEWS_ARCHIVE_DIR") or ""
    if configured:
        return Path(configured)
    return Path(news_get(settings, "NEWS_DATA_DIR")) / "archive"


def _headers(headers: Any) -> list[tuple[str, str]]:
    return [(key.decode("latin-1"), value.decode("latin-1"))
            for key, values in headers.items() for value in values]


class WarcArchive:
    def __init__(self, crawler: Crawler, directory: str | Path, max_bytes: int = 1 << 30,
                 gzip_level: int = 3, required: bool = False) -> None:
        self.crawler = crawler  # its stats, and its engine (to stop the crawl when required)
        self.directory = Path(directory)
        self.required = required
        self.writer = ArchiveWriter(directory, max_bytes=max_bytes, gzip_level=gzip_level)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="warc")
        self.failed = False  # the archive stopped working in this run
        self.cpu = 0.0  # seconds of the writer thread's CPU
        self.reactor_cpu = 0.0  # seconds of the reactor thread's CPU spent handing pages over
        self._lock = threading.Lock()
        self._closing: asyncio.Future[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcArchive:
        settings = crawler.settings
        if not news_bool(settings, "NEWS_ARCHIVE"):
            raise NotConfigured("NEWS_ARCHIVE is off")
        archive = cls(crawler, archive_dir(settings),
                      max_bytes=int(news_float(settings, "NEWS_ARCHIVE_MAX_MB") * 1024 * 1024),
                      gzip_level=news_int(settings, "NEWS_ARCHIVE_GZIP_LEVEL"),
                      required=news_bool(settings, "NEWS_ARCHIVE_REQUIRED"))
        crawler.signals.connect(archive.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(archive.response_received, signal=signals.response_received)
        crawler.signals.connect(archive.spider_closed, signal=signals.spider_closed)
        return archive

    def _count(self, key: str, value: int = 1) -> None:
        if value:
            self.crawler.stats.inc_value(f"news/archive/{key}", value)

    def spider_opened(self, spider: Spider) -> None:
        try:
            self.executor.submit(self.writer.open).result()
        except ArchiveError as exc:
            self._failed(exc)
            return
        logger.info("Archiving fetched pages in %s", self.directory)

    def _failed(self, exc: ArchiveError) -> None:
        """Called in the reactor thread or the writer's: one error line per run."""
        self._count("errors")
        with self._lock:
            if self.failed:
                return
            self.failed = True
        if self.required:
            logger.error("WARC archive not writable (%s): stopping the crawl "
                         "(NEWS_ARCHIVE_REQUIRED)", exc)
            self._close_crawl()
        else:
            logger.error("WARC archive not writable (%s): crawling on without archiving "
                         "(news/archive/errors counts the pages not archived)", exc)

    def _close_crawl(self) -> None:
        from twisted.internet import reactor

        def close() -> None:
            self._closing = asyncio.ensure_future(
                self.crawler.engine.close_spider_async(reason="archive_failed"))

        if threading.current_thread() is threading.main_thread():
            close()
        else:
            reactor.callFromThread(close)

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        started = time.thread_time()
        try:
            self._received(response, request)
        finally:
            self.reactor_cpu += time.thread_time() - started

    def _received(self, response: Response, request: Request) -> None:
        if request.meta.get(keys.REPLAYED):
            return  # newscrawl reextract: the page comes from the archive
        if response.status == 304:
            self._count("not_modified")  # the 200 that returned this content is archived
            return
        if not isinstance(response, HtmlResponse) or not 200 <= response.status < 300:
            return
        if self.failed:
            self._count("errors")
            if self.required:
                request.meta[META_KEY] = _failed_future()
            return
        exchange = Exchange(
            url=response.url, status=response.status, headers=_headers(response.headers),
            body=response.body, request_method=request.method,
            request_headers=_headers(request.headers), date=datetime.now(UTC),
            source=request.meta.get(keys.SOURCE),
            meta={key: request.meta[key] for key in ARCHIVED_META if key in request.meta},
            protocol=_protocol(response))
        if rendered(response):  # the DOM the browser rendered: a conversion record
            request.meta[META_KEY] = self.executor.submit(
                self._write, exchange, request.meta.get(REFERS_KEY))
            return
        request.meta[META_KEY] = self.executor.submit(self._write, exchange)

    def _write(self, exchange: Exchange, refers: Any = False) -> Location | None:
        """In the writer thread. ``refers`` (a rendered page): the Future of the location of
        the page's record as fetched (written before: this thread writes in order), or None."""
        started = time.thread_time()
        written = self.writer.bytes
        try:
            if refers is False:
                location = self.writer.write(exchange)
            else:
                location = self.writer.write_rendered(exchange, self._record_id(refers))
        except ArchiveError as exc:
            self._failed(exc)
            return None
        finally:
            self.cpu += time.thread_time() - started
        self._count("records")
        self._count("bytes", self.writer.bytes - written)
        return location

    def _record_id(self, refers: Any) -> str | None:
        if not isinstance(refers, Future) or not refers.done():
            return None
        location = refers.result()
        if location is None:
            return None
        try:
            return read_response(self.directory, location).record_id
        except ArchiveError:
            return None

    def spider_closed(self, spider: Spider) -> None:
        self.executor.shutdown(wait=True)
        self.writer.close()
        self._count("files", self.writer.files)
        self._count("cpu_ms", round(self.cpu * 1000))
        self._count("reactor_cpu_ms", round(self.reactor_cpu * 1000))
        if self.writer.records:
            logger.info("Archived %d page(s) in %d WARC file(s), %.1f kB a page, in %s",
                        self.writer.records, self.writer.files,
                        self.writer.bytes / self.writer.records / 1024, self.directory)


def _protocol(response: Response) -> str:
    protocol = getattr(response, "protocol", None)
    return str(protocol).upper() if protocol else "HTTP/1.1"


def _failed_future() -> Future[Location | None]:
    future: Future[Location | None] = Future()
    future.set_result(None)
    return future


