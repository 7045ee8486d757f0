"""Crawl entry points and start-up failures, each a real ``scrapy crawl`` subprocess."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.database import EmbeddedMongo
from crawler.demo.server import DemoServer
from crawler.demo.truth import article_truth
from tests.conftest import log_of, run_crawl, stored_articles


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoServer]:
    with DemoServer() as server:
        yield server



def _truth_urls(demo: DemoServer, source: str) -> set[str]:
    return {u for u, t in article_truth(demo.sites).items() if t.source == source}


@pytest.mark.parametrize(("site", "entry"), [
    ("harbour", "sitemap_url"),   # sitemap index -> .xml.gz news sitemap + pages sitemap
    ("harbour", "atom_url"),      # Atom feed
    ("rundschau", "feed_url"),    # RSS 2.0
    ("courrier", "home_url"),     # HTML home page, links followed
])
def test_url_argument_finds_out_what_the_url_is(demo: DemoServer, mongo_uri: str,
                                               tmp_path: Path, site: str, entry: str) -> None:
    url = getattr(demo.site(site), entry)
    database = f"mode_{site}_{entry}"
    proc = run_crawl("-a", f"url={url}", mongo_uri=mongo_uri, database=database,
                     data_dir=tmp_path)
    assert proc.returncode == 0, log_of(proc)
    stored = stored_articles(mongo_uri, database, key="url")
    assert set(stored) == _truth_urls(demo, site), log_of(proc)
    assert {d["source"] for d in stored.values()} == {"adhoc"}


def test_source_argument_crawls_one_source(demo: DemoServer, mongo_uri: str,
                                           tmp_path: Path) -> None:
    from crawler.demo.server import write_sources_file

    sources = tmp_path / "sources.yaml"
    write_sources_file(demo.sites, sources)
    proc = run_crawl("-a", "source=courrier", mongo_uri=mongo_uri, database="mode_source",
                     data_dir=tmp_path, settings={"NEWS_SOURCES": str(sources)})
    assert proc.returncode == 0, log_of(proc)
    stored = stored_articles(mongo_uri, "mode_source", key="url")
    assert set(stored) == _truth_urls(demo, "courrier")
    assert {d["source"] for d in stored.values()} == {"courrier"}


def test_malformed_sources_file_is_named(tmp_path: Path, mongo_uri: str) -> None:
    sources = tmp_path / "broken.yaml"
    sources.write_text("sources:\n  - name: x\n    feeds: [not-a-url]\n", encoding="utf-8")
    proc = run_crawl(mongo_uri=mongo_uri, database="mode_broken", data_dir=tmp_path,
                     settings={"NEWS_SOURCES": str(sources)})
    assert proc.returncode != 0
    assert f"{sources}: source 'x': 'feeds': 'not-a-url' is not an http(s) URL" in proc.stderr


@pytest.mark.parametrize("via", ["env", "setting"])
def test_database_down_at_start(demo: DemoServer, tmp_path: Path, via: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once closed
    demo.clear_request_log()
    uri = f"mongodb://reader:s3cret@127.0.0.1:{port}/news"
    proc = run_crawl("-a", f"url={demo.site('rundschau').feed_url}",
                     mongo_uri=uri if via == "env" else "", database="down", data_dir=tmp_path,
                     settings={"MONGO_URI": uri} if via == "setting" else None)
    assert proc.returncode != 0
    assert f"MongoDB at mongodb://reader:***@127.0.0.1:{port}/news is not reachable" in proc.stderr
    assert "s3cret" not in proc.stderr + proc.stdout
    assert demo.request_log == []  # nothing was fetched


def test_embedded_database_when_mongo_uri_is_unset(demo: DemoServer, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    proc = run_crawl("-a", f"url={demo.site('rundschau').feed_url}", mongo_uri="",
                     database="news", data_dir=data_dir)
    assert proc.returncode == 0, log_of(proc)
    assert "Started the embedded database (nx-27017)" in proc.stderr
    assert "Stopped the embedded database" in proc.stderr
    assert not (data_dir / "nx-27017.json").exists()  # nothing left running
    with EmbeddedMongo(data_dir) as server:  # the data persists in the data directory
        assert server.uri is not None
        stored = stored_articles(server.uri, "news", key="url")
    assert set(stored) == _truth_urls(demo, "rundschau")



def test_spooled_articles_are_written_at_the_next_start(demo: DemoServer, mongo_uri: str,
                                                        tmp_path: Path) -> None:
    """Articles a previous run could not write (database down) sit in the spool; the next run
    writes them before it crawls, and empties the spool."""
    from datetime import UTC, datetime

    from crawler.document import article_document
    from crawler.items import ArticleItem
    from crawler.storage.spool import Spool

    spooled = article_document(ArticleItem(
        url="https://spooled.example/2024/story.html", source="earlier",
        title="Kept through an outage", text="First paragraph.\n\nSecond paragraph.",
        published=datetime(2024, 5, 1, 6, 0, tzinfo=UTC),
        fetched_at=datetime(2024, 5, 1, 7, 0, tzinfo=UTC)))
    spool = Spool(tmp_path / "spool.jsonl")
    spool.append([spooled])
    proc = run_crawl("-a", f"url={demo.site('rundschau').feed_url}", mongo_uri=mongo_uri,
                     database="spool_replay", data_dir=tmp_path)
    assert proc.returncode == 0, log_of(proc)
    stored = stored_articles(mongo_uri, "spool_replay", key="url")
    assert stored[spooled["url"]]["title"] == "Kept through an outage"
    assert stored[spooled["url"]]["published"] == datetime(2024, 5, 1, 6, 0, tzinfo=UTC)
    assert len(stored) == 1 + len(_truth_urls(demo, "rundschau"))
    assert not spool.path.exists()
