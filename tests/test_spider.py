"""The ``news`` spider's callbacks, called directly on responses built from the fixtures: what
each kind of response gives (requests, items, marks) and what it counts in the crawler's stats.
The spider is built as Scrapy builds it (``get_crawler`` + ``from_crawler``); it needs no
database (the URL state is crawler/middlewares/incremental.py's)."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import HtmlResponse, Request, Response, TextResponse, XmlResponse
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem
from crawler.spiders.news import NewsSpider
from crawler.url_state import KIND_PAGE, KIND_UNCHANGED

FIXTURES = Path(__file__).parent / "fixtures"
FEED_URL = "https://news.example.org/feed.xml"
SECTION_URL = "http://127.0.0.3:8601/section/news/"
ARTICLE_URL = "http://127.0.0.3:8601/2024/01/18/waterfront-businesses-storm-cleanup/"


@pytest.fixture(scope="module")
def built() -> Iterator[NewsSpider]:
    crawler = get_crawler(NewsSpider, {"NEWS_EXTRACT_WORKERS": 1, "DEPTH_LIMIT": 2})
    news = NewsSpider.from_crawler(crawler, url=FEED_URL, source="example")
    yield news
    news.extractor.close()


@pytest.fixture
def spider(built: NewsSpider) -> NewsSpider:
    """One spider (and extraction worker) for the module, its stats fresh for each test."""
    assert built.crawler.stats is not None
    built.crawler.stats.clear_stats()
    return built


def _stat(spider: NewsSpider, key: str) -> Any:
    assert spider.crawler.stats is not None
    return spider.crawler.stats.get_value(key)


async def _all(outputs: AsyncIterator[Any]) -> list[Any]:
    return [output async for output in outputs]


def _run(spider: NewsSpider, callback: Any, response: Response) -> list[Any]:
    import asyncio

    return asyncio.run(_all(callback(response)))


def _xml(url: str, name: str, meta: dict[str, Any] | None = None) -> XmlResponse:
    body = (FIXTURES / "discovery" / name).read_bytes()
    return XmlResponse(url, body=body, request=Request(url, meta={"news_source": "example",
                                                                  **(meta or {})}))


def _page(url: str, name: str, meta: dict[str, Any] | None = None, status: int = 200,
          ) -> HtmlResponse:
    body = (FIXTURES / "pages" / f"{name}.html").read_bytes()
    return HtmlResponse(url, body=body, status=status, encoding="utf-8",
                        request=Request(url, meta={"news_source": "harbour", **(meta or {})}))


def test_a_feed_gives_one_conditional_page_request_per_entry(spider: NewsSpider) -> None:
    outputs = _run(spider, spider.parse_start, _xml(FEED_URL, "rss.xml"))
    (request,) = outputs  # the entry without a link is no request
    assert isinstance(request, Request)
    # fetched as listed (the tracking parameter kept), identified by its canonical form
    assert request.url == "https://news.example.org/local/harbour-bridge?utm_source=rss"
    assert request.callback == spider.parse_page
    assert request.meta["news_via"] == "feed"
    assert request.meta["news_hint"]["title"] == "Council approves new harbour bridge"
    assert request.meta["news_hint"]["published"].isoformat() == "2024-01-15T09:30:00+01:00"
    assert 304 in request.meta["handle_httpstatus_list"]  # the state middleware asks for 304s
    assert _stat(spider, "news/discovery/feed") == 1
    assert _stat(spider, "news/source/example/discovered") == 1


def test_a_sitemap_index_gives_its_sitemaps_back_to_parse_start(spider: NewsSpider) -> None:
    url = "https://news.example.org/sitemap.xml"
    outputs = _run(spider, spider.parse_start, _xml(url, "sitemap-index.xml"))
    assert [r.url for r in outputs] == ["https://news.example.org/sitemap-news.xml.gz",
                                        "https://news.example.org/sitemap-pages.xml"]
    assert all(r.callback == spider.parse_start for r in outputs)
    assert all(r.meta["news_via"] == "sitemap" for r in outputs)  # no link hop: no depth
    assert _stat(spider, "news/discovery/sitemap") == 1


def test_a_gzipped_news_sitemap_lists_its_articles(spider: NewsSpider) -> None:
    url = "https://news.example.org/sitemap-news.xml.gz"
    body = gzip.compress((FIXTURES / "discovery" / "news-sitemap.xml").read_bytes())
    response = Response(url, body=body, request=Request(url, meta={"news_source": "example"}))
    outputs = _run(spider, spider.parse_start, response)
    assert outputs and all(r.callback == spider.parse_page for r in outputs)
    assert all(r.meta["news_via"] == "sitemap" for r in outputs)
    assert _stat(spider, "news/discovery/sitemap") == 1


def test_a_broken_gzip_body_is_counted_and_gives_nothing(spider: NewsSpider) -> None:
    url = "https://news.example.org/sitemap.xml.gz"
    response = Response(url, body=b"\x1f\x8b" + b"not gzip at all",
                        request=Request(url, meta={"news_source": "example"}))
    assert _run(spider, spider.parse_start, response) == []
    assert _stat(spider, "news/discovery/bad_gzip") == 1


def test_an_article_page_gives_its_item_and_follows_no_link_when_listed(
        spider: NewsSpider) -> None:
    response = _page(ARTICLE_URL, "harbour-article", meta={"news_via": "feed", "news_hint": {}})
    outputs = _run(spider, spider.parse_page, response)
    (item,) = outputs  # a page listed by a feed is an article: its links are not followed
    assert isinstance(item, ArticleItem)
    assert item.url == ARTICLE_URL and item.source == "harbour" and item.text
    assert item.fetch is not None and item.fetch.status == 200
    assert "news_fetched" not in response.meta  # its URL state is written once it is stored
    assert _stat(spider, "news/page/extracted") == 1
    assert _stat(spider, "news/source/harbour/articles") == 1


def test_a_section_page_gives_its_links_and_is_marked_a_page(spider: NewsSpider) -> None:
    response = _page(SECTION_URL, "harbour-section", meta={"depth": 0})
    outputs = _run(spider, spider.parse_page, response)
    assert outputs and all(isinstance(o, Request) for o in outputs)  # no item
    assert all(r.meta["news_link"] and r.callback == spider.parse_page for r in outputs)
    assert all(r.url.startswith("http://127.0.0.3:8601/") for r in outputs)  # same site only
    assert ARTICLE_URL in {r.url for r in outputs}
    assert response.meta["news_fetched"] == KIND_PAGE
    assert _stat(spider, "news/page/not_article") == 1
    assert _stat(spider, "news/source/harbour/rejected") == 1


def test_a_page_at_the_depth_limit_follows_no_link(spider: NewsSpider) -> None:
    response = _page(SECTION_URL, "harbour-section", meta={"depth": 2})
    assert _run(spider, spider.parse_page, response) == []


def test_not_modified_is_counted_and_keeps_its_kind(spider: NewsSpider) -> None:
    response = HtmlResponse(ARTICLE_URL, status=304, body=b"",
                            request=Request(ARTICLE_URL, meta={"news_source": "harbour"}))
    assert _run(spider, spider.parse_page, response) == []
    assert response.meta["news_fetched"] == KIND_UNCHANGED  # a 304 says nothing of the kind
    assert _stat(spider, "news/source/harbour/not_modified") == 1
    assert _stat(spider, "news/page/extracted") is None  # nothing extracted


def test_a_response_that_is_not_text_is_counted_and_skipped(spider: NewsSpider) -> None:
    response = Response(ARTICLE_URL, body=b"\x89PNG\r\n\x1a\n",
                        request=Request(ARTICLE_URL, meta={"news_source": "harbour"}))
    assert not isinstance(response, TextResponse)
    assert _run(spider, spider.parse_page, response) == []
    assert _stat(spider, "news/page/not_text") == 1
