"""Turn an article item into the stored document shape (see crawler.document)."""

from __future__ import annotations

import dataclasses
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from crawler.document import article_document
from crawler.items import ArticleItem


class NormalizePipeline:
    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizePipeline:
        return cls(crawler.stats)

    def process_item(self, item: Any) -> dict[str, Any]:
        if not isinstance(item, ArticleItem):  # a bug: the spider yields nothing else
            self.stats.inc_value("news/normalize/not_article_item")
            raise DropItem(f"not an article item: {type(item).__name__}")
        if not item.url:
            raise DropItem("article without a URL")
        doc = article_document(item)
        # HTTP validators for the URL state; internal (``_``): never stored nor exported.
        doc["_fetch"] = dataclasses.asdict(item.fetch) if item.fetch is not None else {}
        self.stats.inc_value("news/normalize/articles")
        if not doc["text"]:
            self.stats.inc_value("news/normalize/empty_text")
        return doc
