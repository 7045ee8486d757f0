"""Article discovery from feeds and sitemaps: plain functions over response bodies.

RSS 2.0 and Atom are parsed by feedparser. Sitemaps (urlset, sitemap index, Google News
sitemaps, gzip-compressed or not) are parsed with defusedxml, which refuses entity expansion
and external entities, because Scrapy's SitemapSpider drops the nested ``news:`` fields.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal
from xml.etree.ElementTree import Element, ParseError
from zoneinfo import ZoneInfo

import feedparser
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

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


class DiscoveryError(ValueError):
    """A feed or sitemap that cannot be parsed."""


def detect_kind(body: bytes, content_type: str = "") -> Kind:
    """Tell a feed, a sitemap and an HTML page apart by their first element."""
    head = body[:4096].lstrip()
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
    parsed = feedparser.parse(body, response_headers={"content-location": url})
    if parsed.get("bozo") and not parsed.entries:
        raise DiscoveryError(f"unreadable feed: {parsed.get('bozo_exception')}")
    entries = []
    for item in parsed.entries:
        link = _feed_link(item)
        if not link:
            continue
        published = _feed_date(item, "published") or _feed_date(item, "created")
        modified = _feed_date(item, "updated")
        entries.append(Entry(url=link, title=(item.get("title") or None),
                             published=published or modified, modified=modified))
    return entries


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
    """A sitemap index or urlset, with ``lastmod`` and the Google News fields."""
    try:
        root = fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException) as exc:
        raise DiscoveryError(f"unreadable sitemap: {exc}") from None
    tag = _local(root)
    if tag == "sitemapindex":
        return Sitemap("index", [
            Entry(url=loc, modified=parse_date(_text(child, "lastmod")))
            for child in root if _local(child) == "sitemap"
            if (loc := _text(child, "loc"))
        ])
    if tag != "urlset":
        raise DiscoveryError(f"not a sitemap: root element <{tag}>")
    entries = []
    for child in root:
        if _local(child) != "url" or not (loc := _text(child, "loc")):
            continue
        lastmod = parse_date(_text(child, "lastmod"))
        news = child.find(f"{_NEWS_NS}news")
        title = published = None
        if news is not None:
            title = _text(news, "title", _NEWS_NS)
            published = parse_date(_text(news, "publication_date", _NEWS_NS))
        entries.append(Entry(url=loc, title=title, published=published, modified=lastmod))
    return Sitemap("urlset", entries)


def _local(element: Element) -> str:
    return element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""


def _text(element: Element, name: str, ns: str = _SITEMAP_NS) -> str | None:
    found = element.find(f"{ns}{name}")
    if found is None:
        found = element.find(name)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None
