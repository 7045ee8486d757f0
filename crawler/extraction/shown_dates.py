"""Where a page shows dates to its reader, for telling an article from a page that is not one.

An article shows its one date with its headline or byline, just above its text or in its first
words. A page that shows several dated entries (a news archive, a blog's page of posts, a list
of press cuttings: "Published 11 December 2006" above each) is a listing. A date that a search
of the whole page found somewhere else (a copyright year, a file name, a "last updated" line in
the footer, or nowhere visible at all) says little about whether the page is an article.

Dates are matched by day, in the forms pages write them: ``2006-12-11``, ``11.12.2006``,
``12/11/2006`` (either order), ``11 December 2006``, ``Tuesday, 18 Jul, 2006``,
``Dec. 11th, 2006``, ``2006年12月11日``, ``2006년 12월 11일``, ``2006. 12. 11.``, ``2006/12/11``.
Plain functions of text and lxml trees.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from lxml.etree import XPath

from crawler.extraction.text import norm_ws
from crawler.extraction.visible_dates import MONTHS

# A paragraph of at most this many words that shows a date is the date line of an entry ...
DATE_LINE_WORDS = 8
# ... unless it attributes a quote or an embedded post: "— Name (@handle) July 18, 2026" under
# each tweet an article embeds, "— Jo Doe, 3 March 2004" under a quotation.
_ATTRIBUTION = re.compile(r"^[—–-]|@\w")
# The main text's date is shown within this many words before its first paragraph (headline,
# byline, dateline) ...
BEFORE_TEXT_WORDS = 200
# ... or within its first words ("WASHINGTON, Jan. 5, 2008 (AP) --").
TEXT_START_WORDS = 50

_ORDINAL = r"(?:st|nd|rd|th)?"
_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_NUMERIC = re.compile(r"(?<![\d.])(\d{1,2})[./](\d{1,2})[./](\d{4}|\d{2})(?![\d])")
_DAY_MONTH = re.compile(r"(?<!\d)(\d{1,2})" + _ORDINAL
                        + r"\.?\s+([^\W\d_]{3,10})\.?,?\s+(\d{4})(?!\d)")
_MONTH_DAY = re.compile(r"([^\W\d_]{3,10})\.?\s+(\d{1,2})" + _ORDINAL + r",?\s+(\d{4})(?!\d)")
# Year first: Chinese and Japanese 2006年12月11日, Korean 2006년 12월 11일, 2006. 12. 11.,
# 2006/12/11
_YEAR_MONTH_DAY = re.compile(
    r"(?<!\d)(\d{4})\s*[年년./]\s*(\d{1,2})\s*[月월./]\s*(\d{1,2})(?!\d)")


def _day(year: int, month: int | None, day: int) -> date | None:
    if month is None:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _year(value: str) -> int:
    year = int(value)
    if len(value) == 2:
        return year + (2000 if year < 50 else 1900)
    return year


def shown_days(text: str) -> set[date]:
    """Every calendar day written in ``text``; a numeric date whose day and month could be
    either way round (``04/05/2024``) gives both."""
    days: set[date] = set()
    for match in _ISO.finditer(text):
        y, m, d = match.groups()
        days.add(_day(int(y), int(m), int(d)) or date.min)
    for match in _YEAR_MONTH_DAY.finditer(text):
        y, m, d = match.groups()
        days.add(_day(int(y), int(m), int(d)) or date.min)
    for match in _NUMERIC.finditer(text):
        first, second, y = int(match.group(1)), int(match.group(2)), _year(match.group(3))
        days.add(_day(y, second, first) or date.min)
        days.add(_day(y, first, second) or date.min)
    for match in _DAY_MONTH.finditer(text):
        d, name, y = match.groups()
        days.add(_day(int(y), MONTHS.get(name.casefold()), int(d)) or date.min)
    for match in _MONTH_DAY.finditer(text):
        name, d, y = match.groups()
        days.add(_day(int(y), MONTHS.get(name.casefold()), int(d)) or date.min)
    days.discard(date.min)
    return days


def dated_entries(paragraphs: list[str]) -> int:
    """How many different dates the main text shows on lines of their own (a paragraph of at
    most ``DATE_LINE_WORDS`` words with a date, not an attribution): the entries of a listing,
    one date each."""
    dates: set[frozenset[date]] = set()
    for paragraph in paragraphs:
        if (len(paragraph.split()) <= DATE_LINE_WORDS and not _ATTRIBUTION.search(paragraph)
                and (days := shown_days(paragraph))):
            dates.add(frozenset(days))
    return len(dates)


# The visible text nodes, in document order.
_VISIBLE_TEXT = XPath(".//text()[not(ancestor::script or ancestor::style or ancestor::noscript"
                      " or ancestor::template or ancestor::head)]")


def shown_near_text(tree: Any, paragraphs: list[str], day: date) -> bool:
    """Whether the page shows ``day`` where an article shows its date: within
    ``BEFORE_TEXT_WORDS`` words before its main text (``paragraphs``) or in that text's first
    ``TEXT_START_WORDS`` words (not past its end: a footer's "last updated" does not count).
    When the text cannot be found in the page as written, its first paragraph alone is looked
    at; with no text, False."""
    if not paragraphs:
        return False
    body = tree.find("body")
    words = norm_ws(" ".join(_VISIBLE_TEXT(body if body is not None else tree))).split()
    first = paragraphs[0].split()[:8]
    start = _find(words, first)
    if start is None:
        return any(day in shown_days(p) for p in paragraphs[:1])
    text_words = sum(len(p.split()) for p in paragraphs)
    near = " ".join(words[max(0, start - BEFORE_TEXT_WORDS):
                          start + min(TEXT_START_WORDS, text_words)])
    return day in shown_days(near)


def _find(words: list[str], needle: list[str]) -> int | None:
    """The index in ``words`` where ``needle`` starts (its words in a row), or None."""
    if not needle:
        return None
    head = needle[0]
    for i, word in enumerate(words):
        if word == head and words[i:i + len(needle)] == needle:
            return i
    return None
