"""Turn an article item into the stored document shape (see crawler.document).

The item stays an :class:`~crawler.items.ArticleItem` through the pipelines until the storage
pipeline (pipelines/mongo.py) turns it into a document with :func:`document_of`. This
pipeline, the last, does the same for a crawl that does not store (a feed export with
``MongoPipeline`` left out): what reaches the export is the document either way.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from crawler.document import article_document
from crawler.items import ArticleItem


def document_of(item: Any, stats: StatsCollector) -> dict[str, Any]:
    """The document of an article item (counted ``news/normalize/*``); DropItem for anything
    else (a bug: the spider yields nothing else) or an article without a URL."""
    if not isinstance(item, ArticleItem):
        stats.inc_value("news/normalize/not_article_item")
        raise DropItem(f"not an article item: {type(item).__name__}")
    if not item.url:
        raise DropItem("article without a URL")
    doc = article_document(item)
    # HTTP validators for the URL state; internal (``_``): never stored nor exported.
    doc["_fetch"] = dataclasses.asdict(item.fetch) if item.fetch is not None else {}
    stats.inc_value("news/normalize/articles")
    if not doc["text"]:
        stats.inc_value("news/normalize/empty_text")
    return doc


class NormalizePipeline:
    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizePipeline:
        return cls(crawler.stats)

    def process_item(self, item: Any) -> dict[str, Any]:
        if isinstance(item, dict):  # a document already: the storage pipeline's
            return item
        return document_of(item, self.stats)
