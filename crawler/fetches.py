"""Which sites may still yield an article: the fetches pending per site, told by signals.

A *fetch* is one request of the spider, from the moment it is scheduled until the spider has
parsed its response (or failure) and each article it yielded has been counted by the template
pipeline. Retries and redirects continue the fetch they come from (the request is a copy: its
``meta`` carries the fetch's token). The template pipeline holds a new site's first articles
until the site's template is learned; once nothing of the site is pending, the site cannot
show any more pages in this crawl and its articles are released at once (see
pipelines/template_strip.py).

What is tracked, with Scrapy's public API only:

- ``request_scheduled``: a fetch begins (or a retry / redirect continues one);
- ``request_reached_downloader``: it left the scheduler and is being downloaded;
- ``request_dropped``: a duplicate, it ends;
- ``response_received``: the response is being parsed (extracted) by the spider;
- :class:`FetchTrackerMiddleware`, the outermost spider middleware: the spider's output for a
  response ends (each article in it counted as in transit, until the pipeline counts it), and
  the spider's start requests are all scheduled;
- ``crawler.signals.request_failed`` (the spider's errback): a failed fetch ends;
- ``item_scraped`` / ``item_dropped`` / ``item_error``: an article has left the pipelines.

In a distributed crawl a request this worker schedules goes to the shared queue and may be
fetched by any worker: the scheduler calls :meth:`FetchTracker.handed_off` once it is queued,
and :meth:`FetchTracker.begin` for each request it pops. :meth:`FetchTracker.on_finished` tells
it when a popped request has left this worker's engine (its articles through the pipelines).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler import signals as news_signals
from crawler.canonical import site_of

logger = logging.getLogger(__name__)

TOKEN = "news_fetch"  # request.meta key: the fetch a request belongs to


@dataclass
class _Fetch:
    site: str
    meta: dict[str, Any]
    downloading: bool = False  # out of the scheduler, with the downloader
    parsing: bool = False  # the response (or failure) is with the spider
    ended: bool = False  # the spider is done with it
    in_transit: int = 0  # articles yielded, not yet counted by the template pipeline
    in_pipelines: int = 0  # articles yielded, not yet out of the item pipelines
    items: set[int] = field(default_factory=set)


class FetchTracker:
    def __init__(self) -> None:
        self._tokens = itertools.count(1)
        self.fetches: dict[int, _Fetch] = {}
        self.pending: Counter[str] = Counter()  # per site: fetches not ended + in transit
        self.last_activity: dict[str, float] = {}
        self.starting = True  # the spider's start requests are not all scheduled yet
        self._items: dict[int, tuple[int, int]] = {}  # id(item) -> (token, response bytes)
        self._idle_listeners: list[Callable[[str | None], None]] = []
        self._finished_listeners: list[Callable[[dict[str, Any]], None]] = []

    @classmethod
    def for_crawler(cls, crawler: Crawler) -> FetchTracker:
        """One tracker per crawler, connected to its signals."""
        existing = getattr(crawler, "_news_fetches", None)
        if isinstance(existing, FetchTracker):
            return existing
        tracker = cls()
        crawler._news_fetches = tracker  # type: ignore[attr-defined]
        connect = crawler.signals.connect
        connect(tracker.request_scheduled, signal=signals.request_scheduled)
        connect(tracker.request_dropped, signal=signals.request_dropped)
        connect(tracker.request_reached_downloader, signal=signals.request_reached_downloader)
        connect(tracker.response_received, signal=signals.response_received)
        connect(tracker.request_failed, signal=news_signals.request_failed)
        connect(tracker.item_left, signal=signals.item_scraped)
        connect(tracker.item_left, signal=signals.item_dropped)
        connect(tracker.item_left, signal=signals.item_error)
        return tracker

    # -- listeners ---------------------------------------------------------------------------

    def on_idle(self, listener: Callable[[str | None], None]) -> None:
        """``listener(site)`` once nothing of ``site`` is pending; ``listener(None)`` once the
        start requests are all scheduled."""
        self._idle_listeners.append(listener)

    def on_finished(self, listener: Callable[[dict[str, Any]], None]) -> None:
        """``listener(meta)`` once a request has left the engine: parsed (or failed, or
        dropped) and its articles out of the item pipelines."""
        self._finished_listeners.append(listener)

    # -- questions ---------------------------------------------------------------------------

    def is_pending(self, site: str) -> bool:
        """May ``site`` still yield an article in this crawl (as far as this process knows)?"""
        return self.starting or self.pending[site] > 0

    def idle_for(self, site: str) -> float:
        """Seconds since a fetch of ``site`` last made progress."""
        return time.monotonic() - self.last_activity.get(site, time.monotonic())

    @property
    def busy(self) -> bool:
        return self.starting or any(self.pending.values())

    @property
    def active(self) -> bool:
        """Is a page being downloaded or extracted, or an article on its way to being counted?
        (Requests waiting in the scheduler are not active: a closing crawl never fetches
        them.)"""
        return any((not fetch.ended and (fetch.downloading or fetch.parsing))
                   or fetch.in_transit > 0 for fetch in self.fetches.values())

    def item_bytes(self, item: Any) -> int:
        """The size of the response an article was extracted from (0: unknown)."""
        entry = self._items.get(id(item))
        return entry[1] if entry is not None else 0

    # -- the life of a fetch -----------------------------------------------------------------

    def begin(self, request: Request) -> None:
        """A fetch begins (a request scheduled, or popped from the shared queue)."""
        token = next(self._tokens)
        request.meta[TOKEN] = token
        site = site_of(request.url)
        self.fetches[token] = _Fetch(site, request.meta)
        self._add(site, 1)

    def request_scheduled(self, request: Request) -> None:
        fetch = self.fetches.get(request.meta.get(TOKEN, 0))
        if fetch is None or fetch.parsing or fetch.ended:
            self.begin(request)
            return
        # A retry or a redirect: the same fetch goes on, maybe on another site.
        fetch.meta = request.meta
        fetch.downloading = False  # back to the scheduler
        site = site_of(request.url)
        if site != fetch.site:
            self._add(site, 1)
            self._add(fetch.site, -1)
            fetch.site = site
        self._touch(site)

    def request_reached_downloader(self, request: Request) -> None:
        fetch = self.fetches.get(request.meta.get(TOKEN, 0))
        if fetch is not None and not fetch.ended:
            fetch.downloading = True

    def handed_off(self, request: Request) -> None:
        """The request went to the shared queue: whoever pops it fetches it."""
        self._end(request.meta.get(TOKEN, 0), notify=False)

    def request_dropped(self, request: Request) -> None:
        self._end(request.meta.get(TOKEN, 0))

    def response_received(self, response: Response, request: Request) -> None:
        fetch = self.fetches.get(request.meta.get(TOKEN, 0))
        if fetch is not None and not fetch.ended:
            fetch.parsing = True
            fetch.meta = request.meta
            self._touch(fetch.site)

    def request_failed(self, request: Request) -> None:
        self._end(request.meta.get(TOKEN, 0))

    def item_yielded(self, item: Any, response: Response) -> None:
        token = _token_of(response)
        fetch = self.fetches.get(token)
        if fetch is None:
            return
        self._items[id(item)] = (token, len(response.body))
        fetch.in_transit += 1
        fetch.in_pipelines += 1
        fetch.items.add(id(item))
        self._add(fetch.site, 1)

    def item_counted(self, item: Any) -> None:
        """The template pipeline has counted the article's page for its site."""
        entry = self._items.pop(id(item), None)
        fetch = self.fetches.get(entry[0]) if entry is not None else None
        if fetch is None or id(item) not in fetch.items:
            return
        fetch.items.discard(id(item))
        fetch.in_transit -= 1
        self._add(fetch.site, -1)

    def item_left(self, item: Any, response: Response | None = None) -> None:
        """An article is out of the pipelines (stored, dropped or failed)."""
        token = _token_of(response)
        fetch = self.fetches.get(token)
        if fetch is None:
            return
        fetch.in_pipelines -= 1
        if fetch.in_pipelines <= 0 and fetch.in_transit > 0:
            # Articles that did not reach the template pipeline (dropped before it).
            for key in fetch.items:
                self._items.pop(key, None)
            fetch.items.clear()
            self._add(fetch.site, -fetch.in_transit)
            fetch.in_transit = 0
        self._maybe_finish(token)

    def parsed(self, response: Response) -> None:
        """The spider is done with a response: what it yielded has been handed on."""
        self._end(_token_of(response))

    def started(self) -> None:
        if self.starting:
            self.starting = False
            self._notify_idle(None)

    def _end(self, token: int, notify: bool = True) -> None:
        fetch = self.fetches.get(token)
        if fetch is None or fetch.ended:
            return
        fetch.ended = True
        self._add(fetch.site, -1, notify=notify)
        if notify:
            self._maybe_finish(token)
        else:
            del self.fetches[token]

    def _maybe_finish(self, token: int) -> None:
        fetch = self.fetches.get(token)
        if fetch is None or not fetch.ended or fetch.in_pipelines > 0:
            return
        del self.fetches[token]
        for listener in self._finished_listeners:
            listener(fetch.meta)

    def _add(self, site: str, value: int, notify: bool = True) -> None:
        self.pending[site] += value
        self._touch(site)
        if self.pending[site] <= 0:
            del self.pending[site]
            if notify and not self.starting:
                self._notify_idle(site)

    def _touch(self, site: str) -> None:
        self.last_activity[site] = time.monotonic()

    def _notify_idle(self, site: str | None) -> None:
        for listener in self._idle_listeners:
            listener(site)


def _token_of(response: Response | None) -> int:
    try:
        token = response.meta.get(TOKEN, 0) if response is not None else 0
    except AttributeError:  # a response without its request
        return 0
    return token if isinstance(token, int) else 0


class FetchTrackerMiddleware:
    """The outermost spider middleware: sees the end of the spider's output for a response
    (after every other middleware), each article in it, and the end of the start requests."""

    def __init__(self, tracker: FetchTracker) -> None:
        self.tracker = tracker

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FetchTrackerMiddleware:
        return cls(FetchTracker.for_crawler(crawler))

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        try:
            async for item_or_request in start:
                yield item_or_request
        finally:
            self.tracker.started()

    async def process_spider_output(self, response: Response, result: AsyncIterator[Any]
                                    ) -> AsyncIterator[Any]:
        try:
            async for output in result:
                if not isinstance(output, Request):
                    self.tracker.item_yielded(output, response)
                yield output
        finally:
            self.tracker.parsed(response)

    def process_spider_exception(self, response: Response, exception: Exception) -> None:
        self.tracker.parsed(response)
