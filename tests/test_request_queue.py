"""The scheduler's memory queue keeps requests pickled (crawler/request_queue.py): a request
comes out as it went in, last in first out; one that cannot be pickled waits as it is. That a
crawl goes through it (every request enqueued in memory, every article stored) is asserted on
the demo crawl, tests/test_crawl.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scrapy import Request, Spider
from scrapy.utils.test import get_crawler

from crawler.request_queue import PickledLifoMemoryQueue
from crawler.spiders.news import NewsSpider


class _Spider(Spider):
    name = "queue-test"

    def parse_page(self, response: Any) -> None: ...

    def on_error(self, failure: Any) -> None: ...


def _queue() -> tuple[PickledLifoMemoryQueue, Any]:
    crawler = get_crawler(_Spider)
    crawler.spider = _Spider()
    return PickledLifoMemoryQueue.from_crawler(crawler, "key/0"), crawler


def test_a_request_comes_out_as_it_went_in_last_in_first_out() -> None:
    queue, crawler = _queue()
    spider = crawler.spider
    published = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    first = Request("http://127.0.0.2:8080/articles/1.html", callback=spider.parse_page,
                    errback=spider.on_error, priority=-1,
                    headers={"Referer": "http://127.0.0.2:8080/sitemap.xml"},
                    meta={"source": "site", "handle_httpstatus_list": [304],
                          "news_hint": {"title": "A title", "published": published}})
    second = Request("http://127.0.0.2:8080/articles/2.html", callback=spider.parse_page)
    queue.push(first)
    queue.push(second)
    assert len(queue) == 2 and isinstance(queue.q[0], bytes)
    assert queue.peek().url == second.url
    assert queue.pop().url == second.url
    out = queue.pop()
    assert out is not first and queue.pop() is None and len(queue) == 0
    assert (out.url, out.priority, out.callback, out.errback) == (
        first.url, -1, spider.parse_page, spider.on_error)
    assert out.meta == first.meta and out.meta["news_hint"]["published"] == published
    assert out.headers.get("Referer") == b"http://127.0.0.2:8080/sitemap.xml"
    assert crawler.stats.get_value("news/queue/unpickled") is None


def test_a_request_that_cannot_be_pickled_waits_as_it_is() -> None:
    queue, crawler = _queue()
    odd = Request("http://127.0.0.2:8080/a.html", callback=lambda response: None)
    unpicklable = Request("http://127.0.0.2:8080/b.html", callback=crawler.spider.parse_page,
                          meta={"lock": _Lockish()})
    queue.push(odd)
    queue.push(unpicklable)
    assert queue.pop() is unpicklable and queue.pop() is odd
    assert crawler.stats.get_value("news/queue/unpickled") == 2


def test_a_request_without_a_callback_waits_as_it_is() -> None:
    """Scrapy's shell attaches its callbacks to the request after handing it to the engine:
    the object queued must be the one downloaded, or the shell waits for ever."""
    queue, crawler = _queue()
    request = Request("http://127.0.0.2:8080/a.html", dont_filter=True)
    queue.push(request)
    request.callback = crawler.spider.parse_page  # what _request_deferred does, later
    assert queue.pop() is request
    assert crawler.stats.get_value("news/queue/unpickled") is None


def test_the_spiders_own_requests_pickle() -> None:
    """What the news spider queues (its callbacks, a listed entry's meta) takes the compact
    form: none of it waits as an object."""
    queue, crawler = _queue()
    spider = NewsSpider(url="http://127.0.0.2:8080/sitemap.xml")
    queue.spider = spider
    request = spider._page_request("http://127.0.0.2:8080/a.html", "site", meta={
        "news_via": "sitemap", "news_hinted": True,
        "news_hint": {"title": None, "published": datetime(2026, 1, 1, tzinfo=UTC),
                      "modified": None}})
    queue.push(request)
    assert isinstance(queue.q[0], bytes)
    out = queue.pop()
    assert out.callback == spider.parse_page and out.meta == request.meta
    assert crawler.stats.get_value("news/queue/unpickled") is None


class _Lockish:
    def __reduce__(self) -> Any:
        raise RuntimeError("cannot pickle a lock")
