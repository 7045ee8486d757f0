"""``newscrawl run`` as cron runs it: incremental runs on an evolving site, revisions, the run
lock, a SIGKILLed run, exit codes, ``newscrawl runs`` and ``newscrawl export``."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymongo
import pytest

from crawler.demo.content import load_site
from crawler.demo.server import DemoServer, write_sources_file
from crawler.demo.sites import layout_for
from crawler.demo.truth import article_truth
from crawler.run import EXIT_FAILED, EXIT_LOCKED, EXIT_OK
from tests.conftest import ROOT

FAST = ["AUTOTHROTTLE_ENABLED=False", "DOWNLOAD_DELAY=0", "NEWS_EXTRACT_WORKERS=2",
        "NEWS_MONGO_FLUSH_INTERVAL=0.5", "NEWS_MAX_AGE_DAYS=0", "LOG_LEVEL=INFO",
        "NEWS_ALLOWED_PRIVATE_NETWORKS=127.0.0.0/8"]


def newscrawl(*args: str, mongo_uri: str, database: str, data_dir: Path,
              settings: list[str] | None = None, wait: bool = True,
              ) -> subprocess.CompletedProcess[str] | subprocess.Popen[str]:
    command = [sys.executable, "-m", "crawler.cli", *args]
    if args[0] in ("run", "runs", "export"):
        for item in [*FAST, f"MONGO_DATABASE={database}", f"NEWS_DATA_DIR={data_dir}",
                     *(settings or [])]:
            command += ["-s", item]
    env = dict(os.environ, MONGO_URI=mongo_uri, PYTHONPATH=str(ROOT))
    if not wait:  # output to a file: a full pipe would block the crawl
        log = open(data_dir / f"newscrawl-{time.monotonic_ns()}.log", "w+")  # noqa: SIM115
        proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log, text=True)
        proc.log = log  # type: ignore[attr-defined]
        return proc
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)


@pytest.fixture
def db(mongo_uri: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    name = f"cron_{request.node.name[:40]}".replace("[", "_").replace("]", "")
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri, tz_aware=True)
    client.drop_database(name)
    yield client[name]
    client.drop_database(name)
    client.close()


def _paths(demo: DemoServer, site: str) -> list[tuple[str, int]]:
    return sorted((r.path, r.status) for r in demo.requests(site))


def test_evolving_site_second_run_fetches_only_what_is_new_changed_or_due(
        demo: DemoServer, db: Any, mongo_uri: str, tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    write_sources_file(demo.sites, sources)
    args = ("run", "--sources", str(sources))
    first = newscrawl(*args, mongo_uri=mongo_uri, database=db.name, data_dir=tmp_path)
    assert first.returncode == EXIT_OK, first.stderr[-3000:]
    assert db.articles.count_documents({}) == 21
    first_requests = len(demo.requests())

    # Between the runs: on the harbour site (found through its news sitemap) one article gains
    # a paragraph, one new article appears, and two articles become due for a recrawl.
    content = load_site("harbour")
    edited, due = content.articles[3], content.articles[1:3]
    time.sleep(1.1)  # the edit is later than run 1's fetch, also once truncated to the second
    now = datetime.now(UTC).replace(microsecond=0)
    added = dataclasses.replace(
        content.articles[0], slug="harbour-night-market-returns", ref="50120",
        headline="Night market returns to the harbour front after four years",
        published=now - timedelta(minutes=30), modified=None, links=(),
        paragraphs=("The night market is back on the harbour front, organisers said on Friday, "
                    "with forty stalls, two bands and a ferry that runs until midnight.",
                    *content.articles[0].paragraphs[1:]))
    correction = "Correction: an earlier version of this story misstated the vote count."
    revised = dataclasses.replace(edited, modified=now,
                                  paragraphs=(*edited.paragraphs, correction))
    articles = list(content.articles)
    articles[3] = revised
    demo.set_content("harbour", dataclasses.replace(content, articles=(*articles, added)))
    layout = layout_for("harbour", demo.site("harbour").base_url)
    due_urls = [layout.article_url(a) for a in due]
    _make_due(db, due_urls, now)
    demo.clear_request_log()

    second = newscrawl(*args, mongo_uri=mongo_uri, database=db.name, data_dir=tmp_path)
    assert second.returncode == EXIT_OK, second.stderr[-3000:]

    harbour = _paths(demo, "harbour")
    path = lambda url: "/" + url.split("/", 3)[3]  # noqa: E731
    assert harbour == sorted([
        ("/robots.txt", 200), ("/sitemap.xml", 200), ("/sitemap-news.xml.gz", 200),
        ("/sitemap-pages.xml", 200),
        (path(layout.article_url(added)), 200),      # new
        (path(layout.article_url(revised)), 200),    # changed: its lastmod moved
        *[(path(u), 304) for u in due_urls],          # due: conditional request, unchanged
    ])
    # The feed site and the home-page site: no article fetched again.
    article_paths = {path(u) for u in article_truth(demo.sites)}
    for site in ("rundschau", "courrier"):
        assert not {p for p, _ in _paths(demo, site)} & article_paths
    assert len(demo.requests()) < first_requests / 2

    stored = db.articles.find_one({"url": layout.article_url(revised)})
    assert stored["text"].endswith(correction) and stored["revision"] == 2
    assert stored["modified"] == now
    assert stored["updated_at"] > stored["first_seen"]
    revisions = list(db.article_revisions.find({}))
    assert [(r["url"], r["revision"]) for r in revisions] == [(stored["url"], 1)]
    assert correction not in revisions[0]["text"]
    assert db.articles.count_documents({}) == 22
    assert db.articles.find_one({"url": layout.article_url(added)})["revision"] == 1

    runs = list(db.crawl_runs.find().sort("started_at", 1))
    assert [r["outcome"] for r in runs] == ["ok", "ok"]
    counts = runs[1]["counts"]["harbour"]
    assert (counts["fetched"], counts["not_modified"], counts["stored_new"], counts["updated"],
            counts["unchanged"]) == (2, 2, 1, 1, 0)
    assert runs[0]["counts"]["harbour"]["stored_new"] == 7
    assert runs[1]["counts"]["rundschau"]["fetched"] == 0

    table = newscrawl("runs", mongo_uri=mongo_uri, database=db.name, data_dir=tmp_path)
    assert table.returncode == 0
    assert "harbour" in table.stdout and "ok" in table.stdout

    since = (runs[1]["started_at"] - timedelta(seconds=1)).isoformat()
    out = tmp_path / "export.jsonl"
    exported = newscrawl("export", "--since", since, "--out", str(out), mongo_uri=mongo_uri,
                         database=db.name, data_dir=tmp_path)
    assert exported.returncode == 0, exported.stderr[-2000:]
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {line["url"] for line in lines} == {layout.article_url(added),
                                              layout.article_url(revised)}
    assert list(lines[0]) == ["url", "source", "site", "title", "text", "language", "published",
                              "published_zone", "modified", "authors", "tags", "section",
                              "site_name", "description", "image", "paywalled", "word_count",
                              "content_hash", "revision", "first_seen", "fetched_at",
                              "updated_at", "schema_version"]
    assert lines[0]["published"].endswith("Z")
    assert lines[0]["published_zone"] == "stated"  # the demo sites state their offsets


def _make_due(db: Any, urls: list[str], now: datetime) -> None:
    for url in urls:
        state = db.url_state.find_one({"_id": url})
        assert state is not None, url
        db.url_state.replace_one({"_id": url}, {**state,
                                                "next_recrawl": now - timedelta(minutes=1)})


def test_a_second_run_started_meanwhile_exits_with_the_lock_code(
        demo: DemoServer, db: Any, mongo_uri: str, tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    write_sources_file(demo.sites, sources)
    slow = ["DOWNLOAD_DELAY=0.3", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]
    first = newscrawl("run", "--sources", str(sources), mongo_uri=mongo_uri, database=db.name,
                      data_dir=tmp_path, settings=slow, wait=False)
    assert isinstance(first, subprocess.Popen)
    try:
        _wait_for(lambda: bool(demo.requests()), "the first run to start fetching")
        second = newscrawl("run", "--sources", str(sources), mongo_uri=mongo_uri,
                           database=db.name, data_dir=tmp_path)
        assert second.returncode == EXIT_LOCKED
        assert "Not crawling: another newscrawl run" in second.stderr
        assert "Spider opened" not in second.stderr
    finally:
        err = _finish(first)
    assert first.returncode == EXIT_OK, err[-3000:]
    urls = [d["url"] for d in db.articles.find()]
    assert len(urls) == len(set(urls)) == 21
    assert db.crawl_runs.count_documents({}) == 1


def test_a_killed_run_is_finished_by_the_next_one(demo: DemoServer, db: Any, mongo_uri: str,
                                                  tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    write_sources_file(demo.sites, sources)
    slow = ["DOWNLOAD_DELAY=0.6", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
            "NEWS_TEMPLATE_WARMUP=2", "NEWS_MONGO_BATCH_SIZE=1"]
    first = newscrawl("run", "--sources", str(sources), mongo_uri=mongo_uri, database=db.name,
                      data_dir=tmp_path, settings=slow, wait=False)
    assert isinstance(first, subprocess.Popen)
    _wait_for(lambda: db.articles.count_documents({}) >= 2, "some articles to be stored")
    first.send_signal(signal.SIGKILL)
    _finish(first)
    killed_at = db.articles.count_documents({})
    assert 2 <= killed_at < 21

    second = newscrawl("run", "--sources", str(sources), mongo_uri=mongo_uri, database=db.name,
                       data_dir=tmp_path)
    assert second.returncode == EXIT_OK, second.stderr[-3000:]
    urls = [d["url"] for d in db.articles.find()]
    assert len(urls) == len(set(urls)) == 21
    assert set(urls) == set(article_truth(demo.sites))
    statuses = sorted(r["status"] for r in db.crawl_runs.find())
    assert statuses == ["finished", "killed"]


def test_exit_code_names_the_source_that_failed(demo: DemoServer, db: Any, mongo_uri: str,
                                                 tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        f"sources:\n  - name: good\n    feeds: [{demo.site('rundschau').feed_url}]\n"
        f"  - name: gone\n    feeds: [http://127.0.0.1:{dead}/rss.xml]\n", encoding="utf-8")
    proc = newscrawl("run", "--sources", str(sources), mongo_uri=mongo_uri, database=db.name,
                     data_dir=tmp_path, settings=["RETRY_TIMES=0"])
    assert proc.returncode == EXIT_FAILED
    assert "source gone: failed entirely" in proc.stderr
    assert db.articles.count_documents({"source": "good"}) == 7
    (run,) = db.crawl_runs.find()
    assert run["outcome"] == "failed" and run["problems"][0].startswith("source gone")


def test_json_logs(demo: DemoServer, db: Any, mongo_uri: str, tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    write_sources_file(demo.sites[:1], sources)
    proc = newscrawl("run", "--sources", str(sources), "--log-json", mongo_uri=mongo_uri,
                     database=db.name, data_dir=tmp_path)
    assert proc.returncode == EXIT_OK, proc.stderr[-2000:]
    records = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]
    assert len(records) > 5
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert any("finished: ok" in r["message"] for r in records)


def _finish(proc: subprocess.Popen[str]) -> str:
    """Wait for a background newscrawl and return its log."""
    proc.wait(timeout=300)
    log = proc.log  # type: ignore[attr-defined]
    log.seek(0)
    text = log.read()
    log.close()
    return str(text)


def _wait_for(condition: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_health_rules() -> None:
    from crawler.extensions.run_record import judge
    from crawler.report.source_counts import EVENTS

    def counts(**values: int) -> dict[str, dict[str, int]]:
        return {"s": {**dict.fromkeys(EVENTS, 0), **values}}

    assert judge(counts(discovered=7, fetched=7, stored_new=7)) == []
    # a no-change run: listing pages fetched, the known articles not due
    assert judge(counts(fetched=6, rejected=6, skipped_not_due=7)) == []
    assert judge(counts(fetched=6, rejected=6))[0].startswith("source s: no article among 6")
    assert "extraction health collapsed" in judge(counts(fetched=8, empty_text=6, rejected=6))[0]
    assert "failed entirely" in judge(counts(errors=3))[0]


def test_health_shares() -> None:
    from crawler.report.source_counts import EVENTS, health

    counts = {"s": {**dict.fromkeys(EVENTS, 0), "fetched": 10, "empty_text": 1, "rejected": 2,
                    "articles": 8, "no_date": 2, "no_author": 4, "paywalled": 1, "fast": 6},
              "idle": dict.fromkeys(EVENTS, 0)}
    assert health(counts) == {
        "s": {"empty_text": 0.1, "rejected": 0.2, "no_date": 0.25, "no_author": 0.5,
              "paywalled": 0.125, "fast": 0.75},
        "idle": dict.fromkeys(["empty_text", "rejected", "no_date", "no_author", "paywalled",
                               "fast"], 0.0)}
