"""The storage logic against the real nx-27017 server: idempotent, keeps first_seen,
moves updated_at only when content changes, and the spool keeps what could not be written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipelines.article_store import ArticleStore
from pipelines.spool import Spool

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


def _doc(url: str, text: str = "Body.", **extra: Any) -> dict[str, Any]:
    return {"url": url, "title": "T", "text": text, "content_hash": f"h:{text}",
            "published": T0, "fetched_at": T0, **extra}


def test_insert_then_rerun_changes_nothing(mongo_db: Any) -> None:
    store = ArticleStore(mongo_db.articles)
    store.ensure_indexes()
    first = store.write([_doc("a"), _doc("b"), _doc("a")], now=T0)
    assert (first.new, first.updated, first.unchanged) == (2, 0, 0)
    before = list(mongo_db.articles.find({}, {"_id": 0}).sort("url"))
    again = store.write([_doc("a"), _doc("b")], now=T0 + timedelta(hours=1))
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2)
    assert list(mongo_db.articles.find({}, {"_id": 0}).sort("url")) == before
    assert before[0]["first_seen"] == T0 and before[0]["updated_at"] == T0


def test_changed_content_updates_and_keeps_first_seen(mongo_db: Any) -> None:
    store = ArticleStore(mongo_db.articles)
    store.ensure_indexes()
    store.write([_doc("a")], now=T0)
    later = T0 + timedelta(days=1)
    result = store.write([_doc("a", text="Corrected body.", fetched_at=later)], now=later)
    assert result.updated == 1
    stored = mongo_db.articles.find_one({"url": "a"})
    assert stored["text"] == "Corrected body."
    assert stored["first_seen"] == T0
    assert stored["updated_at"] == later
    assert isinstance(stored["published"], datetime)
    assert mongo_db.articles.count_documents({}) == 1


def test_spool_round_trip_keeps_dates(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.jsonl")
    spool.append([_doc("a"), _doc("b")])
    spool.append([_doc("c")])
    with open(spool.path, "a", encoding="utf-8") as handle:
        handle.write('{"url": "torn')  # a crash mid-append
    docs = spool.read()
    assert [d["url"] for d in docs] == ["a", "b", "c"]
    assert docs[0]["published"] == T0
    spool.clear()
    assert spool.read() == []


def test_a_changed_article_keeps_its_previous_version(mongo_db: Any) -> None:
    store = ArticleStore(mongo_db.articles, mongo_db.article_revisions)
    store.ensure_indexes()
    store.write([_doc("a", text="Version one.")], now=T0)
    store.write([_doc("a", text="Version one.")], now=T0 + timedelta(hours=1))  # unchanged
    t2 = T0 + timedelta(hours=6)
    store.write([_doc("a", text="Version two.", fetched_at=t2)], now=t2)
    t3 = T0 + timedelta(hours=24)
    store.write([_doc("a", text="Version three.", fetched_at=t3)], now=t3)
    article = mongo_db.articles.find_one({"url": "a"})
    assert (article["text"], article["revision"], article["updated_at"]) == \
        ("Version three.", 3, t3)
    revisions = list(mongo_db.article_revisions.find({"url": "a"}, {"_id": 0}).sort("revision"))
    assert [(r["revision"], r["text"], r["fetched_at"]) for r in revisions] == [
        (1, "Version one.", T0), (2, "Version two.", t2)]


def test_wire_copies_share_a_story(mongo_db: Any) -> None:
    from crawler.demo.content import load_site
    from crawler.document import article_document

    paragraphs = list(load_site("harbour").articles[0].paragraphs)
    agency = "\n\n".join(paragraphs)
    edited = "\n\n".join(["HARBOUR CITY (Wire) —", *paragraphs[:-1],
                          paragraphs[-1].replace("said", "told reporters")])
    other = "\n\n".join(load_site("harbour").articles[4].paragraphs)

    def doc(url: str, text: str, hours: int) -> dict[str, Any]:
        return article_document({"url": url, "title": "T", "text": text,
                                 "fetched_at": T0 + timedelta(hours=hours)})

    store = ArticleStore(mongo_db.articles)
    store.ensure_indexes()
    store.write([doc("https://wire.example/a", agency, 0)], now=T0)
    store.write([doc("https://paper.example/b", edited, 1),
                 doc("https://other.example/c", other, 1)], now=T0 + timedelta(hours=1))
    stored = {d["url"]: d for d in mongo_db.articles.find()}
    first, copy, unrelated = (stored["https://wire.example/a"], stored["https://paper.example/b"],
                              stored["https://other.example/c"])
    assert copy["story_id"] == first["story_id"]
    assert copy["duplicate_of"] == "https://wire.example/a"
    assert first["duplicate_of"] is None and unrelated["duplicate_of"] is None
    assert unrelated["story_id"] not in (first["story_id"],)
    # A re-run changes nothing; the story ids are a function of the data, not of the process.
    before = {u: (d["story_id"], d["duplicate_of"]) for u, d in stored.items()}
    store.write([doc("https://paper.example/b", edited, 2)], now=T0 + timedelta(hours=2))
    after = {d["url"]: (d["story_id"], d["duplicate_of"]) for d in mongo_db.articles.find()}
    assert after == before
