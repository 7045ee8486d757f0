"""Turn an extracted article into the stored document shape (see crawler.document)."""

from __future__ import annotations

from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from crawler.document import article_document


class NormalizePipeline:
    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizePipeline:
        return cls(crawler.stats)

    def process_item(self, item: Any) -> dict[str, Any]:
        fields = ItemAdapter(item).asdict()
        if not fields.get("url"):
            raise DropItem("article without a URL")
        doc = article_document(fields)
        doc["_fetch"] = fields.get("_fetch") or {}  # HTTP validators for the URL state
        self.stats.inc_value("news/normalize/articles")
        if not doc["text"]:
            self.stats.inc_value("news/normalize/empty_text")
        return doc
