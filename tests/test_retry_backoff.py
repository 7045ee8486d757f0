"""Retry back-off holds no download slot: a real crawl of two sites answering 503 and one
healthy site with ``CONCURRENT_REQUESTS=2``. While the failing sites wait for their retries,
the healthy site is fetched; each retry still comes after its back-off, doubled."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import pymongo
import pytest

from tests.conftest import log_of, run_crawl
from tests.loopback import NOT_FOUND, LoopbackServer, Reply
from tests.test_crawl_delay import FAST_ROBOTS, LoopbackSite

BACKOFF = 2.0  # NEWS_RETRY_BACKOFF: the first retry waits 2 s, the second 4 s
RETRIES = 2
UNAVAILABLE = Reply(503, "text/plain", b"unavailable")


def _down(path: str) -> Reply:
    """A site that is down: no robots.txt (404), every page 503 Service Unavailable."""
    return NOT_FOUND if path == "/robots.txt" else UNAVAILABLE


class FailingSite(LoopbackServer):
    def __init__(self, host: str) -> None:
        super().__init__(_down, host)
        self.url = f"{self.base}/"

    def attempts(self) -> list[float]:
        """When each request for the start page arrived."""
        return sorted(t for t, path in self.requests if path == "/")


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory,
          mongo_uri: str) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("retry_backoff")
    articles = 12
    with (FailingSite("127.0.0.41") as down_a,
          FailingSite("127.0.0.42") as down_b,
          LoopbackSite("healthy", "127.0.0.43", FAST_ROBOTS, articles,
                       slow={f"/news/healthy-{n}.html": 0.3 for n in range(articles)})
          as healthy):
        sources = tmp / "sources.yaml"
        sources.write_text(
            "sources:\n"
            f"  - name: down-a\n    start_urls: [{down_a.url}]\n"
            f"  - name: down-b\n    start_urls: [{down_b.url}]\n"
            f"  - name: healthy\n    sitemaps: [{healthy.sitemap_url}]\n    language: en\n",
            encoding="utf-8")
        database = "retry_backoff"
        proc = run_crawl(mongo_uri=mongo_uri, database=database, data_dir=tmp / "data",
                         settings={"NEWS_SOURCES": str(sources), "CONCURRENT_REQUESTS": "2",
                                   "RETRY_TIMES": str(RETRIES),
                                   "NEWS_RETRY_BACKOFF": str(BACKOFF)})
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri)
        stored = {d["url"] for d in client[database].articles.find({}, {"url": 1})}
        client.drop_database(database)
        client.close()
        yield {"proc": proc, "stats": proc.stats, "stored": stored,
               "down": (down_a, down_b), "healthy": healthy}


def test_each_retry_comes_after_its_backoff(crawl: dict[str, Any]) -> None:
    assert crawl["stats"].get("finish_reason") == "finished", log_of(crawl["proc"])
    for site in crawl["down"]:
        attempts = site.attempts()
        assert len(attempts) == 1 + RETRIES, attempts  # the first try and RETRY_TIMES retries
        gaps = [b - a for a, b in pairwise(attempts)]
        assert gaps[0] >= BACKOFF, gaps
        assert gaps[1] >= 2 * BACKOFF, gaps
    stats = crawl["stats"]
    assert stats["news/retry/backoff"] == 2 * RETRIES
    assert stats["retry/max_reached"] == 2


def test_the_healthy_site_is_fetched_while_the_failing_ones_wait(crawl: dict[str, Any]) -> None:
    down_a, down_b = crawl["down"]
    # Both failing sites have been tried and neither has been retried yet: both wait.
    both_waiting_from = max(down_a.attempts()[0], down_b.attempts()[0])
    both_waiting_until = min(down_a.attempts()[1], down_b.attempts()[1])
    fetched = [path for at, path in crawl["healthy"].requests
               if both_waiting_from < at < both_waiting_until]
    # With the two download slots held by sleeping retries nothing would be fetched here.
    assert len([p for p in fetched if p.startswith("/news/")]) >= 2, (
        fetched, sorted(crawl["healthy"].requests), down_a.attempts(), down_b.attempts())


def test_every_healthy_article_is_stored(crawl: dict[str, Any]) -> None:
    assert crawl["stored"] == set(crawl["healthy"].article_urls), log_of(crawl["proc"])
