"""Normalisation of article fields: plain functions, independent of Scrapy.

Text is NFC, with control characters removed, whitespace collapsed inside a paragraph and
paragraphs separated by one blank line. URLs lose their fragment and tracking parameters and
get a lower-cased host. Dates become UTC.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import courlan

# Query parameters that only track a click and never select content.
_TRACKING_PARAM = re.compile(
    r"^(utm_\w*|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|igshid|yclid|"
    r"_hsenc|_hsmi|mkt_tok|ocid|cmpid|ito|at_medium|at_campaign|xtor|ns_mchannel|"
    r"ns_source|ns_campaign|ns_linkname|ns_fee|sr_share|share|smid|ref_src|spm)$",
    re.IGNORECASE,
)
# C0/C1 control characters except tab and newline, plus zero-width and BOM characters.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200d\u2060\ufeff]")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_WORD = re.compile(r"\w+", re.UNICODE)


def normalize_line(line: str) -> str:
    """One paragraph: NFC, no control characters, single spaces, trimmed."""
    line = unicodedata.normalize("NFC", line)
    line = _CONTROL.sub("", line)
    return _SPACES.sub(" ", line).strip()


def split_paragraphs(text: str) -> list[str]:
    """The non-empty, normalised paragraphs of a text (one per line)."""
    paragraphs = (normalize_line(line) for line in text.replace("\r\n", "\n").split("\n"))
    return [p for p in paragraphs if p]


def join_paragraphs(paragraphs: list[str]) -> str:
    return "\n\n".join(paragraphs)


def normalize_text(text: str) -> str:
    """Paragraphs separated by one blank line, each paragraph normalised."""
    return join_paragraphs(split_paragraphs(text))


def content_hash(text: str, title: str | None = None, *, normalized: bool = False) -> str:
    """A stable hash of the normalised title and text (hex SHA-256). ``normalized``: ``text``
    is already :func:`normalize_text`'s (normalising is idempotent: the same hash)."""
    digest = hashlib.sha256()
    digest.update(normalize_line(title or "").encode("utf-8"))
    digest.update(b"\x00")
    digest.update((text if normalized else normalize_text(text)).encode("utf-8"))
    return digest.hexdigest()


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def canonicalize_url(url: str) -> str:
    """The identity of a page: lower-case scheme and host, no default port, no fragment,
    no tracking parameters; the remaining query sorted (by courlan) and re-encoded, parameters
    without a value dropped. A key only, never fetched: ``/a?id`` and ``/a`` share one, and a
    site may answer it with a 404 (crawler/request_identity.py)."""
    try:
        url = courlan.normalize_url(url.strip(), strict=False, trailing_slash=True)
    except (ValueError, AttributeError):
        url = url.strip()
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not _TRACKING_PARAM.match(k)]
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", urlencode(query), "")
    )


def site_of(url: str) -> str:
    """The site a URL belongs to: its host, lower-cased, without a leading ``www.``."""
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def same_site(url_a: str, url_b: str) -> bool:
    return site_of(url_a) == site_of(url_b) != ""


def to_utc(value: datetime | None) -> datetime | None:
    """An aware datetime converted to UTC, a naive one taken as UTC; returned naive-free."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
