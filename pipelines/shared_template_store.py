"""Site template line counts shared live by the workers of a distributed crawl, in MongoDB.

Three collections, written only with type-safe operations (insert, ``$inc`` upserts):

- ``template_sites``: ``{_id: site, pages}``, the number of distinct pages counted;
- ``template_lines``: ``{_id: "site|line signature", site, pages}``, on how many of them a line
  occurred;
- ``template_pages``: ``{_id: "site|page signature", site, at}``, the pages counted, so that a
  page's content is counted once whichever worker sees it (the insert decides).

A site's state in ``site_templates`` (what single-process runs learn) is imported once, by the
first worker that meets the site, and the shared state is exported back there when a worker
closes, so both modes learn from each other.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from crawler.templates import SiteTemplate, line_signature, page_signature
from pipelines.template_store import TemplateStore

logger = logging.getLogger(__name__)

_DUPLICATE_KEY = 11000


class SharedTemplateStore:
    def __init__(self, db: Any, stored: TemplateStore | None = None, max_lines: int = 20_000,
                 max_seen: int = 20_000) -> None:
        self.sites: Collection[dict[str, Any]] = db["template_sites"]
        self.lines: Collection[dict[str, Any]] = db["template_lines"]
        self.pages: Collection[dict[str, Any]] = db["template_pages"]
        self.stored = stored
        self.max_lines = max_lines
        self.max_seen = max_seen

    def ensure_indexes(self) -> None:
        # (site, pages): a site's possible template lines, read every few seconds, without
        # scanning all its lines; (site, at): the oldest pages, to bound the state.
        self.lines.create_index([("site", ASCENDING), ("pages", ASCENDING)], name="site_pages")
        self.pages.create_index([("site", ASCENDING), ("at", ASCENDING)], name="site_at")

    def ensure_imported(self, site: str) -> bool:
        """Make the shared state of ``site`` start from ``site_templates``; True when this call
        created the site's shared state."""
        try:
            self.sites.insert_one({"_id": site, "pages": 0})
        except DuplicateKeyError:
            return False
        if self.stored is None:
            return True
        template = self.stored.load(SiteTemplate(site))
        if not template.pages:
            return True
        self.sites.update_one({"_id": site}, {"$inc": {"pages": template.pages}})
        self._increment(self.lines, [self._line(site, sig, count)
                                     for sig, count in template.counts.items()])
        now = datetime.now(UTC)
        pages = [{"_id": f"{site}|{page}", "site": site, "at": now} for page in template.seen]
        if pages:
            try:
                self.pages.insert_many(pages, ordered=False)
            except BulkWriteError as exc:
                if any(e.get("code") != _DUPLICATE_KEY for e in exc.details["writeErrors"]):
                    raise
        logger.info("Site %s: template state of %d pages imported into the shared store", site,
                    template.pages)
        return True

    def observe(self, site: str, lines: list[str]) -> int:
        """Count a page's lines unless its content was counted before (by any worker).
        Returns the site's number of pages counted."""
        return self.observe_many(site, [lines])

    def observe_many(self, site: str, pages: list[list[str]]) -> int:
        """Count several pages of a site at once (one insert, one ``$inc`` per line)."""
        docs: dict[str, list[str]] = {}
        for lines in pages:
            docs.setdefault(f"{site}|{page_signature(lines)}", lines)
        ids = list(docs)
        now = datetime.now(UTC)
        try:
            self.pages.insert_many([{"_id": i, "site": site, "at": now} for i in ids],
                                   ordered=False)
        except BulkWriteError as exc:  # pages counted before: only those fail
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != _DUPLICATE_KEY for e in errors):
                raise
            for error in errors:
                docs.pop(ids[error["index"]], None)
        counts: dict[str, int] = {}
        for lines in docs.values():
            for sig in {line_signature(line) for line in lines}:
                counts[sig] = counts.get(sig, 0) + 1
        if docs:
            self._increment(self.lines, [self._line(site, sig, n) for sig, n in counts.items()])
            self._increment(self.sites, [UpdateOne({"_id": site}, {"$inc": {"pages": len(docs)}},
                                                   upsert=True)])
        return self.pages_of([site]).get(site, 0)

    def pages_of(self, sites: list[str]) -> dict[str, int]:
        return {doc["_id"]: int(doc.get("pages", 0))
                for doc in self.sites.find({"_id": {"$in": sites}})}

    def template(self, site: str, lines: list[str], min_pages: int = 3,
                 min_share: float = 0.1) -> SiteTemplate:
        """What the shared state says of ``lines``: a template with the site's page count and
        the counts of these lines' signatures."""
        ids = [f"{site}|{sig}" for sig in {line_signature(line) for line in lines}]
        template = SiteTemplate(site, min_pages=min_pages, min_share=min_share)
        template.pages = self.pages_of([site]).get(site, 0)
        for doc in self.lines.find({"_id": {"$in": ids}}):
            template.counts[doc["_id"].split("|", 1)[1]] = int(doc.get("pages", 0))
        return template

    def candidates(self, site: str, min_pages: int = 3, min_share: float = 0.1) -> SiteTemplate:
        """The site's page count and the lines counted on at least ``min_pages`` pages (the
        only ones that can be template lines): enough to strip any page of the site."""
        template = SiteTemplate(site, min_pages=min_pages, min_share=min_share)
        template.pages = self.pages_of([site]).get(site, 0)
        for doc in self.lines.find({"site": site, "pages": {"$gte": min_pages}}):
            template.counts[doc["_id"].split("|", 1)[1]] = int(doc.get("pages", 0))
        return template

    def export(self, site: str) -> None:
        """Save the site's shared state to ``site_templates`` and bound the shared state."""
        template = SiteTemplate(site, max_lines=self.max_lines, max_seen=self.max_seen)
        template.pages = self.pages_of([site]).get(site, 0)
        for doc in self.lines.find({"site": site}).sort("pages", DESCENDING).limit(
                self.max_lines):
            template.counts[doc["_id"].split("|", 1)[1]] = int(doc.get("pages", 0))
        seen = [doc["_id"].split("|", 1)[1] for doc in
                self.pages.find({"site": site}, {"_id": 1}).sort("at", DESCENDING).limit(
                    self.max_seen)]
        template.seen = dict.fromkeys(reversed(seen))
        if self.stored is not None:
            self.stored.save(template)
        self._prune(self.lines, site, "pages", self.max_lines)
        self._prune(self.pages, site, "at", self.max_seen)

    @staticmethod
    def _prune(collection: Collection[dict[str, Any]], site: str, key: str, limit: int) -> None:
        """Past ``limit`` documents, keep the top three quarters by ``key``."""
        count = collection.count_documents({"site": site})
        if count <= limit:
            return
        drop = [doc["_id"] for doc in collection.find({"site": site}, {"_id": 1}).sort(
            key, ASCENDING).limit(count - limit * 3 // 4)]
        collection.delete_many({"_id": {"$in": drop}})

    @staticmethod
    def _line(site: str, signature: str, count: int) -> UpdateOne:
        return UpdateOne({"_id": f"{site}|{signature}"},
                         {"$inc": {"pages": count}, "$setOnInsert": {"site": site}}, upsert=True)

    @staticmethod
    def _increment(collection: Collection[dict[str, Any]], operations: list[UpdateOne]) -> None:
        """``$inc`` upserts, unordered. Two workers upserting one new document at once may
        make one of them fail with a duplicate key: only those operations are repeated."""
        for _attempt in range(5):
            if not operations:
                return
            try:
                collection.bulk_write(operations, ordered=False)
                return
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors", [])
                if not errors or any(e.get("code") != _DUPLICATE_KEY for e in errors):
                    raise
                operations = [operations[e["index"]] for e in errors]
        collection.bulk_write(operations, ordered=False)
