"""Sitemaps and feeds with one stray character: every entry is still read, the document says it
was recovered, and entities are still never resolved."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.discovery import DiscoveryError, detect_kind, parse_sitemap, read_feed

FIXTURES = Path(__file__).parent / "fixtures" / "discovery"
EDT = timezone(timedelta(hours=-4))
CET = timezone(timedelta(hours=1))

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
NEWS_SITEMAP = """<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url>
    <loc>https://www.harbourdaily.example/news/local/{loc_query}</loc>
    <lastmod>2024-01-18T20:05:00+00:00</lastmod>
    <news:news>
      <news:publication>
        <news:name>The Harbour Daily</news:name><news:language>en</news:language>
      </news:publication>
      <news:publication_date>2024-01-18T16:20:00-04:00</news:publication_date>
      <news:title>{title}</news:title>
    </news:news>
  </url>
  <url>
    <loc>https://www.harbourdaily.example/2024/01/18/waterfront-businesses-storm-cleanup/</loc>
    <lastmod>2024-01-18</lastmod>
  </url>
</urlset>
"""
CLEAN_QUERY = "story.php?id=48213&amp;section=harbour"
CLEAN_TITLE = "Ferries &amp; buses: storm cuts services"


def _sitemap(prefix: str = DECLARATION, loc_query: str = CLEAN_QUERY,
             title: str = CLEAN_TITLE) -> bytes:
    return (prefix + NEWS_SITEMAP.format(loc_query=loc_query, title=title)).encode("utf-8")


def _assert_all_entries(body: bytes, title: str = "Ferries & buses: storm cuts services") -> None:
    sitemap = parse_sitemap(body)
    assert sitemap.kind == "urlset"
    first, second = sitemap.entries
    assert first.url == ("https://www.harbourdaily.example/news/local/"
                         "story.php?id=48213&section=harbour")
    assert first.title == title
    assert first.published == datetime(2024, 1, 18, 16, 20, tzinfo=EDT)
    assert first.modified == datetime(2024, 1, 18, 20, 5, tzinfo=UTC)
    assert second.url.endswith("/waterfront-businesses-storm-cleanup/")
    assert second.modified is not None and second.modified.date().isoformat() == "2024-01-18"


def test_a_well_formed_sitemap_is_not_recovered() -> None:
    _assert_all_entries(_sitemap())
    assert parse_sitemap(_sitemap()).recovered is None
    # A byte order mark is allowed before the declaration: nothing to recover.
    bom = codecs.BOM_UTF8 + _sitemap()
    _assert_all_entries(bom)
    assert parse_sitemap(bom).recovered is None


@pytest.mark.parametrize("body", [
    _sitemap(loc_query="story.php?id=48213&section=harbour"),  # bare & in a URL
    _sitemap(title="Ferries & buses: storm cuts services"),  # bare & in a title
    _sitemap(prefix="\n" + DECLARATION),  # a blank line before the declaration
    _sitemap(prefix="  \r\n\t\n" + DECLARATION),
    codecs.BOM_UTF8 + _sitemap(prefix="\n\n" + DECLARATION),  # BOM, then blank lines
    _sitemap(prefix="<br />\n<b>Deprecated</b>:  Function create_function() is deprecated in "
                    "<b>/var/www/html/wp-includes/plugin.php</b> on line <b>12</b><br />\n"
                    + DECLARATION),  # a PHP notice before the declaration
    _sitemap(prefix="\n" + DECLARATION, loc_query="story.php?id=48213&section=harbour",
             title="Ferries & buses: storm cuts services"),
], ids=["bare-amp-url", "bare-amp-title", "blank-line", "whitespace", "bom-blank-lines",
        "php-notice", "all"])
def test_one_stray_character_loses_nothing(body: bytes) -> None:
    _assert_all_entries(body)
    recovered = parse_sitemap(body).recovered
    assert recovered  # what was wrong, for the log line


def test_html_entities_become_their_characters() -> None:
    body = _sitemap(title="Caf&eacute; owners&nbsp;count the cost &mdash; again")
    _assert_all_entries(body, title="Café owners\u00a0count the cost \u2014 again")
    assert parse_sitemap(body).recovered
    # An unknown one is kept as the text it is.
    _assert_all_entries(_sitemap(title="Storm &foo; cleanup & more"),
                        title="Storm &foo; cleanup & more")


def test_cdata_is_left_as_it_is_when_a_document_is_repaired() -> None:
    body = _sitemap(loc_query="story.php?id=48213&section=harbour",
                    title="<![CDATA[Ferries & buses: storm cuts services]]>")
    _assert_all_entries(body)


def test_an_undeclared_news_prefix_keeps_the_news_fields() -> None:
    body = _sitemap().replace(b'\n        xmlns:news="http://www.google.com/schemas/sitemap-news'
                              b'/0.9"', b"")
    _assert_all_entries(body)
    assert parse_sitemap(body).recovered


def test_a_truncated_sitemap_keeps_its_complete_entries() -> None:
    body = _sitemap()
    cut = body[:body.index(b"<lastmod>2024-01-18</lastmod>")]
    sitemap = parse_sitemap(cut)
    assert [e.url for e in sitemap.entries] == [
        "https://www.harbourdaily.example/news/local/story.php?id=48213&section=harbour",
        "https://www.harbourdaily.example/2024/01/18/waterfront-businesses-storm-cleanup/"]
    assert sitemap.entries[0].title == "Ferries & buses: storm cuts services"
    assert sitemap.recovered


def test_a_sitemap_index_with_a_bare_ampersand() -> None:
    body = ("\n" + DECLARATION + '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            "<sitemap><loc>https://www.harbourdaily.example/sitemap.xml?type=news&page=1</loc>"
            "<lastmod>2024-01-18T20:05:00Z</lastmod></sitemap>"
            "<sitemap><loc>https://www.harbourdaily.example/sitemap.xml?type=news&page=2</loc>"
            "</sitemap></sitemapindex>").encode()
    sitemap = parse_sitemap(body)
    assert sitemap.kind == "index" and sitemap.recovered
    assert [e.url for e in sitemap.entries] == [
        "https://www.harbourdaily.example/sitemap.xml?type=news&page=1",
        "https://www.harbourdaily.example/sitemap.xml?type=news&page=2"]


def test_a_utf16_sitemap() -> None:
    body = _sitemap(prefix='<?xml version="1.0" encoding="UTF-16"?>\n').decode().encode("utf-16")
    _assert_all_entries(body)
    assert detect_kind(body) == "sitemap"


def test_entities_are_still_never_resolved_when_recovering() -> None:
    laughs = (FIXTURES / "billion-laughs.xml").read_bytes()
    with pytest.raises(DiscoveryError, match="entity declarations"):
        parse_sitemap(laughs)
    with pytest.raises(DiscoveryError, match="entity declarations"):  # and not well-formed
        parse_sitemap(b"\n" + laughs.replace(b"</loc>", b"?a=1&b=2</loc>"))
    xxe = (b'<?xml version="1.0"?>\n<!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
           b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
           b"<url><loc>http://x.example/&xxe;</loc></url><url><loc>http://x.example/?a&b</loc>"
           b"</url></urlset>")
    with pytest.raises(DiscoveryError, match="entity declarations"):
        parse_sitemap(xxe)


def test_what_is_no_sitemap_is_still_an_error() -> None:
    with pytest.raises(DiscoveryError):
        parse_sitemap(b"<html><body>not a sitemap</body></html>")
    with pytest.raises(DiscoveryError):
        parse_sitemap(b"")
    with pytest.raises(DiscoveryError):
        parse_sitemap(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")


RSS = """<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>The Harbour Daily{channel}</title><link>https://www.harbourdaily.example/</link>
    <description>Latest stories</description>
    <item>
      <title>{title}</title>
      <link>https://www.harbourdaily.example/news/local/{query}</link>
      <pubDate>Mon, 15 Jan 2024 09:30:00 +0100</pubDate>
      <dc:creator>Priya Raman</dc:creator>
      <description><![CDATA[<p>The vote was 7 to 2 &amp; work starts in May.</p>]]></description>
    </item>
    <item>
      <title>Storm closes ferry routes</title>
      <link>https://www.harbourdaily.example/weather/storm-ferries</link>
      <pubDate>Mon, 15 Jan 2024 12:45:00 +0000</pubDate>
    </item>
  </channel>
</rss>
"""


def _rss(prefix: str = DECLARATION, channel: str = "", title: str = "Council approves bridge",
         query: str = "story.php?id=48213&amp;section=harbour") -> bytes:
    return (prefix + RSS.format(channel=channel, title=title, query=query)).encode("utf-8")


def _assert_feed_entries(body: bytes, title: str = "Council approves bridge") -> None:
    feed = read_feed(body, "https://www.harbourdaily.example/rss.xml")
    first, second = feed.entries
    assert first.url == ("https://www.harbourdaily.example/news/local/"
                         "story.php?id=48213&section=harbour")
    assert first.title == title
    assert first.published == datetime(2024, 1, 15, 9, 30, tzinfo=CET)
    assert second.url == "https://www.harbourdaily.example/weather/storm-ferries"


def test_a_well_formed_feed_is_not_recovered() -> None:
    for body in (_rss(), codecs.BOM_UTF8 + _rss()):
        _assert_feed_entries(body)
        assert read_feed(body, "https://www.harbourdaily.example/rss.xml").recovered is None


@pytest.mark.parametrize("body", [
    _rss(query="story.php?id=48213&section=harbour"),  # bare & in a link
    _rss(channel=" & Coast"),  # bare & in the channel title
    _rss(channel="&nbsp;Online"),  # an undefined entity
    _rss(prefix="\n" + DECLARATION),  # a blank line before the declaration
    codecs.BOM_UTF8 + _rss(prefix="\r\n  " + DECLARATION),  # BOM, then whitespace
], ids=["bare-amp-link", "bare-amp-title", "nbsp", "blank-line", "bom-whitespace"])
def test_a_feed_with_one_stray_character_keeps_its_entries(body: bytes) -> None:
    _assert_feed_entries(body)
    assert read_feed(body, "https://www.harbourdaily.example/rss.xml").recovered


def test_an_atom_feed_after_a_bom_and_blank_lines() -> None:
    body = codecs.BOM_UTF8 + b"\n\n" + (FIXTURES / "atom.xml").read_bytes()
    feed = read_feed(body, "https://news.example.org/atom.xml")
    assert [e.url for e in feed.entries] == ["https://news.example.org/weather/storm-ferries"]
    assert feed.recovered
    assert detect_kind(body) == "feed"


@pytest.mark.parametrize("prefix", [b"", codecs.BOM_UTF8, b"\n\n", b" \r\n\t",
                                    codecs.BOM_UTF8 + b"\n  "])
def test_detect_kind_after_a_bom_or_whitespace(prefix: bytes) -> None:
    assert detect_kind(prefix + _sitemap(prefix=DECLARATION)) == "sitemap"
    assert detect_kind(prefix + _rss()) == "feed"
    assert detect_kind(prefix + (FIXTURES / "atom.xml").read_bytes()) == "feed"
    assert detect_kind(prefix + (FIXTURES / "sitemap-index.xml").read_bytes()) == "sitemap"
    assert detect_kind(prefix + b"<!DOCTYPE html><html><body>x</body></html>") == "html"


def test_detect_kind_of_utf16_and_utf32() -> None:
    for codec in ("utf-16", "utf-16-be", "utf-32"):
        text = '\ufeff<?xml version="1.0"?>\n<rss version="2.0"><channel></channel></rss>'
        assert detect_kind(text.encode(codec)) == "feed", codec
