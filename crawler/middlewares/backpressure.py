"""Hold requests back while too many downloaded pages wait for extraction
(crawler/extraction_backlog.py, ``NEWS_EXTRACTION_BACKLOG``).

A held request stays in the downloader's active requests, so the engine stops taking more from
the queue (``CONCURRENT_REQUESTS``) until extraction catches up. Counted:
``news/backlog/waited``, requests that waited (and by the spider ``news/backlog/peak_pages``,
the most pages in extraction at once).
"""

from __future__ import annotations

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from crawler.extraction_backlog import ExtractionBacklog


class ExtractionBacklogMiddleware:
    def __init__(self, backlog: ExtractionBacklog, stats: StatsCollector | None = None) -> None:
        self.backlog = backlog
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractionBacklogMiddleware:
        return cls(ExtractionBacklog.for_crawler(crawler), crawler.stats)

    async def process_request(self, request: Request) -> None:
        if await self.backlog.room() and self.stats is not None:
            self.stats.inc_value("news/backlog/waited")
