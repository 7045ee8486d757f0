"""The shared request queue: scrapy-redis's priority queue, made reliable.

scrapy-redis pops a request from Redis and it is gone: a worker that dies with it loses it.
Here a pop moves the request, atomically, into the worker's in-flight hash
(:meth:`SharedCrawl.pop`); it leaves that hash when the request is acknowledged
(:mod:`crawler.distributed.tracker`), or goes back to the queue when the worker's heartbeat
expires (:meth:`SharedCrawl.requeue_dead`) or the worker closes before finishing it.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request, Spider
from scrapy_redis.queue import PriorityQueue

from crawler.distributed import QUEUE_ID
from crawler.distributed.shared import SharedCrawl

logger = logging.getLogger(__name__)


class ReliableQueue(PriorityQueue):
    def __init__(self, shared: SharedCrawl, spider: Spider, serializer: Any = None) -> None:
        super().__init__(server=shared.server, spider=spider, key=shared.keys.pending,
                         serializer=serializer)
        self.shared = shared

    def pop(self, timeout: int = 0) -> Request | None:
        entry = self.shared.pop()
        if entry is None:
            return None
        qid, data = entry
        try:
            request: Request = self._decode_request(data)
        except Exception as exc:  # e.g. a callback this version of the spider lacks
            logger.error("Dropped an unreadable queued request (%s: %s)", type(exc).__name__, exc)
            self.shared.ack([qid])
            return None
        request.meta[QUEUE_ID] = qid
        return request
