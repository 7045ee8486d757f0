"""Idempotent batched writes of article documents to MongoDB.

Only operations that keep BSON types on every server we support are used: ``find``,
``insert_many`` of new articles, ``bulk_write`` of ``ReplaceOne`` for changed ones, ``create_index``
(see tests/test_mongo_compat.py). New articles are inserted, not upserted: on nx-27017 an upsert
that matches nothing costs time in proportion to the collection (benchmarks/storage.py).
A stored article is read back, merged in Python (``first_seen`` kept, ``updated_at`` moved only
when the content changed) and replaced whole, so a re-run adds nothing and changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReplaceOne
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError

from crawler.stories import bands, link_story, story_id_for

logger = logging.getLogger(__name__)

_DUPLICATE_KEY = 11000
# Fields that make a new version of an article when they change.
_CONTENT_FIELDS = ("content_hash",)


@dataclass
class WriteResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    outcomes: dict[str, str] = field(default_factory=dict)  # url -> new/updated/unchanged


class ArticleStore:
    """``articles`` plus, when given, ``article_revisions``: the previous version of an article
    whose text or title changed, numbered from 1 (the article's own ``revision`` is the number
    of versions seen, so the stored article is always the newest revision)."""

    def __init__(self, collection: Collection[dict[str, Any]],
                 revisions: Collection[dict[str, Any]] | None = None) -> None:
        self.collection = collection
        self.revisions = revisions

    def ensure_indexes(self) -> None:
        self.collection.create_index([("url", ASCENDING)], unique=True, name="url_unique")
        self.collection.create_index([("published", DESCENDING)], name="published")
        self.collection.create_index([("source", ASCENDING), ("published", DESCENDING)],
                                     name="source_published")
        self.collection.create_index([("updated_at", ASCENDING)], name="updated_at")
        self.collection.create_index([("fingerprint_bands", ASCENDING)],
                                     name="fingerprint_bands")
        self.collection.create_index([("story_id", ASCENDING)], name="story_id")
        if self.revisions is not None:
            self.revisions.create_index([("url", ASCENDING), ("revision", ASCENDING)],
                                        unique=True, name="url_revision")

    def write(self, docs: list[dict[str, Any]], now: datetime | None = None) -> WriteResult:
        """Upsert documents by ``url``; the last of several with one URL wins."""
        latest = {doc["url"]: doc for doc in docs}
        if not latest:
            return WriteResult()
        try:
            return self._write(latest, now or datetime.now(UTC))
        except BulkWriteError as exc:
            if all(e.get("code") == _DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
                # Another writer inserted one of these URLs in between: merge again.
                logger.info("Concurrent insert of %d article(s); merging again",
                            len(exc.details["writeErrors"]))
                return self._write(latest, now or datetime.now(UTC))
            raise

    def _write(self, latest: dict[str, dict[str, Any]], now: datetime) -> WriteResult:
        stored = {
            doc["url"]: doc
            for doc in self.collection.find(
                {"url": {"$in": list(latest)}},
                {"url": 1, "first_seen": 1, "updated_at": 1, "content_hash": 1, "title": 1,
                 "text": 1, "fetched_at": 1, "revision": 1, "story_id": 1, "duplicate_of": 1},
            )
        }
        new_docs = [doc for url, doc in latest.items() if url not in stored]
        candidates = self._story_candidates(new_docs)
        result = WriteResult()
        operations = []
        inserts: list[dict[str, Any]] = []
        previous_versions = []
        for url, doc in latest.items():
            doc = {k: v for k, v in doc.items() if k != "_id" and not k.startswith("_")}
            old = stored.get(url)
            if old is None:
                doc["first_seen"] = doc.get("fetched_at") or now
                doc["updated_at"] = now
                doc["revision"] = 1
                link_story(doc, candidates)
                candidates.append(doc)  # a later copy in the same batch links to this one
                outcome = "new"
            elif all(old.get(k) == doc.get(k) for k in _CONTENT_FIELDS):
                result.unchanged += 1
                result.outcomes[url] = "unchanged"
                continue
            else:
                number = int(old.get("revision") or 1)
                previous_versions.append({
                    "url": url, "revision": number, "title": old.get("title"),
                    "text": old.get("text"), "content_hash": old.get("content_hash"),
                    "fetched_at": old.get("fetched_at"), "superseded_at": now})
                doc["first_seen"] = old.get("first_seen") or doc.get("fetched_at") or now
                doc["updated_at"] = now
                doc["revision"] = number + 1
                doc["story_id"] = old.get("story_id") or story_id_for(url)
                doc["duplicate_of"] = old.get("duplicate_of")
                outcome = "updated"
            setattr(result, outcome, getattr(result, outcome) + 1)
            result.outcomes[url] = outcome
            if doc.get("fingerprint"):
                doc["fingerprint_bands"] = bands(doc["fingerprint"])
            if outcome == "new":
                inserts.append(doc)
            else:
                operations.append(ReplaceOne({"url": url}, doc, upsert=True))
        if previous_versions and self.revisions is not None:
            # Before the article is replaced: a crash in between repeats this insert, which the
            # unique (url, revision) index turns into a no-op.
            try:
                self.revisions.insert_many(previous_versions, ordered=False)
            except BulkWriteError as exc:
                if any(e.get("code") != _DUPLICATE_KEY for e in exc.details["writeErrors"]):
                    raise
        if operations:
            self.collection.bulk_write(operations, ordered=False)
        if inserts:
            # A URL inserted by another writer since the find raises a duplicate-key error,
            # which write() answers by merging again.
            self.collection.insert_many(inserts, ordered=False)
        return result

    def _story_candidates(self, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Stored articles sharing a fingerprint band with one of ``docs``."""
        keys = sorted({key for doc in docs if doc.get("fingerprint")
                       for key in bands(doc["fingerprint"])})
        if not keys:
            return []
        return list(self.collection.find(
            {"fingerprint_bands": {"$in": keys}},
            {"url": 1, "fingerprint": 1, "story_id": 1, "duplicate_of": 1, "first_seen": 1,
             "_id": 0}))
