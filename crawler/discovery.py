"""Article discovery from feeds and sitemaps: plain functions over response bodies.

RSS 2.0 and Atom are parsed by feedparser, which falls back to its loose parser when a feed
is not well-formed. Sitemaps (urlset, sitemap index, Google News sitemaps, gzip-compressed or
not) are parsed here, because Scrapy's SitemapSpider drops the nested ``news:`` fields, with
lxml configured as Scrapy's own sitemap parser is (recovering, entities never resolved, no
network, no huge trees). A document that declares entities (billion laughs, XXE) is refused.

One stray character must not lose a whole sitemap: a document that is not well-formed is
repaired and parsed again with recovery (:func:`_repaired`): what precedes the XML declaration
(blank lines, a PHP notice) is dropped, a bare ``&`` is escaped and an HTML entity (``&nbsp;``)
becomes its character, outside CDATA sections and comments (lxml's recovery alone would turn
``?a=1&b=2`` into ``?a=1=2``). Such a sitemap or feed says so in ``recovered``.
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from html.entities import html5
from typing import Any, Literal
from zoneinfo import ZoneInfo

import feedparser
from lxml import etree

from crawler.dates import ZONES, parse_date, sane_date

logger = logging.getLogger(__name__)

Kind = Literal["feed", "sitemap", "html", "other"]

_SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
_NEWS_NS = "{http://www.google.com/schemas/sitemap-news/0.9}"
# Zone names feedparser's own RFC 822 reader converts; any other it takes as UTC.
_FEEDPARSER_ZONES = frozenset({"UT", "UTC", "GMT", "Z", "EST", "EDT", "CST", "CDT", "MST",
                               "MDT", "PST", "PDT", "ET", "CT", "MT", "PT"})
_TRAILING_NAME = re.compile(r"\b([A-Za-z]{1,5})\s*(?:\([^()]*\))?\s*$")
_ROOT = re.compile(rb"<\s*(?:[\w-]+:)?(rss|feed|rdf|urlset|sitemapindex|html)\b", re.IGNORECASE)
_WIDE_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@dataclass(frozen=True)
class Entry:
    """A link to a (probable) article with what the feed or sitemap says of it."""

    url: str
    title: str | None = None
    published: datetime | None = None
    modified: datetime | None = None


@dataclass(frozen=True)
class Sitemap:
    kind: Literal["index", "urlset"]
    entries: list[Entry]
    recovered: str | None = None  # what was wrong, when it was not well-formed


@dataclass(frozen=True)
class Feed:
    entries: list[Entry]
    recovered: str | None = None  # what was wrong, when it was not well-formed


class DiscoveryError(ValueError):
    """A feed or sitemap that cannot be parsed."""


def detect_kind(body: bytes, content_type: str = "") -> Kind:
    """Tell a feed, a sitemap and an HTML page apart by their first element (after a BOM,
    blank lines, an XML declaration, comments; UTF-16 and UTF-32 too)."""
    head = body[:4096]
    for bom in _WIDE_BOMS:  # UTF-32 first: its LE BOM begins with UTF-16's
        if head.startswith(bom):
            codec = {4: "utf-32", 2: "utf-16"}[len(bom)]
            head = head.decode(codec, errors="ignore").encode("utf-8")
            break
    head = head.removeprefix(codecs.BOM_UTF8).lstrip()
    match = _ROOT.search(head)
    if match:
        root = match.group(1).lower()
        if root in (b"rss", b"feed", b"rdf"):
            return "feed"
        if root in (b"urlset", b"sitemapindex"):
            return "sitemap"
        return "html"
    content_type = content_type.lower()
    if "html" in content_type or head[:1] == b"<":
        return "html"
    return "other"


def parse_feed(body: bytes, url: str) -> list[Entry]:
    """The entries of an RSS or Atom feed, with their links resolved against ``url``."""
    return read_feed(body, url).entries


def read_feed(body: bytes, url: str) -> Feed:
    """An RSS or Atom feed: its entries and whether it had to be recovered (feedparser's loose
    parser read what its XML parser refused: a bare ``&``, an undefined entity, text before
    the XML declaration)."""
    parsed = feedparser.parse(body, response_headers={"content-location": url})
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if problem is not None and not parsed.entries:
        raise DiscoveryError(f"unreadable feed: {problem}")
    entries = []
    for item in parsed.entries:
        link = _feed_link(item)
        if not link:
            continue
        published = _feed_date(item, "published") or _feed_date(item, "created")
        modified = _feed_date(item, "updated")
        entries.append(Entry(url=link, title=(item.get("title") or None),
                             published=published or modified, modified=modified))
    if problem is None or isinstance(problem, feedparser.ThingsNobodyCaresAboutButMe):
        return Feed(entries)  # no Content-Type given, an encoding overridden: not a defect
    return Feed(entries, recovered=str(problem) or type(problem).__name__)


def _feed_link(item: feedparser.FeedParserDict) -> str | None:
    for link in item.get("links", []):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return str(link["href"])
    return str(item["link"]) if item.get("link") else None


def _feed_date(item: feedparser.FeedParserDict, key: str) -> datetime | None:
    """The feed's own date string, parsed with its zone by :func:`crawler.dates.parse_date`.

    feedparser's ``*_parsed`` (UTC) is the fallback for formats only feedparser reads; it
    converts numeric offsets and the RFC 822 zone names but takes any other name as UTC, so
    with such a name its time is the wall clock there: placed in the zone of our table, or
    kept naive (zone unknown) when the table does not have it.
    """
    # dict.get: feedparser's own get() maps 'updated' to 'published' with a warning.
    raw = dict.get(item, key)
    if raw:
        value = parse_date(str(raw))
        if value is not None:
            return value
    struct = dict.get(item, f"{key}_parsed")
    if not struct:
        return None
    try:
        year, month, day, hour, minute, second = struct[:6]
        value = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (TypeError, ValueError):
        return None
    name = _TRAILING_NAME.search(str(raw or ""))
    if name and name.group(1).upper() not in _FEEDPARSER_ZONES:
        # feedparser's "UTC" is the wall clock in that zone: ours when the table has it.
        zone = ZONES.get(name.group(1).upper())
        wall = value.replace(tzinfo=None)
        if isinstance(zone, int):
            value = wall.replace(tzinfo=timezone(timedelta(seconds=zone)))
        elif isinstance(zone, str):
            value = wall.replace(tzinfo=ZoneInfo(zone))
        else:
            value = wall
    return sane_date(value)  # "31 Dec 9999", "1 Jan 1900": no date


def parse_sitemap(body: bytes) -> Sitemap:
    """A sitemap index or urlset, with ``lastmod`` and the Google News fields; recovered when
    it is not well-formed."""
    root, recovered = _xml_root(body)
    tag = _local(root)
    if tag == "sitemapindex":
        return Sitemap("index", [
            Entry(url=loc, modified=parse_date(_text(child, "lastmod")))
            for child in root if _local(child) == "sitemap"
            if (loc := _text(child, "loc"))
        ], recovered)
    if tag != "urlset":
        raise DiscoveryError(f"not a sitemap: root element <{tag}>")
    entries = []
    for child in root:
        if _local(child) != "url" or not (loc := _text(child, "loc")):
            continue
        lastmod = parse_date(_text(child, "lastmod"))
        news = _child(child, "news", _NEWS_NS)
        title = published = None
        if news is not None:
            title = _text(news, "title", _NEWS_NS)
            published = parse_date(_text(news, "publication_date", _NEWS_NS))
        entries.append(Entry(url=loc, title=title, published=published, modified=lastmod))
    return Sitemap("urlset", entries, recovered)


def _parser(recover: bool) -> Any:
    """lxml's XML parser as Scrapy's sitemap parser sets it up: entities never resolved, no
    network, no DTD loaded, default size limits (no ``huge_tree``)."""
    return etree.XMLParser(recover=recover, resolve_entities=False, no_network=True,
                           load_dtd=False, huge_tree=False, remove_comments=True,
                           remove_pis=True, collect_ids=False)


def _xml_root(body: bytes) -> tuple[Any, str | None]:
    """The root element, and what was wrong when the document had to be recovered."""
    recovered = None
    try:
        root = etree.fromstring(body, _parser(recover=False))
    except etree.XMLSyntaxError as exc:
        recovered = str(exc) or "not well-formed"
        try:
            root = etree.fromstring(_repaired(body), _parser(recover=True))
        except etree.XMLSyntaxError as again:
            raise DiscoveryError(f"unreadable XML: {again}") from None
        if root is None:
            raise DiscoveryError(f"unreadable XML: {exc}") from None
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise DiscoveryError("entity declarations refused (entity expansion, external entity)")
    return root, recovered


# A CDATA section, a comment, or an ``&`` and the reference it may start.
# (Unterminated, the section or comment runs to the end: one pass, whatever the input.)
_REFERENCE = re.compile(rb"<!\[CDATA\[.*?(?:\]\]>|\Z)|<!--.*?(?:-->|\Z)|"
                        rb"&(#[0-9]+;|#[xX][0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)?", re.DOTALL)
_XML_ENTITIES = {b"amp;", b"lt;", b"gt;", b"quot;", b"apos;"}


def _repaired(body: bytes) -> bytes:
    """``body`` with the stray characters that make XML ill-formed put right: what precedes
    the XML declaration (or the first ``<``) dropped, a bare ``&`` escaped, an HTML entity
    (``&nbsp;``, ``&eacute;``) as a character reference; an unknown one (``&foo;``) kept as
    text. UTF-16 and UTF-32 bodies are left to the parser's recovery."""
    if body.startswith(_WIDE_BOMS):
        return body
    start = body.find(b"<?xml")  # after a PHP warning ("<br />\n<b>Warning</b>: ..."), say
    if start < 0:
        start = body.find(b"<")
    if start > 0:
        body = body[start:]

    def fix(match: re.Match[bytes]) -> bytes:
        if match.group(0)[:1] == b"<":  # CDATA or comment: literal
            return match.group(0)
        reference = match.group(1)
        if reference is None:
            return b"&amp;"
        if reference[:1] == b"#" or reference in _XML_ENTITIES:
            return match.group(0)
        character = html5.get(reference.decode("ascii"))
        if character is None:
            return b"&amp;" + reference
        return "".join(f"&#{ord(c)};" for c in character).encode("ascii")

    return _REFERENCE.sub(fix, body)


def _local(element: Any) -> str:
    return element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""


def _text(element: Any, name: str, ns: str = _SITEMAP_NS) -> str | None:
    found = _child(element, name, ns)
    if found is None or found.text is None:
        return None
    return str(found.text).strip() or None


def _child(element: Any, name: str, ns: str) -> Any:
    """The child ``name`` in namespace ``ns``, else in none, else (a recovered document whose
    prefix was never declared: ``news:title``) under any prefix. One pass over the children
    (lxml's ``find`` parses its path on every call: three times slower on 50,000 URLs)."""
    qualified = ns + name
    fallback = None
    for child in element:
        tag = child.tag
        if tag == qualified:
            return child
        if fallback is None and isinstance(tag, str) and (
                tag == name or tag.rpartition("}")[2].rpartition(":")[2] == name):
            fallback = child
    return fallback
