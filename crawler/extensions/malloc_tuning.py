"""The crawl process's allocator set for a crawl (``NEWS_MALLOC_TUNING``; crawler/malloc.py
says what and why).

Set when the crawler is built, before its threads start. A ``GLIBC_TUNABLES`` set by the user
is left to rule. The extraction workers keep glibc's defaults; the embedded database is started
with its own setting whatever this one says (crawler/database.py).
"""

from __future__ import annotations

import logging
import os

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.malloc import ENVIRONMENT_KEY, tune_process

logger = logging.getLogger(__name__)


class MallocTuning:
    def __init__(self) -> None:
        self.tuned = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MallocTuning:
        if not crawler.settings.getbool("NEWS_MALLOC_TUNING"):
            raise NotConfigured
        tuning = cls()
        tuning.apply()
        return tuning

    def apply(self) -> None:
        if ENVIRONMENT_KEY in os.environ:  # the user's own settings, read by glibc at the start
            return
        self.tuned = tune_process()
        if self.tuned:
            logger.debug("malloc tuned: 2 arenas")
