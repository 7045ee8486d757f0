"""Publication and modification dates: parsing, sanity checks and the ranked sources."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from dateutil import parser as date_parser

from crawler.extraction.dom import MetaIndex, element_value, itemprop
from crawler.extraction.jsonld import jsonld_values
from crawler.extraction.text import norm_ws
from crawler.extraction.visible_dates import labelled_dates

MIN_YEAR = 1995
FUTURE_TOLERANCE = timedelta(days=1)


_TZINFOS: dict[str, int] = {
    "UTC": 0,
    "GMT": 0,
    "UT": 0,
    "Z": 0,
    "WET": 0,
    "WEST": 3600,
    "BST": 3600,
    "CET": 3600,
    "MEZ": 3600,
    "CEST": 7200,
    "MESZ": 7200,
    "EET": 7200,
    "EEST": 10800,
    "MSK": 10800,
    "EST": -5 * 3600,
    "EDT": -4 * 3600,
    "CST": -6 * 3600,
    "CDT": -5 * 3600,
    "MST": -7 * 3600,
    "MDT": -6 * 3600,
    "PST": -8 * 3600,
    "PDT": -7 * 3600,
    "JST": 9 * 3600,
    "KST": 9 * 3600,
    "AEST": 10 * 3600,
    "AEDT": 11 * 3600,
}
_YEAR_RE = re.compile(r"(?<!\d)(1[89]\d\d|2\d\d\d)(?!\d)")
_EPOCH_RE = re.compile(r"\d{10}(?:\d{3})?")
_RFC822_RE = re.compile(r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s")
_DOUBLE_ZONE_RE = re.compile(r"([+-]\d\d:?\d\d)\s*Z$")
_DEFAULT_A = datetime(2000, 1, 1)
_DEFAULT_B = datetime(2001, 2, 2)


def _compare_key(value: datetime, other: datetime) -> tuple[datetime, datetime]:
    """Both values comparable: an aware one in UTC when the other is naive (or the reverse)."""
    if (value.tzinfo is None) == (other.tzinfo is None):
        return value, other
    if value.tzinfo is None:
        return value, other.astimezone(UTC).replace(tzinfo=None)
    return value.astimezone(UTC).replace(tzinfo=None), other


def sane_date(
    value: datetime, now: datetime | None = None, not_before: datetime | None = None
) -> datetime | None:
    """``value`` when it is plausible for a news article: not before 1995, not before
    ``not_before`` (the site's first article, when the caller knows it) and not more than a
    day after ``now`` (default: the current time)."""
    if value.year < MIN_YEAR:
        return None
    if not_before is not None:
        try:
            mine, floor = _compare_key(value, not_before)
            if mine < floor - FUTURE_TOLERANCE:
                return None
        except (OverflowError, ValueError):
            return None
    if now is None:
        now = datetime.now(UTC)
    try:
        if value.tzinfo is None:
            limit = now.astimezone(UTC).replace(tzinfo=None) + FUTURE_TOLERANCE
        else:
            limit = now.astimezone(UTC) + FUTURE_TOLERANCE
        if value > limit:
            return None
    except (OverflowError, ValueError):
        return None
    return value


def _dateutil_parse(value: str) -> datetime | None:
    """dateutil, but only when the string really names a full date (year, month, day)."""
    if not _YEAR_RE.search(value):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            first = date_parser.parse(value, default=_DEFAULT_A, tzinfos=_TZINFOS)
            second = date_parser.parse(value, default=_DEFAULT_B, tzinfos=_TZINFOS)
    except (ValueError, OverflowError, TypeError, LookupError):
        return None
    if first.date() != second.date():  # a component came from the default: incomplete date
        return None
    return first


def parse_datetime(
    value: str, *, now: datetime | None = None, not_before: datetime | None = None
) -> datetime | None:
    """Parse a machine-readable date/time as found in meta tags and JSON-LD.

    ISO 8601 (``2024-01-15T10:30:00+01:00``, ``...Z``, ``2024-01-15 10:30``, day only),
    RFC 822 (``Mon, 15 Jan 2024 10:30:00 +0100``), Unix epoch seconds/milliseconds and other
    unambiguous full dates. The result is aware when the source has a zone, naive otherwise.
    Returns None for garbage, incomplete dates, dates before 1995 and dates more than one day
    in the future (relative to ``now``, default: the current time) and, when given, dates
    before ``not_before``.
    """
    if not isinstance(value, str):
        return None
    text = norm_ws(value)
    if not text or len(text) > 80:
        return None
    text = _DOUBLE_ZONE_RE.sub(r"\1", text)  # "...+01:00Z" seen in the wild
    result: datetime | None = None
    try:
        result = datetime.fromisoformat(text)
    except ValueError:
        result = None
    if result is None and _EPOCH_RE.fullmatch(text):
        seconds = int(text) / (1000 if len(text) == 13 else 1)
        try:
            result = datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            result = None
    if result is None and _RFC822_RE.match(text):
        try:
            result = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            result = None
    if result is None:
        result = _dateutil_parse(text)
    if result is None:
        return None
    return sane_date(result, now, not_before)


def has_time(value: datetime) -> bool:
    return value.tzinfo is not None or (value.hour, value.minute, value.second) != (0, 0, 0)


_URL_DATE_RE = re.compile(
    r"(?<![0-9])((?:19|20)\d\d)[/_-](0?[1-9]|1[0-2])[/_-](0?[1-9]|[12]\d|3[01])(?![0-9])"
)
_URL_DATE_COMPACT_RE = re.compile(r"(?<![0-9])((?:19|20)\d\d)(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])/")


@dataclass(frozen=True)
class DateBounds:
    """The plausible range for a page's dates (see :func:`sane_date`)."""

    now: datetime | None = None
    not_before: datetime | None = None


def date_from_url(url: str, bounds: DateBounds = DateBounds()) -> datetime | None:
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    match = _URL_DATE_RE.search(path) or _URL_DATE_COMPACT_RE.search(path)
    if not match:
        return None
    try:
        value = datetime(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None
    return sane_date(value, bounds.now, bounds.not_before)


PUBLISHED_META = (
    "article:published_time",
    "og:published_time",
    "article:published",
    "datepublished",
    "published_time",
    "publishdate",
    "publish-date",
    "publish_date",
    "pubdate",
    "date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "dcterms.date",
    "dc.date.created",
    "dcterms.created",
    "sailthru.date",
    "parsely-pub-date",
    "article.published",
    "article_date_original",
    "original-publish-date",
    "cxenseparse:recs:publishtime",
    "pub_date",
    "release_date",
    "creation_date",
)
MODIFIED_META = (
    "article:modified_time",
    "og:updated_time",
    "article:modified",
    "datemodified",
    "modified_time",
    "last-modified",
    "lastmod",
    "dc.date.modified",
    "dcterms.modified",
    "article.updated",
    "revised",
)

BYLINE_TIME_XPATH = (
    "//*[self::article or self::main or @role='main'"
    " or contains(translate(@class, 'BYLINE', 'byline'), 'byline')"
    " or contains(translate(@class, 'ATICLEHDR', 'aticlehdr'), 'article-header')"
    " or contains(translate(@class, 'META', 'meta'), 'meta')]"
    "//time[@datetime]"
)


def first_date(
    candidates: Iterable[tuple[str, Callable[[], Iterable[str]]]], bounds: DateBounds
) -> tuple[datetime | None, str | None]:
    """First valid date among (source, values) candidates.

    A day-only value is upgraded by a later candidate with a time on the same day, and a
    naive time by a later candidate with the same wall-clock time and a zone.
    """
    chosen: datetime | None = None
    source: str | None = None
    for name, getter in candidates:
        for raw in getter():
            value = (parse_datetime(raw, now=bounds.now, not_before=bounds.not_before)
                     if isinstance(raw, str) else None)
            if value is None:
                continue
            if chosen is None:
                chosen, source = value, name
                if chosen.tzinfo is not None:
                    return chosen, source
            elif not has_time(chosen):
                if has_time(value) and value.date() == chosen.date():
                    chosen, source = value, name
                    if chosen.tzinfo is not None:
                        return chosen, source
            elif value.tzinfo is not None:
                wall = value.replace(tzinfo=None)
                if abs(wall - chosen) < timedelta(minutes=1):
                    return value, name
    return chosen, source


def _jsonld_dates(key: str, nodes: Sequence[dict[str, Any] | None]) -> Callable[[], list[str]]:
    def values() -> list[str]:
        out: list[str] = []
        for value in jsonld_values(nodes, key):
            items = value if isinstance(value, list) else [value]
            out.extend(item for item in items if isinstance(item, str))
        return out

    return values


def _meta_dates(metas: MetaIndex, *keys: str) -> Callable[[], list[str]]:
    return lambda: metas.find(*keys)


def _itemprop_dates(root: Any, name: str) -> Callable[[], list[str]]:
    return lambda: [
        v for v in (element_value(e) for e in itemprop(root, name) if e.tag != "meta") if v
    ]


def _time_elements(root: Any) -> Callable[[], list[str]]:
    def values() -> list[str]:
        found = root.xpath("//time[@pubdate][@datetime]") + root.xpath(BYLINE_TIME_XPATH)
        return [str(e.get("datetime")) for e in found]

    return values


def choose_published(
    root: Any,
    metas: MetaIndex,
    article: dict[str, Any] | None,
    pages: Sequence[dict[str, Any] | None],
    url: str,
    bounds: DateBounds,
) -> tuple[datetime | None, str | None]:
    """The publication date from the best-ranked source that has a valid one, and its name."""
    candidates: list[tuple[str, Callable[[], Iterable[str]]]] = [
        ("jsonld:datePublished", _jsonld_dates("datePublished", [article])),
        *[(f"meta:{key}", _meta_dates(metas, key)) for key in PUBLISHED_META[:3]],
        ("meta:itemprop:datePublished", _meta_dates(metas, "datepublished")),
        ("itemprop:datePublished", _itemprop_dates(root, "datePublished")),
        *[(f"meta:{key}", _meta_dates(metas, key)) for key in PUBLISHED_META[4:]],
        ("jsonld:dateCreated", _jsonld_dates("dateCreated", [article])),
        ("jsonld:page:datePublished", _jsonld_dates("datePublished", pages)),
        ("time[datetime]", _time_elements(root)),
        ("text:label", lambda: labelled_dates(root)),
    ]
    published, source = first_date(candidates, bounds)
    if published is None:
        url_date = date_from_url(url, bounds)
        if url_date is not None:
            return url_date, "url"
    return published, source


def choose_modified(
    root: Any,
    metas: MetaIndex,
    article: dict[str, Any] | None,
    pages: Sequence[dict[str, Any] | None],
    bounds: DateBounds,
) -> tuple[datetime | None, str | None]:
    candidates: list[tuple[str, Callable[[], Iterable[str]]]] = [
        ("jsonld:dateModified", _jsonld_dates("dateModified", [article])),
        *[(f"meta:{key}", _meta_dates(metas, key)) for key in MODIFIED_META],
        ("itemprop:dateModified", _itemprop_dates(root, "dateModified")),
        ("jsonld:page:dateModified", _jsonld_dates("dateModified", pages)),
    ]
    return first_date(candidates, bounds)
