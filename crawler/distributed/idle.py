"""Keep a worker running while the shared crawl has work; close it once the shared queue has
been idle (nothing pending, nothing in flight on any worker, nobody seeding) for
``NEWS_REDIS_IDLE_TIMEOUT`` seconds."""

from __future__ import annotations

import logging
import time

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider

from crawler.defaults import news_float
from crawler.distributed.shared import SharedCrawl

logger = logging.getLogger(__name__)


class IdleExit:
    def __init__(self, shared: SharedCrawl, timeout: float = 60.0) -> None:
        self.shared = shared
        self.timeout = timeout
        self.idle_since: float | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IdleExit:
        extension = cls(SharedCrawl.for_crawler(crawler),
                        timeout=news_float(crawler.settings, "NEWS_REDIS_IDLE_TIMEOUT"))
        crawler.signals.connect(extension.spider_idle, signal=signals.spider_idle)
        return extension

    def spider_idle(self, spider: Spider) -> None:
        """This worker has nothing to do: stay, unless the whole shared crawl is idle and has
        been for the timeout."""
        try:
            status = self.shared.status()
        except Exception as exc:  # Redis unreachable: keep waiting, the tick logs it
            logger.debug("Shared queue status unavailable: %s", exc)
            raise DontCloseSpider from None
        if not status.idle:
            self.idle_since = None
            raise DontCloseSpider
        now = time.monotonic()
        if self.idle_since is None:
            self.idle_since = now
            logger.info("The shared queue is idle; closing in %.0f s unless work arrives",
                        self.timeout)
        if now - self.idle_since < self.timeout:
            raise DontCloseSpider
        logger.info("The shared queue has been idle for %.0f s: closing", now - self.idle_since)
