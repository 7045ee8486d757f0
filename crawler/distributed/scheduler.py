"""The scrapy-redis scheduler, adapted to Scrapy 2.19 and to the reliable queue.

What differs from ``scrapy_redis.scheduler.Scheduler``:

- the queue is :class:`ReliableQueue` (pop into an in-flight hash, acknowledged by the
  :class:`AckTracker`) and the dupefilter :class:`RunDupeFilter` (per run), both on the keys of
  :class:`SharedCrawl`;
- ``close`` never flushes the shared queue; it gives this worker's unfinished requests back;
- a tick keeps the worker's heartbeat, requeues the requests of dead workers, acknowledges
  the requests that have left the engine (told by the ledger of
  :class:`crawler.template_hold.TemplateHold`) and, when the shared queue has work and no
  popped request waits for the engine, pops one and hands it to the engine with
  ``engine.crawl`` (Scrapy polls an idle scheduler only every 5 s);
- a request that cannot be queued because Redis is unreachable waits in a local outbox and
  is queued by the tick once Redis answers again (``news/distributed/deferred``); while
  Redis is away the worker stays open, fetches what it holds and pops nothing; what is still
  in the outbox when the worker closes is logged by URL and counted
  (``news/distributed/unqueued``): the next run discovers it again;
- Scrapy 2.13+ calls ``close(reason)`` and the stats without a spider; no deprecated calls.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass

from redis.exceptions import RedisError
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector
from scrapy_redis.scheduler import Scheduler

from crawler import keys
from crawler import signals as news_signals
from crawler.distributed import QUEUE_ID
from crawler.distributed.dupefilter import RunDupeFilter
from crawler.distributed.queue import ReliableQueue
from crawler.distributed.shared import SharedCrawl
from crawler.distributed.tracker import AckTracker
from crawler.template_hold import Ledger, TemplateHold

logger = logging.getLogger(__name__)


_READY = keys.READY  # request.meta key: popped by the tick, for the engine


@dataclass
class _Deferred:
    """A request Redis could not take yet; ``checked``: the dupefilter has seen it."""

    request: Request
    checked: bool = False


class RedisScheduler(Scheduler):
    def __init__(self, shared: SharedCrawl, stats: StatsCollector, tick: float = 0.25,
                 engine_of: Crawler | None = None) -> None:
        super().__init__(server=shared.server, persist=True, queue_key=shared.keys.pending,
                         dupefilter=RunDupeFilter(shared), dupefilter_key=shared.keys.dupefilter)
        self.shared = shared
        self.tracker = AckTracker(shared)
        self.stats = stats
        self.tick = tick
        self.engine_of = engine_of  # the crawler whose engine is woken; None: none (a test)
        self._task: asyncio.Task[None] | None = None
        self._last_beat = 0.0
        self._outbox: deque[_Deferred] = deque()
        self._ready: deque[Request] = deque()  # popped by the tick, handed to the engine
        self._redis_away = False
        self.fetches: Ledger | None = None  # the template hold's

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisScheduler:
        shared = SharedCrawl.for_crawler(crawler)
        scheduler = cls(shared, crawler.stats, engine_of=crawler)
        hold = crawler.get_spider_middleware(TemplateHold)
        if hold is not None and hold.ledger is not None:
            scheduler.fetches = hold.ledger
            scheduler.fetches.on_finished(scheduler.tracker.finished)
        crawler.signals.connect(scheduler.tracker.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(scheduler.tracker.articles_stored,
                                signal=news_signals.articles_stored)
        return scheduler

    def _count(self, event: str, value: int = 1) -> None:
        if value:
            self.stats.inc_value(f"news/distributed/{event}", value)

    def open(self, spider: Spider) -> None:
        self.spider = spider
        self.queue = ReliableQueue(self.shared, spider, serializer=self.serializer)
        self.shared.heartbeat()
        self._last_beat = time.monotonic()
        self._requeue_dead()
        logger.info("Worker %s on the shared queue %s (%d requests pending)", self.shared.worker,
                    self.shared.keys.pending, len(self.queue))
        self._task = asyncio.ensure_future(self._run())

    def close(self, reason: str) -> None:
        if self._task is not None:
            self._task.cancel()
        self._flush_outbox()
        self._give_up_outbox()
        self._poll()
        requeued = self.shared.requeue_own()
        self._count("requeued_own", requeued)
        self.shared.leave()
        logger.info("Worker %s leaves the shared crawl (%s): %d request(s) acknowledged, "
                    "%d unfinished given back to the queue", self.shared.worker, reason,
                    self.tracker.acked, requeued)

    def enqueue_request(self, request: Request) -> bool:
        if request.meta.pop(_READY, False):  # popped by the tick: to the engine right away
            self._ready.append(request)
            return True
        # A retry or redirect is a copy of an in-flight request: it becomes an entry of its
        # own, and the request it copies has left the engine.
        copied = request.meta.pop(QUEUE_ID, None)
        if isinstance(copied, int):
            self.tracker.left(copied)
        entry = _Deferred(request)
        if self._outbox:  # Redis was away a moment ago: keep the order
            self._defer(entry, None)
            return True
        try:
            return self._push(entry)
        except RedisError as exc:
            self._defer(entry, exc)
            return True

    def _push(self, entry: _Deferred) -> bool:
        """Queue one request (False: a duplicate); raises RedisError when Redis is away."""
        request = entry.request
        if not entry.checked and not request.dont_filter:
            if self.df.request_seen(request):
                self.df.log(request, self.spider)
                self._count("duplicates")
                return False
            entry.checked = True
        self.queue.push(request)
        self._count("enqueued")
        if self.fetches is not None:
            self.fetches.handed_off(request)  # whichever worker pops it fetches it
        return True

    def _defer(self, entry: _Deferred, exc: Exception | None) -> None:
        self._outbox.append(entry)
        self._count("deferred")
        if exc is not None and not self._redis_away:
            self._redis_away = True
            logger.warning("Redis is unreachable (%s: %s): new requests wait in this worker "
                           "until it answers", type(exc).__name__, exc)

    def _flush_outbox(self) -> None:
        while self._outbox:
            try:
                self._push(self._outbox[0])
            except RedisError:
                return
            self._outbox.popleft()
        if self._redis_away:
            self._redis_away = False
            logger.info("Redis answers again: the waiting requests are queued")

    def _give_up_outbox(self) -> None:
        if not self._outbox:
            return
        urls = [entry.request.url for entry in self._outbox]
        self._count("unqueued", len(urls))
        logger.error("Redis stayed unreachable: %d discovered request(s) could not be queued "
                     "(the next run finds them again): %s", len(urls), " ".join(urls[:50]))
        self._outbox.clear()

    def next_request(self) -> Request | None:
        if self._ready:
            return self._ready.popleft()
        return self._pop()

    def _pop(self) -> Request | None:
        try:
            request: Request | None = self.queue.pop()
        except RedisError as exc:
            self._count("pop_errors")
            logger.debug("Cannot pop from the shared queue: %s", exc)
            return None
        if request is not None:
            self.tracker.handed_out(request.meta[QUEUE_ID], request)
            if self.fetches is not None:
                self.fetches.begin(request)
            self._count("dequeued")
        return request

    def has_pending_requests(self) -> bool:
        if self._outbox or self._ready:
            return True
        try:
            return len(self.queue) > 0
        except RedisError:
            return True  # unknown while Redis is away: stay open

    # -- the tick ----------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.tick)
            try:
                self._flush_outbox()
                self._poll()
                if time.monotonic() - self._last_beat >= self.shared.heartbeat_ttl / 3:
                    self._beat()
                self._wake_engine()
            except Exception as exc:  # Redis away for a moment: try again next tick
                self._count("tick_errors")
                logger.warning("Shared queue tick failed: %s: %s", type(exc).__name__, exc)

    def _beat(self) -> None:
        self._last_beat = time.monotonic()
        if not self.shared.heartbeat():
            self._count("heartbeat_lost")
            logger.warning("Worker %s: heartbeat had expired; its in-flight requests were "
                           "given to other workers", self.shared.worker)
        self._requeue_dead()

    def _requeue_dead(self) -> None:
        moved, dead = self.shared.requeue_dead()
        if dead:
            self._count("requeued", moved)
            logger.warning("Requeued %d in-flight request(s) of %d dead worker(s)", moved, dead)

    def _poll(self) -> None:
        self.tracker.poll()

    def _wake_engine(self) -> None:
        """The shared queue has work: hand the engine a request now (an idle engine would ask
        only at its next heartbeat, up to 5 s later). One at a time: the next once the engine
        has taken it (``next_request``)."""
        if self.engine_of is None or self._ready:
            return
        engine = self.engine_of.engine
        if len(self.queue) == 0:
            return
        request = self._pop()
        if request is None:
            return
        request.meta[_READY] = True
        engine.crawl(request)  # back here through enqueue_request, into self._ready
