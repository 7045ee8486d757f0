"""Incremental crawl state: what was fetched when, and when a URL is due again.

One document per canonical URL in the collection ``url_state``. The policy is plain code: a
URL listed by a feed or sitemap is fetched when it is new (and not older than the cut-off), when
its entry says it changed after the last fetch, or when its recrawl time has come. Recrawls
follow a decaying schedule after publication (``NEWS_RECRAWL_SCHEDULE``) and are conditional
requests (``If-None-Match`` / ``If-Modified-Since``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, ReplaceOne
from pymongo.collection import Collection
from scrapy.http import Response

from crawler import keys as meta_keys
from crawler.canonical import canonicalize_url
from crawler.defaults import news_float, news_get

KIND_ARTICLE = "article"
KIND_PAGE = "page"  # fetched, not an article (listing, section, static): always fetched again
KIND_UNCHANGED = "unchanged"  # a 304: the URL keeps the kind it had (page or article)
KIND_GONE = "gone"  # answered 404 or 410: fetched again only when its listing says it changed

GONE_STATUSES = frozenset({404, 410})

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_schedule(value: str | list[str]) -> list[timedelta]:
    """``"1h,6h,24h,3d"`` (or a list of such) as sorted timedeltas."""
    items = value.split(",") if isinstance(value, str) else value
    schedule = []
    for item in items:
        if not str(item).strip():
            continue
        match = _DURATION.match(str(item))
        if not match:
            raise ValueError(f"bad duration {item!r} in NEWS_RECRAWL_SCHEDULE (use e.g. 6h, 3d)")
        schedule.append(timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)]))
    return sorted(schedule)


def parse_backoff(value: str | list[str] | None) -> tuple[timedelta, timedelta] | None:
    """``NEWS_PAGE_BACKOFF``: ``"first,longest"`` (``"1h,1d"``); empty: pages never wait."""
    durations = parse_schedule(value or "")
    if not durations:
        return None
    if len(durations) != 2:
        raise ValueError(f"{value!r}: give two durations, the first wait and the longest "
                         "(e.g. 1h,1d), or nothing")
    return durations[0], durations[1]


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class Decision:
    fetch: bool
    reason: str  # new, changed, due, not_due, too_old, page


class RecrawlPolicy:
    def __init__(self, schedule: list[timedelta], max_age: timedelta | None,
                 page_backoff: tuple[timedelta, timedelta] | None = None) -> None:
        self.schedule = sorted(schedule)
        self.max_age = max_age
        # (first, longest) wait of a page whose last fetches found no new link; None: no wait
        self.page_backoff = page_backoff

    @classmethod
    def from_settings(cls, settings: Any) -> RecrawlPolicy:
        days = news_float(settings, "NEWS_MAX_AGE_DAYS")
        return cls(parse_schedule(news_get(settings, "NEWS_RECRAWL_SCHEDULE")),
                   timedelta(days=days) if days > 0 else None,
                   parse_backoff(settings.get("NEWS_PAGE_BACKOFF")))

    def decide(self, state: dict[str, Any] | None, now: datetime, *,
               published: datetime | None = None, modified: datetime | None = None,
               listed: bool = True) -> Decision:
        """Whether to fetch a URL, given its stored state and what its feed or sitemap entry
        says (``listed``) or, for a link found on a page, nothing (``listed=False``): a known
        non-article page reached by a link is fetched again, since it is how the crawl finds
        new articles; listed in a sitemap, it is fetched again only when its entry changed."""
        if state is None:
            dated = _utc(modified) or _utc(published)
            if self.max_age is not None and dated is not None and dated < now - self.max_age:
                return Decision(False, "too_old")
            return Decision(True, "new")
        if state.get("kind") == KIND_PAGE and not listed:
            due = _utc(state.get("next_recrawl"))
            if due is None or due <= now:
                return Decision(True, "page")
            return Decision(False, "not_due")
        last = _utc(state.get("last_fetched"))
        changed = _utc(modified)
        if changed is not None and (last is None or changed > last):
            return Decision(True, "changed")
        due = _utc(state.get("next_recrawl"))
        if due is not None and due <= now:
            return Decision(True, "due")
        return Decision(False, "not_due")

    def next_page_visit(self, fetched_at: datetime, empty_fetches: int) -> datetime | None:
        """When a page (not an article) reached by a link is fetched again: at every visit
        (None) while its last fetch found new links; after ``empty_fetches`` fetches in a row
        that found none, ``first`` after the last, doubled for each further one, at most
        ``longest`` (``NEWS_PAGE_BACKOFF``)."""
        if empty_fetches <= 0 or self.page_backoff is None:
            return None
        first, longest = self.page_backoff
        return fetched_at + min(first * 2 ** min(empty_fetches - 1, 30), longest)

    def next_recrawl(self, published: datetime | None, first_seen: datetime,
                     now: datetime) -> datetime | None:
        """The first schedule point after ``now``, counted from publication (or first sight)."""
        origin = _utc(published) or _utc(first_seen) or now
        for offset in self.schedule:
            if origin + offset > now:
                return origin + offset
        return None


def conditional_headers(state: dict[str, Any] | None) -> dict[str, str]:
    if not state:
        return {}
    headers = {}
    if state.get("etag"):
        headers["If-None-Match"] = str(state["etag"])
    if state.get("last_modified"):
        headers["If-Modified-Since"] = str(state["last_modified"])
    return headers


class UrlStateStore:
    """``url_state`` documents, written whole (replace by ``_id`` = URL), so dates keep their
    type on every server."""

    def __init__(self, collection: Collection[dict[str, Any]], policy: RecrawlPolicy) -> None:
        self.collection = collection
        self.policy = policy

    def ensure_indexes(self) -> None:
        self.collection.create_index([("next_recrawl", ASCENDING)], name="next_recrawl")
        self.collection.create_index([("source", ASCENDING)], name="source")

    def load(self, urls: list[str]) -> dict[str, dict[str, Any]]:
        """The stored states of ``urls``, read a few MB of URLs at a time: one query of a
        sitemap's 50,000 long URLs (the protocol's limit) could pass MongoDB's 16 MB limit on
        a command, and the whole sitemap would be fetched as new."""
        found: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(urls, LOAD_QUERY_CHARS):
            found.update((doc["_id"], doc)
                         for doc in self.collection.find({"_id": {"$in": chunk}}))
        return found

    def due(self, sources: list[str], now: datetime) -> list[dict[str, Any]]:
        """The states of the articles of ``sources`` due by ``now`` (and of URLs that answered
        404 and are due again), oldest due first: those whose last address is their own URL
        (not an alias left by a redirect, whose article has a state of its own). States
        written before ``address`` existed use their URL."""
        found: dict[str, dict[str, Any]] = {}
        for doc in self.collection.find({"next_recrawl": {"$lte": now}}):
            if doc.get("kind") not in (KIND_ARTICLE, KIND_GONE) or \
                    doc.get("source") not in sources:
                continue
            doc["address"] = doc.get("address") or doc["_id"]
            if canonicalize_url(doc["address"]) != doc["_id"]:
                continue  # an alias (a URL that redirected): its article's own state counts
            found.setdefault(doc["address"], doc)
        return sorted(found.values(), key=lambda doc: (_utc(doc["next_recrawl"]), doc["_id"]))

    def record(self, updates: list[dict[str, Any]], now: datetime | None = None) -> None:
        """Merge fetch results into the stored states and write them.

        Each update has ``url`` and what this fetch learned: ``source``, ``kind``, ``status``,
        ``etag``, ``last_modified``, ``content_hash``, ``published``, ``fetched_at`` and, for a
        page whose links were followed, ``links`` and ``new_links`` (how many of them were
        new: a page's cadence follows them, :meth:`RecrawlPolicy.next_page_visit`).
        """
        latest = {u["url"]: u for u in updates}
        if not latest:
            return
        now = now or datetime.now(UTC)
        stored = self.load(list(latest))
        operations = []
        for url, update in latest.items():
            old = stored.get(url, {})
            fetched_at = update.get("fetched_at") or now
            doc = {
                "_id": url,
                "url": url,
                "address": update.get("address") or old.get("address"),
                "source": update.get("source") or old.get("source"),
                "kind": update.get("kind") or old.get("kind") or KIND_ARTICLE,
                "first_seen": old.get("first_seen") or fetched_at,
                "last_fetched": fetched_at,
                "last_status": update.get("status"),
                "etag": update.get("etag") if "etag" in update else old.get("etag"),
                "last_modified": update.get("last_modified") if "last_modified" in update
                else old.get("last_modified"),
                "content_hash": update.get("content_hash") or old.get("content_hash"),
                "published": update.get("published") or old.get("published"),
                "fetches": int(old.get("fetches", 0)) + 1,
            }
            if doc["kind"] == KIND_ARTICLE:
                doc["next_recrawl"] = self.policy.next_recrawl(doc["published"],
                                                               doc["first_seen"], now)
            elif doc["kind"] == KIND_PAGE:
                doc["empty_fetches"] = _empty_fetches(update, old)
                doc["next_recrawl"] = self.policy.next_page_visit(
                    fetched_at, doc["empty_fetches"])
            else:  # gone: a 410 never again; a 404 (perhaps not yet published) on schedule
                doc["next_recrawl"] = None if doc["last_status"] != 404 else \
                    self.policy.next_recrawl(doc["published"], doc["first_seen"], now)
            operations.append(ReplaceOne({"_id": url}, doc, upsert=True))
        self.collection.bulk_write(operations, ordered=False)


def _empty_fetches(update: dict[str, Any], old: dict[str, Any]) -> int:
    """Fetches in a row of a page that found no new link: a 304 (nothing changed) or links
    followed and none new adds one, a new link resets it; a page whose links were not
    followed (at the depth limit, or none on the same site) tells nothing."""
    before = int(old.get("empty_fetches") or 0) if old.get("kind") == KIND_PAGE else 0
    if update.get("status") == 304:
        return before + 1
    if update.get("new_links"):
        return 0
    if update.get("links"):
        return before + 1
    return before


def validators(response: Response) -> dict[str, Any]:
    """The response's ``ETag`` and ``Last-Modified``: what the next fetch sends back."""
    found = {}
    for header, key in ((b"ETag", "etag"), (b"Last-Modified", "last_modified")):
        value = response.headers.get(header)
        if value:
            found[key] = value.decode("latin-1")
    return found


# URLs (in characters, four bytes each at most) in one read of their states: 16 MB is the
# largest command a MongoDB server takes.
LOAD_QUERY_CHARS = 2_000_000


def _chunks(urls: list[str], max_chars: int) -> list[list[str]]:
    """``urls`` in runs of at most ``max_chars`` characters (a longer URL is a run alone)."""
    chunks: list[list[str]] = []
    size = 0
    for url in urls:
        if not chunks or size + len(url) > max_chars:
            chunks.append([])
            size = 0
        chunks[-1].append(url)
        size += len(url)
    return chunks


_PERMANENT_REDIRECTS = {301, 308}


def listed_key(response: Response) -> str | None:
    """The identity of the URL that was requested (as the feed, sitemap or page listed it),
    before its redirects, when they were all permanent: the key its URL state is looked up by
    next time. After a temporary one (``/latest`` -> today's story) it is not this page's."""
    redirects = response.meta.get("redirect_urls")
    if not redirects:
        return canonicalize_url(response.url)
    if not set(response.meta.get("redirect_reasons") or [None]) <= _PERMANENT_REDIRECTS:
        return None
    return canonicalize_url(redirects[0])


def page_updates(response: Response, kind: str, now: datetime,
                 links: tuple[int, int] | None = None) -> list[dict[str, Any]]:
    """The URL state a fetch that yields no article leaves behind (``kind``: ``KIND_PAGE``
    for a page that is not an article, ``KIND_UNCHANGED`` for a 304, which keeps the kind
    the URL had: a section page that answers 304 stays a page; ``KIND_GONE`` for a 404 or
    410), under the canonical URL the server answered and the listed key. ``links``: the
    page's links followed and how many of them were new."""
    update = {**validators(response), "source": response.meta.get(meta_keys.SOURCE),
              "kind": None if kind == KIND_UNCHANGED else kind, "status": response.status,
              "fetched_at": now, "address": response.url}
    if links is not None and kind == KIND_PAGE:
        update["links"], update["new_links"] = links
    keys = dict.fromkeys([canonicalize_url(response.url), listed_key(response)])
    return [dict(update, url=key) for key in keys if key]


def article_updates(doc: dict[str, Any], fetch: dict[str, Any]) -> list[dict[str, Any]]:
    """The URL state a stored article document's fetch (``fetch``: status, url, listed, etag,
    last_modified) leaves behind, under its canonical URL and, when they differ, the canonical
    forms of the URL the server answered and of the URL that was requested before permanent
    redirects (which is what feeds list next time)."""
    update = {"url": doc["url"], "address": doc.get("fetched_url"),
              "source": doc.get("source"), "kind": KIND_ARTICLE,
              "status": fetch.get("status", 200), "etag": fetch.get("etag"),
              "last_modified": fetch.get("last_modified"), "content_hash": doc.get("content_hash"),
              "published": doc.get("published"), "fetched_at": doc.get("fetched_at")}
    keys = dict.fromkeys([doc["url"], fetch.get("url"), fetch.get("listed")])
    return [dict(update, url=key) for key in keys if key]
