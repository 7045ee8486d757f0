"""A hanging site and a dead site among good ones; a crawl stopped with SIGTERM or Ctrl-C (once:
a clean stop that stores nothing dirty; twice: at once, losing nothing written)."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pymongo
import pytest
from scrapy.utils.test import get_crawler

from crawler.demo.server import DemoServer, write_sources_file
from crawler.demo.truth import article_truth, boilerplate_lines
from crawler.extensions.retry_backoff import RetryBackoff
from crawler.run import EXIT_FAILED, EXIT_INTERRUPTED
from tests.conftest import ROOT

COMMON = ["NEWS_ALLOWED_PRIVATE_NETWORKS=127.0.0.0/8", "NEWS_MAX_AGE_DAYS=0",
          "AUTOTHROTTLE_ENABLED=False", "DOWNLOAD_DELAY=0", "LOG_LEVEL=INFO"]


class _Hanging(BaseHTTPRequestHandler):
    """Answers nothing for a long time, and records when each request came."""

    def do_GET(self) -> None:
        self.server.hits.append(time.monotonic())  # type: ignore[attr-defined]
        time.sleep(20)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hanging() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.5", 0), _Hanging)
    server.daemon_threads = True
    server.hits = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _newscrawl(args: list[str], settings: list[str], uri: str, **popen: Any) -> Any:
    command = [sys.executable, "-m", "crawler.cli", *args]
    for item in settings:
        command += ["-s", item]
    env = dict(os.environ, MONGO_URI=uri, PYTHONPATH=str(ROOT))
    if popen:
        return subprocess.Popen(command, env=env, cwd=ROOT, text=True, **popen)
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)


def test_backoff_doubles() -> None:
    middleware = RetryBackoff(get_crawler(), base=1.0, maximum=5.0)
    assert [middleware.delay(n) for n in range(5)] == [0.0, 1.0, 2.0, 4.0, 5.0]


def test_hanging_and_dead_sites_do_not_hold_up_the_others(
        demo: DemoServer, hanging: ThreadingHTTPServer, mongo_uri: str, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    host, port = hanging.server_address[:2]
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        f"sources:\n"
        f"  - name: good\n    feeds: [{demo.site('rundschau').feed_url}]\n"
        f"  - name: hanging\n    feeds: [http://{host!s}:{port}/rss.xml]\n"
        f"  - name: dead\n    start_urls: [http://127.0.0.1:{dead}/]\n", encoding="utf-8")
    started = time.monotonic()
    proc = _newscrawl(["run", "--sources", str(sources)],
                      [*COMMON, "MONGO_DATABASE=faults_sites", f"NEWS_DATA_DIR={tmp_path}",
                       "DOWNLOAD_TIMEOUT=2", "RETRY_TIMES=2", "NEWS_RETRY_BACKOFF=0.5",
                       "ROBOTSTXT_OBEY=False"], mongo_uri)
    elapsed = time.monotonic() - started
    assert proc.returncode == EXIT_FAILED, proc.stderr[-3000:]
    assert "source hanging: failed entirely" in proc.stderr
    assert "source dead: failed entirely" in proc.stderr
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri)
    try:
        assert client.faults_sites.articles.count_documents({"source": "good"}) == 7
    finally:
        client.drop_database("faults_sites")
        client.close()
    hits = hanging.hits  # type: ignore[attr-defined]
    assert len(hits) == 3  # the first try and RETRY_TIMES retries, no more
    gaps = [b - a for a, b in itertools.pairwise(hits)]
    # each gap: the 2 s timeout, plus a backoff that doubles (0.5 s, then 1 s)
    assert 2.4 <= gaps[0] < gaps[1] <= 6, gaps
    assert elapsed < 60


def test_sigterm_writes_what_was_extracted(demo: DemoServer, mongo_uri: str,
                                           tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    write_sources_file(demo.sites, sources)
    database = "faults_sigterm"
    settings = [*COMMON, f"MONGO_DATABASE={database}", f"NEWS_DATA_DIR={tmp_path}",
                "DOWNLOAD_DELAY=0.5", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
                "NEWS_MONGO_BATCH_SIZE=1000", "NEWS_MONGO_FLUSH_INTERVAL=60"]
    log = open(tmp_path / "run.log", "w+")  # noqa: SIM115
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri)
    try:
        proc = _newscrawl(["run", "--sources", str(sources)], settings, mongo_uri,
                          stdout=log, stderr=log)
        article_paths = ("/politik/", "/wirtschaft/", "/sport/", "/kultur/", "/region/",
                         "/article/", "/2024/")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            fetched = [r for r in demo.requests()
                       if r.status == 200 and r.path.startswith(article_paths)]
            if len(fetched) >= 4:
                break
            time.sleep(0.05)
        # Nothing is written yet (batches of 1000, flushed every 60 s): all in the buffer.
        assert client[database].articles.count_documents({}) == 0
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=120) == EXIT_INTERRUPTED
        log.seek(0)
        text = log.read()
        (run,) = client[database].crawl_runs.find()
        assert (run["status"], run["outcome"]) == ("interrupted", "failed")
        assert run["problems"][0].startswith("interrupted by SIGTERM: the crawl stopped early")
        runs = _newscrawl(["runs"], [f"MONGO_DATABASE={database}"], mongo_uri)
        assert runs.returncode == 0, runs.stderr[-2000:]
        assert " interrupted " in runs.stdout and "! interrupted by SIGTERM" in runs.stdout
        scraped = int(text.split("'item_scraped_count': ")[1].split(",")[0]) \
            if "'item_scraped_count'" in text else 0
        stored = client[database].articles.count_documents({})
        assert scraped >= 1, text[-3000:]
        assert stored == scraped  # every article extracted before the stop was written
        # the next run finishes the crawl, storing nothing twice
        again = _newscrawl(["run", "--sources", str(sources)], settings, mongo_uri)
        assert again.returncode == 0, again.stderr[-3000:]
        urls = [d["url"] for d in client[database].articles.find()]
        assert len(urls) == len(set(urls)) == 21
    finally:
        log.close()
        client.drop_database(database)
        client.close()


_ARTICLE_PATHS = ("/politik/", "/wirtschaft/", "/sport/", "/kultur/", "/region/", "/article/",
                  "/2024/")


def _articles_fetched(demo: DemoServer) -> list[str]:
    return [r.path for r in demo.requests() if r.status == 200
            and r.path.startswith(_ARTICLE_PATHS)]


def _dirty(docs: list[dict[str, Any]], demo: DemoServer) -> list[str]:
    """The stored articles whose text holds a line of their site's template."""
    lines = [line for site in boilerplate_lines(demo.sites).values() for line in site]
    return [doc["url"] for doc in docs if any(line in doc["text"] for line in lines)]


def _interrupt(demo: DemoServer, mongo_uri: str, tmp_path: Path, database: str,
               settings: list[str], ready: Any, signals: list[signal.Signals],
               ) -> tuple[int, str, float]:
    """``newscrawl run`` of the demo sites, sent ``signals`` (0.2 s apart) once ``ready()``:
    its exit code, its log and the seconds from the last signal to its end."""
    sources = tmp_path / "sources.yaml"
    write_sources_file(demo.sites, sources)
    with open(tmp_path / "run.log", "w+") as log:
        proc = _newscrawl(["run", "--sources", str(sources)],
                          [*settings, f"MONGO_DATABASE={database}"], mongo_uri,
                          stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 60
            while not ready() and time.monotonic() < deadline:
                time.sleep(0.05)
            for number, signum in enumerate(signals):
                if number:
                    time.sleep(0.2)
                proc.send_signal(signum)
            sent = time.monotonic()
            code = proc.wait(timeout=120)
            took = time.monotonic() - sent
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        log.seek(0)
        return code, log.read(), took


def test_ctrl_c_stores_no_article_before_its_sites_template_is_learned(
        demo: DemoServer, mongo_uri: str, tmp_path: Path) -> None:
    """Ctrl-C while new sites' articles are held for their template: none of them is stored
    with the template's lines, nor marked fetched; the next run fetches them and stores them
    clean."""
    database = "faults_sigint"
    settings = [*COMMON, f"NEWS_DATA_DIR={tmp_path}", "DOWNLOAD_DELAY=0.5",
                "CONCURRENT_REQUESTS_PER_DOMAIN=1", "NEWS_MONGO_FLUSH_INTERVAL=0.5"]
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri)
    db = client[database]
    try:
        code, text, _ = _interrupt(demo, mongo_uri, tmp_path, database, settings,
                                   lambda: len(_articles_fetched(demo)) >= 4, [signal.SIGINT])
        assert code == EXIT_INTERRUPTED, text[-3000:]
        fetched = {url for url in article_truth(demo.sites)
                   if "/" + url.split("/", 3)[3] in _articles_fetched(demo)}
        docs = list(db.articles.find())
        assert _dirty(docs, demo) == []
        assert all(doc["template_lines_removed"] > 0 for doc in docs)
        stored = {doc["url"] for doc in docs}
        assert len(fetched - stored) >= 4  # held, not stored ...
        assert "held article(s) not stored" in text, text[-3000:]
        marked = {state["_id"] for state in db.url_state.find({"kind": "article"})}
        assert marked <= stored  # ... and not marked fetched
        (run,) = db.crawl_runs.find()
        assert (run["status"], run["outcome"]) == ("interrupted", "failed")
        assert run["problems"][0].startswith("interrupted by SIGINT: the crawl stopped early; ")
        assert "held article(s) not stored" in run["problems"][0]

        demo.clear_request_log()
        again = _newscrawl(["run", "--sources", str(tmp_path / "sources.yaml")],
                           [*COMMON, f"NEWS_DATA_DIR={tmp_path}", f"MONGO_DATABASE={database}"],
                           mongo_uri)
        assert again.returncode == 0, again.stderr[-3000:]
        refetched = {url for url in article_truth(demo.sites)
                     if "/" + url.split("/", 3)[3] in _articles_fetched(demo)}
        assert fetched - stored <= refetched
        docs = list(db.articles.find())
        assert sorted(doc["url"] for doc in docs) == sorted(article_truth(demo.sites))
        assert _dirty(docs, demo) == []
    finally:
        client.drop_database(database)
        client.close()


def test_a_second_signal_stops_at_once_and_loses_nothing_written(
        demo: DemoServer, mongo_uri: str, tmp_path: Path) -> None:
    """Ctrl-C twice: the run stops at once, recorded interrupted; every article whose URL is
    marked fetched is stored; the next run completes the crawl, nothing twice."""
    database = "faults_sigint_twice"
    common = [*COMMON, f"NEWS_DATA_DIR={tmp_path}"]
    settings = [*common, "DOWNLOAD_DELAY=0.3", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
                "NEWS_TEMPLATE_WARMUP=2", "NEWS_MONGO_BATCH_SIZE=1"]  # articles stored early
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri)
    db = client[database]
    try:
        code, text, took = _interrupt(
            demo, mongo_uri, tmp_path, database, settings,
            lambda: db.articles.count_documents({}) >= 3, [signal.SIGINT, signal.SIGINT])
        assert code == EXIT_INTERRUPTED, text[-3000:]
        assert took < 10, text[-3000:]
        assert "Received SIGINT again: stopping at once" in text
        assert "Traceback" not in text, text[-3000:]
        stored = {doc["url"] for doc in db.articles.find()}
        assert 3 <= len(stored) < 21
        marked = {state["_id"] for state in db.url_state.find({"kind": "article"})}
        assert marked <= stored
        (run,) = db.crawl_runs.find()
        assert (run["status"], run["finish_reason"]) == ("interrupted", "stopped at once")
        assert run["problems"] == ["interrupted by SIGINT then SIGINT: stopped at once; the "
                                   "articles not written yet are fetched again next run"]

        again = _newscrawl(["run", "--sources", str(tmp_path / "sources.yaml")],
                           [*common, f"MONGO_DATABASE={database}"], mongo_uri)
        assert again.returncode == 0, again.stderr[-3000:]
        urls = [doc["url"] for doc in db.articles.find()]
        assert sorted(urls) == sorted(set(urls)) == sorted(article_truth(demo.sites))
        assert sorted(r["status"] for r in db.crawl_runs.find()) == ["finished", "interrupted"]
    finally:
        client.drop_database(database)
        client.close()
