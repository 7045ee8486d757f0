"""Pins every MongoDB operation the project relies on, against the nx-27017 test server.

nx-27017 has known gaps (``$set`` of a datetime on an existing document stores a string,
``$set`` of a boolean stores 1, ``$push`` of a subdocument stores a JSON string); the project
avoids them. If the server, or a
real MongoDB behind MONGO_URI, stops keeping types for an operation we use, a test here fails.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import ASCENDING, DESCENDING, ReplaceOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

WHEN = datetime(2024, 1, 15, 9, 30, 5, 123000, tzinfo=UTC)
LATER = datetime(2024, 2, 1, 12, 0, tzinfo=UTC)


def _doc(url: str, **extra: Any) -> dict[str, Any]:
    return {"url": url, "published": WHEN, "authors": ["A", "B"], "n": 3, "flag": True,
            "nested": {"k": "v"}, "none": None, **extra}


def test_create_index_unique_and_compound(mongo_db: Any) -> None:
    coll = mongo_db.articles
    coll.create_index([("url", ASCENDING)], unique=True, name="url_unique")
    coll.create_index([("source", ASCENDING), ("published", DESCENDING)], name="source_pub")
    coll.create_index([("updated_at", ASCENDING)], name="updated_at")
    # Index names are not kept by every server: look the indexes up by their keys.
    indexes = {tuple(k for k, _ in spec["key"]): spec for spec in coll.index_information().values()}
    assert indexes[("url",)].get("unique") is True
    assert ("source", "published") in indexes
    assert ("updated_at",) in indexes
    coll.insert_one({"url": "u"})
    with pytest.raises(DuplicateKeyError):
        coll.insert_one({"url": "u"})


def test_bulk_replace_upsert_keeps_types(mongo_db: Any) -> None:
    coll = mongo_db.articles
    coll.create_index("url", unique=True)
    result = coll.bulk_write([ReplaceOne({"url": "a"}, _doc("a"), upsert=True),
                              ReplaceOne({"url": "b"}, _doc("b"), upsert=True)], ordered=False)
    assert result.upserted_count == 2
    stored = coll.find_one({"url": "a"}, {"_id": 0})
    assert stored == _doc("a")
    assert isinstance(stored["published"], datetime) and stored["published"] == WHEN
    # Replacing an existing document keeps its _id and the types of the new values.
    first_id = coll.find_one({"url": "a"})["_id"]
    coll.bulk_write([ReplaceOne({"url": "a"}, _doc("a", updated_at=LATER), upsert=True)])
    again = coll.find_one({"url": "a"})
    assert again["_id"] == first_id
    assert again["updated_at"] == LATER and isinstance(again["updated_at"], datetime)
    assert coll.count_documents({}) == 2


def test_bulk_duplicate_key_is_reported(mongo_db: Any) -> None:
    coll = mongo_db.articles
    coll.create_index("url", unique=True)
    coll.insert_one({"url": "a"})
    with pytest.raises(BulkWriteError) as caught:
        coll.insert_many([{"url": "a"}], ordered=False)
    assert caught.value.details["writeErrors"][0]["code"] == 11000


def test_find_in_projection_sort_and_date_range(mongo_db: Any) -> None:
    coll = mongo_db.articles
    coll.insert_many([_doc("a", source="s"), _doc("b", source="s", published=LATER),
                      _doc("c", source="t")])
    found = list(coll.find({"url": {"$in": ["a", "b", "x"]}}, {"url": 1, "_id": 0}).sort("url"))
    assert found == [{"url": "a"}, {"url": "b"}]
    assert coll.count_documents({"source": "s"}) == 2
    assert [d["url"] for d in coll.find({"published": {"$gt": WHEN}})] == ["b"]
    newest = coll.find({"source": "s"}).sort("published", DESCENDING).limit(1)
    assert next(iter(newest))["url"] == "b"


def test_find_one_and_replace_one_upsert_by_id(mongo_db: Any) -> None:
    coll = mongo_db.site_templates
    doc = {"_id": "example.com", "pages": 2, "counts": [["ab12", 2]], "seen": ["x", "y"]}
    coll.replace_one({"_id": "example.com"}, doc, upsert=True)
    doc["pages"] = 3
    coll.replace_one({"_id": "example.com"}, doc, upsert=True)
    assert coll.find_one({"_id": "example.com"}) == doc
    assert coll.count_documents({}) == 1


def test_compound_unique_index_and_unordered_insert_many(mongo_db: Any) -> None:
    """article_revisions: (url, revision) unique; a repeated insert is a duplicate-key no-op."""
    coll = mongo_db.article_revisions
    coll.create_index([("url", ASCENDING), ("revision", ASCENDING)], unique=True)
    coll.insert_many([{"url": "a", "revision": 1, "fetched_at": WHEN},
                      {"url": "a", "revision": 2, "fetched_at": LATER}], ordered=False)
    with pytest.raises(BulkWriteError) as caught:
        coll.insert_many([{"url": "a", "revision": 2}, {"url": "b", "revision": 1}],
                         ordered=False)
    assert [e["code"] for e in caught.value.details["writeErrors"]] == [11000]
    assert coll.count_documents({}) == 3  # the non-duplicate of the batch was written
    assert coll.find_one({"url": "a", "revision": 1})["fetched_at"] == WHEN


def test_delete_many_and_drop(mongo_db: Any) -> None:
    coll = mongo_db.url_state
    coll.insert_many([{"_id": "a", "n": 1}, {"_id": "b", "n": 2}])
    assert coll.delete_many({"_id": {"$in": ["a"]}}).deleted_count == 1
    assert [d["_id"] for d in coll.find()] == ["b"]


def test_multikey_index_and_in_on_arrays(mongo_db: Any) -> None:
    """Wire-copy lookup: an index over an array field, queried with $in."""
    coll = mongo_db.articles
    coll.create_index([("fingerprint_bands", ASCENDING)])
    coll.insert_many([{"url": "a", "fingerprint_bands": ["0:1f", "1:2a"]},
                      {"url": "b", "fingerprint_bands": ["0:1e", "1:2a"]},
                      {"url": "c", "fingerprint_bands": ["0:00", "1:00"]}])
    found = sorted(d["url"] for d in coll.find({"fingerprint_bands": {"$in": ["1:2a", "9:9"]}}))
    assert found == ["a", "b"]
    assert [d["url"] for d in coll.find({"fingerprint_bands": {"$in": ["0:1f"]}})] == ["a"]


def test_inc_upserts_and_id_inserts_for_shared_templates(mongo_db: Any) -> None:
    """Distributed mode (crawler/templates/shared_store.py): line counts are ``$inc`` upserts
    with ``$setOnInsert``, unordered; a page is counted by whoever inserts its ``_id`` first."""
    from pymongo import UpdateOne

    lines = mongo_db.template_lines
    lines.create_index([("site", ASCENDING)])
    ops = [UpdateOne({"_id": f"s|{k}"}, {"$inc": {"pages": 1}, "$setOnInsert": {"site": "s"}},
                     upsert=True) for k in ("a", "b")]
    lines.bulk_write(ops, ordered=False)
    lines.bulk_write(ops[:1], ordered=False)
    lines.bulk_write([UpdateOne({"_id": "s|a"}, {"$inc": {"pages": 5},
                                                 "$setOnInsert": {"site": "s"}}, upsert=True)])
    assert list(lines.find({"site": "s"}).sort("pages", DESCENDING).limit(1)) == [
        {"_id": "s|a", "pages": 7, "site": "s"}]
    assert lines.find_one({"_id": "s|b"}) == {"_id": "s|b", "pages": 1, "site": "s"}
    pages = mongo_db.template_pages
    pages.insert_one({"_id": "s|p", "site": "s", "at": WHEN})
    with pytest.raises(DuplicateKeyError):
        pages.insert_one({"_id": "s|p", "site": "s", "at": LATER})
    assert pages.find_one({"_id": "s|p"})["at"] == WHEN
    with pytest.raises(BulkWriteError) as caught:
        pages.insert_many([{"_id": "s|p"}, {"_id": "s|q", "at": LATER}], ordered=False)
    assert [e["code"] for e in caught.value.details["writeErrors"]] == [11000]
    assert [d["_id"] for d in pages.find({"site": "s"}, {"_id": 1}).sort("at", ASCENDING)] == [
        "s|p"]
    lines.delete_many({"_id": {"$in": ["s|b"]}})
    assert lines.count_documents({"site": "s"}) == 1


def test_conditional_replace_for_distributed_run_records(mongo_db: Any) -> None:
    """crawler/distributed/run_parts.py: a run's record is replaced only by one summing at
    least as many workers' parts (``$lte`` in the filter); dates keep their type."""
    runs = mongo_db.crawl_runs
    runs.insert_one({"_id": "r", "started_at": WHEN, "finalized_parts": -1, "counts": {}})
    done = runs.replace_one({"_id": "r", "finalized_parts": {"$lte": 2}},
                            {"started_at": WHEN, "ended_at": LATER, "finalized_parts": 2,
                             "counts": {"s": {"fetched": 3}}})
    assert done.matched_count == 1
    stale = runs.replace_one({"_id": "r", "finalized_parts": {"$lte": 1}},
                             {"started_at": WHEN, "finalized_parts": 1, "counts": {}})
    assert stale.matched_count == 0
    record = runs.find_one({"_id": "r"})
    assert record["ended_at"] == LATER and isinstance(record["ended_at"], datetime)
    assert record["counts"] == {"s": {"fetched": 3}} and record["finalized_parts"] == 2


def test_fingerprint_heads_lookup_and_marking(mongo_db: Any) -> None:
    """crawler/storage/article_store.py: wire-copy candidates are the heads sharing a band (``$in``
    on an array AND a boolean); heads are marked by replacing the whole document; the
    one-time marking reads fingerprints with ``$type``; ``migrations`` is read by ``_id``."""
    coll = mongo_db.articles
    coll.create_index([("fingerprint_bands", ASCENDING)])
    coll.create_index([("fingerprint", ASCENDING)])
    coll.insert_many([
        _doc("a", fingerprint="00ff", fingerprint_bands=["0:f", "1:0"], fingerprint_head=True),
        _doc("b", fingerprint="00ff", fingerprint_bands=["0:f", "1:0"], fingerprint_head=False),
        _doc("c", fingerprint="00fe", fingerprint_bands=["0:e", "1:0"]),
        _doc("d", fingerprint=None)])
    heads = coll.find({"fingerprint_bands": {"$in": ["1:0"]}, "fingerprint_head": True})
    assert [d["url"] for d in heads] == ["a"]
    strings = {d["url"] for d in coll.find({"fingerprint": {"$type": "string"}})}
    assert strings == {"a", "b", "c"}
    assert {d["url"] for d in coll.find({"fingerprint": {"$in": ["00fe", "zz"]}})} == {"c"}
    doc = coll.find_one({"url": "c"})
    doc["fingerprint_head"] = True
    coll.bulk_write([ReplaceOne({"_id": doc["_id"]}, doc)], ordered=False)
    stored = coll.find_one({"url": "c"})
    assert stored["fingerprint_head"] is True and stored["published"] == WHEN
    assert sorted(d["url"] for d in coll.find(
        {"fingerprint_bands": {"$in": ["1:0"]}, "fingerprint_head": True})) == ["a", "c"]
    mongo_db.migrations.insert_one({"_id": "fingerprint_head", "done_at": WHEN})
    assert mongo_db.migrations.find_one({"_id": "fingerprint_head"})["done_at"] == WHEN
    with pytest.raises(DuplicateKeyError):
        mongo_db.migrations.insert_one({"_id": "fingerprint_head", "done_at": LATER})


def test_site_layouts_are_written_whole_and_read_back_with_their_types(mongo_db: Any) -> None:
    from crawler.layouts.site_layout import Layout
    from crawler.layouts.store import LayoutStore

    store = LayoutStore(mongo_db.site_layouts)
    store.ensure_indexes()
    layout = Layout(site="ledger.test", key="div.story-body", container="//div[@id='x']",
                    drops=[".//aside"], known=["aside"], sources={"published": "jsonld",
                                                                  "authors": None},
                    min_words=120, max_words=900, max_link_density=0.04, types=["newsarticle"],
                    learned_from=["http://ledger.test/a/1.html"], version=1, valid_from=WHEN)
    store.save(layout)
    store.save(Layout.from_doc({**layout.to_doc(), "version": 2}))
    layout.valid_until, layout.closed_reason = LATER, "replaced"  # closed: written whole again
    store.save(layout)
    loaded = sorted(store.load("ledger.test"), key=lambda lay: lay.version)
    assert [lay.version for lay in loaded] == [1, 2]
    assert loaded[0] == layout
    assert loaded[0].valid_until == LATER and loaded[1].valid_until is None
    assert isinstance(loaded[0].valid_from, datetime) and loaded[0].max_link_density == 0.04
    assert store.load("other.test") == []
