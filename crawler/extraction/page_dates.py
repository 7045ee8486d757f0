"""Publication and modification dates of a page: the ranked sources.

Every value is parsed by :func:`crawler.dates.parse_date` (re-exported as ``parse_datetime``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from crawler.dates import has_time, sane_date
from crawler.dates import parse_date as parse_datetime
from crawler.extraction.dom import MetaIndex, element_value, itemprop
from crawler.extraction.jsonld import jsonld_values
from crawler.extraction.visible_dates import labelled_dates

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
    "//time[@datetime][ancestor::*[self::article or self::main or @role='main'"
    " or contains(translate(@class, 'BYLINE', 'byline'), 'byline')"
    " or contains(translate(@class, 'ATICLEHDR', 'aticlehdr'), 'article-header')"
    " or contains(translate(@class, 'META', 'meta'), 'meta')]]"
)
# The page's <time> elements with a date marked ``pubdate``, and those inside an article, a
# main part or a byline (the condition asked of the few <time> elements, not of every element).
_PUBDATE_TIMES = etree.XPath("//time[@pubdate][@datetime]")
_BYLINE_TIMES = etree.XPath(BYLINE_TIME_XPATH)


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
        found = _PUBDATE_TIMES(root) + _BYLINE_TIMES(root)
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
