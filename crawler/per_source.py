"""A run's events per source, in a structure of their own.

The spider, the incremental middleware and the storage pipeline add their events of a source
(``fetched``, ``stored_new``, ``refused_not_prose``, ...) here; the run record, the run table
and the distributed run's parts read them from here, never parsing stats keys. Each event is
also counted in Scrapy's stats as ``news/source/<name>/<event>``, for whoever reads the stats.
One :class:`SourceCounts` a crawl (``SourceCounts.for_crawler``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from crawler.crawler_scope import crawler_scoped
from crawler.report.source_counts import EVENTS

ADHOC = "adhoc"  # the source of a crawl of a URL given on the command line (-a url=...)


class SourceCounts:
    def __init__(self, crawler: Any = None) -> None:
        self.crawler = crawler  # its stats, where each event is counted too (None: a test)
        self.events: dict[str, Counter[str]] = {}

    @classmethod
    def for_crawler(cls, crawler: Any) -> SourceCounts:
        return crawler_scoped(crawler, cls, lambda: cls(crawler))

    def add(self, source: str | None, event: str, value: int = 1) -> None:
        if not value:
            return
        name = source or ADHOC
        self.events.setdefault(name, Counter())[event] += value
        if self.crawler is not None:
            self.crawler.stats.inc_value(f"news/source/{name}/{event}", value)

    def of(self, names: list[str]) -> dict[str, dict[str, int]]:
        """The counts of ``names`` (every event, 0 when none), and of any other source that
        had an event (an ad-hoc URL), in that order."""
        counts = {name: dict.fromkeys(EVENTS, 0) for name in names}
        for name, events in self.events.items():
            counts.setdefault(name, dict.fromkeys(EVENTS, 0)).update(events)
        return counts
