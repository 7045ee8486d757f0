"""The database goes away in the middle of a crawl and comes back: nothing is lost."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pymongo
from pymongo.errors import PyMongoError

from crawler.database import EmbeddedMongo
from crawler.demo.server import DemoServer, write_sources_file
from crawler.demo.truth import article_truth
from tests.conftest import ROOT


def _count(uri: str) -> int:
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        uri, serverSelectionTimeoutMS=500)
    try:
        return client.news.articles.count_documents({})
    except PyMongoError:
        return -1
    finally:
        client.close()


def test_database_lost_mid_crawl_then_back(demo: DemoServer, tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    write_sources_file(demo.sites, sources)
    server = EmbeddedMongo(tmp_path / "nx")
    uri = server.start()
    port = int(uri.rsplit(":", 1)[1])
    command = [sys.executable, "-m", "scrapy", "crawl", "news",
               "-s", f"NEWS_SOURCES={sources}", "-s", f"NEWS_DATA_DIR={tmp_path / 'data'}",
               "-s", "NEWS_ALLOWED_PRIVATE_NETWORKS=127.0.0.0/8", "-s", "NEWS_MAX_AGE_DAYS=0",
               "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0.25",
               "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "-s", "NEWS_TEMPLATE_WARMUP=2",
               "-s", "NEWS_MONGO_BATCH_SIZE=2", "-s", "NEWS_MONGO_FLUSH_INTERVAL=0.3",
               "-s", "NEWS_MONGO_TIMEOUT=0.3", "-s", "NEWS_MONGO_RETRIES=1"]
    env = dict(os.environ, MONGO_URI=uri, SCRAPY_SETTINGS_MODULE="crawler.settings",
               PYTHONPATH=str(ROOT))
    # The log goes to a file: a pipe nobody reads while the test waits would fill up and
    # hold the crawl.
    log_path = tmp_path / "crawl.log"
    log_file = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 (closed in finally)
    crawl = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=log_file, text=True)
    log = ""
    try:
        deadline = time.monotonic() + 60
        while _count(uri) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _count(uri) >= 2, "no article stored before the outage: " + log_path.read_text()
        server.stop()  # the database goes away mid-crawl
        time.sleep(6)  # longer than a batch's retries: batches go to the spool
        # The crawl goes on without the database (it may even finish meanwhile, spooling).
        assert crawl.poll() in (None, 0), "the crawl died with the database: " + \
            log_path.read_text()[-3000:]
        server = EmbeddedMongo(tmp_path / "nx", port=port)
        server.start()  # ... and comes back on the same address
        crawl.wait(timeout=300)
        log = log_path.read_text(encoding="utf-8")
        assert crawl.returncode == 0, log[-3000:]
        assert "'news/mongo/spooled'" in log, log[-3000:]
        if (tmp_path / "data" / "spool.jsonl").exists():
            # The crawl ended before the database was back: the next run writes the spool.
            again = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True,
                                   timeout=300, check=False)
            assert again.returncode == 0
            log += again.stderr
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(uri)
        urls = [d["url"] for d in client.news.articles.find()]
        client.close()
    finally:
        if crawl.poll() is None:
            crawl.kill()
            crawl.wait()
        log_file.close()
        server.stop()
    assert sorted(urls) == sorted(set(urls))  # exactly once
    assert set(urls) == set(article_truth(demo.sites)), log[-5000:]  # every article
    assert "'news/mongo/replayed'" in log, log[-3000:]
    assert not (tmp_path / "data" / "spool.jsonl").exists()
