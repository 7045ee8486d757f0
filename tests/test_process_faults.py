"""A hanging site and a dead site among good ones; a crawl stopped with SIGTERM."""

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
from crawler.extensions.retry_backoff import RetryBackoff
from crawler.run import EXIT_FAILED
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
        proc.wait(timeout=120)
        log.seek(0)
        text = log.read()
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
