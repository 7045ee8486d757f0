from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from crawler.url_state import (
    KIND_PAGE,
    LOAD_QUERY_CHARS,
    RecrawlPolicy,
    UrlStateStore,
    _chunks,
    conditional_headers,
    parse_schedule,
)

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
POLICY = RecrawlPolicy(parse_schedule("1h,6h,24h,3d"), max_age=timedelta(days=7))


def test_parse_schedule() -> None:
    assert parse_schedule("6h, 1h,3d") == [H, 6 * H, timedelta(days=3)]
    with pytest.raises(ValueError, match="bad duration"):
        parse_schedule("soon")


def test_new_entries_are_fetched_unless_older_than_the_cutoff() -> None:
    assert POLICY.decide(None, NOW, published=NOW - H).reason == "new"
    assert POLICY.decide(None, NOW).reason == "new"  # no date: cannot tell, fetch
    assert POLICY.decide(None, NOW, published=NOW - timedelta(days=8)) == \
        POLICY.decide(None, NOW, modified=NOW - timedelta(days=8))
    assert not POLICY.decide(None, NOW, published=NOW - timedelta(days=8)).fetch


def test_known_entries_are_fetched_when_changed_or_due() -> None:
    state: dict[str, Any] = {"last_fetched": NOW - 2 * H, "next_recrawl": NOW + H}
    assert POLICY.decide(state, NOW).reason == "not_due"
    assert POLICY.decide(state, NOW, modified=NOW - H).reason == "changed"
    assert POLICY.decide(state, NOW, modified=NOW - 3 * H).reason == "not_due"
    assert POLICY.decide({**state, "next_recrawl": NOW - H}, NOW).reason == "due"
    assert POLICY.decide({**state, "next_recrawl": None}, NOW).reason == "not_due"
    page = {"kind": KIND_PAGE, "last_fetched": NOW - 2 * H, "next_recrawl": None}
    assert POLICY.decide(page, NOW, listed=False).reason == "page"  # a link: discovery page
    assert POLICY.decide(page, NOW).reason == "not_due"  # listed in a sitemap, unchanged
    assert POLICY.decide(page, NOW, modified=NOW - H).reason == "changed"


def test_decaying_schedule_then_never() -> None:
    published = NOW - 2 * H
    assert POLICY.next_recrawl(published, published, NOW) == published + 6 * H
    assert POLICY.next_recrawl(published, published, published + 30 * H) == \
        published + timedelta(days=3)
    assert POLICY.next_recrawl(published, published, published + timedelta(days=4)) is None
    # no publication date: counted from first sight
    assert POLICY.next_recrawl(None, NOW, NOW) == NOW + H


def test_conditional_headers() -> None:
    assert conditional_headers(None) == {}
    stamp = "Sat, 01 Jun 2024 10:00:00 GMT"
    assert conditional_headers({"etag": '"abc"', "last_modified": stamp}) == {
        "If-None-Match": '"abc"', "If-Modified-Since": stamp}


def test_store_keeps_first_seen_and_validators(mongo_db: Any) -> None:
    store = UrlStateStore(mongo_db.url_state, POLICY)
    store.ensure_indexes()
    store.record([{"url": "u", "source": "s", "status": 200, "etag": '"v1"',
                   "published": NOW - 2 * H, "fetched_at": NOW}], now=NOW)
    later = NOW + 7 * H
    store.record([{"url": "u", "status": 304, "fetched_at": later}], now=later)
    state = store.load(["u", "missing"])["u"]
    assert state["first_seen"] == NOW and state["last_fetched"] == later
    assert state["etag"] == '"v1"' and state["source"] == "s"
    assert state["fetches"] == 2 and state["last_status"] == 304
    assert state["next_recrawl"] == NOW - 2 * H + timedelta(hours=24)


def test_a_sitemap_too_long_for_one_query_is_read_whole(mongo_db: Any) -> None:
    """50,000 URLs of 400 characters (a sitemap at the protocol's limit) are 20 MB: one query
    of them is larger than a MongoDB server takes (pymongo: DocumentTooLarge), and every one
    would have been fetched as new. The states are read in parts."""
    store = UrlStateStore(mongo_db.url_state, POLICY)
    urls = [f"http://127.0.0.2/{'a' * 370}/story-{i:06d}.html" for i in range(50_000)]
    known = [urls[0], urls[24_999], urls[-1]]
    store.record([{"url": u, "source": "s", "status": 200, "fetched_at": NOW} for u in known],
                 now=NOW)
    assert sum(map(len, urls)) > 16 * 1024 * 1024
    assert sorted(store.load(urls)) == sorted(known)


def test_the_parts_are_small_and_keep_every_url() -> None:
    urls = [f"u{i}" * 50 for i in range(1000)] + ["x" * (LOAD_QUERY_CHARS + 1)]
    chunks = _chunks(urls, LOAD_QUERY_CHARS)
    assert [u for chunk in chunks for u in chunk] == urls
    assert all(sum(map(len, c)) <= LOAD_QUERY_CHARS for c in chunks if len(c) > 1)
