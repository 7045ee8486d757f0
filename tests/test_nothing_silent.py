"""Nothing silent: what a crawl skipped, found nothing in, or could not fetch is said per source,
in the log and in ``newscrawl runs``; the demo prints the command it runs and never writes into
the database ``MONGO_URI`` names. Real ``scrapy crawl`` / ``newscrawl`` subprocesses."""

from __future__ import annotations

import logging
import os
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymongo
import pytest

from crawler.database import EmbeddedMongo
from crawler.demo.server import DemoServer
from crawler.warc import archive_files
from tests.conftest import ROOT, log_of, run_crawl
from tests.loopback import NOT_FOUND, LoopbackServer, Reply


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoServer]:
    with DemoServer() as server:
        yield server


def _newscrawl(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args],
                          env=dict(os.environ, PYTHONPATH=str(ROOT), **env), cwd=ROOT,
                          capture_output=True, text=True, timeout=600, check=False)


def test_entries_older_than_the_max_age_are_counted_and_named(
        demo: DemoServer, mongo_uri: str, tmp_path: Path) -> None:
    proc = run_crawl("-a", f"url={demo.site('rundschau').feed_url}", mongo_uri=mongo_uri,
                     database="silent_old", data_dir=tmp_path,
                     settings={"NEWS_MAX_AGE_DAYS": "7"})
    assert proc.returncode == 0, log_of(proc)
    log = proc.stderr
    assert ("Source adhoc: 7 listed, 0 fetched, 0 not modified, 0 new, 0 updated, 0 unchanged, "
            "0 not articles, 0 errors, 7 too old, 0 not due") in log, log_of(proc)
    assert ("Source adhoc: 7 listed entries skipped as older than 7 days "
            "(setting NEWS_MAX_AGE_DAYS; 0 keeps them)") in log
    assert ("Source adhoc: no article stored: every listed entry (7) is older than "
            "NEWS_MAX_AGE_DAYS=7") in log

    table = _newscrawl("runs", "-s", "MONGO_DATABASE=silent_old", "-s",
                       f"NEWS_DATA_DIR={tmp_path}", env={"MONGO_URI": mongo_uri})
    assert table.returncode == 0, table.stderr[-2000:]
    header, row = table.stdout.splitlines()[:2]
    cells = dict(zip(header.split(), row.split(), strict=True))  # the summary's columns
    assert (cells["outcome"], cells["source"], cells["found"], cells["old"]) == (
        "ok", "adhoc", "7", "7")
    assert [cells[c] for c in ("fetched", "new", "upd", "same", "304", "refused", "err")] == [
        "0"] * 7


def _front_page(path: str) -> Reply:
    """A site of one page that is no article and links nowhere."""
    if path != "/":
        return NOT_FOUND
    return Reply(body=b"<!DOCTYPE html><html lang='en'><head><title>Front page</title></head>"
                      b"<body><h1>Front page</h1><p>Nothing to read here yet.</p></body></html>")


def test_a_page_without_an_article_says_so_and_unknown_settings_are_warned(
        mongo_uri: str, tmp_path: Path) -> None:
    with LoopbackServer(_front_page) as site:
        proc = run_crawl("-a", f"url={site.base}/", mongo_uri=mongo_uri,
                         database="silent_none", data_dir=tmp_path,
                         settings={"NEWS_MAX_AGE_DAY": "3"})
    assert proc.returncode == 0, log_of(proc)
    assert "Source adhoc: no article stored: the 1 page(s) fetched hold no article" in \
        proc.stderr, log_of(proc)
    assert ("Unknown setting NEWS_MAX_AGE_DAY (ignored: no such NEWS_ setting, see "
            "docs/settings.md); did you mean NEWS_MAX_AGE_DAYS?") in proc.stderr


def test_a_start_url_that_answers_404_says_so(demo: DemoServer, mongo_uri: str,
                                              tmp_path: Path) -> None:
    url = f"{demo.site('courrier').base_url}/no-such-page"
    proc = run_crawl("-a", f"url={url}", mongo_uri=mongo_uri, database="silent_404",
                     data_dir=tmp_path)
    assert f"Fetch failed for {url}: Ignoring non-200 response (HTTP 404, source adhoc)" in \
        proc.stderr, log_of(proc)
    assert "source adhoc: failed entirely (1 fetch errors, nothing fetched)" in proc.stderr
    assert "'news/fetch/http_status/404': 1" in proc.stderr


def test_a_dead_port_costs_one_robots_line_and_leaves_no_warc_file(
        mongo_db: Any, mongo_uri: str, tmp_path: Path) -> None:
    """Nothing listens: robots.txt is one counted WARNING, not Scrapy's traceback and retry
    give-up; nothing fetched, so no WARC file either."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = run_crawl("-a", f"url=http://127.0.0.1:{port}/feed", mongo_uri=mongo_uri,
                     database=mongo_db.name, data_dir=tmp_path,
                     settings={"RETRY_TIMES": "0", "NEWS_RETRY_BACKOFF": "0"})
    assert proc.returncode == 0, log_of(proc)
    assert "Traceback" not in proc.stderr, log_of(proc)
    robots = [line for line in proc.stderr.splitlines() if "robots.txt" in line]
    assert len(robots) == 1, robots
    assert f"WARNING: robots.txt of 127.0.0.1:{port} not fetched (DownloadConnectionRefused" \
        in robots[0] and "crawling the site as if it allowed everything" in robots[0]
    assert proc.stats["news/politeness/robots_errors"] == 1
    assert proc.stats["log_count/ERROR"] == 1  # the feed's own fetch error, once
    assert archive_files(tmp_path / "archive") == []
    assert "news/archive/files" not in proc.stats


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.2", 0))
        port: int = sock.getsockname()[1]
        return port


def test_the_demo_uses_its_own_database_and_prints_the_exact_command(
        mongo_uri: str, tmp_path: Path) -> None:
    with EmbeddedMongo(tmp_path / "production") as production:
        assert production.uri is not None
        port = _free_port()
        proc = _newscrawl("demo", "--port", str(port), "--data-dir", str(tmp_path / "demo"),
                          env={"MONGO_URI": production.uri})
        assert proc.returncode == 0, proc.stderr[-3000:]
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(production.uri)
        try:
            assert client.list_database_names() == [] or \
                client.news.articles.count_documents({}) == 0
        finally:
            client.close()
    out = proc.stdout
    assert "MONGO_URI is set; the demo ignores it and uses its own embedded database" in out
    assert f"  {'total':<12} 21" in out, out

    # The follow-up commands it prints read the demo's data (not ./data, not MONGO_URI's), as
    # printed, from the directory it ran in.
    follow = [shlex.split(line) for line in out.splitlines() if line.startswith("  MONGO_URI= ")]
    assert [words[2] for words in follow] == ["runs", "report", "export", "reextract"], out
    assert all(words[3:5] == ["--data-dir", str(tmp_path / "demo")] for words in follow)
    for words in follow[:3:2]:  # runs and export (report and reextract read the same way)
        env = dict(os.environ, PYTHONPATH=str(ROOT), MONGO_URI=production.uri)
        env.update(word.split("=", 1) for word in words[:1])
        read = subprocess.run(words[1:], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120, check=False)
        assert read.returncode == 0, read.stderr[-2000:]
        if words[2] == "runs":
            assert len([line for line in read.stdout.splitlines() if " ok " in line]) == 3, \
                read.stdout
        else:
            assert "Exported 21 article(s)" in read.stderr, read.stderr[-2000:]

    # The printed command, run as printed (against sites on the same port), does the same.
    (running,) = [line for line in out.splitlines() if line.startswith("Running: ")]
    words = shlex.split(running.removeprefix("Running: "))
    assert words[0].startswith("MONGO_URI=")
    assert words[1] == "SCRAPY_SETTINGS_MODULE=crawler.settings"
    with DemoServer(port=port):
        again = subprocess.run(  # the demo's database is gone: the test server instead
            [*words[2:], "-s", "MONGO_DATABASE=demo_again"], cwd=tmp_path, capture_output=True,
            text=True, timeout=600, check=False,
            env=dict(os.environ, PYTHONPATH=str(ROOT), MONGO_URI=mongo_uri,
                     SCRAPY_SETTINGS_MODULE="crawler.settings"))
    assert again.returncode == 0, log_of(again)
    client = pymongo.MongoClient(mongo_uri)
    try:
        assert client.demo_again.articles.count_documents({}) == 21
    finally:
        client.drop_database("demo_again")
        client.close()


def test_summary_lines() -> None:
    from crawler.extensions.run_record import summarize
    from crawler.report.source_counts import EVENTS

    def counts(**values: int) -> dict[str, dict[str, int]]:
        return {"s": {**dict.fromkeys(EVENTS, 0), **values}}

    def lines(**values: int) -> list[tuple[int, str]]:
        return summarize(counts(**values), 7.0)[1:]  # after the counts line

    assert lines(discovered=7, fetched=7, stored_new=7) == []
    # an incremental run: listing pages fetched, every known article not due
    assert lines(fetched=3, rejected=3, skipped_not_due=7) == [
        (logging.INFO, "Source s: nothing new or changed")]
    assert lines(fetched=1, rejected=1) == [
        (logging.WARNING, "Source s: no article stored: the 1 page(s) fetched hold no article")]
    assert lines(discovered=4, skipped_too_old=4) == [
        (logging.INFO, "Source s: 4 listed entries skipped as older than 7 days "
                       "(setting NEWS_MAX_AGE_DAYS; 0 keeps them)"),
        (logging.WARNING, "Source s: no article stored: every listed entry (4) is older than "
                          "NEWS_MAX_AGE_DAYS=7")]
    # a failing source's problem is logged as an error already
    assert summarize(counts(errors=2), 7.0, ["source s: failed entirely"])[1:] == []
