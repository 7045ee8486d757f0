"""Spider middleware of a distributed crawl.

- Seeding: a process that seeds (``NEWS_REDIS_SEED``, true but for ``newscrawl worker``) begins
  a new run or joins the current one before its start requests go to the shared queue, and is
  counted as seeding until they all are there (so no worker takes the crawl for finished in
  between). A worker sends no start request at all.
- Articles carry the id of the queue entry they came from (``fetch.queue_id``), so that the
  entry is acknowledged once they are stored.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

from crawler.defaults import news_bool
from crawler.distributed import QUEUE_ID
from crawler.distributed.shared import SharedCrawl
from crawler.items import ArticleItem

logger = logging.getLogger(__name__)


class SharedQueueMiddleware(BaseSpiderMiddleware):
    def __init__(self, crawler: Crawler, seed: bool = True) -> None:
        super().__init__(crawler)
        self.seed = seed

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedQueueMiddleware:
        return cls(crawler, seed=news_bool(crawler.settings, "NEWS_REDIS_SEED"))

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        if not self.seed:
            logger.info("Worker: taking requests from the shared queue only")
            return
        shared = SharedCrawl.for_crawler(self.crawler)
        sources = [s.name for s in getattr(self.crawler.spider, "sources", [])]
        began, run = shared.begin_or_join(sources)
        logger.info("%s run %s; seeding %d source(s)", "Began" if began else "Joined", run["id"],
                    len(sources))
        try:
            async for request in start:
                yield request
        finally:
            shared.end_seeding()

    def get_processed_item(self, item: Any, response: Response | None) -> Any:
        qid = response.meta.get(QUEUE_ID) if response is not None else None
        if isinstance(qid, int) and isinstance(item, ArticleItem) and item.fetch is not None:
            item.fetch.queue_id = qid
        return item
