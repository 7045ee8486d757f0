"""Acknowledge a popped request once its work is done, and not before.

A request's work is done when it has left the engine (downloaded, its callback or errback run,
the requests it yielded pushed to the shared queue, its articles through the item pipelines;
a retry or redirect is pushed as a new request before the original leaves) and the articles it
yielded are written to MongoDB (or to the local spool, when the database is down). Until then it
stays in the worker's in-flight hash, from which it is requeued if the worker dies.

The engine does not announce that a request left it: the ledger of
:class:`crawler.template_hold.TemplateHold` tells (:meth:`AckTracker.finished`: parsed or
failed, its articles out of the pipelines), and the scheduler tells when a retry or redirect
copy of it is queued (:meth:`AckTracker.left`). The tracker settles or acknowledges them at
its next tick.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request
from scrapy.http import Response

from crawler.distributed import QUEUE_ID
from crawler.distributed.shared import SharedCrawl

logger = logging.getLogger(__name__)


class AckTracker:
    def __init__(self, shared: SharedCrawl) -> None:
        self.shared = shared
        self.handed: dict[int, Request] = {}  # popped, still in the engine
        self.buffered: dict[int, int] = {}  # articles scraped and not yet stored, per entry
        self.waiting: set[int] = set()  # left the engine, waiting for their articles' write
        self.left_engine: set[int] = set()  # left the engine since the last poll
        self.acked = 0

    def handed_out(self, qid: int, request: Request) -> None:
        self.handed[qid] = request

    def item_scraped(self, item: Any, response: Response) -> None:
        """An article passed the pipelines: it sits in the storage buffer until written."""
        qid = response.meta.get(QUEUE_ID) if response is not None else None
        if isinstance(qid, int):
            self.buffered[qid] = self.buffered.get(qid, 0) + 1

    def articles_stored(self, docs: list[dict[str, Any]]) -> None:
        """A batch was written (or spooled): acknowledge the requests that were waiting for it."""
        ready = []
        for doc in docs:
            qid = (doc.get("_fetch") or {}).get("queue_id")
            if not isinstance(qid, int):
                continue
            self.buffered[qid] = self.buffered.get(qid, 0) - 1
            if qid in self.waiting and self.buffered[qid] <= 0:
                ready.append(qid)
        self._ack(ready)
        for qid in ready:
            self.waiting.discard(qid)
            self.buffered.pop(qid, None)

    def finished(self, meta: dict[str, Any]) -> None:
        """A request has left the engine (the fetch tracker): its articles are through the
        pipelines, so item_scraped has counted them."""
        qid = meta.get(QUEUE_ID)
        if isinstance(qid, int):
            self.left(qid)

    def left(self, qid: int) -> None:
        if qid in self.handed:
            self.left_engine.add(qid)

    def poll(self) -> None:
        """Acknowledge (or settle) the requests that have left the engine."""
        stored = [qid for qid in self.waiting if self.buffered.get(qid, 0) <= 0]
        if stored:  # an acknowledgement that failed in articles_stored
            self._ack(stored)
            self.waiting.difference_update(stored)
        done = [qid for qid in self.left_engine if qid in self.handed]
        if not done:
            return
        settled = [qid for qid in done if self.buffered.get(qid, 0) > 0]
        ready = [qid for qid in done if self.buffered.get(qid, 0) <= 0]
        self.shared.settle(settled)  # Redis unreachable: raises, and the next tick tries again
        self._ack(ready)
        for qid in done:
            del self.handed[qid]
            self.left_engine.discard(qid)
        self.waiting.update(settled)
        for qid in ready:
            self.buffered.pop(qid, None)

    def unfinished(self) -> int:
        return len(self.handed) + len(self.waiting)

    def _ack(self, ids: list[int]) -> None:
        if ids:
            self.shared.ack(ids)
            self.acked += len(ids)
