"""A crawl of a hostile site (tests/hostile_site.py): the crawl finishes, the good articles are
stored, nothing corrupt is stored, and every bad input leaves a counted stat."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pymongo
import pytest

from crawler.discovery import parse_feed
from crawler.document import article_document
from crawler.encoding import mislabeled_utf8
from crawler.extraction.metadata import normalize_language
from crawler.items import ArticleItem
from tests.conftest import log_of, run_crawl
from tests.hostile_site import (
    GONE_PAGES,
    HARBOUR_PATH,
    LISTED_TIMES,
    PASSWD_MARKER,
    RUNDSCHAU_PATH,
    HostileSite,
)

# Pages of the site that are articles despite what was done to them; any other stored URL
# would be a page that should not have been stored.
MAY_BE_STORED = {HARBOUR_PATH, RUNDSCHAU_PATH, "/bad/long-title.html", "/bad/year-9999.html",
                 "/bad/year-1900.html", "/bad/language.html", "/bad/control-chars.html",
                 "/bad/deep-jsonld.html", "/bad/cp1252-as-utf8.html", "/bad/truncated.html",
                 "/bad/two-documents.html",
                 "/bad/xxe-entry.html", "/bad/undated-9999.html", "/bad/undated-1900.html",
                 "/article/temperature-lac-record-surface-0587.html"}  # the UTF-16 page


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory,
          mongo_uri: str) -> Iterator[tuple[HostileSite, Any, dict[str, Any], list[Any]]]:
    tmp = tmp_path_factory.mktemp("hostile")
    with HostileSite() as site:
        proc = run_crawl(
            "-a", f"url={site.index_url}", mongo_uri=mongo_uri, database="hostile",
            data_dir=tmp, settings={
                # 4 MB: the 50,000-URL sitemap (3.2 MB) fits, the 10 MB pages do not.
                "DOWNLOAD_MAXSIZE": "4000000",
                "NEWS_EXTRACT_TIMEOUT": "10",  # /bad/slow.html takes ~25 s; others < 1 s
                "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
            })
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri,
                                                                          tz_aware=True)
        database = client["hostile"]
        everything = [doc for name in database.list_collection_names()
                      for doc in database[name].find()]
        articles = list(database.articles.find({}, {"_id": 0}))
        client.drop_database("hostile")
        client.close()
        yield site, proc, {"articles": articles, "everything": everything}, site.requests


def test_the_crawl_finishes(crawl: tuple[HostileSite, Any, dict[str, Any], list[Any]]) -> None:
    _site, proc, _db, _requests = crawl
    assert proc.returncode == 0, log_of(proc)
    stats = proc.stats
    assert stats["finish_reason"] == "finished", log_of(proc)
    assert "spider_exceptions/count" not in stats, log_of(proc)
    # Known and harmless: a replacement extraction worker, started just as the pool closes at
    # the end of the crawl, fails to start (multiprocessing spawn bootstrap). Any other
    # traceback is a failure.
    tracebacks = proc.stderr.split("Traceback (most recent call last):")[1:]
    unexpected = [t for t in tracebacks if "multiprocessing/spawn.py" not in t.split("\n", 3)[2]]
    assert unexpected == [], log_of(proc)


def test_the_good_articles_are_stored(
        crawl: tuple[HostileSite, Any, dict[str, Any], list[Any]]) -> None:
    site, proc, db, _requests = crawl
    stored = {d["url"]: d for d in db["articles"]}
    for url, title in site.good.items():
        assert url in stored, log_of(proc)
        assert stored[url]["title"] == title
        assert len(stored[url]["text"]) > 1000
    assert {u.removeprefix(site.base) for u in stored} <= MAY_BE_STORED
    # Nothing that is an article was lost on the way.
    assert {u.removeprefix(site.base) for u in stored} == MAY_BE_STORED, log_of(proc)


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, f"{path}[]")


def test_nothing_corrupt_is_stored(
        crawl: tuple[HostileSite, Any, dict[str, Any], list[Any]]) -> None:
    site, _proc, db, _requests = crawl
    now = datetime.now(UTC)
    assert db["articles"]
    for doc in db["articles"]:
        for path, text in _strings(doc):
            bad = [c for c in text if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F
                   or c in "\ufffd\ufeff\u200b"]
            assert not bad, (doc["url"], path, bad[:5])
        assert doc["title"] and len(doc["title"]) <= 1000
        for key in ("published", "modified", "fetched_at"):
            if doc.get(key) is not None:
                assert datetime(1990, 1, 1, tzinfo=UTC) <= doc[key] <= now + timedelta(days=2)
        assert doc["language"] is None or normalize_language(doc["language"]) == doc["language"]
    by_path = {d["url"].removeprefix(site.base): d for d in db["articles"]}
    assert len(by_path["/bad/long-title.html"]["title"]) == 1000
    assert by_path["/bad/control-chars.html"]["title"].startswith("Waterfront")
    assert by_path["/bad/language.html"]["language"] == "en"
    # the story of the second document pasted after </html> is stored whole
    assert by_path["/bad/two-documents.html"]["text"] == by_path[HARBOUR_PATH]["text"]
    cp1252 = by_path["/bad/cp1252-as-utf8.html"]["text"]
    assert "mittelständische" in cp1252  # repaired, not U+FFFD
    # The XXE feed's entity was never resolved: no /etc/passwd anywhere in the database.
    assert PASSWD_MARKER not in json.dumps(db["everything"], default=str)


def test_every_bad_input_is_counted(
        crawl: tuple[HostileSite, Any, dict[str, Any], list[Any]]) -> None:
    site, proc, _db, requests = crawl
    stats = proc.stats
    log = proc.stderr
    expected = {
        "news/discovery/bad_sitemap": 1,   # billion laughs (entity declarations refused)
        "news/discovery/recovered": 2,     # malformed sitemap (1 entry), XXE feed (loose parser)
        "news/discovery/bad_gzip": 1,      # .xml.gz bomb
        "news/discovery/bad_feed": 1,      # malformed feed
        "news/discovery/bad_url": 2,       # "javascript:...", "http://[bad-ipv6/"
        "news/url_guard/bad_scheme": 3,    # file:, data:, ftp: in the sitemap
        "news/url_guard/private_address": 3,  # [::1] listed, 302 to 0.0.0.0, refresh to [::1]
        "news/fetch/error/DownloadCancelledError": 2,  # 10 MB declared, 10 MB streamed
        "news/extract/timeout": 1,         # /bad/slow.html
        "news/extract/metadata_errors": 1,  # /bad/deep-jsonld.html
        "news/page/not_text": 2,           # PDF, JPEG
        "news/page/encoding_repaired": 1,  # Windows-1252 declared as UTF-8
        "robotstxt/response_count": 1,     # binary garbage robots.txt, crawl goes on
    }
    assert {key: stats.get(key, 0) for key in expected} == expected, log_of(proc)
    # Every HTML page served whole was extracted (or given up after the time limit).
    html_pages = [path for path, reply in site.routes.items()
                  if reply.status == 200 and (reply.content_type or "").startswith("text/html")
                  and reply.stream is None and reply.length is None and not reply.headers
                  and "/loop/" not in path and "refresh" not in path]
    assert len(html_pages) == 23
    assert stats["news/page/extracted"] + stats["news/extract/timeout"] == len(html_pages)
    # The 50,000-URL sitemap: 250 pages listed 200 times each (tracking parameters), each
    # fetched once (404, counted), the other spellings dropped as duplicates.
    assert stats["dupefilter/filtered"] >= GONE_PAGES * (LISTED_TIMES - 1)
    assert len([p for p in requests if p.startswith("/g/")]) == GONE_PAGES
    assert stats["news/source/adhoc/discovered"] >= GONE_PAGES * LISTED_TIMES
    # Ignored (IgnoreRequest/HttpError), each logged: the 250 404s, the 6 refused URLs, the
    # redirect loop, the gzip bomb, the redirect to file:// that Scrapy does not follow (302),
    # the listed URL with a NUL byte (404), the malformed sitemap's one URL (404).
    assert stats["news/fetch/ignored"] == GONE_PAGES + 6 + 5
    assert "/bad/never" in requests
    assert "max redirections reached" in log
    assert "gzip-bomb.html: Ignored response" in log or "during decompression" in log
    assert "redirect-to-file.html: Ignoring non-200 response" in log
    assert "/etc/passwd" not in "".join(requests)


def test_out_of_range_feed_dates_are_dropped() -> None:
    feed = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>d</title>'
            b"<item><title>A</title><link>http://e.com/a</link>"
            b"<pubDate>Fri, 31 Dec 9999 23:59:59 GMT</pubDate></item>"
            b"<item><title>B</title><link>http://e.com/b</link>"
            b"<pubDate>Mon, 01 Jan 1900 00:00:00 GMT</pubDate></item>"
            b"<item><title>C</title><link>http://e.com/c</link>"
            b"<pubDate>Wed, 01 May 2024 06:00:00 GMT</pubDate></item></channel></rss>")
    entries = parse_feed(feed, "http://e.com/feed")
    assert [e.published for e in entries] == [None, None,
                                              datetime(2024, 5, 1, 6, 0, tzinfo=UTC)]


def test_absurd_dates_never_reach_a_document() -> None:
    minus5 = timezone(timedelta(hours=-5))
    doc = article_document(ArticleItem(url="https://e.com/a",
                                       published=datetime(9999, 12, 31, 23, tzinfo=minus5),
                                       modified=datetime(1900, 1, 1, tzinfo=UTC),
                                       fetched_at=datetime(2024, 5, 1, tzinfo=UTC)))
    assert doc["published"] is None and doc["modified"] is None
    assert doc["fetched_at"] == datetime(2024, 5, 1, tzinfo=UTC)


def test_windows_1252_declared_as_utf8_is_repaired() -> None:
    body = "Größere Zölle für Bäcker".encode("cp1252")
    assert mislabeled_utf8(body, "utf-8", body.decode("utf-8", "replace")) == (
        "Größere Zölle für Bäcker")
    utf8 = "Größere Zölle für Bäcker".encode() + b" \xff"  # UTF-8 with one stray byte
    assert mislabeled_utf8(utf8, "utf-8", utf8.decode("utf-8", "replace")) is None
    assert mislabeled_utf8(body, "cp1252", body.decode("cp1252")) is None
    real = "a \ufffd b".encode()
    assert mislabeled_utf8(real, "utf-8", real.decode()) is None


def test_the_hostile_site_serves_what_it_says(tmp_path: Path) -> None:
    """The site itself: the sitemap really lists 50,000 URLs, the pages exist."""
    import urllib.request

    with HostileSite() as site:
        with urllib.request.urlopen(f"{site.base}/sitemaps/big.xml") as response:
            assert response.read().count(b"<loc>") == GONE_PAGES * LISTED_TIMES == 50_000
        with urllib.request.urlopen(site.base + HARBOUR_PATH) as response:
            assert site.base.encode() in response.read()
