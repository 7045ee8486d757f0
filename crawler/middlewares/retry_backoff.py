"""Exponential backoff for retried requests.

Scrapy's RetryMiddleware re-schedules a failed request at once. This middleware delays every
retry by ``NEWS_RETRY_BACKOFF`` × 2^(retry − 1) seconds (at most ``NEWS_RETRY_BACKOFF_MAX``),
without holding a download slot, so a hanging or failing site is not hammered and the other
sites are not held up.
"""

from __future__ import annotations

import asyncio
import logging

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

logger = logging.getLogger(__name__)


class RetryBackoffMiddleware:
    def __init__(self, base: float = 1.0, maximum: float = 30.0) -> None:
        self.base = base
        self.maximum = maximum
        self.crawler: Crawler | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryBackoffMiddleware:
        base = crawler.settings.getfloat("NEWS_RETRY_BACKOFF", 1.0)
        if base <= 0:
            raise NotConfigured("NEWS_RETRY_BACKOFF is 0: retries are not delayed")
        middleware = cls(base, crawler.settings.getfloat("NEWS_RETRY_BACKOFF_MAX", 30.0))
        middleware.crawler = crawler
        return middleware

    def delay(self, retries: int) -> float:
        return 0.0 if retries <= 0 else min(self.maximum, self.base * 2 ** (retries - 1))

    async def process_request(self, request: Request) -> None:
        delay = self.delay(int(request.meta.get("retry_times", 0)))
        if delay:
            if self.crawler is not None and self.crawler.stats is not None:
                self.crawler.stats.inc_value("news/retry/backoff")
            logger.debug("Retry %s of %s in %.1f s", request.meta["retry_times"], request.url,
                         delay)
            await asyncio.sleep(delay)
