"""The one date parser (crawler/dates.py): zone names, offsets, naive times, the plausible range,
and the feed, sitemap and document code that use it."""

from __future__ import annotations

import logging
import pickle
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.dates import (
    AMBIGUOUS,
    MIN_YEAR,
    ZONES,
    SourceZone,
    parse_date,
    resolve_naive,
    zone_from,
    zone_of,
)
from crawler.discovery import parse_feed, parse_sitemap
from crawler.document import article_document
from crawler.extraction.metadata import parse_datetime
from crawler.items import ArticleItem
from crawler.sources import SourcesError, load_sources

NOW = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# 10:00 wall-clock on 10 June 2025 in each zone, as the UTC instant.
RFC822_ZONES = [
    ("EST", _utc(2025, 6, 10, 15)), ("EDT", _utc(2025, 6, 10, 14)),
    ("CST", _utc(2025, 6, 10, 16)), ("CDT", _utc(2025, 6, 10, 15)),
    ("MST", _utc(2025, 6, 10, 17)), ("MDT", _utc(2025, 6, 10, 16)),
    ("PST", _utc(2025, 6, 10, 18)), ("PDT", _utc(2025, 6, 10, 17)),
    ("GMT", _utc(2025, 6, 10, 10)), ("UTC", _utc(2025, 6, 10, 10)),
    ("UT", _utc(2025, 6, 10, 10)), ("Z", _utc(2025, 6, 10, 10)),
    ("BST", _utc(2025, 6, 10, 9)), ("WET", _utc(2025, 6, 10, 10)),
    ("CET", _utc(2025, 6, 10, 9)), ("CEST", _utc(2025, 6, 10, 8)),
    ("MEZ", _utc(2025, 6, 10, 9)), ("MESZ", _utc(2025, 6, 10, 8)),
    ("EET", _utc(2025, 6, 10, 8)), ("EEST", _utc(2025, 6, 10, 7)),
    ("MSK", _utc(2025, 6, 10, 7)), ("JST", _utc(2025, 6, 10, 1)),
    ("KST", _utc(2025, 6, 10, 1)), ("AEST", _utc(2025, 6, 10, 0)),
    ("AEDT", _utc(2025, 6, 9, 23)), ("ACST", datetime(2025, 6, 10, 0, 30, tzinfo=UTC)),
    ("NZST", _utc(2025, 6, 9, 22)), ("HKT", _utc(2025, 6, 10, 2)),
    ("SAST", _utc(2025, 6, 10, 8)), ("EAT", _utc(2025, 6, 10, 7)),
    ("HST", _utc(2025, 6, 10, 20)), ("AKDT", _utc(2025, 6, 10, 18)),
    # Generic US names follow the date's DST: June is daylight time.
    ("ET", _utc(2025, 6, 10, 14)), ("PT", _utc(2025, 6, 10, 17)),
]


@pytest.mark.parametrize(("zone", "instant"), RFC822_ZONES)
def test_rfc822_with_zone_name(zone: str, instant: datetime) -> None:
    value = parse_date(f"Tue, 10 Jun 2025 10:00:00 {zone}", now=NOW)
    assert value is not None and value.tzinfo is not None
    assert value.astimezone(UTC) == instant
    assert zone_of(value) == "stated"


def test_every_zone_of_the_table_is_tested_or_a_plain_offset() -> None:
    tested = {zone for zone, _ in RFC822_ZONES}
    for name, offset in ZONES.items():
        if name not in tested:  # the rest are fixed offsets like those above
            value = parse_date(f"10 Jun 2025 10:00 {name}", now=NOW)
            assert value is not None and value.utcoffset() is not None, name
            if isinstance(offset, int):
                assert value.utcoffset() == timedelta(seconds=offset), name


@pytest.mark.parametrize(("text", "instant"), [
    ("Tue, 10 Jun 2025 10:00:00 +0200", _utc(2025, 6, 10, 8)),
    ("Tue, 10 Jun 25 10:00:00 EDT", _utc(2025, 6, 10, 14)),  # RFC 822 two-digit year
    ("10 Jun 2025 10:00:00 -0500", _utc(2025, 6, 10, 15)),  # no weekday
    ("2025-06-10T10:00:00+05:30", datetime(2025, 6, 10, 4, 30, tzinfo=UTC)),
    ("2025-06-10T10:00:00.250-04:00", datetime(2025, 6, 10, 14, 0, 0, 250000, tzinfo=UTC)),
    ("2025-06-10T10:00:00Z", _utc(2025, 6, 10, 10)),
    ("2025-06-10 10:00:00 CEST", _utc(2025, 6, 10, 8)),
    ("2025-06-10T10:00:00+02:00Z", _utc(2025, 6, 10, 8)),
    ("June 10, 2025 10:00 AM EDT", _utc(2025, 6, 10, 14)),
    ("June 10, 2025 10:00 AM ET", _utc(2025, 6, 10, 14)),
    ("January 10, 2025 10:00 AM ET", _utc(2025, 1, 10, 15)),  # standard time in January
    ("10 Jun 2025 10:00 GMT+3", _utc(2025, 6, 10, 7)),  # three hours ahead of UTC, not behind
    ("10 Jun 2025 10:00 UTC-05:00", _utc(2025, 6, 10, 15)),
    ("2025-06-10T10:00:00 UTC+05:30", datetime(2025, 6, 10, 4, 30, tzinfo=UTC)),
    ("1749549600", _utc(2025, 6, 10, 10)),
])
def test_iso_rfc822_and_offsets(text: str, instant: datetime) -> None:
    value = parse_date(text, now=NOW)
    assert value is not None and value.astimezone(UTC) == instant


@pytest.mark.parametrize(("text", "naive"), [
    ("Tue, 10 Jun 2025 10:00:00", datetime(2025, 6, 10, 10)),
    ("2025-06-10T10:00:00", datetime(2025, 6, 10, 10)),
    ("2025-06-10 10:00", datetime(2025, 6, 10, 10)),
    ("June 10, 2025 10:00 AM", datetime(2025, 6, 10, 10)),
    ("Tue, 10 Jun 2025 10:00:00 IST", datetime(2025, 6, 10, 10)),  # ambiguous: refused
    ("Tue, 10 Jun 2025 10:00:00 AST", datetime(2025, 6, 10, 10)),
    ("Tue, 10 Jun 2025 10:00:00 XYZT", datetime(2025, 6, 10, 10)),  # unknown name
])
def test_a_time_without_known_zone_stays_naive(text: str, naive: datetime) -> None:
    value = parse_date(text, now=NOW)
    assert value == naive and value.tzinfo is None
    assert zone_of(value) == "none"


def test_a_refused_zone_name_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    from crawler import dates

    dates._reported.discard("IST")  # logged once per process
    with caplog.at_level(logging.INFO, logger="crawler.dates"):
        parse_date("Wed, 11 Jun 2025 09:00:00 IST", now=NOW)
    assert "IST" in AMBIGUOUS
    assert any("'IST'" in r.getMessage() and "ambiguous" in r.getMessage()
               for r in caplog.records)


def test_day_only_date() -> None:
    value = parse_date("2025-06-10", now=NOW)
    assert value == datetime(2025, 6, 10) and zone_of(value) == "day"


@pytest.mark.parametrize("text", [
    "", "garbage", "June 2025", "2025", f"31 Dec {MIN_YEAR - 1} 10:00:00 GMT",
    "Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 01 Jan 1900 00:00:00 GMT", "1970-01-01T00:00:00Z",
    "2025-07-03T12:00:00Z",  # more than a day after NOW
])
def test_out_of_range_and_garbage(text: str) -> None:
    assert parse_date(text, now=NOW) is None


def test_one_parser_everywhere() -> None:
    assert parse_datetime is parse_date  # extraction's name for it
    text = "Tue, 10 Jun 2025 10:00:00 EST"
    feed = (f'<rss version="2.0"><channel><item><link>http://e.com/a</link>'
            f"<pubDate>{text}</pubDate></item></channel></rss>").encode()
    (entry,) = parse_feed(feed, "http://e.com/rss")
    assert entry.published == parse_date(text) == _utc(2025, 6, 10, 15)


def test_feed_with_zone_names() -> None:
    feed = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
      <item><title>a</title><link>http://e.com/a</link>
        <pubDate>Tue, 10 Jun 2025 10:00:00 PDT</pubDate></item>
      <item><title>b</title><link>http://e.com/b</link>
        <pubDate>Tue, 10 Jun 2025 10:00:00 CEST</pubDate></item>
      <item><title>c</title><link>http://e.com/c</link>
        <pubDate>Tue, 10 Jun 2025 10:00:00</pubDate></item></channel></rss>"""
    a, b, c = parse_feed(feed, "http://e.com/rss")
    assert a.published == _utc(2025, 6, 10, 17)
    assert b.published == _utc(2025, 6, 10, 8)
    assert c.published == datetime(2025, 6, 10, 10)  # no zone: naive, not UTC


def test_atom_feed_with_zone_name() -> None:
    feed = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title>
      <entry><title>a</title><link href="http://e.com/a"/><id>a</id>
        <published>2025-06-10T10:00:00+09:00</published>
        <updated>Tue, 10 Jun 2025 12:30:00 JST</updated></entry></feed>"""
    (entry,) = parse_feed(feed, "http://e.com/atom")
    assert entry.published == _utc(2025, 6, 10, 1)
    assert entry.modified == datetime(2025, 6, 10, 3, 30, tzinfo=UTC)


def test_sitemap_with_zone_names() -> None:
    sitemap = b"""<?xml version="1.0" encoding="UTF-8"?>
    <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
            xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
      <url><loc>http://e.com/a</loc><lastmod>2025-06-10 12:00:00 EEST</lastmod>
        <news:news><news:publication><news:name>E</news:name><news:language>en</news:language>
        </news:publication><news:publication_date>Tue, 10 Jun 2025 10:00:00 AEST
        </news:publication_date><news:title>A</news:title></news:news></url>
      <url><loc>http://e.com/b</loc><lastmod>2025-06</lastmod></url>
    </urlset>"""
    a, b = parse_sitemap(sitemap).entries
    assert a.published == _utc(2025, 6, 10, 0)
    assert a.modified == _utc(2025, 6, 10, 9)
    assert b.modified is None  # a month is not a date


def test_feedparser_fallback_keeps_the_zone_and_never_invents_utc() -> None:
    # Formats only feedparser reads. It converts offsets and RFC 822 names to UTC itself, but
    # takes any other zone name as UTC: its time is then the wall clock in that zone.
    def entry(date: str) -> datetime | None:
        feed = (f'<rss version="2.0"><channel><item><link>http://e.com/a</link>'
                f"<pubDate>{date}</pubDate></item></channel></rss>").encode()
        return parse_feed(feed, "http://e.com/rss")[0].published

    assert parse_date("2025-06-10T10:00:00+02:00 (Paris)") is None
    assert entry("2025-06-10T10:00:00+02:00 (Paris)") == _utc(2025, 6, 10, 8)
    assert entry("2025-06-10T10:00:00 hora CEST") == _utc(2025, 6, 10, 8)
    assert entry("2025-06-10T10:00:00 CEST (Paris)") == _utc(2025, 6, 10, 8)
    unknown = entry("2025-06-10T10:00:00 hora XYZ")
    assert unknown == datetime(2025, 6, 10, 10) and unknown.tzinfo is None
    assert entry("Fri, 31 Dec 9999 23:59:59 GMT") is None


def test_dotted_numeric_dates_are_day_first() -> None:
    assert parse_date("10.06.2025 10:00 MESZ", now=NOW) == _utc(2025, 6, 10, 8)
    assert parse_date("03.04.2025", now=NOW) == datetime(2025, 4, 3)


def test_source_zone_resolves_naive_times_only() -> None:
    berlin = SourceZone("Europe/Berlin")
    summer = resolve_naive(datetime(2025, 6, 10, 10), berlin)
    winter = resolve_naive(datetime(2025, 1, 10, 10), berlin)
    assert summer.astimezone(UTC) == _utc(2025, 6, 10, 8)
    assert winter.astimezone(UTC) == _utc(2025, 1, 10, 9)
    assert zone_of(summer) == "source"
    stated = datetime(2025, 6, 10, 10, tzinfo=timezone(timedelta(hours=-5)))
    assert resolve_naive(stated, berlin) is stated
    assert resolve_naive(datetime(2025, 6, 10), berlin) == datetime(2025, 6, 10)  # a day
    restored = pickle.loads(pickle.dumps(summer))  # requests travel pickled (distributed)
    assert restored == summer and zone_of(restored) == "source"


def test_a_naive_time_takes_the_zone_of_the_same_wall_clock_time() -> None:
    page = datetime(2025, 6, 10, 10, 0, 30)
    edt = timezone(timedelta(hours=-4))
    listed = datetime(2025, 6, 10, 10, 0, tzinfo=edt)
    assert zone_from(page, listed) == datetime(2025, 6, 10, 10, 0, 30, tzinfo=edt)
    assert zone_from(page, listed.astimezone(UTC)) is page  # another wall clock: no
    assert zone_from(page, None) is page
    assert zone_from(datetime(2025, 6, 10), listed) == datetime(2025, 6, 10)  # a day stays


def test_document_records_how_the_zone_was_known() -> None:
    def doc(published: datetime) -> dict[str, object]:
        return article_document(ArticleItem(url="https://e.com/a", published=published))

    stated = doc(datetime(2025, 6, 10, 10, tzinfo=timezone(timedelta(hours=-4))))
    assert stated["published"] == _utc(2025, 6, 10, 14)
    assert stated["published_zone"] == "stated"
    source = doc(resolve_naive(datetime(2025, 6, 10, 10), SourceZone("America/Chicago")))
    assert source["published"] == _utc(2025, 6, 10, 15)
    assert source["published_zone"] == "source"
    naive = doc(datetime(2025, 6, 10, 10))
    assert naive["published"] == _utc(2025, 6, 10, 10)  # the wall clock, flagged
    assert naive["published_zone"] == "none"
    assert doc(datetime(2025, 6, 10))["published_zone"] == "day"
    empty = article_document(ArticleItem(url="https://e.com/a"))
    assert empty["published"] is None and empty["published_zone"] is None


def test_document_uses_the_same_year_floor() -> None:
    old = article_document(ArticleItem(url="https://e.com/a",
                                       published=_utc(MIN_YEAR - 1, 12, 31, 12)))
    assert old["published"] is None
    kept = article_document(ArticleItem(url="https://e.com/a",
                                        published=_utc(MIN_YEAR, 1, 1, 12)))
    assert kept["published"] == _utc(MIN_YEAR, 1, 1, 12)


def test_sources_timezone(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  - name: metro\n    feeds: [https://e.com/rss]\n"
                    "    timezone: America/Chicago\n", encoding="utf-8")
    (source,) = load_sources(path)
    assert source.timezone == "America/Chicago"
    assert isinstance(source.zone, SourceZone)
    path.write_text("sources:\n  - name: metro\n    feeds: [https://e.com/rss]\n"
                    "    timezone: Central\n", encoding="utf-8")
    with pytest.raises(SourcesError, match="'timezone' must be an IANA time zone name"):
        load_sources(path)
