"""Python's garbage collector tuned for a long crawl (``NEWS_GC_THRESHOLD``).

The crawl process holds many long-lived objects (Scrapy and its components, the libraries
imported, then each site's template counts, layouts and URL states) and allocates many
short-lived ones a page. With Python's defaults the collector's passes took 10 % of the crawl
process's CPU on the web-mode benchmark (2.75 s of 26 s for 1,810 pages; nine full passes of
about 170 ms each). Two public knobs of the ``gc`` module take most of that away:

- once the engine has started (every component built, every module imported), a collection,
  then ``gc.freeze()``: what is alive then is left out of all later passes;
- ``gc.set_threshold(NEWS_GC_THRESHOLD)``: the youngest generation is collected after that many
  allocations instead of 700, so most short-lived objects are freed by reference counting
  before any pass looks at them.

Measured in docs/performance.md ("Fixed costs: the workers' warm-up, the archive's gzip, the
crawl process's collector").
Reference cycles are still collected; the process's state is restored when the engine stops,
so a test process that runs several crawls is left as it was. ``NEWS_GC_THRESHOLD = 0`` leaves
the collector alone.
"""

from __future__ import annotations

import gc
import logging

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.defaults import news_int

logger = logging.getLogger(__name__)


# Crawls of this process that have tuned the collector, and the thresholds found before the
# first: the last one to stop restores them (several crawlers may run in one process).
_tuned: list[CollectorTuning] = []
_saved: list[tuple[int, int, int]] = []


class CollectorTuning:
    def __init__(self, threshold: int) -> None:
        self.threshold = threshold

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CollectorTuning:
        threshold = news_int(crawler.settings, "NEWS_GC_THRESHOLD")
        if threshold <= 0:
            raise NotConfigured
        tuning = cls(threshold)
        crawler.signals.connect(tuning.engine_started, signal=signals.engine_started)
        crawler.signals.connect(tuning.engine_stopped, signal=signals.engine_stopped)
        return tuning

    def engine_started(self) -> None:
        if self in _tuned:
            return
        if not _tuned:
            _saved.append(gc.get_threshold())
        _tuned.append(self)
        gc.collect()
        gc.freeze()
        gc.set_threshold(self.threshold, *_saved[0][1:])
        logger.debug("Garbage collector: %d objects frozen, threshold %d",
                     gc.get_freeze_count(), self.threshold)

    def engine_stopped(self) -> None:
        if self not in _tuned:
            return
        _tuned.remove(self)
        if not _tuned:
            gc.set_threshold(*_saved.pop())
            gc.unfreeze()
