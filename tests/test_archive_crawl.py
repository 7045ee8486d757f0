"""The WARC archive in real crawls of the demo sites, and ``newscrawl reextract`` over it:
every fetched HTML page archived (warcio accepts the files), 304s not archived again, a
boilerplate pattern added afterwards changes exactly the articles it affects (one revision
each, idempotent), a killed reextract resumes, and an archive that cannot be written."""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymongo
import pytest
import yaml

from crawler.demo.server import DemoServer, write_sources_file
from crawler.demo.truth import article_truth, non_article_urls
from crawler.warc import ArchiveWriter, Exchange, archive_files, iter_responses, read_response
from tests.conftest import ROOT, Crawl, log_of, run_crawl
from tests.stats_file import read_stats
from tests.test_archive_files import warcio_accepts

SUMMARY = re.compile(r"Reextract (\w+)(?: \(dry run\))?: (\d+) changed, (\d+) unchanged, "
                     r"(\d+) newly articles, (\d+) newly refused "
                     r"\((\d+) still refused, (\d+) failed\)")


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoServer]:
    with DemoServer() as server:
        yield server


@pytest.fixture(scope="module")
def crawled(demo: DemoServer, mongo_uri: str,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One crawl of the demo sources, archive on (the default)."""
    base = tmp_path_factory.mktemp("warc")
    sources = base / "sources.yaml"
    write_sources_file(demo.sites, sources)
    demo.clear_request_log()
    database = "warc_e2e"
    proc = run_crawl(mongo_uri=mongo_uri, database=database, data_dir=base / "data",
                     settings={"NEWS_SOURCES": str(sources)})
    assert proc.returncode == 0, log_of(proc)
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri, tz_aware=True)
    yield {"db": client[database], "database": database, "base": base, "sources": sources,
           "data": base / "data", "archive": base / "data" / "archive", "log": proc.stderr,
           "stats": proc.stats, "requests": list(demo.request_log)}
    client.drop_database(database)
    client.close()


def reextract(*args: str, crawled: dict[str, Any], mongo_uri: str, sources: Path | None = None,
              settings: list[str] | None = None, wait: bool = True,
              ) -> subprocess.CompletedProcess[str] | subprocess.Popen[str]:
    command = [sys.executable, "-m", "crawler.cli", "reextract", *args]
    for item in [f"NEWS_SOURCES={sources or crawled['sources']}",
                 f"NEWS_DATA_DIR={crawled['data']}", f"MONGO_DATABASE={crawled['database']}",
                 "NEWS_EXTRACT_WORKERS=2", "LOG_LEVEL=INFO", *(settings or [])]:
        command += ["-s", item]
    env = dict(os.environ, MONGO_URI=mongo_uri, PYTHONPATH=str(ROOT))
    if not wait:
        log = open(crawled["base"] / f"reextract-{time.monotonic_ns()}.log", "w+")  # noqa: SIM115
        proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log, text=True)
        proc.log = log  # type: ignore[attr-defined]
        return proc
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)


def summary(log: str) -> dict[str, Any]:
    (match,) = SUMMARY.findall(log)
    keys = ("reason", "changed", "unchanged", "new_articles", "newly_refused", "still_refused",
            "failed")
    return {k: (v if k == "reason" else int(v)) for k, v in zip(keys, match, strict=True)}


def archived(crawled: dict[str, Any]) -> list[Any]:
    return [r for path in archive_files(crawled["archive"]) for r in iter_responses(path)]


def test_every_fetched_html_page_is_archived_and_warcio_reads_every_file(
        crawled: dict[str, Any], demo: DemoServer) -> None:
    files = archive_files(crawled["archive"])
    assert files
    for path in files:
        warcio_accepts(path)
    records = archived(crawled)
    urls = {r.url for r in records}
    truth = article_truth(demo.sites)
    docs = list(crawled["db"].articles.find({}))
    assert len(docs) == len(truth)
    assert {doc["fetched_url"] for doc in docs} <= urls  # every article page, as fetched
    fetched = {demo.site(r.site).base_url + r.path for r in crawled["requests"]
               if r.status == 200}
    refused = set(non_article_urls(demo.sites)) & fetched
    assert refused and refused <= urls  # and the pages that were no article
    assert all(r.status == 200 and r.date <= datetime.now(UTC) for r in records)
    assert all(r.source for r in records)
    for doc in docs:
        record = read_response(crawled["archive"], _location(doc))
        assert record.url == doc["fetched_url"]
        assert b"<html" in record.body.lower()
    assert crawled["stats"]["news/archive/records"] >= len(docs)


def _location(doc: dict[str, Any]) -> Any:
    from crawler.warc import Location

    return Location(**doc["archive"])


def test_a_304_is_not_archived_again(crawled: dict[str, Any], demo: DemoServer,
                                     mongo_uri: str) -> None:
    db = crawled["db"]
    due = sorted(doc["url"] for doc in db.articles.find({"source": "harbour"}))[:2]
    for url in due:
        state = db.url_state.find_one({"_id": url})
        db.url_state.replace_one({"_id": url}, {**state, "next_recrawl":
                                                datetime.now(UTC) - timedelta(minutes=1)})
    demo.clear_request_log()
    proc = run_crawl(mongo_uri=mongo_uri, database=crawled["database"],
                     data_dir=crawled["data"], settings={"NEWS_SOURCES": str(crawled["sources"])})
    assert proc.returncode == 0, log_of(proc)
    assert sorted(r.status for r in demo.request_log
                  if demo.site(r.site).base_url + r.path in due) == [304, 304]
    not_modified = proc.stats["downloader/response_status_count/304"]
    assert not_modified >= 2
    assert proc.stats["news/archive/not_modified"] == not_modified
    records = archived(crawled)
    for url in due:
        assert sum(r.url == url for r in records) == 1


def _boilerplate(crawled: dict[str, Any], path: Path, patterns: dict[str, list[str]]) -> Path:
    raw = yaml.safe_load(crawled["sources"].read_text(encoding="utf-8"))
    for entry in raw["sources"]:
        if entry["name"] in patterns:
            entry["boilerplate"] = patterns[entry["name"]]
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def _pattern_for(docs: list[dict[str, Any]]) -> str:
    """A pattern matching one paragraph of each of these articles."""
    lines = [doc["text"].split("\n\n")[1] for doc in docs]
    return "|".join(f"^{re.escape(line[:40])}" for line in lines)


def test_reextract_changes_exactly_the_articles_a_new_boilerplate_pattern_affects(
        crawled: dict[str, Any], mongo_uri: str) -> None:
    db = crawled["db"]
    before = {doc["url"]: doc for doc in db.articles.find({})}
    harbour = sorted((d for d in before.values() if d["source"] == "harbour"),
                     key=lambda d: d["url"])
    pattern = _pattern_for(harbour[2:4])
    compiled = re.compile(pattern)
    affected = {d["url"] for d in harbour
                if any(compiled.search(line) for line in d["text"].split("\n\n"))}
    assert len(affected) == 2
    crawled["patterns"] = {"harbour": [pattern]}  # kept by the next test
    sources = _boilerplate(crawled, crawled["base"] / "boilerplate.yaml", crawled["patterns"])

    templates = {d["_id"]: d for d in db.site_templates.find({})}
    layouts = {d["_id"]: d for d in db.site_layouts.find({})}
    report = crawled["base"] / "dry-run.jsonl"
    dry = reextract("--dry-run", crawled=crawled, mongo_uri=mongo_uri, sources=sources,
                    settings=[f"NEWS_REEXTRACT_REPORT={report}"])
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert summary(dry.stderr) | {"still_refused": 0} == {
        "reason": "finished", "changed": 2, "unchanged": len(before) - 2, "new_articles": 0,
        "newly_refused": 0, "still_refused": 0, "failed": 0}
    assert db.article_revisions.count_documents({}) == 0  # a dry run writes nothing
    assert {d["_id"]: d for d in db.site_templates.find({})} == templates
    assert {d["_id"]: d for d in db.site_layouts.find({})} == layouts
    assert {d["url"]: d["content_hash"] for d in db.articles.find({})} == {
        u: d["content_hash"] for u, d in before.items()}
    import json

    lines = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    assert {line["url"] for line in lines} == affected
    assert all("text" in line["fields"] and "word_count" in line["fields"] for line in lines)

    run = reextract(crawled=crawled, mongo_uri=mongo_uri, sources=sources)
    assert run.returncode == 0, run.stderr[-3000:]
    counts = summary(run.stderr)
    assert (counts["changed"], counts["unchanged"], counts["new_articles"],
            counts["newly_refused"]) == (2, len(before) - 2, 0, 0)
    assert "GET " not in "".join(run.stderr.splitlines()[-50:])  # nothing fetched
    after = {doc["url"]: doc for doc in db.articles.find({})}
    assert set(after) == set(before)
    revisions = list(db.article_revisions.find({}))
    assert sorted(r["url"] for r in revisions) == sorted(affected)
    assert all(r["revision"] == 1 and r["text"] == before[r["url"]]["text"] for r in revisions)
    for url, doc in after.items():
        if url in affected:
            assert doc["revision"] == 2 and doc["updated_at"] > before[url]["updated_at"]
            assert not any(compiled.search(line) for line in doc["text"].split("\n\n"))
            assert doc["template_lines_removed"] == before[url]["template_lines_removed"] + 1
        else:
            assert doc["revision"] == 1 and doc["updated_at"] == before[url]["updated_at"]
        assert doc["archive"] == before[url]["archive"]
        assert doc["first_seen"] == before[url]["first_seen"]
    assert db.reextract_checkpoints.count_documents({}) == 0  # done: nothing to resume

    again = reextract(crawled=crawled, mongo_uri=mongo_uri, sources=sources)
    assert again.returncode == 0, again.stderr[-3000:]
    assert summary(again.stderr)["changed"] == 0
    assert summary(again.stderr)["unchanged"] == len(before)
    assert db.article_revisions.count_documents({}) == 2


def test_a_killed_reextract_resumes_without_doing_anything_twice(
        crawled: dict[str, Any], mongo_uri: str) -> None:
    db = crawled["db"]
    records = archived(crawled)
    # Many more pages to reextract: copies of a listing page at distinct URLs (no articles).
    listing = next(r for r in records if r.url.rstrip("/").endswith("/section/news"))
    writer = ArchiveWriter(crawled["archive"], prefix="news-extra")
    for n in range(400):
        writer.write(Exchange(url=f"{listing.url}?page={n}", status=200,
                              headers=listing.headers, body=listing.body,
                              source=listing.source, date=listing.date))
    writer.close()
    records = archived(crawled)
    pages = len({r.url for r in records})
    revisions = db.article_revisions.count_documents({})
    before = {doc["url"]: doc for doc in db.articles.find({})}
    rundschau = sorted(d["url"] for d in before.values() if d["source"] == "rundschau")
    target = before[rundschau[1]]
    pattern = _pattern_for([target])
    sources = _boilerplate(crawled, crawled["base"] / "resume.yaml",
                           {**crawled.get("patterns", {}), "rundschau": [pattern]})
    slow = ["NEWS_EXTRACT_WORKERS=1", "CONCURRENT_REQUESTS=2", "NEWS_MONGO_BATCH_SIZE=5"]

    first = reextract(crawled=crawled, mongo_uri=mongo_uri, sources=sources, settings=slow,
                      wait=False)
    assert isinstance(first, subprocess.Popen)
    deadline = time.monotonic() + 120
    while db.reextract_checkpoints.count_documents({}) < 3 and time.monotonic() < deadline:
        assert first.poll() is None, "reextract ended before it could be killed"
        time.sleep(0.05)
    assert first.poll() is None
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    first.log.close()  # type: ignore[attr-defined]
    done = sum(len(d["done"]) for d in db.reextract_checkpoints.find({}))
    assert 0 < done < pages

    second = reextract(crawled=crawled, mongo_uri=mongo_uri, sources=sources, settings=slow)
    assert second.returncode == 0, second.stderr[-3000:]
    planned = re.search(r"Reextracting (\d+) archived page\(s\).*\((\d+) done by an earlier",
                        second.stderr)
    assert planned is not None, second.stderr[-3000:]
    assert int(planned.group(1)) == pages - int(planned.group(2))
    assert int(planned.group(2)) >= done
    counts = summary(second.stderr)
    # Every page counted once over both runs: none done twice, none left out.
    assert sum(v for k, v in counts.items() if k != "reason") == pages
    after = {doc["url"]: doc for doc in db.articles.find({})}
    assert after[target["url"]]["revision"] == target["revision"] + 1
    assert db.article_revisions.count_documents({}) == revisions + 1
    assert all(after[u]["revision"] == d["revision"] for u, d in before.items()
               if u != target["url"])
    assert db.reextract_checkpoints.count_documents({}) == 0


def test_a_crawl_killed_midway_leaves_an_archive_of_complete_records(
        demo: DemoServer, fresh_db: Any, mongo_uri: str, tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    write_sources_file(demo.sites, sources)
    archive = tmp_path / "data" / "archive"
    command = [sys.executable, "-m", "scrapy", "crawl", "news"]
    for item in (f"MONGO_DATABASE={fresh_db.name}", f"NEWS_DATA_DIR={tmp_path / 'data'}",
                 f"NEWS_SOURCES={sources}", "AUTOTHROTTLE_ENABLED=False", "DOWNLOAD_DELAY=0.3",
                 "CONCURRENT_REQUESTS_PER_DOMAIN=1", "NEWS_EXTRACT_WORKERS=1",
                 "NEWS_MONGO_FLUSH_INTERVAL=0.5", "NEWS_MAX_AGE_DAYS=0",
                 "NEWS_ALLOWED_PRIVATE_NETWORKS=127.0.0.0/8"):
        command += ["-s", item]
    env = dict(os.environ, MONGO_URI=mongo_uri, SCRAPY_SETTINGS_MODULE="crawler.settings",
               PYTHONPATH=str(ROOT))
    with (tmp_path / "crawl.log").open("w") as log:
        crawl = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log,
                                 start_new_session=True)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and crawl.poll() is None:
                files = archive_files(archive)
                if files and len(list(iter_responses(files[0]))) >= 5:
                    break
                time.sleep(0.05)
            assert crawl.poll() is None, "the crawl ended before it could be killed"
        finally:
            os.killpg(crawl.pid, signal.SIGKILL)  # the crawl and its extraction workers
            crawl.wait(timeout=30)
    (path,) = archive_files(archive)
    records = list(iter_responses(path))
    assert len(records) >= 5
    warcio_accepts(path)  # each record was written whole, or not at all
    for doc in fresh_db.articles.find({}):
        assert read_response(archive, _location(doc)).url == doc["fetched_url"]


# -- an archive that cannot be written -----------------------------------------------------------

def _limited_crawl(mongo_uri: str, database: str, data_dir: Path, sources: Path,
                   limit: int, settings: dict[str, str]) -> Crawl:
    """A crawl whose process may write no file beyond ``limit`` bytes (a full disk, as the
    archive sees it: writes fail with EFBIG)."""
    command = [sys.executable, "-m", "scrapy", "crawl", "news"]
    for key, value in {"MONGO_DATABASE": database, "NEWS_DATA_DIR": str(data_dir),
                       "NEWS_SOURCES": str(sources), "AUTOTHROTTLE_ENABLED": "False",
                       "DOWNLOAD_DELAY": "0", "NEWS_EXTRACT_WORKERS": "2",
                       "NEWS_MONGO_FLUSH_INTERVAL": "0.5", "NEWS_MAX_AGE_DAYS": "0",
                       "NEWS_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
                       "STATS_CLASS": "tests.stats_file.JsonStatsCollector",
                       "STATS_FILE": str(data_dir / "stats.json"), **settings}.items():
        command += ["-s", f"{key}={value}"]

    def limit_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = dict(os.environ, MONGO_URI=mongo_uri, SCRAPY_SETTINGS_MODULE="crawler.settings",
               PYTHONPATH=str(ROOT))
    proc = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False, preexec_fn=limit_files)
    crawl = Crawl(proc.args, proc.returncode, proc.stdout, proc.stderr)
    crawl.stats = read_stats(data_dir / "stats.json")
    return crawl


@pytest.fixture
def fresh_db(mongo_db: Any) -> Any:
    return mongo_db


def _errors(log: str) -> list[str]:
    return [line for line in log.splitlines() if "ERROR" in line and "archive" in line.lower()]


def test_an_unwritable_archive_folder_costs_one_error_line_and_no_article(
        demo: DemoServer, fresh_db: Any, mongo_uri: str, tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    write_sources_file(demo.sites, sources)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the archive folder should be")
    proc = run_crawl(mongo_uri=mongo_uri, database=fresh_db.name, data_dir=tmp_path / "data",
                     settings={"NEWS_SOURCES": str(sources),
                               "NEWS_ARCHIVE_DIR": str(blocker / "archive")})
    assert proc.returncode == 0, log_of(proc)
    errors = _errors(proc.stderr)
    assert len(errors) == 1 and "WARC archive not writable" in errors[0], errors
    assert proc.stats["news/archive/errors"] >= 1
    assert fresh_db.articles.count_documents({}) == len(article_truth(demo.sites))
    assert fresh_db.articles.count_documents({"archive": {"$exists": True}}) == 0


def test_a_full_disk_midway_keeps_the_archive_readable_and_the_articles_stored(
        demo: DemoServer, fresh_db: Any, mongo_uri: str, tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    write_sources_file(demo.sites, sources)
    proc = _limited_crawl(mongo_uri, fresh_db.name, tmp_path / "data", sources, limit=40_000,
                          settings={})
    assert proc.returncode == 0, log_of(proc)
    errors = _errors(proc.stderr)
    assert len(errors) == 1 and "File too large" in errors[0], errors
    assert proc.stats["news/archive/errors"] >= 1
    assert fresh_db.articles.count_documents({}) == len(article_truth(demo.sites))
    (path,) = archive_files(tmp_path / "data" / "archive")
    assert path.stat().st_size <= 40_000
    warcio_accepts(path)
    kept = list(iter_responses(path))
    assert kept
    located = list(fresh_db.articles.find({"archive": {"$exists": True}}))
    assert {(d["archive"]["file"], d["archive"]["offset"]) for d in located} <= {
        (r.location.file, r.location.offset) for r in kept}


def test_a_required_archive_stops_the_crawl_and_stores_no_article_without_its_page(
        demo: DemoServer, fresh_db: Any, mongo_uri: str, tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    write_sources_file(demo.sites, sources)
    proc = _limited_crawl(mongo_uri, fresh_db.name, tmp_path / "data", sources, limit=40_000,
                          settings={"NEWS_ARCHIVE_REQUIRED": "True"})
    assert "Spider closed (archive_failed)" in proc.stderr, log_of(proc)
    errors = [e for e in _errors(proc.stderr) if "WARC archive not writable" in e]
    assert len(errors) == 1 and "NEWS_ARCHIVE_REQUIRED" in errors[0]
    assert fresh_db.articles.count_documents({"archive": {"$exists": False}}) == 0
    assert fresh_db.articles.count_documents({}) < len(article_truth(demo.sites))


def test_reextract_without_an_archive_says_so_and_exits_2(tmp_path: Path, mongo_uri: str,
                                                          demo: DemoServer) -> None:
    sources = tmp_path / "sources.yaml"
    write_sources_file(demo.sites, sources)
    crawled = {"sources": sources, "data": tmp_path / "data", "database": "warc_none",
               "base": tmp_path}
    proc = reextract(crawled=crawled, mongo_uri=mongo_uri)
    assert proc.returncode == 2
    assert "No WARC archive in" in proc.stderr and "Traceback" not in proc.stderr
