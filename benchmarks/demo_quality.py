"""Crawl the bundled demo sites into a fresh database and score what was stored.

    .venv/bin/python benchmarks/demo_quality.py

Prints paragraph precision/recall against the sites' truth, template lines leaked and
metadata matches. Everything runs on loopback with the embedded database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pymongo

from crawler.database import EmbeddedMongo
from crawler.demo.score import score
from crawler.demo.server import DemoServer, write_sources_file

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp, EmbeddedMongo(Path(tmp) / "db") as mongo, \
            DemoServer() as server:
        assert mongo.uri is not None
        sources = Path(tmp) / "sources.yaml"
        write_sources_file(server.sites, sources)
        site_count = len(server.sites)
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "news", "-s", f"NEWS_SOURCES={sources}",
             "-s", f"NEWS_DATA_DIR={tmp}", "-s", "LOG_LEVEL=WARNING",
             "-s", "NEWS_MAX_AGE_DAYS=0", "-s", "NEWS_ALLOWED_PRIVATE_NETWORKS=127.0.0.0/8"],
            env=dict(os.environ, MONGO_URI=mongo.uri, SCRAPY_SETTINGS_MODULE="crawler.settings"),
            cwd=ROOT, check=True)
        elapsed = time.monotonic() - started
        client: pymongo.MongoClient[dict] = pymongo.MongoClient(mongo.uri, tz_aware=True)
        result = score(client.news.articles.find(), server.sites)
        client.close()
    print(f"crawl of {site_count} demo sites: {elapsed:.1f} s (default politeness)")
    for line in result.lines():
        print(line)
    for url, line in result.template_lines_leaked:
        print(f"  leaked: {line!r} in {url}")
    for url in result.articles_missing:
        print(f"  missing: {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
