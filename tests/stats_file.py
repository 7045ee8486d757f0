"""The stats of a ``scrapy crawl`` run in a subprocess, read from the crawler, not its log.

``run_crawl`` (tests/conftest.py) sets ``STATS_CLASS`` to :class:`JsonStatsCollector`, which
writes the crawler's stats to ``STATS_FILE`` as JSON when the spider closes (datetimes as
ISO 8601 strings).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.statscollectors import MemoryStatsCollector, StatsT


class JsonStatsCollector(MemoryStatsCollector):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.path = crawler.settings.get("STATS_FILE")

    def _persist_stats(self, stats: StatsT) -> None:
        super()._persist_stats(stats)
        if self.path:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            Path(self.path).write_text(json.dumps(stats, default=str, indent=1),
                                       encoding="utf-8")


def read_stats(path: Path) -> dict[str, Any]:
    """The stats a crawl wrote (empty when it wrote none: it did not get to close)."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    assert isinstance(value, dict)
    return value
