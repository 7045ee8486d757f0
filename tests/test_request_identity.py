"""A request is fetched as published and identified by its canonical URL."""

from __future__ import annotations

import redis
from scrapy import Request, Spider
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from crawler.distributed.dupefilter import RunDupeFilter
from crawler.distributed.shared import SharedCrawl
from crawler.request_identity import CanonicalRequestFingerprinter, request_fingerprint

BASE = "https://www.harbourdaily.example"


def test_the_crawl_uses_the_canonical_fingerprinter() -> None:
    settings = Settings()
    settings.setmodule("crawler.settings")
    crawler = get_crawler(Spider, settings_dict={
        "REQUEST_FINGERPRINTER_CLASS": settings["REQUEST_FINGERPRINTER_CLASS"]})
    assert isinstance(crawler.request_fingerprinter, CanonicalRequestFingerprinter)


def test_spellings_of_one_url_are_one_request() -> None:
    spellings = [f"{BASE}/story?a=1&b=2", f"{BASE}/story?b=2&a=1",
                 f"{BASE}/story?a=1&utm_source=rss&b=2&fbclid=IwAR0x", f"{BASE}/story?a=1&b=2#top",
                 "HTTPS://WWW.HarbourDaily.example:443/story?a=1&b=2"]
    requests = [Request(url) for url in spellings]
    assert len({request_fingerprint(r) for r in requests}) == 1
    # The request keeps the URL as published: only its identity is canonical.
    assert requests[1].url == f"{BASE}/story?b=2&a=1"
    assert requests[2].url == f"{BASE}/story?a=1&utm_source=rss&b=2&fbclid=IwAR0x"


def test_different_pages_stay_different() -> None:
    urls = [f"{BASE}/story?id=1", f"{BASE}/story?id=2", f"{BASE}/story", f"{BASE}/Story?id=1",
            f"{BASE}/s?q=a/b", f"{BASE}/s?q=a/c"]
    assert len({request_fingerprint(Request(url)) for url in urls}) == len(urls)
    post = Request(f"{BASE}/story?id=1", method="POST", body=b"x=1")
    assert request_fingerprint(post) != request_fingerprint(Request(f"{BASE}/story?id=1"))


def test_the_distributed_dupefilter_uses_the_same_fingerprint() -> None:
    client = redis.Redis(host="127.0.0.1", port=1)  # never connected to: fingerprints only
    dupefilter = RunDupeFilter(SharedCrawl(client, worker="w"))
    fingerprinter = CanonicalRequestFingerprinter()
    listed = Request(f"{BASE}/story?b=2&a=1&utm_medium=teaser")
    assert dupefilter.request_fingerprint(listed) == fingerprinter.fingerprint(
        Request(f"{BASE}/story?a=1&b=2"))
    client.close()
