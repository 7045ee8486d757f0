"""Learned site layouts in real crawls (tests/layout_site.py over real HTTP on loopback, the
real nx-27017 server): a site's pages go the fast way once its layout is learned, a redesign
is noticed and relearned without a page stored with the old layout's result, and a site with
two article layouts at once has every page stored whole."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymongo
import pytest

from crawler.canonical import normalize_line, split_paragraphs
from crawler.settings import NEWS_LAYOUT_LEARN_PAGES
from tests.conftest import Crawl, log_of, run_crawl
from tests.layout_site import LayoutSite, available, standfirst

pytestmark = pytest.mark.skipif(not available(), reason="../shared/eval/scrapinghub-aeb absent")


def _stored(mongo_uri: str, database: str) -> tuple[dict[str, dict[str, Any]],
                                                    list[dict[str, Any]]]:
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri, tz_aware=True)
    try:
        db = client[database]
        docs = {d["url"]: d for d in db.articles.find({}, {"_id": 0})}
        layouts = sorted(db.site_layouts.find({}), key=lambda d: d["version"])
        return docs, layouts
    finally:
        client.close()


def _problems(site: LayoutSite, docs: dict[str, dict[str, Any]],
              urls: list[str]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Paragraphs of these articles not stored (whole, though maybe joined to the one
    before), and furniture lines stored."""
    lost, furniture = [], []
    for url in urls:
        stored = split_paragraphs(docs[url]["text"]) if url in docs else []
        text = "\n".join(stored)
        lost += [(url, p) for p in map(normalize_line, site.articles[url].paragraphs)
                 if p not in text]
        furniture += [(url, line) for line in stored
                      if any(f in line for f in site.furniture(url))]
    return lost, furniture


@pytest.fixture(scope="module")
def redesign(mongo_uri: str, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[dict[str, Any]]:
    database = "layouts_redesign"
    data: Path = tmp_path_factory.mktemp("redesign")
    with LayoutSite() as site:
        first_urls = site.publish(45, "a")
        first = run_crawl("-a", f"url={site.sitemap_url}", mongo_uri=mongo_uri,
                          database=database, data_dir=data)
        assert first.returncode == 0, log_of(first)
        first_docs, first_layouts = _stored(mongo_uri, database)
        site.redesign("b")
        second_urls = site.publish(20)
        second = run_crawl("-a", f"url={site.sitemap_url}", mongo_uri=mongo_uri,
                           database=database, data_dir=data)
        assert second.returncode == 0, log_of(second)
        docs, layouts = _stored(mongo_uri, database)
        yield {"site": site, "first": first, "second": second, "first_urls": first_urls,
               "second_urls": second_urls, "first_docs": first_docs,
               "first_layouts": first_layouts, "docs": docs, "layouts": layouts}
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri)
    client.drop_database(database)
    client.close()


def _figures(crawl: Crawl) -> dict[str, int]:
    return {key.removeprefix("news/layout/"): value for key, value in crawl.stats.items()
            if key.startswith("news/layout/")}


def test_a_learned_layout_extracts_the_sites_pages_the_fast_way(
        redesign: dict[str, Any]) -> None:
    site, first = redesign["site"], redesign["first"]
    docs = redesign["first_docs"]
    assert set(docs) == set(redesign["first_urls"])
    lost, furniture = _problems(site, docs, redesign["first_urls"])
    assert (lost, furniture) == ([], [])
    figures = _figures(first)
    assert figures.get("learned") == 1, figures
    # The pages fetched before the layout was learned, and one in NEWS_LAYOUT_SAMPLE, go the
    # full way; the rest of the 45 go the fast way.
    assert figures.get("fast", 0) >= 25, figures
    assert figures.get("fast", 0) + figures.get("full", 0) == 45, figures
    assert figures.get("disagreed", 0) == 0, figures
    (layout,) = redesign["first_layouts"]
    assert layout["valid_until"] is None
    assert len(layout["learned_from"]) == NEWS_LAYOUT_LEARN_PAGES
    assert "story-body" in layout["container"]
    assert any("inline-teaser" in drop for drop in layout["drops"])


def test_a_redesign_is_relearned_and_no_page_is_stored_with_the_old_layouts_result(
        redesign: dict[str, Any]) -> None:
    site, second, docs = redesign["site"], redesign["second"], redesign["docs"]
    new = redesign["second_urls"]
    assert set(new) <= set(docs)
    lost, furniture = _problems(site, docs, new)
    assert lost == [], (f"{len(lost)} paragraphs lost", [
        (u, docs.get(u, {}).get("text", "")[:300], docs.get(u, {}).get("word_count"))
        for u in sorted({u for u, _ in lost})][:3], _figures(second))
    assert furniture == []
    for url in new:  # the whole text, nothing else: the old layout's result is the standfirst
        assert split_paragraphs(docs[url]["text"]) == [
            normalize_line(p) for p in site.articles[url].paragraphs], url
    # The first run's articles were not due: untouched.
    for url in redesign["first_urls"]:
        assert docs[url]["content_hash"] == redesign["first_docs"][url]["content_hash"]
    figures = _figures(second)
    assert figures.get("learned") == 1, figures
    # (the pages given to the pool while the new layout was learned go the full way)
    assert figures.get("fast", 0) >= 8, figures
    old, *relearned = redesign["layouts"]
    assert old["version"] == 1 and old["valid_until"] is not None, old
    assert old["closed_reason"] in ("failed", "replaced"), old
    assert len(relearned) == 1 and relearned[0]["valid_until"] is None
    assert "article-text" in relearned[0]["container"]
    assert relearned[0]["valid_from"] >= old["valid_from"]


@pytest.fixture(scope="module")
def two_layouts(mongo_uri: str, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[dict[str, Any]]:
    database = "layouts_two"
    with LayoutSite() as site:
        site.every = (5, "long")  # one page in five is long-form
        urls = site.publish(40, "a")
        crawl = run_crawl("-a", f"url={site.sitemap_url}", mongo_uri=mongo_uri,
                          database=database, data_dir=tmp_path_factory.mktemp("two"))
        assert crawl.returncode == 0, log_of(crawl)
        docs, layouts = _stored(mongo_uri, database)
        yield {"site": site, "crawl": crawl, "urls": urls, "docs": docs, "layouts": layouts}
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri)
    client.drop_database(database)
    client.close()


def test_a_site_with_two_article_layouts_has_every_page_stored_whole(
        two_layouts: dict[str, Any]) -> None:
    site, docs, urls = two_layouts["site"], two_layouts["docs"], two_layouts["urls"]
    assert set(docs) == set(urls)
    lost, furniture = _problems(site, docs, urls)
    assert (lost, furniture) == ([], [])
    containers = {layout["container"] for layout in two_layouts["layouts"]
                  if layout["valid_until"] is None}
    assert any("story-body" in c for c in containers), containers
    assert any("lf-body" in c for c in containers), containers
    figures = _figures(two_layouts["crawl"])
    assert figures.get("disagreed", 0) == 0 and figures.get("fast", 0) >= 20, figures


def test_a_standfirst_outside_the_container_is_stored_on_every_page(
        mongo_uri: str, tmp_path: Path) -> None:
    """Long stories with a standfirst above the body: the layout's container is the body, and
    the fast way reads the standfirst where the learning page had it."""
    database = "layouts_standfirst"
    with LayoutSite(min_words=600) as site:
        urls = site.publish(20, "lead")
        crawl = run_crawl("-a", f"url={site.sitemap_url}", mongo_uri=mongo_uri,
                          database=database, data_dir=tmp_path)
        assert crawl.returncode == 0, log_of(crawl)
        docs, layouts = _stored(mongo_uri, database)
        articles = site.articles
        furniture = {url: site.furniture(url) for url in urls}
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri)
    client.drop_database(database)
    client.close()
    assert set(docs) == set(urls)
    for url in urls:
        stored = split_paragraphs(docs[url]["text"])
        assert stored == [normalize_line(standfirst(articles[url])),
                          *map(normalize_line, articles[url].paragraphs)], url
        assert not [line for line in stored if any(f in line for f in furniture[url])]
    figures = _figures(crawl)
    assert figures.get("fast", 0) >= 5 and figures.get("disagreed", 0) == 0, figures
    assert [layout["lead"] for layout in layouts] == ["//p[contains(concat(' ', "
                                                       "normalize-space(@class), ' '), "
                                                       "' standfirst ')]"], layouts
