"""Downstream readers: ``newscrawl db --port`` is a stable address, a feed export
(``scrapy crawl news -o out.jsonl``) has the documented stored shape, and every documented
query is served by the index docs/schema.md names (checked with ``explain()`` on nx-27017)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymongo
import pytest

from crawler.demo.server import DemoServer
from crawler.storage.article_store import ArticleStore
from tests.conftest import ROOT, log_of, run_crawl


def _documented_fields() -> set[str]:
    """The fields of the ``articles`` table in docs/schema.md."""
    text = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    section = text.split("## Collection `articles`", 1)[1].split("### Indexes", 1)[0]
    return set(re.findall(r"^\| `(\w+)` \|", section, flags=re.MULTILINE))


def test_db_serves_on_the_port_asked_for(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("MONGO_URI", None)
    db = subprocess.Popen([sys.executable, "-m", "crawler.cli", "db", "--port", str(port),
                           "--data-dir", str(tmp_path / "data")], env=env, cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert db.stdout is not None
        first = db.stdout.readline()
        assert first.strip() == f"Embedded MongoDB (nx-27017) listening at " \
                                f"mongodb://127.0.0.1:{port}", first
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
            f"mongodb://127.0.0.1:{port}", serverSelectionTimeoutMS=10000)
        try:
            assert client.admin.command("ping")["ok"] == 1
        finally:
            client.close()
        db.send_signal(signal.SIGTERM)
        assert db.wait(timeout=60) == 0
    finally:
        if db.poll() is None:
            db.kill()
            db.wait()
        if db.stdout is not None:
            db.stdout.close()


def test_feed_export_items_have_the_stored_shape(mongo_uri: str, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with DemoServer() as demo:
        proc = run_crawl("-a", f"url={demo.site('rundschau').feed_url}", "-o", str(out),
                         mongo_uri=mongo_uri, database="readers_feed", data_dir=tmp_path)
    assert proc.returncode == 0, log_of(proc)
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri)
    try:
        stored = {d["url"]: d for d in client.readers_feed.articles.find({}, {"_id": 0})}
    finally:
        client.drop_database("readers_feed")
        client.close()
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(items) == len(stored) == 7
    documented = _documented_fields()
    for item in items:
        assert set(item) == set(stored[item["url"]]), item["url"]
        assert set(item) <= documented, set(item) - documented
        assert {"first_seen", "updated_at", "story_id", "revision", "fetched_url"} <= set(item)
        assert not [key for key in item if key.startswith("_")]
        assert item["story_id"] == stored[item["url"]]["story_id"]


def test_an_unchanged_article_is_handed_on_as_stored(mongo_db: Any) -> None:
    store = ArticleStore(mongo_db.articles, mongo_db.article_revisions)
    store.ensure_indexes()
    first_fetch = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
    doc = {"url": "https://example.com/a", "title": "A", "text": "Some text here.",
           "content_hash": "h1", "fingerprint": "00000000000000ff", "fetched_at": first_fetch}
    first = store.write([dict(doc)], now=first_fetch).documents[doc["url"]]
    again = store.write([dict(doc, fetched_at=first_fetch + timedelta(hours=1))],
                        now=first_fetch + timedelta(hours=1)).documents[doc["url"]]
    for key in ("first_seen", "updated_at", "revision", "story_id", "fetched_at"):
        assert again[key] == first[key], key
    stored = mongo_db.articles.find_one({"url": doc["url"]}, {"_id": 0})
    assert set(again) == set(stored)


# (documented query, the index docs/schema.md says serves it on nx-27017: None means a scan)
QUERIES: list[tuple[str, dict[str, Any], str | None]] = [
    ("one article by url", {"url": "https://example.com/1"}, "url"),
    ("newest articles", {"published": {"$gt": datetime(2024, 1, 1, tzinfo=UTC)}},
     "published"),
    ("newest articles of one source",
     {"source": "s", "published": {"$gt": datetime(2024, 1, 1, tzinfo=UTC)}}, "published"),
    ("incremental reading", {"updated_at": {"$gt": datetime(2024, 1, 1, tzinfo=UTC)}},
     "updated_at"),
    ("stored since", {"first_seen": {"$gt": datetime(2024, 1, 1, tzinfo=UTC)}}, "first_seen"),
    ("all copies of a story", {"story_id": "x"}, "story_id"),
    ("one exact fingerprint", {"fingerprint": "00000000000000ff"}, "fingerprint"),
    # nx-27017 indexes no array field: the near-duplicate lookup scans (MongoDB: multikey)
    ("near-duplicate lookup", {"fingerprint_bands": {"$in": ["0:ff"]}}, None),
]


@pytest.mark.parametrize(("what", "query", "index"), QUERIES, ids=[q[0] for q in QUERIES])
def test_each_documented_query_uses_its_index(mongo_db: Any, what: str, query: dict[str, Any],
                                              index: str | None) -> None:
    store = ArticleStore(mongo_db.articles, mongo_db.article_revisions)
    store.ensure_indexes()
    at = datetime(2024, 6, 1, tzinfo=UTC)
    store.write([{"url": f"https://example.com/{i}", "source": "s", "published": at,
                  "fetched_at": at, "content_hash": str(i), "title": "t", "text": "x",
                  "fingerprint": f"{i * 7919:016x}"} for i in range(20)])
    plan = json.dumps(mongo_db.articles.find(query).explain()["queryPlanner"]["winningPlan"])
    if index is None:
        assert "SCAN articles" in plan and "USING INDEX" not in plan, plan
    else:
        assert f"SEARCH articles USING INDEX idx_articles_{index} " in plan, plan
    documented = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    assert f"| {what} |" in documented, what
