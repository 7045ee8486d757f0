"""The pages a crawl has downloaded and not yet extracted, bounded.

Downloading is much faster than extracting: on a fast network a crawl fetches pages far
quicker than its extraction workers read them, and each fetched page waits in the crawl
process (its body: it is decoded in its worker) until a worker is free. Scrapy bounds that
only by ``SCRAPER_SLOT_MAX_ACTIVE_SIZE``, which this project sets high (96 MiB) so that the
articles held for their site's template (crawler/template_hold.py) do not stop the downloads.
Measured on 181 sites (``benchmarks/throughput.py --mode web``, the template warm-up off so
that nothing is held), the crawl process peaked at 633 MB without this bound and at 318 MB
with it.

:class:`ExtractionBacklog` counts the bytes of HTML handed to extraction and not yet
returned; crawler/middlewares/backpressure.py holds a request back while they are at
``NEWS_EXTRACTION_BACKLOG`` or more. A held request counts against ``CONCURRENT_REQUESTS``, so
the engine stops taking requests from the queue, and the crawl downloads as fast as it
extracts. The waiting pages never wait on a download, so the backlog always drains.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from crawler.crawler_scope import crawler_scoped
from crawler.defaults import news_int


class ExtractionBacklog:
    def __init__(self, max_bytes: int = 0) -> None:
        self.max_bytes = max_bytes  # 0: no bound
        self.bytes = 0  # bytes of HTML handed to extraction, not yet returned
        self.pages = 0
        self._room: asyncio.Event | None = None

    @classmethod
    def for_crawler(cls, crawler: Any) -> ExtractionBacklog:
        """The crawl's one backlog, shared by the spider and the middleware."""
        return crawler_scoped(crawler, cls, lambda: cls(
            news_int(crawler.settings, "NEWS_EXTRACTION_BACKLOG")))

    @property
    def full(self) -> bool:
        return bool(self.max_bytes) and self.pages > 0 and self.bytes >= self.max_bytes

    @contextmanager
    def extracting(self, size: int) -> Iterator[None]:
        """Count a page of ``size`` bytes while it is being extracted."""
        self.bytes += size
        self.pages += 1
        try:
            yield
        finally:
            self.bytes -= size
            self.pages -= 1
            if self._room is not None and not self.full:
                self._room.set()

    async def room(self) -> bool:
        """Wait until the backlog is under its bound; True when it had to wait."""
        if not self.full:
            return False
        if self._room is None:
            self._room = asyncio.Event()
        while self.full:
            self._room.clear()
            await self._room.wait()
        return True
