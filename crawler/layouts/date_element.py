"""Where a site shows its articles' date, when the page declares none (plain functions).

A page that declares no date (no JSON-LD, meta tag, ``<time>`` or URL date that
crawler/extraction/page_dates.py reads) gets the date that trafilatura's metadata finds:
htmldate's search of the whole page, about 15 ms. Its site's layout can say where that date is
shown instead: :func:`locate` finds, on a learning page, the element (or attribute) that shows
the day htmldate found, and names it by an XPath; :func:`shown_day` reads the day there on a
later page, in microseconds. Only the day is read: trafilatura's date is a day
(``YYYY-MM-DD``), and the fast way must store what the full way would.

The XPath is the shortest chain of signatures (crawler/layouts/selectors.py) that finds only
that element on the learning page, else its position from the root. A learning page of the
crawl's day (or the day before or after) names none: a newspaper's header shows the day's date
on every page, and on a page published that day it cannot be told from the article's own date.
A page where it finds nothing, or nothing that reads as a date, is searched by htmldate as
before, and the sampled pages compare the two ways' dates (a layout whose date disagrees is
closed).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from htmldate.extractors import try_date_expr
from lxml import etree

from crawler.extraction.visible_dates import parse_visible_date
from crawler.layouts.selectors import chain_xpath, compiled, signature

# An element shows a date when its whole text is this short.
MAX_TEXT = 120
MAX_CHAIN = 6
_ATTRIBUTES = ("datetime", "content", "title")
_META_KEYS = ("property", "name", "itemprop")
_PLAIN = re.compile(r"^[A-Za-z0-9_:.-]{1,80}$")
_SKIP = frozenset({"script", "style", "noscript", "template", "html", "body", "head", "title"})
_EARLIEST = datetime(1995, 1, 1)
# A learning page's day this close to the crawl's names no element (see the module's doc).
RECENT_DAYS = 1


def day_of(text: str | None) -> str | None:
    """The day (``YYYY-MM-DD``) a short text shows, or None: the project's reading of a visible
    date (day first where numeric), else htmldate's quick parse (no dateparser)."""
    if not text:
        return None
    text = " ".join(text.split())
    if not text or len(text) > MAX_TEXT or not any(c.isdigit() for c in text):
        return None
    value = parse_visible_date(text)
    if value:
        return value[:10]
    latest = datetime.now().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=2)
    found = try_date_expr(text, "%Y-%m-%d", False, _EARLIEST, latest)
    return str(found) if found else None


def shown_day(tree: Any, xpath: str) -> str | None:
    """The day shown where ``xpath`` points on a page (its first match), or None (also for an
    XPath that does not compile: a layout edited by hand)."""
    try:
        found = compiled(xpath)(tree)
    except etree.XPathError:
        return None
    if not found:
        return None
    first = found[0]
    if isinstance(first, str):
        return day_of(first)
    return day_of(first.text_content()) if isinstance(first.tag, str) else None


def locate(root: Any, day: str, today: date | None = None) -> str | None:
    """An XPath to the first element (in document order) that shows ``day``: its text (the
    deepest element whose text does), or its ``datetime``, ``content`` or ``title``
    attribute, or a ``<meta>``'s ``content``. None when the page shows it nowhere, and when
    ``day`` is within a day of ``today`` (default: the current UTC day), where a header's date
    of the day would be taken for it."""
    today = today or datetime.now(UTC).date()
    if abs((date.fromisoformat(day) - today).days) <= RECENT_DAYS:
        return None
    for element in root.iter():
        tag = element.tag
        if not isinstance(tag, str):
            continue
        tag = tag.lower()
        if tag == "meta":
            if day_of(element.get("content")) == day:
                xpath = _meta_xpath(element)
                if xpath and _only(root, xpath, element):
                    return xpath
            continue
        if tag in _SKIP:
            continue
        for attribute in _ATTRIBUTES:
            if day_of(element.get(attribute)) == day:
                xpath = _element_xpath(root, element)
                if xpath:
                    return f"{xpath}/@{attribute}"
        text = element.text_content()
        if len(text) > 4 * MAX_TEXT or day_of(text) != day:
            continue
        if any(isinstance(child.tag, str) and day_of(child.text_content()) == day
               for child in element):
            continue  # a child shows it alone: it is found there next
        xpath = _element_xpath(root, element)
        if xpath:
            return xpath
    return None


def _meta_xpath(element: Any) -> str | None:
    for key in _META_KEYS:
        value = element.get(key)
        if value and _PLAIN.match(value):
            return f"//meta[@{key}='{value}']/@content"
    return None


def _element_xpath(root: Any, element: Any) -> str | None:
    """The shortest signature chain (from the element up) that finds only it, else its path."""
    chain: list[str] = []
    node = element
    while node is not None and len(chain) < MAX_CHAIN:
        sig = signature(node)
        if sig is None or sig == "html":
            break
        chain.append(sig)
        xpath = chain_xpath(list(reversed(chain)))
        if _only(root, xpath, element):
            return xpath
        node = node.getparent()
    path = root.getroottree().getpath(element)
    return path if _only(root, path, element) else None


def _only(root: Any, xpath: str, element: Any) -> bool:
    try:
        found = root.xpath(xpath)
    except etree.XPathError:
        return False
    if not found:
        return False
    if isinstance(found[0], str):  # an attribute's value: its element
        found = [value.getparent() for value in found]
    return len(found) == 1 and found[0] is element
