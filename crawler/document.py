"""The stored article document: its fields and how an extracted article becomes one.

A plain function, independent of Scrapy. docs/schema.md documents every field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crawler.canonical import (
    canonicalize_url,
    content_hash,
    normalize_line,
    normalize_text,
    site_of,
    to_utc,
    word_count,
)
from crawler.dates import sane_date, zone_of
from crawler.extraction.fingerprint import fingerprint
from crawler.items import ArticleItem

SCHEMA_VERSION = 1
MAX_TITLE_CHARS = 1_000
MAX_SHORT_FIELD_CHARS = 2_000
MAX_LIST_ITEMS = 50

_SHORT_FIELDS = ("site_name", "description", "image", "section", "published_source",
                 "modified_source", "language_source", "fetched_url", "authors_source",
                 "paywall_source")


def article_document(item: ArticleItem) -> dict[str, Any]:
    """Turn an extracted (and template-stripped) article into the stored document.

    ``first_seen`` and ``updated_at`` are left to the store, which knows what is stored.
    """
    text = normalize_text(item.text or "")
    title = normalize_line(item.title or "")[:MAX_TITLE_CHARS] or None
    url = canonicalize_url(item.url)
    doc: dict[str, Any] = {
        "url": url,
        "source": item.source,
        "site": site_of(url),
        "title": title,
        "text": text,
        "language": _language(item.language),
        "published": _date(item.published),
        "published_zone": None,
        "modified": _date(item.modified),
        "authors": _strings(item.authors),
        "tags": _strings(item.tags),
        "paywalled": bool(item.paywalled),
        "template_lines_removed": int(item.template_lines_removed or 0),
        "content_hash": content_hash(text, title, normalized=True),
        "word_count": word_count(text),
        "fingerprint": fingerprint(text) if text else None,
        "fetched_at": _date(item.fetched_at),
        "schema_version": SCHEMA_VERSION,
    }
    if doc["published"] is not None and item.published is not None:
        doc["published_zone"] = zone_of(item.published)
    if isinstance(item.archive, dict):  # the page's WARC record (crawler/warc.py)
        doc["archive"] = {key: item.archive.get(key) for key in ("file", "offset", "length")}
    for key in _SHORT_FIELDS:
        value = getattr(item, key)
        doc[key] = normalize_line(str(value))[:MAX_SHORT_FIELD_CHARS] or None if value else None
    return doc


def _date(value: Any) -> datetime | None:
    """A datetime in UTC; None for anything else and for implausible dates (9999, 1900),
    by the rule of :func:`crawler.dates.sane_date`. A naive value keeps its wall clock."""
    if not isinstance(value, datetime):
        return None
    try:
        utc = to_utc(value)
    except (OverflowError, ValueError):  # 9999-12-31T23:00-05:00 has no UTC datetime
        return None
    if utc is None or sane_date(utc) is None:
        return None
    return utc


def _language(value: Any) -> str | None:
    if isinstance(value, str) and len(value) == 2 and value.isascii() and value.isalpha():
        return value.lower()
    return None


def _strings(values: Any) -> list[str]:
    if not isinstance(values, list | tuple):
        return []
    seen: dict[str, None] = {}
    for value in values[:MAX_LIST_ITEMS]:
        text = normalize_line(str(value))[:MAX_SHORT_FIELD_CHARS]
        if text:
            seen.setdefault(text, None)
    return list(seen)
