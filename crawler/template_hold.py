"""The template hold: which sites are still learning, which articles wait, and when they go.

A site the crawler has never seen has its first articles *held* until its template (the lines
it repeats, crawler/templates/model.py) is learned, so that even its first stored article is
clean. :class:`TemplateHold` is the one component that knows what is held and decides when it
goes; pipelines/template_strip.py counts and strips, and asks it (:meth:`TemplateHold.wait`).

It is made of two plain parts, driven by the Scrapy component:

- :class:`Ledger`, the requests of the crawl: which site may still show a page;
- :class:`Rules`, the held articles of each site and the rules that release them.

Every request ends exactly once
-------------------------------

A *fetch* is one request of the spider and its continuations: it *begins* when the request
is scheduled (``request_scheduled``; in a distributed crawl: popped from the shared queue), and
a retry or a redirect (a copy of the request, whose ``meta`` carries the fetch's token) is the
same fetch going on, maybe on another site: retries and redirects are counted once per fetch,
by its final outcome. A fetch *ends* exactly once, at the first of:

- ``request_dropped``: a duplicate, or a retry delayed by crawler/extensions/retry_backoff.py
  (given back to the engine later, it begins a fetch of its own);
- the spider is done with its response (the outermost spider middleware sees the end of the
  callback's output, or ``process_spider_exception``), whatever the status (a 404 too);
- the spider's errback ran (``crawler.signals.request_failed``): a download error after its
  retries, or a request refused before its download (robots.txt, the URL guard, offsite);
- in a distributed crawl, the request went to the shared queue (whoever pops it begins a fetch).

Requests filtered before they are scheduled (offsite links, depth, the incremental state) never
begin. An end seen again for an ended fetch (an exception after the output, say) changes
nothing and is counted apart (``repeated_ends``). ``begun == ended + len(open)`` always, and a
crawl that has finished has no open fetch. A fetch's articles are *in transit* from the
spider's output until the template pipeline counts their page, and *in the pipelines* until
``item_scraped`` / ``item_dropped`` / ``item_error``.

A site *may grow* (show another page in this crawl, as far as this process knows) while the
spider's start requests are not all scheduled, or a fetch of it is open, or one of its articles
is in transit. The crawl is *busy* while any site may grow.

The hold of one site
--------------------

::

                 article counted, warm-up not reached, site may grow: held
      +----------+ ----------------------------------------------> +----------+
      | LEARNING |                                                 | HOLDING  |
      +----------+ <---------------------------------------------- +----------+
         |    released: all its pages seen / quiet / budget /        |   |  |
         |    timeout (its next article is held again if its         |   |  |
         |    site may still grow)                                   |   |  |
         | warm-up reached                       warm-up reached     |   |  |
         v                                  (released: ``warmup``)   |   |  |
      +----------+ <-------------------------------------------------+   |  |
      | LEARNED  |    crawl closing, template learned (``closing``)      |  |
      +----------+ <-----------------------------------------------------+  |
                      crawl closing, still learning: held articles not      |
        LEARNING  <-- stored (``not_stored``; fetched again next run) ------+

Releases (``news/templates/released/<why>``), each held article settled exactly once:

- ``warmup``: ``NEWS_TEMPLATE_WARMUP`` pages of the site counted (in a distributed crawl, by
  all workers);
- ``all_seen``: the site may not grow (its count is final in this crawl); an article counted
  while its site may not grow is not held at all;
- ``quiet``: the crawl is not busy (distributed: the shared crawl is quiet);
- ``budget``: the held responses take more than ``NEWS_TEMPLATE_HOLD_MAX_BYTES`` (at most two
  thirds of ``SCRAPER_SLOT_MAX_ACTIVE_SIZE``, which bounds the scraper's memory; a held article
  keeps its response counted there): the site held longest goes first;
- ``timeout``: held ``NEWS_TEMPLATE_HOLD_TIMEOUT`` and no fetch of the site has moved for as long;
- ``closing``: the crawl closes (Ctrl-C, SIGTERM, ``CLOSESPIDER_*``); once the pages being
  downloaded or parsed are counted, a site whose template is learned (warm-up reached, or it may
  not grow) is released, the others are not stored. A distributed crawl releases them all
  (their requests are settled in the shared queue already).

Scrapy announces no closing: it is seen from the signals, as a *stall*. The engine pulls the
scheduler at least every ``ENGINE_HEARTBEAT`` seconds whenever its downloader has room and its
scraper is under ``SCRAPER_SLOT_MAX_ACTIVE_SIZE`` (the held bytes stay under it: ``budget``);
so fetches waiting for the downloader while nothing is downloaded or parsed (only held articles
left) for longer than that mean the engine has stopped pulling: it is closing.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler import keys
from crawler import signals as news_signals
from crawler.canonical import site_of
from crawler.defaults import news_float, news_int
from crawler.distributed import redis_url

if TYPE_CHECKING:
    from crawler.distributed.shared import SharedCrawl

logger = logging.getLogger(__name__)

TOKEN = keys.FETCH  # request.meta key: the fetch a request belongs to
MIN_RESPONSE_SIZE = 1024  # what Scrapy's scraper counts for a response, at least
ENGINE_HEARTBEAT = 5.0  # Scrapy's engine pulls its scheduler at least this often


# -- the ledger ------------------------------------------------------------------------------


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


class Ledger:
    """The fetches of a crawl, each begun once and ended once (see the module's docstring).
    Plain: told events by :class:`TemplateHold` (or a test), it calls its listeners."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._tokens = itertools.count(1)
        self.fetches: dict[int, _Fetch] = {}  # open, or ended with articles in the pipelines
        self.pending: Counter[str] = Counter()  # per site: fetches not ended + in transit
        self.last_activity: dict[str, float] = {}
        self.starting = True  # the spider's start requests are not all scheduled yet
        self.in_downloader = 0  # requests (ours or not: robots.txt) in the downloader
        self.begun = 0
        self.ended = 0
        self.repeated_ends = 0
        self._items: dict[int, tuple[int, int]] = {}  # id(item) -> (token, response bytes)
        self._idle_listeners: list[Callable[[str | None], None]] = []
        self._finished_listeners: list[Callable[[dict[str, Any]], None]] = []

    # -- listeners ---------------------------------------------------------------------------

    def on_idle(self, listener: Callable[[str | None], None]) -> None:
        """``listener(site)`` once ``site`` may not grow; ``listener(None)`` once the start
        requests are all scheduled."""
        self._idle_listeners.append(listener)

    def on_finished(self, listener: Callable[[dict[str, Any]], None]) -> None:
        """``listener(meta)`` once a fetch has ended and its articles are out of the item
        pipelines (it has left the engine)."""
        self._finished_listeners.append(listener)

    # -- questions ---------------------------------------------------------------------------

    def is_pending(self, site: str) -> bool:
        """May ``site`` still yield an article in this crawl (as far as this process knows)?"""
        return self.starting or self.pending[site] > 0

    def idle_for(self, site: str) -> float:
        """Seconds since a fetch of ``site`` last made progress."""
        now = self.clock()
        return now - self.last_activity.get(site, now)

    @property
    def busy(self) -> bool:
        return self.starting or any(self.pending.values())

    @property
    def open(self) -> int:
        """Fetches begun and not ended."""
        return self.begun - self.ended

    @property
    def active(self) -> bool:
        """Is a page being downloaded or parsed, or an article on its way to being counted?
        (Fetches waiting in the scheduler are not active: a closing crawl never fetches them.)"""
        return any((not fetch.ended and (fetch.downloading or fetch.parsing))
                   or fetch.in_transit > 0 for fetch in self.fetches.values())

    @property
    def waiting(self) -> bool:
        """Is a fetch waiting for the downloader (scheduled, not taken)?"""
        return any(not (fetch.ended or fetch.downloading or fetch.parsing)
                   for fetch in self.fetches.values())

    @property
    def stalled(self) -> bool:
        """Fetches wait for the downloader, and nothing is downloaded nor parsed."""
        return self.in_downloader <= 0 and self.waiting and not self.active

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
        self.begun += 1
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
        self.in_downloader += 1
        fetch = self.fetches.get(request.meta.get(TOKEN, 0))
        if fetch is not None and not fetch.ended:
            fetch.downloading = True

    def request_left_downloader(self, request: Request) -> None:
        self.in_downloader -= 1

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
        token = token_of(response)
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
        token = token_of(response)
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
        self._end(token_of(response))

    def started(self) -> None:
        if self.starting:
            self.starting = False
            self._notify_idle(None)

    def _end(self, token: int, notify: bool = True) -> None:
        fetch = self.fetches.get(token)
        if fetch is None or fetch.ended:
            if token:
                self.repeated_ends += 1
            return
        fetch.ended = True
        self.ended += 1
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
        self.last_activity[site] = self.clock()

    def _notify_idle(self, site: str | None) -> None:
        for listener in self._idle_listeners:
            listener(site)


def token_of(response: Response | None) -> int:
    try:
        token = response.meta.get(TOKEN, 0) if response is not None else 0
    except AttributeError:  # a response without its request
        return 0
    return token if isinstance(token, int) else 0


# -- the rules -------------------------------------------------------------------------------


@dataclass
class Held:
    key: Any  # what the caller knows the held article by
    site: str
    size: int


@dataclass
class Release:
    """Held articles settled: stored (``store``) or not, and why (``key``: the stat)."""

    site: str
    key: str
    why: str
    entries: list[Held]
    store: bool


class Rules:
    """The held articles, per site, and the rules that release them (the module's diagram).
    Plain: each method returns what it settles."""

    def __init__(self, warmup: int = 10, hold_max_bytes: int = 64 * 1024 * 1024,
                 hold_timeout: float = 60.0) -> None:
        self.warmup = warmup
        self.hold_max_bytes = hold_max_bytes
        self.hold_timeout = hold_timeout
        self.held: dict[str, list[Held]] = {}
        self.held_since: dict[str, float] = {}  # insertion order: the site held longest first
        self.held_bytes = 0

    def article(self, site: str, pages: int, may_grow: bool, key: Any, size: int,
                now: float) -> tuple[bool, list[Release]]:
        """An article of ``site`` counted (its site at ``pages``): (held?, releases)."""
        if pages >= self.warmup:
            return False, self.release(site, "warmup", "warm-up reached")
        if not may_grow:
            return False, self.release(site, "all_seen", "all its pages seen")
        size = max(size, MIN_RESPONSE_SIZE)
        self.held.setdefault(site, []).append(Held(key, site, size))
        self.held_since.setdefault(site, now)
        self.held_bytes += size
        releases: list[Release] = []
        while self.held_bytes > self.hold_max_bytes and self.held_since:
            releases += self.release(next(iter(self.held_since)), "budget",
                                     "held bytes over the budget")
        return True, releases

    def release(self, site: str, key: str, why: str, store: bool = True) -> list[Release]:
        held = self.held.pop(site, [])
        self.held_since.pop(site, None)
        if not held:
            return []
        self.held_bytes -= sum(entry.size for entry in held)
        return [Release(site, key, why, held, store)]

    def release_all(self, key: str, why: str) -> list[Release]:
        return [r for site in list(self.held) for r in self.release(site, key, why)]

    def time_out(self, now: float, moved_within: Callable[[str, float], bool]) -> list[Release]:
        """Held ``hold_timeout`` and no fetch of the site moved for as long."""
        return [r for site, since in list(self.held_since.items())
                if now - since >= self.hold_timeout
                and not moved_within(site, self.hold_timeout)
                for r in self.release(site, "timeout", "hold timeout")]

    def settle(self, why: str, learned: Callable[[str], bool] | None) -> list[Release]:
        """The crawl closes: release the sites whose template is ``learned``, not store the
        others; ``learned`` None: release them all."""
        return [r for site in list(self.held)
                for r in self.release(site, "closing", why,
                                      store=learned is None or learned(site))]


# -- the Scrapy component --------------------------------------------------------------------


class TemplateHold:
    """The hold, as the outermost spider middleware (it sees the end of the spider's output
    for a response, each article in it, and the end of the start requests) listening to
    Scrapy's signals. The template pipeline finds it with ``crawler.get_spider_middleware``;
    without a crawl (``crawler`` None or no signals wired) a site's pages may always come."""

    def __init__(self, crawler: Crawler | None = None, warmup: int = 10,
                 hold_timeout: float = 60.0, hold_max_bytes: int = 64 * 1024 * 1024,
                 tick: float = 0.5, ledger: Ledger | None = None,
                 shared: SharedCrawl | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.crawler = crawler
        self.rules = Rules(warmup, hold_max_bytes, hold_timeout)
        self.tick = tick
        self.ledger = ledger
        self.shared = shared  # when distributed
        self.clock = clock
        self.stall_after = ENGINE_HEARTBEAT + max(tick, 0.5)
        self._futures: dict[int, tuple[asyncio.Future[bool], Any]] = {}
        self._keys = itertools.count(1)
        self._pages: Callable[[str], int] = lambda site: 0
        self._on_tick: Callable[[list[str]], Awaitable[dict[str, int]]] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._stalled_since: float | None = None
        self._closing_since: float | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TemplateHold:
        settings = crawler.settings
        shared = None
        if redis_url(settings):
            from crawler.distributed.shared import SharedCrawl

            shared = SharedCrawl.for_crawler(crawler)
        ledger = Ledger()
        hold = cls(crawler, ledger=ledger, shared=shared, **hold_settings(crawler))
        connect = crawler.signals.connect
        connect(ledger.request_scheduled, signal=signals.request_scheduled)
        connect(ledger.request_dropped, signal=signals.request_dropped)
        connect(ledger.request_reached_downloader, signal=signals.request_reached_downloader)
        connect(ledger.request_left_downloader, signal=signals.request_left_downloader)
        connect(ledger.response_received, signal=signals.response_received)
        connect(ledger.request_failed, signal=news_signals.request_failed)
        connect(ledger.item_left, signal=signals.item_scraped)
        connect(ledger.item_left, signal=signals.item_dropped)
        connect(ledger.item_left, signal=signals.item_error)
        connect(hold.close, signal=signals.spider_closed)
        ledger.on_idle(hold._site_idle)
        return hold

    # -- the spider middleware ---------------------------------------------------------------

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        try:
            async for item_or_request in start:
                yield item_or_request
        finally:
            if self.ledger is not None:
                self.ledger.started()

    async def process_spider_output(self, response: Response, result: AsyncIterator[Any]
                                    ) -> AsyncIterator[Any]:
        try:
            async for output in result:
                if not isinstance(output, Request) and self.ledger is not None:
                    self.ledger.item_yielded(output, response)
                yield output
        finally:
            if self.ledger is not None:
                self.ledger.parsed(response)

    def process_spider_exception(self, response: Response, exception: Exception) -> None:
        if self.ledger is not None:
            self.ledger.parsed(response)

    # -- the template pipeline's side --------------------------------------------------------

    def attach(self, pages: Callable[[str], int],
               on_tick: Callable[[list[str]], Awaitable[dict[str, int]]] | None = None) -> None:
        """The template pipeline: ``pages(site)`` counted so far; ``on_tick(sites)`` at each
        tick (the held sites' pages counted by all workers, in a distributed crawl)."""
        self._pages = pages
        self._on_tick = on_tick
        if self._ticker is None:
            self._ticker = asyncio.ensure_future(self._watch())

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None

    @property
    def held(self) -> dict[str, list[Held]]:
        return self.rules.held

    @property
    def held_bytes(self) -> int:
        return self.rules.held_bytes

    def item_bytes(self, item: Any) -> int:
        return self.ledger.item_bytes(item) if self.ledger is not None else 0

    async def wait(self, item: Any, site: str, pages: int, size: int) -> bool:
        """The article's page is counted (its site at ``pages``): True when it may be stored
        (at once, or once released), False when it must not be (the crawl closed first)."""
        if self.ledger is not None:
            self.ledger.item_counted(item)
        key = next(self._keys)
        held, releases = self.rules.article(site, pages, self.may_grow(site), key, size,
                                            self.clock())
        future: asyncio.Future[bool] | None = None
        if held:
            future = asyncio.get_running_loop().create_future()
            self._futures[key] = (future, item)
            self._count("held")
            if self.shared is not None:
                self._settle(item)
        self._apply(releases)
        return True if future is None else await future

    def may_grow(self, site: str) -> bool:
        """Can the site still show pages this crawl? Always, as far as this process knows, in
        a distributed crawl (the shared crawl's quiet decides) or without a ledger."""
        if self.ledger is None or self.shared is not None:
            return True
        return self.ledger.is_pending(site)

    def learned(self, site: str) -> bool:
        """Is the site's template learned: its warm-up reached, or it may not grow?"""
        return self._pages(site) >= self.rules.warmup or not self.may_grow(site)

    def release_all(self, key: str, why: str) -> None:
        self._apply(self.rules.release_all(key, why))

    def settle_all(self, why: str) -> None:
        """The crawl is closing: store the held articles of the sites whose template is
        learned, and not the others (their URL state is not written: fetched again next run).
        A distributed crawl's held articles are all released."""
        self._apply(self.rules.settle(why, None if self.shared is not None else self.learned))

    def pages_counted(self, site: str, pages: int, why: str) -> None:
        if pages >= self.rules.warmup and site in self.rules.held:
            self._apply(self.rules.release(site, "warmup", why))

    # -- what happens ------------------------------------------------------------------------

    def _apply(self, releases: list[Release]) -> None:
        for release in releases:
            if release.store:
                self._count(f"released/{release.key}")
                logger.info("Site %s: releasing %d article(s) (%s; learned from %d pages)",
                            release.site, len(release.entries), release.why,
                            self._pages(release.site))
            else:
                self._count("not_stored", len(release.entries))
                logger.info("Site %s: %d held article(s) not stored (%s before its template "
                            "was learned: %d of %d pages); the next run fetches them again",
                            release.site, len(release.entries), release.why,
                            self._pages(release.site), self.rules.warmup)
            for entry in release.entries:
                future, _item = self._futures.pop(entry.key, (None, None))
                if future is not None and not future.done():
                    future.set_result(release.store)

    def _count(self, key: str, value: int = 1) -> None:
        if value and self.crawler is not None:
            self.crawler.stats.inc_value(f"news/templates/{key}", value)

    def _site_idle(self, site: str | None) -> None:
        """The ledger: ``site`` (None: any site) may not grow any more."""
        for name in [site] if site is not None else list(self.rules.held):
            if name in self.rules.held and not self.may_grow(name):
                self._apply(self.rules.release(name, "all_seen", "all its pages seen"))

    def _settle(self, item: Any) -> None:
        """A held article's request will produce nothing more: tell the other workers."""
        fetch = getattr(item, "fetch", None)
        qid = fetch.queue_id if fetch is not None else None
        if isinstance(qid, int) and self.shared is not None:
            try:
                self.shared.settle([qid])
            except RedisError as exc:
                logger.warning("Held article not marked settled (%s)", type(exc).__name__)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.tick)
            await self.tick_once()

    async def tick_once(self) -> None:
        """What the ticker does every ``tick`` seconds: the releases that no event brings
        (closing, quiet, a shared warm-up, the timeout)."""
        held = self.rules.held
        shared_pages: dict[str, int] = {}
        if self._on_tick is not None:
            shared_pages = await self._on_tick(list(held))
        if not held:
            self._stalled_since = None
            return
        if self._closing():
            if self._settled():
                self.settle_all("crawl closing")
            return
        if self.shared is not None and self._shared_quiet():
            self.release_all("quiet", "nothing left to fetch in the shared crawl")
            return
        for site, pages in shared_pages.items():
            self.pages_counted(site, pages, "warm-up reached on the shared crawl")
        if self.shared is None and self.ledger is not None and not self.ledger.busy:
            self.release_all("quiet", "nothing left to fetch")
            return
        self._apply(self.rules.time_out(self.clock(), self._moved_within))

    def _moved_within(self, site: str, seconds: float) -> bool:
        return (self.ledger is not None and self.ledger.is_pending(site)
                and self.ledger.idle_for(site) < seconds)

    def _closing(self) -> bool:
        """Is the crawl closing? Seen as a stall: fetches wait for the downloader and nothing
        moves for longer than the engine's heartbeat (the module's docstring)."""
        if self._closing_since is not None:
            return True
        if self.ledger is None or not self.ledger.stalled:
            self._stalled_since = None
            return False
        now = self.clock()
        if self._stalled_since is None:
            self._stalled_since = now
        if now - self._stalled_since < self.stall_after:
            return False
        self._closing_since = now
        logger.debug("The engine has stopped taking requests: the crawl is closing")
        return True

    def _settled(self) -> bool:
        """Closing: have the pages already being fetched or extracted been counted (they may
        complete a site's warm-up)? Last resort: closing for ``hold_timeout`` already."""
        now = self.clock()
        if self._closing_since is None:
            self._closing_since = now
        if self.ledger is None or not self.ledger.active:
            return True
        return now - self._closing_since >= self.rules.hold_timeout

    def _shared_quiet(self) -> bool:
        try:
            return bool(self.shared is not None and self.shared.status().quiet)
        except RedisError:
            return False


def hold_settings(crawler: Crawler) -> dict[str, Any]:
    """The hold's settings: the warm-up, the timeout and the held-bytes budget (held responses
    stay under two thirds of the scraper's budget, whatever it is set to: the rest is for the
    responses being parsed)."""
    settings = crawler.settings
    return {
        "warmup": news_int(settings, "NEWS_TEMPLATE_WARMUP"),
        "hold_timeout": news_float(settings, "NEWS_TEMPLATE_HOLD_TIMEOUT"),
        "hold_max_bytes": min(news_int(settings, "NEWS_TEMPLATE_HOLD_MAX_BYTES"),
                              settings.getint("SCRAPER_SLOT_MAX_ACTIVE_SIZE") * 2 // 3),
    }
