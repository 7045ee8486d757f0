"""An article item gets ``archive``, the place of its page's WARC record
(crawler/extensions/archive.py writes the records; docs/schema.md)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from concurrent.futures import Future
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector

from crawler.defaults import news_bool
from crawler.extensions.archive import META_KEY
from crawler.items import ArticleItem
from crawler.warc import Location

logger = logging.getLogger(__name__)


class ArchiveLocations:
    """Spider middleware: an article item gets ``archive``, the place of its page's record."""

    def __init__(self, stats: StatsCollector, required: bool = False) -> None:
        self.stats = stats
        self.required = required

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveLocations:
        if not news_bool(crawler.settings, "NEWS_ARCHIVE"):
            raise NotConfigured("NEWS_ARCHIVE is off")
        return cls(crawler.stats, required=news_bool(crawler.settings, "NEWS_ARCHIVE_REQUIRED"))

    def _located(self, item: ArticleItem, location: Location | None) -> bool:
        """Put the location in an article item; False when the item must not be stored."""
        if location is not None:
            item.archive = location.as_dict()
            return True
        if self.required:
            self.stats.inc_value("news/archive/articles_dropped")
            logger.warning("Not stored, its page could not be archived: %s", item.url)
            return False
        return True

    async def process_spider_output_async(self, response: Response,
                                          result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        future = response.meta.get(META_KEY)
        async for output in result:
            if isinstance(output, ArticleItem) and isinstance(future, Future):
                location = await asyncio.wrap_future(future)
                if not self._located(output, location):
                    continue
            yield output

    def process_spider_output(self, response: Response,
                              result: Iterable[Any]) -> Iterator[Any]:
        future = response.meta.get(META_KEY)
        for output in result:
            if (isinstance(output, ArticleItem) and isinstance(future, Future)
                    and not self._located(output, future.result())):
                continue
            yield output
