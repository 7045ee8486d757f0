"""Article extraction: plain functions of (HTML, URL), independent of Scrapy."""

from crawler.extraction.article import extract_article

__all__ = ["extract_article"]
