"""Tell the progress lines (crawler/extensions/progress.py) that a request left the queue."""

from __future__ import annotations

from scrapy import Request
from scrapy.crawler import Crawler

from crawler.signals import request_dequeued


class ProgressMiddleware:
    """First of the downloader middlewares: tells :class:`Progress` that a request left the
    scheduler. (Scrapy's request_reached_downloader comes after the middlewares, so a request
    that robots.txt forbids would stay queued for ever.)"""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        self.crawler.signals.send_catch_log(request_dequeued, request=request)
