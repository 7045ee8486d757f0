"""The scheduler's memory queue, each waiting request kept pickled (``SCHEDULER_MEMORY_QUEUE``).

A sitemap or feed is read at once, and every entry it lists waits in the scheduler's queue
until it is downloaded. Scrapy's memory queue keeps each as a ``Request`` object with its
``meta`` dict, headers and callbacks: about 2 kB a request, 42 MB of the crawl process at
20,000 pages (docs/performance.md), 200 MB for a site's archive sitemap of 100,000 entries.
This queue keeps each request as the bytes Scrapy's own disk queues write for it
(``Request.to_dict``, pickled), about 500 bytes, and makes the request again when it is taken
out, as a disk queue does. Scrapy's disk queues themselves (``JOBDIR``) were measured and cost
more: their files are made and removed as each site's queue fills and empties.

A request that cannot be pickled (a callback that is not a spider method, a ``meta`` value
pickle refuses) waits as it is: nothing is ever dropped for it
(``news/queue/unpickled``). So does a request without a callback: Scrapy's shell (``scrapy
shell``, ``inspect_response``) hands a request to the engine and then attaches its callbacks
to that same object, so it must be the object that is downloaded (``scrapy shell`` keeps
Scrapy's own queue altogether: crawler/commands/shell.py). The crawl's own requests all name
their callback. Last in, first out, as Scrapy's default memory queue.
"""

from __future__ import annotations

import logging
import pickle
from typing import Any

from queuelib.queue import LifoMemoryQueue
from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.utils.request import request_from_dict

logger = logging.getLogger(__name__)


class PickledLifoMemoryQueue(LifoMemoryQueue):
    def __init__(self, crawler: Crawler | None = None, spider: Spider | None = None) -> None:
        super().__init__()
        self.crawler = crawler
        self.spider = spider

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> PickledLifoMemoryQueue:
        return cls(crawler, crawler.spider)

    def push(self, obj: Any) -> None:
        super().push(self._packed(obj))

    def pop(self) -> Any | None:
        return self._unpacked(super().pop())

    def peek(self) -> Any | None:
        return self._unpacked(super().peek())

    def _packed(self, request: Request) -> bytes | Request:
        if request.callback is None:
            return request  # a callback may still be attached to it (the shell's fetch)
        try:
            packed = pickle.dumps(request.to_dict(spider=self.spider), protocol=5)
        except Exception as exc:  # whatever pickle or to_dict refuses: never lose the request
            self._count("news/queue/unpickled")
            logger.debug("Request %s waits unpickled: %s", request, exc)
            return request
        self._count("news/queue/pickled")
        return packed

    def _count(self, key: str) -> None:
        if self.crawler is not None and self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)

    def _unpacked(self, data: bytes | Request | None) -> Request | None:
        if data is None or isinstance(data, Request):
            return data
        return request_from_dict(pickle.loads(data), spider=self.spider)
