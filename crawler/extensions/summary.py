"""At the end of every crawl, log a short per-source table at INFO (docs/cron.md, "The summary
table"): what was fetched and stored, what was refused and why, what was skipped as too old,
fetch errors and the extraction health shares. With ``newscrawl run --log-json`` the same
table is also in the line's ``summary`` field, as data."""

from __future__ import annotations

import logging

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from crawler.interrupt import STAT as INTERRUPTED
from crawler.per_source import SourceCounts
from crawler.report.source_counts import health
from crawler.report.table import summary_rows, table_lines

logger = logging.getLogger(__name__)


class RunSummary:
    def __init__(self, stats: StatsCollector, counts: SourceCounts | None = None) -> None:
        self.stats = stats
        self.counts = counts or SourceCounts()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunSummary:
        summary = cls(crawler.stats, SourceCounts.for_crawler(crawler))
        crawler.signals.connect(summary.spider_closed, signal=signals.spider_closed)
        return summary

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = self.stats.get_stats()
        names = [s.name for s in getattr(spider, "sources", [])]
        counts = self.counts.of(names)
        shares = health(counts)
        outcome = stats.get("news/run/outcome")
        interrupted = stats.get(INTERRUPTED)
        ended = f"interrupted by {interrupted}" if interrupted else reason
        title = f"Run summary ({ended}" + (f", outcome {outcome})" if outcome else ")")
        lines = table_lines(counts, shares)
        logger.info("%s:\n%s", title, "\n".join(lines),
                    extra={"summary": summary_rows(counts, shares)})
