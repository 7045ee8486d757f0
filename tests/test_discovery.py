from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.discovery import DiscoveryError, detect_kind, parse_feed, parse_sitemap

FIXTURES = Path(__file__).parent / "fixtures" / "discovery"
CET = timezone(timedelta(hours=1))


def _read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_detect_kind() -> None:
    assert detect_kind(_read("rss.xml")) == "feed"
    assert detect_kind(_read("atom.xml")) == "feed"
    assert detect_kind(_read("news-sitemap.xml")) == "sitemap"
    assert detect_kind(_read("sitemap-index.xml")) == "sitemap"
    assert detect_kind(b"<!DOCTYPE html><html><body>x</body></html>") == "html"
    assert detect_kind(b"\x89PNG\r\n", "image/png") == "other"


def test_news_sitemap_keeps_news_fields() -> None:
    sitemap = parse_sitemap(_read("news-sitemap.xml"))
    assert sitemap.kind == "urlset"
    first, second = sitemap.entries
    assert first.url.endswith("haushalt-einigung.html")
    assert first.title == "Koalition einigt sich auf Haushalt"
    assert first.published == datetime(2024, 1, 15, 9, 30, tzinfo=CET)
    assert first.modified == datetime(2024, 1, 15, 11, 2, tzinfo=CET)
    assert second.title is None and second.published is None
    assert second.modified is not None and second.modified.date().isoformat() == "2024-01-14"


def test_sitemap_index() -> None:
    sitemap = parse_sitemap(_read("sitemap-index.xml"))
    assert sitemap.kind == "index"
    assert [e.url for e in sitemap.entries] == [
        "https://news.example.org/sitemap-news.xml.gz", "https://news.example.org/sitemap-pages.xml"]
    assert sitemap.entries[0].modified == datetime(2024, 1, 15, 11, 0, tzinfo=UTC)


def test_rss_feed_dates_keep_their_zone() -> None:
    entries = parse_feed(_read("rss.xml"), "https://news.example.org/rss.xml")
    assert len(entries) == 1  # the item without a link is skipped
    assert entries[0].title == "Council approves new harbour bridge"
    assert entries[0].published == datetime(2024, 1, 15, 9, 30, tzinfo=CET)


def test_atom_feed_resolves_relative_links() -> None:
    entries = parse_feed(_read("atom.xml"), "https://news.example.org/atom.xml")
    assert entries[0].url == "https://news.example.org/weather/storm-ferries"
    assert entries[0].published == datetime(2024, 1, 15, 12, 45, tzinfo=UTC)
    assert entries[0].modified == datetime(2024, 1, 15, 15, 0, tzinfo=UTC)


def test_entity_expansion_is_refused() -> None:
    with pytest.raises(DiscoveryError):
        parse_sitemap(_read("billion-laughs.xml"))


def test_malformed_sitemap_is_recovered() -> None:
    sitemap = parse_sitemap(b"<urlset><url><loc>http://x/</loc></url>")  # never closed
    assert [e.url for e in sitemap.entries] == ["http://x/"] and sitemap.recovered
    with pytest.raises(DiscoveryError):
        parse_sitemap(b"<html><body>not a sitemap</body></html>")
