"""Depth: link hops from an HTML page, counted by Scrapy's DepthMiddleware, except that the
hops through feeds and sitemaps are free (crawler/middlewares/link_depth.py). A real crawl of a
loopback site with a nested sitemap index and a chain of links, and the middleware built
directly."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pymongo
import pytest
from scrapy import Spider
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler.middlewares.link_depth import LinkDepthMiddleware
from tests.conftest import log_of, run_crawl
from tests.loopback import NOT_FOUND, LoopbackServer, Reply

TOPICS = ("harbour dredging", "tram extension", "school roof", "river wall", "night buses",
          "market hall", "cycle lanes")


def _article(number: int, links: list[str]) -> str:
    """An English article of about 120 words, its lines its own, linking to ``links``."""
    topic = TOPICS[number % len(TOPICS)]
    title = f"Council approves the {topic} plan after {number + 4} months of consultation"
    paragraphs = [
        f"The city council approved the {topic} plan on Monday by {number + 20} votes to "
        f"{number + 3}, after a consultation of {number + 4} months that drew letters from "
        f"residents in every ward of the city.",
        f"Work on the {topic} is due to begin in {number + 2} weeks and to last until the "
        f"autumn. Officials said the cost, {number + 11} million, is covered by the budget "
        f"agreed in the spring and by a grant from the regional government.",
        f"Opponents of the {topic} plan said they would keep watching the works closely and "
        f"asked for a public report every {number + 1} months until the job is finished.",
    ]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    nav = "".join(f'<a href="{link}">Read on {n}</a> ' for n, link in enumerate(links))
    published = f"2024-05-{number + 10:02d}T08:00:00+00:00"
    return (f'<!DOCTYPE html><html lang="en"><head><title>{title}</title>'
            f'<meta property="og:type" content="article">'
            f'<meta property="article:published_time" content="{published}"></head><body>'
            f"<article><h1>{title}</h1>{body}</article><nav>{nav}</nav></body></html>")


def _index(locations: list[str]) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(f"<sitemap><loc>{u}</loc></sitemap>" for u in locations)
            + "</sitemapindex>\n")


def _urlset(locations: list[str]) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(f"<url><loc>{u}</loc><lastmod>2024-05-10</lastmod></url>"
                      for u in locations)
            + "</urlset>\n")


LISTED = ["/news/listed-0.html", "/news/listed-1.html", "/news/listed-2.html"]
CHAIN = ["/hop-1.html", "/hop-2.html", "/hop-3.html"]  # 1, 2 and 3 link hops from "/"
ROUTES = {
    # index -> index -> sitemap -> 3 articles: three hops, none of them a link
    "/sitemap-index.xml": _index(["/sitemaps/inner-index.xml"]),
    "/sitemaps/inner-index.xml": _index(["/sitemaps/news.xml"]),
    "/sitemaps/news.xml": _urlset(LISTED),
    # a listed article's links are not followed
    **{path: _article(n, ["/from-listed.html"]) for n, path in enumerate(LISTED)},
    "/from-listed.html": _article(9, []),
    # the front page (no article) and a chain of articles, each linking one hop further
    "/": "<!DOCTYPE html><html><head><title>Front</title></head><body>"
         f'<a href="{CHAIN[0]}">Top story</a></body></html>',
    CHAIN[0]: _article(3, [CHAIN[1]]),
    CHAIN[1]: _article(4, [CHAIN[2]]),
    CHAIN[2]: _article(5, []),
}


class DeepSite(LoopbackServer):
    """ROUTES on a loopback address; the sitemaps list absolute URLs of its base."""

    def __init__(self) -> None:
        super().__init__(self._reply, "127.0.0.31")

    def _reply(self, path: str) -> Reply:
        body = ROUTES.get(path)
        if body is None:
            return NOT_FOUND
        content_type = ("application/xml" if path.endswith(".xml")
                        else "text/html; charset=utf-8")
        return Reply(200, content_type, body.replace("<loc>/", f"<loc>{self.base}/").encode())


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory, mongo_uri: str) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("depth")
    with DeepSite() as site:
        sources = tmp / "sources.yaml"
        sources.write_text(
            f"sources:\n  - name: deep\n    sitemaps: [{site.base}/sitemap-index.xml]\n"
            f"    start_urls: [{site.base}/]\n    language: en\n", encoding="utf-8")
        database = "depth_crawl"
        proc = run_crawl(mongo_uri=mongo_uri, database=database, data_dir=tmp / "data",
                         settings={"NEWS_SOURCES": str(sources)})
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri)
        stored = {d["url"] for d in client[database].articles.find({}, {"url": 1})}
        client.drop_database(database)
        client.close()
        yield {"proc": proc, "stored": stored, "paths": site.paths, "base": site.base,
               "stats": proc.stats}


def test_every_article_of_a_nested_sitemap_index_is_stored(crawl: dict[str, Any]) -> None:
    assert crawl["proc"].returncode == 0, log_of(crawl["proc"])
    assert {f"{crawl['base']}{p}" for p in LISTED} <= crawl["stored"], log_of(crawl["proc"])


def test_links_are_followed_to_depth_2_and_not_3(crawl: dict[str, Any]) -> None:
    paths = crawl["paths"]
    assert CHAIN[0] in paths and CHAIN[1] in paths, paths
    assert CHAIN[2] not in paths, paths
    assert {f"{crawl['base']}{p}" for p in CHAIN[:2]} <= crawl["stored"]


def test_a_listed_articles_links_are_not_followed(crawl: dict[str, Any]) -> None:
    assert "/from-listed.html" not in crawl["paths"], crawl["paths"]


def test_scrapys_depth_stats(crawl: dict[str, Any]) -> None:
    stats = crawl["stats"]
    assert stats["request_depth_max"] == 2, stats
    # depth 0: the front page, the inner index, the news sitemap and its 3 articles (the two
    # start URLs are counted by their responses); 1 and 2: one link each
    assert stats["request_depth_count/1"] == 1, stats
    assert stats["request_depth_count/2"] == 1, stats
    assert "request_depth_count/3" not in stats, stats


# -- the middleware on its own ---------------------------------------------------------------


def _middleware(limit: int) -> tuple[LinkDepthMiddleware, Any]:
    crawler = get_crawler(Spider, {"DEPTH_LIMIT": limit, "DEPTH_STATS_VERBOSE": True})
    crawler.spider = crawler._create_spider("depth")
    middleware = LinkDepthMiddleware.from_crawler(crawler)
    crawler.stats.open_spider()
    return middleware, crawler.stats


def _response(url: str, depth: int | None, via: str | None = None) -> HtmlResponse:
    meta: dict[str, Any] = {} if depth is None else {"depth": depth}
    if via:
        meta["news_via"] = via
    return HtmlResponse(url, body=b"<html></html>", request=Request(url, meta=meta))


def _outcome(middleware: LinkDepthMiddleware, response: HtmlResponse,
             *requests: Request) -> list[Request]:
    return list(middleware.process_spider_output(response, list(requests)))


def test_a_hop_through_a_listing_keeps_the_listings_depth() -> None:
    middleware, stats = _middleware(limit=2)
    index = _response("http://site.test/index.xml", depth=None)  # a start URL: depth 0
    inner = Request("http://site.test/inner.xml", meta={"news_via": "sitemap"})
    assert _outcome(middleware, index, inner) == [inner]
    assert inner.meta["depth"] == 0
    sitemap = _response(inner.url, depth=0, via="sitemap")
    article = Request("http://site.test/a.html", meta={"news_via": "sitemap"})
    assert _outcome(middleware, sitemap, article) == [article]
    assert article.meta["depth"] == 0
    assert stats.get_value("request_depth_count/0") == 3  # the index (response), two requests
    assert stats.get_value("request_depth_max") == 0


def test_a_link_counts_and_past_the_limit_is_dropped_and_counted() -> None:
    middleware, stats = _middleware(limit=2)
    page = _response("http://site.test/hop-1.html", depth=1)
    hop2 = Request("http://site.test/hop-2.html")
    assert _outcome(middleware, page, hop2) == [hop2]
    assert hop2.meta["depth"] == 2
    deeper = _response(hop2.url, depth=2)
    assert _outcome(middleware, deeper, Request("http://site.test/hop-3.html")) == []
    assert stats.get_value("depth/request_ignored_count") == 1
    assert stats.get_value("request_depth_max") == 2
    assert stats.get_value("request_depth_count/2") == 1
