"""Exponential back-off for retried requests, holding no download slot.

Scrapy's RetryMiddleware hands a failed request's retry back to the engine at once. This
extension takes each retry as it is scheduled (the ``request_scheduled`` signal: a handler
that raises ``IgnoreRequest`` keeps it from the scheduler) and gives it back to the engine
(``engine.crawl``) ``NEWS_RETRY_BACKOFF`` × 2^(retry − 1) seconds later, at most
``NEWS_RETRY_BACKOFF_MAX``. While it waits the retry is in no queue and in no download slot,
so failing sites in back-off leave ``CONCURRENT_REQUESTS`` to the others; the spider is kept
open (``DontCloseSpider``) until every waiting retry has been given back.

robots.txt, which Scrapy's RobotsTxtMiddleware downloads itself (not through the scheduler),
is retried at once, at the site's download delay.
"""

from __future__ import annotations

import logging

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, IgnoreRequest, NotConfigured
from scrapy.utils.asyncio import CallLaterResult, call_later

from crawler import keys
from crawler.defaults import news_float

logger = logging.getLogger(__name__)

DELAYED = keys.RETRY_DELAYED  # request.meta key: the retry (retry_times) already delayed


class RetryBackoff:
    def __init__(self, crawler: Crawler, base: float = 1.0, maximum: float = 30.0) -> None:
        self.crawler = crawler  # its engine takes a retry back after the wait
        self.base = base
        self.maximum = maximum
        self.waiting: dict[int, CallLaterResult] = {}  # id(request) -> its timer

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryBackoff:
        base = news_float(crawler.settings, "NEWS_RETRY_BACKOFF")
        if base <= 0 or not crawler.settings.getbool("RETRY_ENABLED"):
            raise NotConfigured("NEWS_RETRY_BACKOFF is 0: retries are not delayed")
        extension = cls(crawler, base, news_float(crawler.settings, "NEWS_RETRY_BACKOFF_MAX"))
        crawler.signals.connect(extension.request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(extension.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def delay(self, retries: int) -> float:
        return 0.0 if retries <= 0 else min(self.maximum, self.base * 2 ** (retries - 1))

    def request_scheduled(self, request: Request) -> None:
        retries = int(request.meta.get("retry_times", 0))
        if retries <= int(request.meta.get(DELAYED, 0)):
            return  # not a retry, or one that has waited (a redirect of a retry too)
        request.meta[DELAYED] = retries
        delay = self.delay(retries)
        self.crawler.stats.inc_value("news/retry/backoff")
        logger.debug("Retry %s of %s in %.1f s", retries, request.url, delay)
        self.waiting[id(request)] = call_later(delay, self._resume, request)
        raise IgnoreRequest(f"retry of {request.url} delayed {delay:.1f} s")

    def _resume(self, request: Request) -> None:
        self.waiting.pop(id(request), None)
        try:
            self.crawler.engine.crawl(request)
        except RuntimeError as exc:  # the spider closed meanwhile
            logger.info("Retry of %s dropped: %s", request.url, exc)

    def spider_idle(self) -> None:
        if self.waiting:
            raise DontCloseSpider

    def spider_closed(self) -> None:
        if self.waiting:
            logger.info("%d retries still waiting for their back-off when the spider closed",
                        len(self.waiting))
        for timer in self.waiting.values():
            timer.cancel()
        self.waiting.clear()
