"""Template learning on a site that publishes developing stories (tests/story_site.py): the
paragraphs a story's versions repeat are article text, not template lines. A real crawl over
real HTTP on loopback into the real nx-27017 server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pymongo
import pytest

from crawler.canonical import normalize_line, split_paragraphs
from tests.conftest import log_of, run_crawl
from tests.story_site import StorySite, available

pytestmark = pytest.mark.skipif(not available(), reason="../shared/eval/scrapinghub-aeb absent")


@pytest.fixture(scope="module")
def crawl(mongo_uri: str, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[tuple[StorySite, dict[str, dict[str, Any]], Any]]:
    database = "story_templates"
    with StorySite() as site:
        proc = run_crawl("-a", f"url={site.sitemap_url}", mongo_uri=mongo_uri,
                         database=database, data_dir=tmp_path_factory.mktemp("stories"))
        assert proc.returncode == 0, log_of(proc)
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri,
                                                                          tz_aware=True)
        docs = {d["url"]: d for d in client[database].articles.find({}, {"_id": 0})}
        templates = client[database].site_templates.find_one()
        client.drop_database(database)
        client.close()
        yield site, docs, templates


def lost_paragraphs(site: StorySite, docs: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    lost = []
    for url, article in site.articles.items():
        stored = set(split_paragraphs(docs[url]["text"]))
        lost += [(url, p) for p in map(normalize_line, article.paragraphs) if p not in stored]
    return lost


def test_no_paragraph_of_a_developing_story_is_lost(
        crawl: tuple[StorySite, dict[str, dict[str, Any]], Any]) -> None:
    site, docs, _templates = crawl
    assert set(docs) == set(site.articles)
    lost = lost_paragraphs(site, docs)
    total = sum(len(a.paragraphs) for a in site.articles.values())
    by_version = {v: sum(1 for url, _ in lost if site.articles[url].version == v)
                  for v in (1, 2, 3)}
    assert lost == [], f"{len(lost)} of {total} paragraphs lost (by version: {by_version})"


def test_the_template_lines_are_stripped(
        crawl: tuple[StorySite, dict[str, dict[str, Any]], Any]) -> None:
    site, docs, templates = crawl
    for url, article in site.articles.items():
        stored = split_paragraphs(docs[url]["text"])
        assert not set(stored) & set(article.template_lines), url
        assert stored == list(map(normalize_line, article.paragraphs)), url
        assert docs[url]["template_lines_removed"] == 3, url
    # The site's 13 pages tell 5 stories, and that is what the template was learned from.
    assert templates["page_total"] == 13 and templates["pages"] == 5
