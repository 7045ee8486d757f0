"""The template hold's ledger (crawler/template_hold.py), driven as Scrapy drives it (the
order of its signals).
A real crawl through it: tests/test_crawl.py::test_a_first_crawl_of_new_sites_holds_nothing_back."""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.http import HtmlResponse

from crawler.template_hold import Ledger


def _tracker() -> tuple[Ledger, list[str | None], list[dict[str, Any]]]:
    tracker = Ledger()
    idle: list[str | None] = []
    finished: list[dict[str, Any]] = []
    tracker.on_idle(idle.append)
    tracker.on_finished(finished.append)
    return tracker, idle, finished


def test_a_site_is_pending_until_its_last_page_is_parsed_and_counted() -> None:
    tracker, idle, finished = _tracker()
    sitemap = Request("http://a.example/sitemap.xml")
    tracker.request_scheduled(sitemap)
    tracker.started()  # the start requests are all scheduled: every site may be idle now
    assert tracker.is_pending("a.example") and idle == [None]
    tracker.response_received(HtmlResponse(sitemap.url, request=sitemap), sitemap)
    page = Request("http://a.example/story")  # found in the sitemap
    tracker.request_scheduled(page)
    tracker.parsed(HtmlResponse(sitemap.url, request=sitemap))
    assert tracker.is_pending("a.example")
    retry = page.copy()  # a retry goes on with the same fetch
    tracker.request_scheduled(retry)
    response = HtmlResponse(retry.url, request=retry, body=b"x" * 5000)
    tracker.response_received(response, retry)
    item = {"url": retry.url}
    tracker.item_yielded(item, response)
    tracker.parsed(response)  # the spider is done, its article not yet counted
    assert tracker.is_pending("a.example") and tracker.item_bytes(item) == 5000
    tracker.item_counted(item)  # the template pipeline counted it
    assert not tracker.is_pending("a.example") and idle == [None, "a.example"]
    assert len(finished) == 1  # the sitemap; the page waits for its article to be stored
    tracker.item_left(item, response)
    assert len(finished) == 2 and not tracker.fetches


def test_redirects_move_a_fetch_and_failures_and_duplicates_end_it() -> None:
    tracker, idle, _finished = _tracker()
    tracker.started()
    first = Request("http://a.example/old")
    tracker.request_scheduled(first)
    moved = first.replace(url="http://b.example/new")  # a redirect to another site
    tracker.request_scheduled(moved)
    assert idle == [None, "a.example"] and tracker.is_pending("b.example")
    tracker.request_failed(moved)
    duplicate = Request("http://c.example/x")
    tracker.request_scheduled(duplicate)
    tracker.request_dropped(duplicate)
    assert idle == [None, "a.example", "b.example", "c.example"] and not tracker.busy


def test_a_page_yielded_by_a_page_begins_a_fetch_of_its_own() -> None:
    tracker, idle, _finished = _tracker()
    tracker.started()
    parent = Request("http://a.example/1")
    tracker.request_scheduled(parent)
    response = HtmlResponse(parent.url, request=parent)
    tracker.response_received(response, parent)
    child = Request("http://a.example/2", meta=dict(parent.meta))  # even with its meta copied
    tracker.request_scheduled(child)
    tracker.parsed(response)
    assert tracker.is_pending("a.example") and idle == [None]
    tracker.request_failed(child)
    assert idle == [None, "a.example"]
