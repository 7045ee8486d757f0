"""A real crawl of a loopback site that publishes its articles at URLs a rewrite would break
(``/a?id``, ``/s?q=a/b``, ``/x%20y.html``, ``?q=x%20y``), in a news sitemap with a leading
blank line and bare ``&`` and an RSS feed with a BOM, a blank line and ``&nbsp;``.

The site answers only the exact published URL with the article: the rewritten forms get a
404 or another page, as real sites answer them. Every article must be fetched as published and
stored (under its canonical ``url``, with ``fetched_url`` the URL the server answered), the
one article linked in three spellings fetched once, and both documents counted as recovered.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pymongo
import pytest

from crawler.canonical import canonicalize_url
from tests.conftest import log_of, run_crawl
from tests.loopback import LoopbackServer, Reply

PAGES = Path(__file__).resolve().parent / "fixtures" / "pages"
HOST = "127.0.0.11"
FIXTURES = {  # fixture page -> the absolute URL it declares as its own
    "harbour-article.html":
        "http://127.0.0.3:8601/2024/01/18/waterfront-businesses-storm-cleanup/",
    "rundschau-article.html":
        "http://127.0.0.2:8601/wirtschaft/2022/09/energiepreise-zulieferer-chemiepark-kurzarbeit.html",
    "courrier-article.html":
        "http://127.0.0.4:8601/article/temperature-lac-record-surface-0587.html",
}
HARBOUR_HEADLINE = "Waterfront businesses count the cost as storm cleanup enters second week"
# Published path -> (fixture, headline replacing the harbour one or None).
ARTICLES = {
    "/a?id": ("harbour-article.html", None),
    "/s?q=a/b": ("courrier-article.html", None),
    "/x%20y.html": ("harbour-article.html", "Ferry timetable cut as storm damage closes pier"),
    "/q?q=x%20y": ("rundschau-article.html", None),
    "/p?a=1&b=2": ("harbour-article.html", "Harbour board approves dredging despite protests"),
    "/story?id": ("harbour-article.html", "Fishing fleet returns early as gales return"),
    "/today?edition=2024-01-18": ("harbour-article.html", "Council opens storm relief fund"),
}
REDIRECT = ("/go?id", "/story?id")  # published, and where the server sends it (301)
LATEST = ("/latest", "/today?edition=2024-01-18")  # linked; where it leads for now (302)


class ListedSite:
    """The site: the raw request path (query included) must match a published URL exactly,
    except the ``/p`` article, which (as most sites do) takes its parameters in any order and
    ignores tracking ones."""

    def __init__(self) -> None:
        self._server = LoopbackServer(self.reply, HOST)
        self.base = self._server.base
        self.pages: dict[str, bytes] = {}
        for path, (fixture, headline) in ARTICLES.items():
            page = (PAGES / fixture).read_text(encoding="utf-8")
            own = FIXTURES[fixture]
            page = page.replace(own, html.escape(self.base + path))
            page = page.replace(own.split("/", 3)[0] + "//" + own.split("/", 3)[2], self.base)
            if headline:
                page = page.replace(HARBOUR_HEADLINE, headline)
            self.pages[path] = page.encode("utf-8")
        self.home = self._home()
        self.sitemap = self._sitemap()
        self.feed = self._feed()

    @property
    def requests(self) -> list[str]:
        """The raw request paths (query included), in the order they arrived."""
        return self._server.paths

    def __enter__(self) -> ListedSite:
        self._server.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.__exit__(exc_type, exc, tb)

    def _home(self) -> bytes:
        links = ["/p?a=1&b=2", "/p?b=2&a=1", "/p?b=2&utm_source=home&a=1", "/a?id", LATEST[0]]
        items = "".join(f'<li><a href="{html.escape(href)}">Story {i}</a></li>'
                        for i, href in enumerate(links))
        return ("<!DOCTYPE html><html lang=\"en\"><head><title>The Harbour Daily</title></head>"
                f"<body><h1>The Harbour Daily</h1><ul>{items}</ul></body></html>").encode()

    def _sitemap(self) -> bytes:
        """A Google News sitemap as some CMSs write it: a blank line before the declaration
        and bare ``&`` in a URL and in a title."""
        entries = [("/a?id", "Waterfront & harbour: businesses count the cost"),
                   ("/s?q=a/b", None), ("/x%20y.html", None), ("/p?b=2&a=1", None),
                   (REDIRECT[0], None)]
        urls = "".join(
            f"<url><loc>{self.base}{path}</loc>"
            "<lastmod>2024-01-18T20:05:00+00:00</lastmod>"
            + (f"<news:news><news:publication><news:name>The Harbour Daily</news:name>"
               f"<news:language>en</news:language></news:publication>"
               f"<news:publication_date>2024-01-18T16:20:00-04:00</news:publication_date>"
               f"<news:title>{title}</news:title></news:news>" if title else "")
            + "</url>\n" for path, title in entries)
        return ("\n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n'
                f"{urls}</urlset>\n").encode()

    def _feed(self) -> bytes:
        """RSS with a UTF-8 BOM, a blank line before the declaration and an HTML entity."""
        return ("\ufeff\n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                '<rss version="2.0"><channel><title>Rundschau&nbsp;Wirtschaft</title>'
                f"<link>{self.base}/</link><description>Wirtschaft</description>"
                "<item><title>Energiepreise:&nbsp;Zulieferer melden Kurzarbeit an</title>"
                f"<link>{self.base}/q?q=x%20y</link>"
                "<pubDate>Wed, 14 Sep 2022 07:45:00 +0200</pubDate></item>"
                "</channel></rss>\n").encode()

    def reply(self, raw: str) -> Reply:
        split = urlsplit(raw)
        if raw == "/":
            return Reply(200, "text/html; charset=utf-8", self.home)
        if raw == "/news-sitemap.xml":
            return Reply(200, "application/xml", self.sitemap)
        if raw == "/rss.xml":
            return Reply(200, "application/rss+xml", self.feed)
        if raw == REDIRECT[0]:
            return Reply(301, "text/html", b"", {"Location": REDIRECT[1]})
        if raw == LATEST[0]:
            return Reply(302, "text/html", b"", {"Location": LATEST[1]})
        if split.path == "/p":
            query = {k: v for k, v in parse_qsl(split.query) if not k.startswith("utm_")}
            if query == {"a": "1", "b": "2"}:
                return Reply(200, "text/html; charset=utf-8", self.pages["/p?a=1&b=2"])
        if raw in self.pages:
            return Reply(200, "text/html; charset=utf-8", self.pages[raw])
        if split.path == "/a":  # the rewrite of /a?id: the home page, not the article
            return Reply(200, "text/html; charset=utf-8", self.home)
        return Reply(404, "text/plain", b"not found")


@pytest.fixture(scope="module")
def crawls(tmp_path_factory: pytest.TempPathFactory, mongo_uri: str,
           ) -> Iterator[tuple[ListedSite, Any, list[dict[str, Any]], list[str]]]:
    """Two crawls of the site into one database: the site, the first crawl's process and
    stored articles, and the requests of the second crawl."""
    tmp = tmp_path_factory.mktemp("listed")
    with ListedSite() as site:
        sources = tmp / "sources.yaml"
        sources.write_text(
            "sources:\n  - name: listed\n    language: en\n"
            f"    sitemaps: [{site.base}/news-sitemap.xml]\n"
            f"    feeds: [{site.base}/rss.xml]\n"
            f"    start_urls: [{site.base}/]\n", encoding="utf-8")
        proc = run_crawl(mongo_uri=mongo_uri, database="listed", data_dir=tmp,
                         settings={"NEWS_SOURCES": str(sources)})
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri,
                                                                          tz_aware=True)
        articles = list(client["listed"].articles.find({}, {"_id": 0}))
        first = len(site.requests)
        again = run_crawl(mongo_uri=mongo_uri, database="listed", data_dir=tmp,
                          settings={"NEWS_SOURCES": str(sources)})
        assert again.returncode == 0, log_of(again)
        second = site.requests[first:]
        client.drop_database("listed")
        client.close()
        yield site, proc, articles, second


@pytest.fixture
def crawl(crawls: tuple[ListedSite, Any, list[dict[str, Any]], list[str]],
          ) -> tuple[ListedSite, Any, list[dict[str, Any]]]:
    return crawls[:3]


def test_every_article_is_fetched_as_published_and_stored(
        crawl: tuple[ListedSite, Any, list[dict[str, Any]]]) -> None:
    site, proc, articles = crawl
    assert proc.returncode == 0, log_of(proc)
    fetched = {doc["fetched_url"]: doc for doc in articles}
    published = {site.base + path for path in ARTICLES}
    # /p is fetched in whichever spelling came first; the rest exactly as published.
    by_path = {url.removeprefix(site.base).split("?")[0]: url for url in fetched}
    assert set(by_path) == {urlsplit(url).path for url in published}, log_of(proc)
    for path in ARTICLES:
        if not path.startswith("/p?"):
            assert site.base + path in fetched, (path, log_of(proc))
    assert len(articles) == len(ARTICLES)
    # The identity is the canonical URL of the page's rel=canonical (its published URL).
    for doc in articles:
        declared = doc["fetched_url"] if not doc["fetched_url"].startswith(
            f"{site.base}/p?") else f"{site.base}/p?a=1&b=2"
        assert doc["url"] == canonicalize_url(declared)
        assert len(doc["text"]) > 500
    assert fetched[site.base + "/x%20y.html"]["title"] == ARTICLES["/x%20y.html"][1]
    # None of the rewritten forms was ever requested.
    rewritten = {"/a", "/s?q=a%2Fb", "/q?q=x+y", "/x+y.html", "/story", "/go"}
    assert not rewritten & set(site.requests), site.requests


def test_after_a_redirect_the_stored_url_is_where_the_server_sent_it(
        crawl: tuple[ListedSite, Any, list[dict[str, Any]]]) -> None:
    site, _proc, articles = crawl
    moved = [doc for doc in articles if doc["fetched_url"] == site.base + REDIRECT[1]]
    assert len(moved) == 1
    assert moved[0]["title"] == ARTICLES[REDIRECT[1]][1]
    assert REDIRECT[0] in site.requests


def test_one_article_in_three_spellings_is_fetched_and_stored_once(
        crawl: tuple[ListedSite, Any, list[dict[str, Any]]]) -> None:
    site, proc, articles = crawl
    assert len([raw for raw in site.requests if raw.startswith("/p?")]) == 1, site.requests
    assert [doc["url"] for doc in articles].count(f"{site.base}/p?a=1&b=2") == 1
    # The home page's three spellings of /p are one link; the sitemap's /p and /a?id, dropped.
    assert proc.stats["dupefilter/filtered"] >= 2


def test_the_malformed_sitemap_and_feed_are_recovered_and_counted(
        crawl: tuple[ListedSite, Any, list[dict[str, Any]]]) -> None:
    site, proc, articles = crawl
    stats = proc.stats
    assert stats["news/discovery/recovered"] == 2, log_of(proc)
    assert "news/discovery/bad_sitemap" not in stats and "news/discovery/bad_feed" not in stats
    assert stats["news/source/listed/discovered"] == 6  # 5 sitemap entries, 1 feed entry
    assert f"Recovered the malformed sitemap {site.base}/news-sitemap.xml" in proc.stderr
    assert f"Recovered the malformed feed {site.base}/rss.xml" in proc.stderr
    assert len(articles) == len(ARTICLES)


def test_a_second_crawl_fetches_no_article_again(
        crawls: tuple[ListedSite, Any, list[dict[str, Any]], list[str]]) -> None:
    """The URL state is looked up by the canonical form of the listed URL: it is written under
    that key too, also for the article reached through a permanent redirect (/go?id ->
    /story?id). A temporary one (/latest -> today's story) is followed again."""
    _site, _proc, _articles, second = crawls
    assert {"/", "/news-sitemap.xml", "/rss.xml", LATEST[0]} <= set(second)
    again = [raw for raw in second
             if raw in ARTICLES or raw.startswith("/p?") or raw in (REDIRECT[0], "/a")]
    assert again == [LATEST[1]], second
