"""Run extraction in a process pool, so the Twisted reactor keeps fetching.

trafilatura is CPU-bound and not safe to call from several threads; a pool of processes sized
to the cores extracts in parallel. Workers are started with ``spawn`` (never forked from the
reactor's process) and recycled after a number of pages, which bounds the memory trafilatura's
caches grow to.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from crawler.extraction.article import extract_article

logger = logging.getLogger(__name__)


class ExtractionPool:
    def __init__(self, workers: int | None = None, max_tasks_per_child: int = 1000,
                 min_words: int = 80) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.max_tasks_per_child = max_tasks_per_child
        self.min_words = min_words
        self.in_flight = 0
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                max_tasks_per_child=self.max_tasks_per_child or None,
            )
            logger.info("Extraction pool: %d worker processes", self.workers)
        return self._executor

    async def extract(self, html: str, url: str, *, hinted: bool = False) -> dict[str, Any]:
        """Extract one page in a worker process without blocking the event loop."""
        future = self._pool().submit(extract_article, html, url, min_words=self.min_words,
                                     hinted=hinted)
        self.in_flight += 1
        try:
            return await asyncio.wrap_future(future)
        finally:
            self.in_flight -= 1

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
