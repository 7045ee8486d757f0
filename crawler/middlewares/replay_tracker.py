"""``newscrawl reextract`` (crawler/reextract.py): an article re-extracted from a record points to
that record; a record that gives no article is checkpointed at once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Any

from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler import keys
from crawler.items import ArticleItem
from crawler.reextract import DATE_KEY, OUTCOME_KEY, REPLAY_KEY, ReextractSpider
from crawler.warc import Location


class ReplayTracker:
    """Spider middleware: an article re-extracted from a record points to that record and keeps
    the time its page was fetched; a record that gives no article is done at once."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler  # its spider keeps the checkpoints

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReplayTracker:
        return cls(crawler)

    def _spider(self) -> ReextractSpider | None:
        spider = self.crawler.spider
        return spider if isinstance(spider, ReextractSpider) else None

    def _mark(self, response: Response, output: Any) -> bool:
        location = response.meta.get(REPLAY_KEY)
        if isinstance(output, ArticleItem) and isinstance(location, Location):
            output.archive = location.as_dict()
            if isinstance(response.meta.get(DATE_KEY), datetime):
                output.fetched_at = response.meta[DATE_KEY]
            return True
        return False

    def _no_article(self, response: Response) -> None:
        if response.meta.get(keys.RENDER_REQUESTED):
            return  # the page's rendering stands for it
        location = response.meta.get(REPLAY_KEY)
        spider = self._spider()
        if spider is not None and isinstance(location, Location):
            spider.pages_done(location, response.meta.get(OUTCOME_KEY) or "failed")

    async def process_spider_output_async(self, response: Response,
                                          result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        items = 0
        async for output in result:
            items += self._mark(response, output)
            yield output
        if not items:
            self._no_article(response)

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterable[Any]:
        items = 0
        for output in result:
            items += self._mark(response, output)
            yield output
        if not items:
            self._no_article(response)
