"""Idempotent batched writes of article documents to MongoDB.

Only operations that keep BSON types on every server we support are used: ``find``,
``insert_many`` of new articles, ``bulk_write`` of ``ReplaceOne`` for changed ones, ``create_index``
(see tests/test_mongo_compat.py). New articles are inserted, not upserted: on nx-27017 an upsert
that matches nothing costs time in proportion to the collection (benchmarks/storage.py).
A stored article is read back, merged in Python (``first_seen`` kept, ``updated_at`` moved only
when the content changed) and replaced whole, so a re-run adds nothing and changes nothing.

Wire-copy lookups read only *fingerprint heads*: ``fingerprint_head`` is true on the earliest
stored article (by ``first_seen``, then ``url``) of each exact fingerprint (and possibly on
later ones: extra heads change nothing). :func:`crawler.stories.link_story` picks the earliest
near article, and the earliest of an exact fingerprint is always a head, so reading only heads
links exactly as reading every article sharing a band would, while a story republished a
thousand times costs one candidate instead of a thousand (benchmarks/storage.py). A head whose
text changes hands the mark to the earliest remaining article of its old fingerprint.
``ensure_indexes`` marks the heads of a collection written before the field existed.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReplaceOne
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from crawler.stories import Candidates, bands, first_key, link_story, story_id_for

logger = logging.getLogger(__name__)

_DUPLICATE_KEY = 11000
# Fields that make a new version of an article when they change.
_CONTENT_FIELDS = ("content_hash",)
_HEADS_MIGRATION = "fingerprint_head"


@dataclass
class WriteResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    outcomes: dict[str, str] = field(default_factory=dict)  # url -> new/updated/unchanged
    # url -> the article as stored (for an unchanged one: the new fetch with the stored
    # first_seen, updated_at, revision, story_id ...), for feed exports (MongoPipeline)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)


class ArticleStore:
    """``articles`` plus, when given, ``article_revisions``: the previous version of an article
    whose text or title changed, numbered from 1 (the article's own ``revision`` is the number
    of versions seen, so the stored article is always the newest revision)."""

    def __init__(self, collection: Collection[dict[str, Any]],
                 revisions: Collection[dict[str, Any]] | None = None) -> None:
        self.collection = collection
        self.revisions = revisions
        # One document per data migration done: {_id: name, done_at}.
        self.migrations = collection.database["migrations"]

    def ensure_indexes(self) -> None:
        self.collection.create_index([("url", ASCENDING)], unique=True, name="url_unique")
        self.collection.create_index([("published", DESCENDING)], name="published")
        self.collection.create_index([("source", ASCENDING), ("published", DESCENDING)],
                                     name="source_published")
        self.collection.create_index([("updated_at", ASCENDING)], name="updated_at")
        self.collection.create_index([("first_seen", ASCENDING)], name="first_seen")
        self.collection.create_index([("fingerprint_bands", ASCENDING)],
                                     name="fingerprint_bands")
        self.collection.create_index([("story_id", ASCENDING)], name="story_id")
        self.collection.create_index([("fingerprint", ASCENDING)], name="fingerprint")
        self.mark_unmarked_heads()
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
        self._follow_moves(latest)
        stored = {
            doc["url"]: doc
            for doc in self.collection.find(
                {"url": {"$in": list(latest)}},
                {"url": 1, "first_seen": 1, "updated_at": 1, "content_hash": 1, "title": 1,
                 "text": 1, "fetched_at": 1, "revision": 1, "story_id": 1, "duplicate_of": 1,
                 "fingerprint": 1, "fingerprint_head": 1, "gone_at": 1, "moved_from": 1},
            )
        }
        candidates = Candidates(self._story_candidates([
            doc for url, doc in latest.items()
            if url not in stored or any(stored[url].get(k) != doc.get(k) for k in _CONTENT_FIELDS)
        ]))
        left_groups: set[str] = set()  # fingerprints a head left: mark their next head
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
                near = candidates.near(doc.get("fingerprint"))
                link_story(doc, near)
                doc["fingerprint_head"] = _is_head(doc, near)
                candidates.add(doc)  # a later copy in the same batch links to this one
                outcome = "new"
            elif all(old.get(k) == doc.get(k) for k in _CONTENT_FIELDS):
                result.unchanged += 1
                result.outcomes[url] = "unchanged"
                result.documents[url] = _as_stored(doc, old)
                if old.get("gone_at") is not None:  # it is back: no longer gone
                    operations.append(ReplaceOne({"url": url}, result.documents[url]))
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
                if old.get("moved_from"):
                    doc["moved_from"] = old["moved_from"]
                if doc.get("fingerprint") == old.get("fingerprint"):
                    doc["fingerprint_head"] = bool(old.get("fingerprint_head"))
                else:
                    if old.get("fingerprint_head") and old.get("fingerprint"):
                        left_groups.add(old["fingerprint"])
                    doc["fingerprint_head"] = _is_head(
                        doc, candidates.near(doc.get("fingerprint")))
                    candidates.add(doc)
                outcome = "updated"
            setattr(result, outcome, getattr(result, outcome) + 1)
            result.outcomes[url] = outcome
            if doc.get("fingerprint"):
                doc["fingerprint_bands"] = bands(doc["fingerprint"])
            result.documents[url] = doc
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
        if left_groups:
            self._mark_heads(left_groups)
        return result

    def _follow_moves(self, latest: dict[str, dict[str, Any]]) -> None:
        """An article fetched through permanent redirects (its ``_fetch.listed`` URL answered
        301 or 308 to this one) stored under the listed URL moved: it becomes this URL's
        article, one document. Its document takes the new ``url`` (``first_seen``, revisions,
        story kept; ``moved_from`` lists the URLs it had); when the new URL was stored already
        (found in a listing before the old one was fetched again), that document stays, takes
        the earlier ``first_seen`` and ``moved_from``, and the old one is deleted."""
        moves = {}
        for url, doc in latest.items():
            fetch = doc.get("_fetch")
            listed = fetch.get("listed") if isinstance(fetch, dict) else None
            if isinstance(listed, str) and listed != url and listed not in latest:
                moves[listed] = url
        if not moves:
            return
        olds = {doc["url"]: doc for doc in self.collection.find({"url": {"$in": list(moves)}})}
        if not olds:
            return
        news = {doc["url"]: doc for doc in self.collection.find(
            {"url": {"$in": [moves[url] for url in olds]}})}
        heads: set[str] = set()
        for listed, old in olds.items():
            url = moves[listed]
            moved_from = list(dict.fromkeys([*old.get("moved_from", []), listed]))
            new = news.get(url)
            if new is None:  # re-keyed: the same document, and its revisions, at the new URL
                old["url"], old["moved_from"] = url, moved_from
                self.collection.replace_one({"_id": old["_id"]}, old)
                if self.revisions is not None:
                    for revision in self.revisions.find({"url": listed}):
                        revision["url"] = url
                        self.revisions.replace_one({"_id": revision["_id"]}, revision)
                continue
            new["moved_from"] = list(dict.fromkeys([*new.get("moved_from", []), *moved_from]))
            new["first_seen"] = min(first for first in (new.get("first_seen"),
                                                         old.get("first_seen")) if first)
            if new.get("duplicate_of") == listed:  # linked as a copy of itself: the original
                new["duplicate_of"] = old.get("duplicate_of")
                new["story_id"] = old.get("story_id") or new.get("story_id")
            self.collection.replace_one({"_id": new["_id"]}, new)
            self.collection.delete_one({"_id": old["_id"]})
            if old.get("fingerprint_head") and old.get("fingerprint"):
                heads.add(old["fingerprint"])
        if heads:
            self._mark_heads(heads)

    def mark_gone(self, urls: list[str], at: datetime) -> int:
        """Mark the stored articles of these (canonical) URLs gone since ``at`` (their page
        answered 404 or 410): ``gone_at`` set, the article kept, replaced whole (``$set`` of a
        date stores a string on nx-27017). One already gone keeps its first ``gone_at``; a
        later fetch that stores the article again clears it. Returns how many were marked."""
        operations = []
        for doc in self.collection.find({"url": {"$in": sorted(set(urls))}}):
            if doc.get("gone_at") is None:
                doc["gone_at"] = at
                operations.append(ReplaceOne({"_id": doc["_id"]}, doc))
        if operations:
            self.collection.bulk_write(operations, ordered=False)
        return len(operations)

    def _mark_heads(self, fingerprints: set[str]) -> int:
        """Mark the earliest article of each of ``fingerprints`` as its head (replaced whole:
        ``$set`` does not keep every type on nx-27017, tests/test_mongo_compat.py)."""
        groups: dict[str, list[dict[str, Any]]] = {}
        for doc in self.collection.find({"fingerprint": {"$in": sorted(fingerprints)}},
                                        {"url": 1, "first_seen": 1, "fingerprint": 1,
                                         "fingerprint_head": 1, "_id": 0}):
            groups.setdefault(doc["fingerprint"], []).append(doc)
        heads = [min(group, key=first_key) for group in groups.values()]
        urls = sorted(head["url"] for head in heads if head.get("fingerprint_head") is not True)
        if not urls:
            return 0
        operations = []
        for doc in self.collection.find({"url": {"$in": urls}}):
            doc["fingerprint_head"] = True
            operations.append(ReplaceOne({"_id": doc["_id"]}, doc))
        self.collection.bulk_write(operations, ordered=False)
        return len(operations)

    def mark_unmarked_heads(self, chunk: int = 500) -> int:
        """Mark the heads among the articles stored before ``fingerprint_head`` existed, once
        (recorded in ``migrations`` as ``fingerprint_head``; afterwards this is one lookup by
        ``_id``). An article without the field is not a head."""
        if self.migrations.find_one({"_id": _HEADS_MIGRATION}) is not None:
            return 0
        fingerprints = sorted({doc["fingerprint"] for doc in self.collection.find(
            {"fingerprint": {"$type": "string"}}, {"fingerprint": 1, "_id": 0})})
        marked = 0
        for start in range(0, len(fingerprints), chunk):
            marked += self._mark_heads(set(fingerprints[start:start + chunk]))
        if marked:
            logger.info("Marked %d fingerprint head(s) among the articles stored before "
                        "fingerprint_head existed", marked)
        with contextlib.suppress(DuplicateKeyError):  # another process finished it as well
            self.migrations.insert_one({"_id": _HEADS_MIGRATION, "done_at": datetime.now(UTC)})
        return marked

    def _story_candidates(self, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Stored fingerprint heads sharing a fingerprint band with one of ``docs``."""
        keys = sorted({key for doc in docs if doc.get("fingerprint")
                       for key in bands(doc["fingerprint"])})
        if not keys:
            return []
        return list(self.collection.find(
            {"fingerprint_bands": {"$in": keys}, "fingerprint_head": True},
            {"url": 1, "fingerprint": 1, "story_id": 1, "duplicate_of": 1, "first_seen": 1,
             "_id": 0}))


def _as_stored(doc: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """An unchanged refetch as the stored article it matches (which is not rewritten)."""
    kept = {key: old.get(key) for key in ("first_seen", "updated_at", "revision", "story_id",
                                          "duplicate_of", "fetched_at")}
    stored = {**doc, **kept, "fingerprint_head": bool(old.get("fingerprint_head"))}
    if old.get("moved_from"):
        stored["moved_from"] = old["moved_from"]
    if stored.get("fingerprint"):
        stored["fingerprint_bands"] = bands(stored["fingerprint"])
    return stored


def _is_head(doc: dict[str, Any], candidates: list[dict[str, Any]]) -> bool:
    """Whether no article of ``doc``'s exact fingerprint seen so far comes before it."""
    fingerprint = doc.get("fingerprint")
    if not fingerprint:
        return False
    key = first_key(doc)
    return not any(c.get("fingerprint") == fingerprint and c["url"] != doc["url"]
                   and first_key(c) < key for c in candidates)
