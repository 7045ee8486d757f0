"""NEWS_EXTRACTION_BACKLOG: a crawl downloads no faster than it extracts, and loses nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from crawler.extraction_backlog import ExtractionBacklog
from tests.conftest import log_of, run_crawl, stored_articles
from tests.layout_site import LayoutSite, available


def test_a_request_waits_while_the_backlog_is_full_and_goes_when_a_page_is_extracted() -> None:
    async def scenario() -> list[str]:
        backlog = ExtractionBacklog(max_bytes=100)
        events: list[str] = []

        async def request() -> None:
            waited = await backlog.room()
            events.append(f"request sent, waited={waited}")

        with backlog.extracting(60):
            await request()  # 60 of 100: room
            with backlog.extracting(60):  # 120: full
                waiting = asyncio.ensure_future(request())
                await asyncio.sleep(0.01)
                events.append("still waiting" if not waiting.done() else "went early")
            await asyncio.wait_for(waiting, 1)  # back to 60: it goes
        return events

    assert asyncio.run(scenario()) == ["request sent, waited=False", "still waiting",
                                       "request sent, waited=True"]


def test_a_page_bigger_than_the_bound_holds_requests_only_while_it_is_extracted() -> None:
    async def scenario() -> tuple[bool, bool, bool]:
        backlog = ExtractionBacklog(max_bytes=10)
        with backlog.extracting(50):  # one page of 50 bytes: over the bound alone
            full_meanwhile = backlog.full
        # Nothing in extraction: never full, whatever the size of the next page.
        return full_meanwhile, backlog.full, await asyncio.wait_for(backlog.room(), 1)

    assert asyncio.run(scenario()) == (True, False, False)
    unbounded = ExtractionBacklog(max_bytes=0)
    with unbounded.extracting(10**9):
        assert not unbounded.full  # 0: no bound


@pytest.mark.skipif(not available(), reason="../shared/eval/scrapinghub-aeb absent")
def test_a_crawl_with_a_small_backlog_holds_requests_back_and_stores_every_article(
        mongo_uri: str, tmp_path: Path) -> None:
    peaks = {}
    with LayoutSite() as site:
        urls = site.publish(24, "a")
        for bound in ("0", "1"):
            crawl = run_crawl("-a", f"url={site.sitemap_url}", mongo_uri=mongo_uri,
                              database=f"backlog_{bound}", data_dir=tmp_path / bound,
                              settings={"NEWS_EXTRACTION_BACKLOG": bound,
                                        "NEWS_EXTRACT_WORKERS": "1",
                                        "CONCURRENT_REQUESTS": "4",
                                        "CONCURRENT_REQUESTS_PER_DOMAIN": "4"})
            assert crawl.returncode == 0, log_of(crawl)
            stored = stored_articles(mongo_uri, f"backlog_{bound}")
            assert sorted(stored) == sorted(urls), log_of(crawl)
            peaks[bound] = crawl.stats["news/backlog/peak_pages"]
            waited = crawl.stats.get("news/backlog/waited", 0)
            assert (waited > 0) == (bound == "1"), crawl.stats
    # Unbounded, the downloads run ahead of the one worker; bounded (every page is over one
    # character), no more pages wait than the requests in flight (4) and the responses
    # downloaded but not yet handed to extraction when the bound was checked (at most 4).
    assert peaks["1"] <= 2 * 4 < peaks["0"], peaks
