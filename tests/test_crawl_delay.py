"""robots.txt ``Crawl-delay``: a real crawl of three loopback sites, one asking 2 s between
requests, one asking nothing, one asking a day (capped); and the delay a robots.txt asks,
read with Scrapy's real robots.txt parsers."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from itertools import pairwise
from types import TracebackType
from typing import Any

import pymongo
import pytest
from scrapy.exceptions import NotConfigured
from scrapy.http import Request
from scrapy.robotstxt import PythonRobotParser, RobotParser
from scrapy.utils.test import get_crawler

from crawler import settings as project_settings
from crawler.middlewares.crawl_delay import CrawlDelayMiddleware
from crawler.middlewares.robots import RobotsTxtParser
from tests.conftest import log_of, run_crawl
from tests.loopback import NOT_FOUND, LoopbackServer, Reply

USER_AGENT = project_settings.USER_AGENT
TOLERANCE = 0.05  # seconds: the server stamps a request a little after the crawler sends it
JITTER = 0.3  # seconds: how much later than sent a request may reach a loaded machine's server

TOWNS = ("Ashford", "Bramley", "Caldwell", "Dunmore", "Elstow", "Fairlie")
TOPICS = ("bridge repairs", "school meals", "bus timetable", "library hours", "flood defences",
          "market square")


def _article(site: str, number: int, base: str, path: str) -> str:
    """An English news article of about 180 words whose every line is its own."""
    town, topic = TOWNS[number % len(TOWNS)], TOPICS[(number * 5 + len(site)) % len(TOPICS)]
    title = f"{town} council agrees a plan for {topic} after {number + 3} months of talks"
    paragraphs = [
        f"Councillors in {town} voted {number + 7} to {number + 2} on Tuesday evening to back "
        f"a plan for {topic}, ending a debate that had divided the {site} district since "
        f"the spring and filled the public gallery for the {number + 4}th time this year.",
        f"The plan sets aside {number + 12} thousand pounds over two years. Officers told the "
        f"meeting that work on the {topic} in {town} could begin within {number + 5} weeks "
        f"if contractors confirm their prices before the end of the month.",
        f"Residents who spoke at the meeting welcomed the decision but asked for regular "
        f"updates. One shop owner said the {topic} question had cost traders in {town} "
        f"customers for {number + 3} months and that a clear timetable mattered most.",
        f"Opposition members argued that the money for {topic} should have been found from "
        f"existing budgets. The leader of the council said the {site} plan number "
        f"{number + 1} would be reviewed in public every quarter until the work is finished.",
    ]
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    published = f"2024-03-{number + 10:02d}T09:30:00+00:00"
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<meta property="og:type" content="article">'
        f'<meta property="og:title" content="{title}">'
        f'<meta property="article:published_time" content="{published}">'
        f'<link rel="canonical" href="{base}{path}"></head><body>'
        f'<article><h1>{title}</h1><p class="byline">By Jane Holloway</p>'
        f'<time datetime="{published}">March {number + 10}, 2024</time>\n{body}</article>'
        f"</body></html>"
    )


class LoopbackSite:
    """A news site on its own loopback address, port 0: robots.txt, a sitemap of
    ``articles`` article pages, and the time each request arrived."""

    def __init__(self, name: str, host: str, robots: str, articles: int,
                 slow: dict[str, float] | None = None) -> None:
        self.name = name
        self.slow = slow or {}  # path -> seconds the site takes to answer it
        self._server = LoopbackServer(self._reply, host)
        self.netloc = self._server.netloc
        self.base = self._server.base
        self.sitemap_url = f"{self.base}/sitemap.xml"
        self.article_urls = [f"{self.base}/news/{name}-{n}.html" for n in range(articles)]
        self.routes: dict[str, str] = {"/robots.txt": robots}
        for n, url in enumerate(self.article_urls):
            path = url[len(self.base):]
            self.routes[path] = _article(name, n, self.base, path)
        self.routes["/sitemap.xml"] = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + "".join(f"<url><loc>{u}</loc><lastmod>2024-03-10</lastmod></url>\n"
                      for u in self.article_urls)
            + "</urlset>\n")
        # (time.monotonic(), path) of each request on arrival, and once it was answered
        self.requests = self._server.requests
        self.answers = self._server.answers

    def _reply(self, path: str) -> Reply:
        body = self.routes.get(path)
        time.sleep(self.slow.get(path, 0.0))
        if body is None:
            return NOT_FOUND
        content_type = ("text/plain" if path.endswith(".txt")
                        else "application/xml" if path.endswith(".xml")
                        else "text/html; charset=utf-8")
        return Reply(200, content_type, body.encode())

    def overlaps(self) -> list[str]:
        """Requests that arrived while an earlier one was still being answered."""
        answered_at = {path: at for at, path in self.answers}  # each path is asked once
        return [path for (_, previous), (arrived, path) in pairwise(sorted(self.requests))
                if answered_at.get(previous, arrived) > arrived]

    def gaps(self) -> list[float]:
        """Seconds between consecutive requests the site received."""
        stamps = sorted(t for t, _ in self.requests)
        return [b - a for a, b in pairwise(stamps)]

    def spacing(self) -> list[float]:
        """Seconds from the first request to each further one, divided by how many came
        between: the average gap so far, which a request that reached the server late (a busy
        machine) cannot lower for the request after it, as it does for one gap."""
        stamps = sorted(t for t, _ in self.requests)
        return [(t - stamps[0]) / i for i, t in enumerate(stamps) if i]

    def __enter__(self) -> LoopbackSite:
        self._server.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.__exit__(exc_type, exc, tb)


POLITE_ROBOTS = "User-agent: *\nCrawl-delay: 2\nDisallow: /private/\n"
FAST_ROBOTS = "User-agent: *\nDisallow: /private/\n"
# The group naming our product token wins over the others: a day, capped to MAX_DELAY.
GREEDY_ROBOTS = ("User-agent: otherbot\nCrawl-delay: 1\n\n"
                 "User-agent: newscrawl\nCrawl-delay: 86400\n\n"
                 "User-agent: *\nCrawl-delay: 0.5\n")
MAX_DELAY = 2.5
SLOW_PAGE = "/news/polite-1.html"  # answered in 3 s, longer than the 2 s asked


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory,
          mongo_uri: str) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("crawl_delay")
    with (LoopbackSite("polite", "127.0.0.21", POLITE_ROBOTS, 4, slow={SLOW_PAGE: 3.0}) as polite,
          LoopbackSite("fast", "127.0.0.22", FAST_ROBOTS, 4) as fast,
          LoopbackSite("greedy", "127.0.0.23", GREEDY_ROBOTS, 2) as greedy):
        sources = tmp / "sources.yaml"
        sources.write_text("sources:\n" + "".join(
            f"  - name: {s.name}\n    sitemaps: [{s.sitemap_url}]\n    language: en\n"
            for s in (polite, fast, greedy)), encoding="utf-8")
        database = "crawl_delay"
        proc = run_crawl(mongo_uri=mongo_uri, database=database, data_dir=tmp / "data",
                         settings={
                             "NEWS_SOURCES": str(sources),
                             # AutoThrottle on, free to go down to no delay at all: only the
                             # crawl delay holds the polite sites back.
                             "AUTOTHROTTLE_ENABLED": "True",
                             "AUTOTHROTTLE_START_DELAY": "0",
                             "DOWNLOAD_DELAY": "0",
                             "NEWS_MAX_CRAWL_DELAY": str(MAX_DELAY),
                         })
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri,
                                                                          tz_aware=True)
        stored = {d["url"]: d for d in client[database].articles.find({}, {"_id": 0})}
        client.drop_database(database)
        client.close()
        yield {"proc": proc, "stats": proc.stats, "stored": stored,
               "polite": polite, "fast": fast, "greedy": greedy}


def test_the_crawl_delay_spaces_every_request_to_the_site(crawl: dict[str, Any]) -> None:
    proc, polite = crawl["proc"], crawl["polite"]
    assert proc.returncode == 0, log_of(proc)
    paths = [p for _, p in sorted(polite.requests)]
    assert paths[:2] == ["/robots.txt", "/sitemap.xml"], paths
    assert len(paths) == 6, paths  # robots.txt, the sitemap, 4 articles: each once
    # AutoThrottle (on, down to 0 s) never brought the site below the 2 s it asks: each
    # request came 2 s after the one before, on average since the first; and no gap was short
    # by more than what a late arrival of the one before explains.
    assert min(polite.spacing()) >= 2.0 - TOLERANCE, polite.gaps()
    assert min(polite.gaps()) >= 2.0 - JITTER, polite.gaps()
    assert f"Site {polite.netloc} asks Crawl-delay 2 s: applied" in proc.stderr
    # one request at a time: nothing was sent while the slow page was being answered
    assert polite.overlaps() == [], sorted(polite.requests)
    assert max(polite.gaps()) >= 3.0 - TOLERANCE  # the request after the slow page waited


def test_all_articles_of_every_site_are_stored(crawl: dict[str, Any]) -> None:
    expected = {u for name in ("polite", "fast", "greedy") for u in crawl[name].article_urls}
    assert set(crawl["stored"]) == expected, log_of(crawl["proc"])


def test_a_site_without_crawl_delay_is_not_slowed(crawl: dict[str, Any]) -> None:
    proc, fast = crawl["proc"], crawl["fast"]
    assert f"Site {fast.netloc} asks" not in proc.stderr
    # its four articles, listed together, were fetched side by side, not one per 2 s
    assert len(fast.requests) == 6
    assert min(fast.gaps()) < 1.0, fast.gaps()


def test_an_absurd_crawl_delay_is_capped(crawl: dict[str, Any]) -> None:
    proc, greedy = crawl["proc"], crawl["greedy"]
    # the group for "newscrawl" applies, not "*" (0.5 s) nor "otherbot" (1 s)
    assert (f"WARNING: Site {greedy.netloc} asks Crawl-delay 86400 s: capped at "
            f"NEWS_MAX_CRAWL_DELAY, 2.5 s applied") in proc.stderr
    assert len(greedy.requests) == 4
    assert min(greedy.spacing()) >= MAX_DELAY - TOLERANCE, greedy.gaps()
    assert min(greedy.gaps()) >= MAX_DELAY - JITTER, greedy.gaps()


def test_the_stats_count_the_sites(crawl: dict[str, Any]) -> None:
    stats = crawl["stats"]
    assert stats["finish_reason"] == "finished", log_of(crawl["proc"])
    assert stats["news/politeness/crawl_delay"] == 2  # polite and greedy
    assert stats["news/politeness/crawl_delay_capped"] == 1  # greedy
    assert "news/politeness/request_rate" not in stats
    assert "news/politeness/bad_crawl_delay" not in stats


# -- the delay a robots.txt asks, read with Scrapy's parsers ---------------------------------


def _middleware(**settings: Any) -> CrawlDelayMiddleware:
    crawler = get_crawler(settings_dict={"ROBOTSTXT_OBEY": True, "USER_AGENT": USER_AGENT,
                                         **settings})
    return CrawlDelayMiddleware.from_crawler(crawler)


@pytest.mark.parametrize(("robots", "expected"), [
    ("User-agent: *\nCrawl-delay: 2\n", (2.0, "Crawl-delay 2 s")),
    ("User-agent: *\nCrawl-delay: 0.5\n", (0.5, "Crawl-delay 0.5 s")),
    (GREEDY_ROBOTS, (86400.0, "Crawl-delay 86400 s")),
    ("User-agent: otherbot\nCrawl-delay: 9\n", None),
    ("User-agent: *\nDisallow: /private/\n", None),
    ("User-agent: *\nCrawl-delay: soon\n", None),  # unparsable: Protego drops it
    ("User-agent: *\nCrawl-delay: -3\n", None),
    ("User-agent: *\nRequest-rate: 1/5s\n", (5.0, "Request-rate 1/5s")),
    ("User-agent: *\nRequest-rate: 3/10\nCrawl-delay: 1\n", (10 / 3, "Request-rate 3/10s")),
    ("User-agent: *\nRequest-rate: 1/1\nCrawl-delay: 4\n", (4.0, "Crawl-delay 4 s")),
    ("User-agent: *\nRequest-rate: 1/4\nCrawl-delay: 4\n", (4.0, "Crawl-delay 4 s")),
])
def test_the_delay_asked_of_our_user_agent(robots: str,
                                           expected: tuple[float, str] | None) -> None:
    parser = RobotsTxtParser(robots.encode(), None)
    assert _middleware().asked_delay(parser, "example.org") == expected


def test_the_standard_library_parser_works_too() -> None:
    parser = PythonRobotParser(b"User-agent: newscrawl\nCrawl-delay: 3\nRequest-rate: 1/2\n",
                               None)
    assert _middleware().asked_delay(parser, "example.org") == (3.0, "Crawl-delay 3 s")


class _NanParser(RobotParser):
    """A robots.txt parser that passes an unusable Crawl-delay on."""

    @classmethod
    def from_crawler(cls, crawler: Any, robotstxt_body: bytes) -> _NanParser:
        return cls()

    def allowed(self, url: str | bytes, user_agent: str | bytes) -> bool:
        return True

    def crawl_delay(self, user_agent: str | bytes) -> float | None:
        return float("nan")


def test_an_unusable_delay_is_logged_and_ignored(caplog: pytest.LogCaptureFixture) -> None:
    middleware = _middleware()
    with caplog.at_level(logging.WARNING, logger="crawler.middlewares.crawl_delay"):
        assert middleware.asked_delay(_NanParser(), "example.org") is None
    assert "Site example.org asks Crawl-delay nan" in caplog.text
    assert middleware.crawler.stats.get_value("news/politeness/bad_crawl_delay") == 1


@pytest.mark.parametrize("settings", [{"ROBOTSTXT_OBEY": False}, {"NEWS_MAX_CRAWL_DELAY": 0}])
def test_off_without_robots_or_with_no_maximum(settings: dict[str, Any]) -> None:
    with pytest.raises(NotConfigured):
        _middleware(**settings)


def test_the_project_settings_enable_it() -> None:
    assert project_settings.DOWNLOADER_MIDDLEWARES[
        "crawler.middlewares.crawl_delay.CrawlDelayMiddleware"] > 100  # after robots.txt
    assert project_settings.NEWS_MAX_CRAWL_DELAY == 30.0


def test_one_request_of_a_host_at_a_time_the_delay_after_the_one_before() -> None:
    """The pacing itself, without a crawl: a request that never reached the downloader
    (refused on its way: process_exception) frees its host as a downloaded one does."""
    import asyncio

    from scrapy import signals
    from scrapy.exceptions import IgnoreRequest

    middleware = _middleware()
    robots = Request("http://paced.test/robots.txt")
    middleware.robots_parsed(RobotsTxtParser(b"User-agent: *\nCrawl-delay: 0.2\n"), robots)
    first, second = Request("http://paced.test/a"), Request("http://paced.test/b")
    other = Request("http://other.test/a")
    started: dict[str, float] = {}

    async def send(request: Request) -> None:
        await middleware.process_request(request)
        started[request.url] = time.monotonic()

    async def crawl() -> float:
        begin = time.monotonic()
        await send(other)  # a host that asks nothing waits for nothing
        assert started[other.url] - begin < 0.05
        waiting = asyncio.ensure_future(send(second))
        await send(first)  # 0.2 s after robots.txt
        await asyncio.sleep(0.3)
        assert second.url not in started  # the first one is still being downloaded
        ended = time.monotonic()
        middleware.process_exception(first, IgnoreRequest())
        await waiting
        middleware.crawler.signals.send_catch_log(signals.request_left_downloader,
                                                  request=second, spider=None)
        return ended

    ended = asyncio.run(crawl())
    assert started[first.url] - started[other.url] >= 0.2 - TOLERANCE
    assert started[second.url] - ended >= 0.2 - TOLERANCE
    assert middleware.paces["paced.test"].holder is None
