"""Progress while crawling, every ``NEWS_PROGRESS_INTERVAL`` seconds, in place of Scrapy's
LogStats line (docs/cron.md, "Progress")::

    Progress: 120 of 185 known pages done (5 in flight, 60 queued); 50 articles found, 45
    stored (40 new, 5 updated); 38 pages/min now, 30 pages/min overall; stragglers: harbour 50 left,
    courrier 10 left

A page is *known* once it is queued; *in flight* from when it reaches the downloader's slot
until its download ended (Scrapy's public ``request_reached_downloader`` and
``request_left_downloader`` signals); *done* once it left the queue and is not in flight. The
stragglers are the sources with the most pages still queued or in flight. A last line, with
``Progress (final)``, is logged when the crawl closes.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

from crawler import keys
from crawler.defaults import news_float
from crawler.signals import request_dequeued

logger = logging.getLogger(__name__)

STRAGGLERS = 3  # sources named in a progress line, at most

class Progress:
    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler  # its stats
        self.interval = interval
        self.scheduled: Counter[str] = Counter()  # per source: requests queued
        self.dropped: Counter[str] = Counter()  # ... refused by the scheduler (duplicates)
        self.started: Counter[str] = Counter()  # ... taken from the queue to be downloaded
        self.downloading: set[Request] = set()  # in the downloader's slots, not yet downloaded
        self.opened_at = time.monotonic()
        self.last_at = self.opened_at
        self.last_done = 0
        self.task: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        interval = news_float(crawler.settings, "NEWS_PROGRESS_INTERVAL")
        if interval <= 0:
            raise NotConfigured
        progress = cls(crawler, interval)
        crawler.signals.connect(progress.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(progress.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(progress.request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(progress.request_dropped, signal=signals.request_dropped)
        crawler.signals.connect(progress.request_left_queue, signal=request_dequeued)
        crawler.signals.connect(progress.request_reached_downloader,
                                signal=signals.request_reached_downloader)
        crawler.signals.connect(progress.request_left_downloader,
                                signal=signals.request_left_downloader)
        return progress

    @staticmethod
    def _source(request: Request) -> str | None:
        source = request.meta.get(keys.SOURCE)
        return str(source) if source else None

    def request_scheduled(self, request: Request, spider: Spider) -> None:
        if (source := self._source(request)) is not None:
            self.scheduled[source] += 1

    def request_dropped(self, request: Request, spider: Spider) -> None:
        if (source := self._source(request)) is not None:
            self.dropped[source] += 1

    def request_left_queue(self, request: Request) -> None:
        if (source := self._source(request)) is not None:
            self.started[source] += 1

    def request_reached_downloader(self, request: Request) -> None:
        self.downloading.add(request)

    def request_left_downloader(self, request: Request) -> None:
        self.downloading.discard(request)

    def spider_opened(self, spider: Spider) -> None:
        self.opened_at = self.last_at = time.monotonic()
        self.task = create_looping_call(self.log)
        self.task.start(self.interval, now=False)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        self.log(final=True)

    def _in_flight(self) -> Counter[str]:
        flying: Counter[str] = Counter()
        for request in self.downloading:
            if (source := self._source(request)) is not None:
                flying[source] += 1
        return flying

    def snapshot(self) -> dict[str, Any]:
        """The numbers of a progress line."""
        flying = self._in_flight()
        sources = set(self.scheduled) | set(self.started)
        queued = {s: max(self.scheduled[s] - self.dropped[s] - self.started[s], 0)
                  for s in sources}
        left = {s: queued[s] + flying[s] for s in sources}
        in_flight = sum(flying.values())
        done = max(sum(self.started.values()) - in_flight, 0)
        stats = self.crawler.stats.get_stats()
        new, updated = stats.get("news/mongo/stored_new", 0), stats.get("news/mongo/updated", 0)
        stragglers = sorted(((n, s) for s, n in left.items() if n), key=lambda x: (-x[0], x[1]))
        return {"done": done, "in_flight": in_flight, "queued": sum(queued.values()),
                "known": done + in_flight + sum(queued.values()),
                "found": stats.get("news/page/article", 0), "stored": new + updated,
                "stored_new": new, "updated": updated,
                "stragglers": [(s, n) for n, s in stragglers[:STRAGGLERS]]}

    def log(self, final: bool = False) -> None:
        now = time.monotonic()
        numbers = self.snapshot()
        recent = (numbers["done"] - self.last_done) / max(now - self.last_at, 1e-9) * 60
        overall = numbers["done"] / max(now - self.opened_at, 1e-9) * 60
        self.last_at, self.last_done = now, numbers["done"]
        stragglers = ", ".join(f"{s} {n} left" for s, n in numbers["stragglers"]) or "none"
        logger.info(
            "Progress%s: %d of %d known pages done (%d in flight, %d queued); %d articles "
            "found, %d stored (%d new, %d updated); %.0f pages/min now, %.0f pages/min overall; "
            "stragglers: %s", " (final)" if final else "", numbers["done"], numbers["known"],
            numbers["in_flight"], numbers["queued"], numbers["found"], numbers["stored"],
            numbers["stored_new"], numbers["updated"], recent, overall, stragglers,
            extra={"progress": {**numbers, "pages_per_min": round(recent, 1),
                                "pages_per_min_overall": round(overall, 1),
                                "final": final}})
