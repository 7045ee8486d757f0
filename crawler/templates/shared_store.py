"""Site template line counts shared live by the workers of a distributed crawl, in MongoDB.

Four collections, written only with type-safe operations (insert, ``$inc`` upserts):

- ``template_sites``: ``{_id: site, pages, page_total}``, the number of distinct stories
  (``pages``, the share denominator) and of distinct pages counted;
- ``template_lines``: ``{_id: "site|line signature", site, pages, page_hits}``, in how many
  stories and on how many pages a line occurred;
- ``template_pages``: ``{_id: "site|page signature", site, at}``, the pages counted, so that a
  page's content is counted once whichever worker sees it (the insert decides);
- ``template_line_stories``: ``{_id: "site|line signature|story", site, line, story, chars,
  at}``, the (line, story) pairs counted, so that a line is counted once per story whichever
  worker sees the story's pages (the insert decides); it also says which stories a new page
  may belong to (see :func:`crawler.templates.choose_story`).

A page is assigned to a story with the stories stored here, whichever worker counted them. Two
workers counting two versions of one new story at the same instant may each start a story for
it (the story then counts twice; a line needs ``min_pages`` stories to be a template).

A site's state in ``site_templates`` (what single-process runs learn) is imported once, by the
first worker that meets the site, and the shared state is exported back there when a worker
closes, so both modes learn from each other.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from crawler.templates.local_store import TemplateStore
from crawler.templates.model import SiteTemplate, line_weights, page_signature

logger = logging.getLogger(__name__)

_DUPLICATE_KEY = 11000


class SharedTemplateStore:
    def __init__(self, db: Any, stored: TemplateStore | None = None, max_lines: int = 20_000,
                 max_seen: int = 20_000, max_stories: int = 1_000, min_pages: int = 3,
                 min_share: float = 0.1) -> None:
        self.sites: Collection[dict[str, Any]] = db["template_sites"]
        self.lines: Collection[dict[str, Any]] = db["template_lines"]
        self.pages: Collection[dict[str, Any]] = db["template_pages"]
        self.line_stories: Collection[dict[str, Any]] = db["template_line_stories"]
        self.stored = stored
        self.max_lines = max_lines
        self.max_seen = max_seen
        self.max_stories = max_stories
        self.min_pages = min_pages  # for the story a page belongs to (the template's own
        self.min_share = min_share  # thresholds are those given to template()/candidates())

    def ensure_indexes(self) -> None:
        # (site, pages): a site's possible template lines, read every few seconds, without
        # scanning all its lines; (site, at): the oldest pages, to bound the state; (site,
        # line) and (site, story): the stories a page may belong to, and their lines.
        self.lines.create_index([("site", ASCENDING), ("pages", ASCENDING)], name="site_pages")
        self.pages.create_index([("site", ASCENDING), ("at", ASCENDING)], name="site_at")
        self.line_stories.create_index([("site", ASCENDING), ("line", ASCENDING)],
                                       name="site_line")
        self.line_stories.create_index([("site", ASCENDING), ("story", ASCENDING)],
                                       name="site_story")

    def ensure_imported(self, site: str) -> bool:
        """Make the shared state of ``site`` start from ``site_templates``; True when this call
        created the site's shared state."""
        try:
            self.sites.insert_one({"_id": site, "pages": 0, "page_total": 0})
        except DuplicateKeyError:
            return False
        if self.stored is None:
            return True
        template = self.stored.load(SiteTemplate(site))
        if not template.pages:
            return True
        self.sites.update_one({"_id": site}, {"$inc": {"pages": template.pages,
                                                       "page_total": template.page_total}})
        self._increment(self.lines, [
            self._line(site, sig, count, template.page_counts.get(sig, count))
            for sig, count in template.counts.items()])
        now = datetime.now(UTC)
        self._insert(self.pages, [{"_id": f"{site}|{page}", "site": site, "at": now}
                                  for page in template.seen])
        # Oldest story first, a microsecond apart: the order of recency is kept.
        start = now - timedelta(microseconds=len(template.stories))
        self._insert(self.line_stories, [
            self._pair(site, sig, story, chars, start + timedelta(microseconds=n))
            for n, (story, lines) in enumerate(template.stories.items())
            for sig, chars in lines.items()])
        logger.info("Site %s: template state of %d stories (%d pages) imported into the shared "
                    "store", site, template.pages, template.page_total)
        return True

    def observe(self, site: str, lines: list[str]) -> int:
        """Count a page's lines unless its content was counted before (by any worker).
        Returns the site's number of stories counted."""
        return self.observe_many(site, [lines])

    def observe_many(self, site: str, pages: list[list[str]]) -> int:
        """Count several pages of a site at once (a few reads, one insert of the new (line,
        story) pairs, one ``$inc`` per line)."""
        docs: dict[str, list[str]] = {}
        for lines in pages:
            docs.setdefault(page_signature(lines), lines)
        ids = list(docs)
        now = datetime.now(UTC)
        for index in self._insert(self.pages, [{"_id": f"{site}|{i}", "site": site, "at": now}
                                               for i in ids]):
            docs.pop(ids[index], None)  # counted before
        if not docs:
            return self.pages_of([site]).get(site, 0)
        weights = {page: line_weights(lines) for page, lines in docs.items()}
        state = self._state(site, {sig for w in weights.values() for sig in w})
        stories_before, total_before = state.pages, state.page_total
        pairs: list[dict[str, Any]] = []
        page_hits: dict[str, int] = {}
        for page, page_weights in weights.items():
            story, new = state.count_page(page, page_weights)
            pairs += [self._pair(site, sig, story, page_weights[sig], now) for sig in new]
            for sig in page_weights:
                page_hits[sig] = page_hits.get(sig, 0) + 1
        failed = set(self._insert(self.line_stories, pairs))  # counted by another worker
        story_hits: dict[str, int] = {}
        for index, pair in enumerate(pairs):
            if index not in failed:
                story_hits[pair["line"]] = story_hits.get(pair["line"], 0) + 1
        self._increment(self.lines, [self._line(site, sig, story_hits.get(sig, 0), hits)
                                     for sig, hits in page_hits.items()])
        self._increment(self.sites, [UpdateOne({"_id": site}, {"$inc": {
            "pages": state.pages - stories_before, "page_total": state.page_total - total_before,
        }}, upsert=True)])
        return self.pages_of([site]).get(site, 0)

    def _state(self, site: str, sigs: set[str]) -> SiteTemplate:
        """What the shared state says of these lines: their counts, and the stories a page
        made of them may belong to (with those stories' lines and their counts)."""
        state = SiteTemplate(site, min_pages=self.min_pages, min_share=self.min_share,
                             max_stories=self.max_stories)
        doc = self.sites.find_one({"_id": site}) or {}
        state.pages = int(doc.get("pages", 0))
        state.page_total = max(state.pages, int(doc.get("page_total", 0)))
        self._read_counts(state, sigs)
        evidence = state.evidence()
        # A line left out for any story (a template by the evidence of all others, or on most
        # pages) brings no candidate: such lines are in every story.
        usable = [sig for sig in sigs
                  if not (evidence.common(sig) or evidence.template_elsewhere(sig, True))]
        if not usable:
            return state
        stories = {pair["story"] for pair in self.line_stories.find(
            {"site": site, "line": {"$in": usable}}, {"story": 1})}
        if not stories:
            return state
        found: dict[str, tuple[datetime, dict[str, int]]] = {}
        for pair in self.line_stories.find({"site": site, "story": {"$in": sorted(stories)}},
                                           {"line": 1, "story": 1, "chars": 1, "at": 1}):
            at, lines = found.setdefault(pair["story"], (pair["at"], {}))
            lines[pair["line"]] = int(pair.get("chars", 0))
            if pair["at"] > at:
                found[pair["story"]] = (pair["at"], lines)
        self._read_counts(state, {sig for _, lines in found.values() for sig in lines} - sigs)
        for story, (_, lines) in sorted(found.items(), key=lambda kv: kv[1][0]):
            state.remember_story(story, lines)
        return state

    def _read_counts(self, state: SiteTemplate, sigs: set[str]) -> None:
        if not sigs:
            return
        prefix = len(state.site) + 1
        for doc in self.lines.find({"_id": {"$in": [f"{state.site}|{sig}" for sig in sigs]}}):
            sig, count = doc["_id"][prefix:], int(doc.get("pages", 0))
            state.counts[sig] = count
            state.page_counts[sig] = max(count, int(doc.get("page_hits", 0)))

    def pages_of(self, sites: list[str]) -> dict[str, int]:
        """The sites' numbers of stories counted."""
        return {doc["_id"]: int(doc.get("pages", 0))
                for doc in self.sites.find({"_id": {"$in": sites}})}

    def template(self, site: str, lines: list[str], min_pages: int = 3,
                 min_share: float = 0.1) -> SiteTemplate:
        """What the shared state says of ``lines``: a template with the site's story count and
        the counts of these lines' signatures."""
        template = SiteTemplate(site, min_pages=min_pages, min_share=min_share)
        template.pages = self.pages_of([site]).get(site, 0)
        ids = [f"{site}|{sig}" for sig in line_weights(lines)]
        for doc in self.lines.find({"_id": {"$in": ids}}):
            template.counts[doc["_id"].split("|", 1)[1]] = int(doc.get("pages", 0))
        return template

    def candidates(self, site: str, min_pages: int = 3, min_share: float = 0.1) -> SiteTemplate:
        """The site's story count and the lines counted in at least ``min_pages`` stories (the
        only ones that can be template lines): enough to strip any page of the site."""
        template = SiteTemplate(site, min_pages=min_pages, min_share=min_share)
        template.pages = self.pages_of([site]).get(site, 0)
        for doc in self.lines.find({"site": site, "pages": {"$gte": min_pages}}):
            template.counts[doc["_id"].split("|", 1)[1]] = int(doc.get("pages", 0))
        return template

    def export(self, site: str) -> None:
        """Save the site's shared state to ``site_templates`` and bound the shared state."""
        template = SiteTemplate(site, max_lines=self.max_lines, max_seen=self.max_seen,
                                max_stories=self.max_stories)
        doc = self.sites.find_one({"_id": site}) or {}
        template.pages = int(doc.get("pages", 0))
        template.page_total = max(template.pages, int(doc.get("page_total", 0)))
        for line in self.lines.find({"site": site}).sort("pages", DESCENDING).limit(
                self.max_lines):
            sig, count = line["_id"].split("|", 1)[1], int(line.get("pages", 0))
            template.counts[sig] = count
            template.page_counts[sig] = max(count, int(line.get("page_hits", 0)))
        seen = [doc["_id"].split("|", 1)[1] for doc in
                self.pages.find({"site": site}, {"_id": 1}).sort("at", DESCENDING).limit(
                    self.max_seen)]
        template.seen = dict.fromkeys(reversed(seen))
        stories: dict[str, dict[str, int]] = {}  # most recent first
        dropped: list[str] = []
        for pair in self.line_stories.find({"site": site}, {"line": 1, "story": 1, "chars": 1}
                                           ).sort("at", DESCENDING):
            lines = stories.get(pair["story"])
            if lines is None and len(stories) >= self.max_stories:
                dropped.append(pair["_id"])
                continue
            stories.setdefault(pair["story"], {})[pair["line"]] = int(pair.get("chars", 0))
        for story, lines in reversed(stories.items()):
            template.remember_story(story, lines)
        if self.stored is not None:
            self.stored.save(template)
        self._prune(self.lines, site, "pages", self.max_lines)
        self._prune(self.pages, site, "at", self.max_seen)
        if dropped:  # the stories a page can no longer join
            self.line_stories.delete_many({"_id": {"$in": dropped}})

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
    def _line(site: str, signature: str, stories: int, pages: int) -> UpdateOne:
        return UpdateOne({"_id": f"{site}|{signature}"},
                         {"$inc": {"pages": stories, "page_hits": pages},
                          "$setOnInsert": {"site": site}}, upsert=True)

    @staticmethod
    def _pair(site: str, signature: str, story: str, chars: int, at: datetime
              ) -> dict[str, Any]:
        return {"_id": f"{site}|{signature}|{story}", "site": site, "line": signature,
                "story": story, "chars": chars, "at": at}

    @staticmethod
    def _insert(collection: Collection[dict[str, Any]], docs: list[dict[str, Any]]
                ) -> list[int]:
        """Insert, unordered; returns the indexes of the documents that were there already
        (the insert decides which worker counts them)."""
        if not docs:
            return []
        try:
            collection.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != _DUPLICATE_KEY for e in errors):
                raise
            return [int(e["index"]) for e in errors]
        return []

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
