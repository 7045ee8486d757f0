"""End to end: real Scrapy crawls of the bundled demo sites, served over real HTTP on
loopback, into the real nx-27017 server. Asserts what lands in MongoDB."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymongo
import pytest

from benchmarks._sites import PAGE_DIRS
from crawler.demo.score import score
from crawler.demo.server import DemoServer, write_sources_file
from crawler.demo.truth import article_truth, boilerplate_lines, non_article_urls, private_urls
from tests.conftest import ROOT, log_of, run_crawl

SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_bb8d09bb30d614ff.txt"


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoServer]:
    with DemoServer() as server:
        yield server


@pytest.fixture(scope="module")
def sources_file(demo: DemoServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sources") / "sources.yaml"
    write_sources_file(demo.sites, path)
    return path


@pytest.fixture(scope="module")
def first_crawl(demo: DemoServer, sources_file: Path, mongo_uri: str,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One crawl of all demo sources into a fresh database; yields what was stored."""
    demo.clear_request_log()
    database = "crawl_e2e"
    proc = run_crawl(mongo_uri=mongo_uri, database=database,
                     data_dir=tmp_path_factory.mktemp("data"),
                     settings={"NEWS_SOURCES": str(sources_file)})
    assert proc.returncode == 0, log_of(proc)
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri, tz_aware=True)
    docs = {d["url"]: d for d in client[database].articles.find({}, {"_id": 0})}
    assert docs, log_of(proc)
    yield {"docs": docs, "log": proc.stderr, "stats": proc.stats,
           "requests": list(demo.request_log),
           "db": client[database], "database": database}
    client.drop_database(database)
    client.close()


def test_seed_article_is_stored_exactly(first_crawl: dict[str, Any], demo: DemoServer) -> None:
    truth = article_truth(demo.sites)
    (seed_url,) = [u for u, t in truth.items() if t.title.startswith("Biden und Putin")]
    doc = first_crawl["docs"][seed_url]
    lines = [line for line in truth[seed_url].paragraphs]
    if SEED.exists():  # the shared seed itself, when the checkout sits beside shared/
        raw = [line for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
        assert raw[0] == truth[seed_url].title and raw[1:-1] == lines
    assert doc["text"] == "\n\n".join(lines)
    assert "source site-32" not in doc["text"]
    assert doc["title"] == truth[seed_url].title
    assert doc["language"] == "de"
    assert doc["source"] == "rundschau"


def test_every_article_is_clean_and_complete(first_crawl: dict[str, Any],
                                             demo: DemoServer) -> None:
    result = score(first_crawl["docs"].values(), demo.sites)
    assert result.articles_missing == []
    assert result.template_lines_leaked == []
    assert (result.precision, result.recall) == (1.0, 1.0)
    assert result.text_exact == result.articles_expected == 21
    # every site had template lines, at the start, in the middle and at the end
    assert all(boilerplate_lines(demo.sites).values())
    # per-source extraction health in the stats: every article dated and with its authors
    for source in ("rundschau", "harbour", "courrier"):
        for metric in ("no_date", "no_author", "paywalled", "empty_text"):
            assert first_crawl["stats"][f"news/health/{source}/{metric}"] == 0.0
    removed = {d["source"]: d["template_lines_removed"] for d in first_crawl["docs"].values()}
    assert removed == {"rundschau": 1, "harbour": 2, "courrier": 2}


def test_metadata_of_stored_articles(first_crawl: dict[str, Any], demo: DemoServer) -> None:
    for url, expected in article_truth(demo.sites).items():
        doc = first_crawl["docs"][url]
        assert doc["title"] == expected.title, url
        assert doc["authors"] == expected.authors, url
        assert doc["published"] == expected.published, url  # same instant, stored in UTC
        assert doc["published"].utcoffset().total_seconds() == 0
        assert doc["language"] == expected.language, url
        assert doc["word_count"] > 100
        assert len(doc["content_hash"]) == 64
        assert doc["first_seen"] == doc["fetched_at"]
        assert doc["schema_version"] == 1


def test_only_articles_are_stored(first_crawl: dict[str, Any], demo: DemoServer) -> None:
    stored = set(first_crawl["docs"])
    assert stored == set(article_truth(demo.sites))
    assert not stored & set(non_article_urls(demo.sites))
    assert all("utm_" not in url for url in stored)


def test_every_waiting_request_is_kept_pickled(first_crawl: dict[str, Any],
                                               demo: DemoServer) -> None:
    """crawler/request_queue.py: every request of the crawl but the sources' own start
    requests (Scrapy's start queue, one a demo site) waited in the compact form; none of the
    spider's requests carries what pickle refuses."""
    stats = first_crawl["stats"]
    assert stats["scheduler/enqueued/memory"] == stats["scheduler/enqueued"] > 20
    assert stats["news/queue/pickled"] == stats["scheduler/enqueued"] - len(demo.sites)
    assert "news/queue/unpickled" not in stats


def test_robots_txt_is_obeyed(first_crawl: dict[str, Any], demo: DemoServer) -> None:
    fetched = {(r.site, r.path) for r in first_crawl["requests"]}
    private = {(u.split("/")[2], "/" + u.split("/", 3)[3]) for u in private_urls(demo.sites)}
    assert private
    assert not {path for _, path in fetched} & {path for _, path in private}
    assert {r.path for r in first_crawl["requests"]} >= {"/robots.txt"}
    assert all(r.headers.get("User-Agent", "").startswith("newscrawl/")
               for r in first_crawl["requests"])


def test_indexes(first_crawl: dict[str, Any]) -> None:
    info = first_crawl["db"].articles.index_information().values()
    keys = {tuple(k for k, _ in spec["key"]): spec for spec in info}
    assert keys[("url",)].get("unique") is True
    assert {("published",), ("source", "published"), ("updated_at",)} <= set(keys)


def test_second_crawl_adds_and_changes_nothing(first_crawl: dict[str, Any], sources_file: Path,
                                               mongo_uri: str, tmp_path: Path,
                                               demo: DemoServer) -> None:
    demo.clear_request_log()
    proc = run_crawl(mongo_uri=mongo_uri, database=first_crawl["database"], data_dir=tmp_path,
                     settings={"NEWS_SOURCES": str(sources_file)})
    assert proc.returncode == 0, log_of(proc)
    assert "news/mongo/stored_new" not in proc.stats
    assert "news/mongo/updated" not in proc.stats
    assert proc.stats["finish_reason"] == "finished"
    # the URL state of a response's page requests (a feed's entries, a page's links) is read
    # in one go, not once per request
    assert 0 < proc.stats["news/state/reads"] <= proc.stats["response_received_count"]
    # Nothing is due: the articles (all published long ago) are not fetched again.
    article_paths = {"/" + url.split("/", 3)[3] for url in article_truth(demo.sites)}
    refetched = {r.path for r in demo.request_log} & article_paths
    assert refetched == set()
    again = {d["url"]: d for d in first_crawl["db"].articles.find({}, {"_id": 0})}
    assert again == first_crawl["docs"]
    # what was learned of the sites' templates was kept for this run
    assert first_crawl["db"].site_templates.count_documents({}) == 3


def test_a_forced_full_recrawl_changes_nothing(first_crawl: dict[str, Any], sources_file: Path,
                                               mongo_uri: str, tmp_path: Path) -> None:
    """With every article due again, all are fetched and found unchanged."""
    first_crawl["db"].url_state.delete_many({})
    proc = run_crawl(mongo_uri=mongo_uri, database=first_crawl["database"], data_dir=tmp_path,
                     settings={"NEWS_SOURCES": str(sources_file)})
    assert proc.returncode == 0, log_of(proc)
    assert proc.stats["news/mongo/unchanged"] == 21, log_of(proc)
    again = {d["url"]: d for d in first_crawl["db"].articles.find({}, {"_id": 0})}
    assert again == first_crawl["docs"]
    assert first_crawl["db"].article_revisions.count_documents({}) == 0


# -- a first crawl of new sites with real-size pages ---------------------------------------------

@pytest.fixture(scope="module")
def real_sites() -> Iterator[dict[str, Any]]:
    """Six new sites on 127.0.0.2-7, five real pages of 300 kB and more each, every page with
    its site's template line in the article body (benchmarks/_sites.py)."""
    if not all(d.is_dir() for d in PAGE_DIRS):
        pytest.skip("the real pages of ../shared/eval are not there")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "_sites.py"), "--sites", "6",
         "--pages-per-site", "5", "--min-bytes", "300000"], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("READY "), line
        yield json.loads(line.split(" ", 1)[1])
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_a_first_crawl_of_new_sites_holds_nothing_back(real_sites: dict[str, Any],
                                                       mongo_uri: str, tmp_path: Path) -> None:
    """30 held pages of 300 kB and more are well over Scrapy's 5 MB scraper budget: the held
    articles must not stop the downloads. Each site's articles are released once all its pages
    are counted (nothing of it pending), none by the hold timeout, and all are clean."""
    sites = real_sites["sites"]
    assert min(b for site in sites for b in site["bytes"]) >= 300_000
    assert sum(b for site in sites for b in site["bytes"]) > 5_000_000 * 1.5
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n" + "".join(
        f"  - name: site-{i}\n    sitemaps: [{site['base']}/sitemap.xml]\n"
        for i, site in enumerate(sites)))
    database = "first_crawl_real_pages"
    proc = run_crawl(mongo_uri=mongo_uri, database=database, data_dir=tmp_path / "data",
                     settings={"NEWS_SOURCES": str(sources)})
    assert proc.returncode == 0, log_of(proc)
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri, tz_aware=True)
    try:
        docs = {d["url"]: d for d in client[database].articles.find({}, {"_id": 0})}
    finally:
        client.drop_database(database)
        client.close()
    assert set(docs) == {url for site in sites for url in site["pages"]}, log_of(proc)
    stats = proc.stats
    assert not [key for key in stats if key.startswith("news/templates/released/")
                and key.rsplit("/", 1)[1] not in ("all_seen", "warmup")], stats
    assert stats["news/templates/released/all_seen"] == len(sites)
    for site in sites:
        for url in site["pages"]:
            assert site["trailer"] not in docs[url]["text"], url
            assert docs[url]["template_lines_removed"] >= 1, url
        host = site["base"].split("//", 1)[1].split(":", 1)[0]
        learned = re.findall(rf"Site {re.escape(host)}: releasing \d+ article\(s\) \(([^)]*)\)",
                             proc.stderr)
        assert learned == ["all its pages seen; learned from 5 pages"], (host, learned)
