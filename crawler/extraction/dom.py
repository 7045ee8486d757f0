"""lxml helpers: parse a page, index its <meta> tags, read element values and itemprops."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

import lxml.html
from lxml import etree

from crawler.extraction.text import text_value

logger = logging.getLogger(__name__)



def to_root(document: Any) -> Any:
    """An lxml root element for HTML text/bytes or an lxml tree/element; None if unusable."""
    if document is None:
        return None
    if isinstance(document, str | bytes):
        data = document.encode("utf-8", "replace") if isinstance(document, str) else document
        if not data.strip():
            return None
        encoding: str | None = "utf-8"
        if isinstance(document, bytes):
            try:
                document.decode("utf-8")
            except UnicodeDecodeError:
                encoding = None  # let libxml2 use the page's own <meta charset>
        try:
            parser = lxml.html.HTMLParser(encoding=encoding, remove_comments=True)
            return lxml.html.document_fromstring(data, parser=parser)
        except (etree.ParserError, ValueError, TypeError) as exc:
            logger.debug("cannot parse HTML: %s", exc)
            return None
    if hasattr(document, "getroot"):
        return document.getroot()
    if hasattr(document, "getroottree"):
        return document.getroottree().getroot()
    return None


_KEY_SEPARATORS = re.compile(r"[\s_:.-]+")


@lru_cache(maxsize=4096)
def meta_key(key: str) -> str:
    """ "article:published_time", "article:published:time", "Article_Published_Time" alike
    (a site's pages name their meta tags alike: each name normalised once a process)."""
    return _KEY_SEPARATORS.sub(":", key.strip().lower())


class MetaIndex(dict[str, list[str]]):
    """<meta> contents by normalised property / name / itemprop / http-equiv."""

    def find(self, *keys: str) -> list[str]:
        return [value for key in keys for value in dict.get(self, meta_key(key), [])]


def meta_index(root: Any) -> MetaIndex:
    index = MetaIndex()
    for meta in root.iter("meta"):
        content = meta.get("content")
        if content is None:
            content = meta.get("value")
        if content is None or not content.strip():
            continue
        keys: set[str] = set()
        for attr in ("property", "name", "itemprop", "http-equiv"):
            for single in (meta.get(attr) or "").split():
                keys.add(meta_key(single))
        for key in keys:
            index.setdefault(key, []).append(content.strip())
    return index


def inner_text(element: Any) -> str:
    """Text of an element without comments (works for lxml.html and plain etree elements)."""
    try:
        return str(element.xpath("string()"))
    except (etree.XPathError, ValueError, TypeError):
        return ""


def element_value(element: Any) -> str | None:
    for attr in ("content", "datetime"):
        value = element.get(attr)
        if value and value.strip():
            return value.strip()
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in ("a", "link") and element.get("href"):
        return str(element.get("href"))
    if tag in ("img", "source") and element.get("src"):
        return str(element.get("src"))
    if tag == "meta":
        return None
    return text_value(inner_text(element))


_WITH_ITEMPROP = etree.XPath("//*[@itemprop]")


_indexed: ContextVar[tuple[Any, list[tuple[Any, list[str]]]] | None] = ContextVar(
    "itemprop_index", default=None)


@contextmanager
def itemprop_index(root: Any) -> Iterator[None]:
    """While it is open, :func:`itemprop` on ``root``'s document reads one scan of it (the
    document must not change meanwhile: page_metadata reads, never writes)."""
    document = root.getroottree().getroot()
    token = _indexed.set((document, [(e, (e.get("itemprop") or "").split())
                                     for e in _WITH_ITEMPROP(document)]))
    try:
        yield
    finally:
        _indexed.reset(token)


def itemprop(root: Any, name: str) -> list[Any]:
    """The document's elements whose ``itemprop`` names ``name`` (one of its words), in
    document order."""
    index = _indexed.get()
    if index is not None and index[0] is root.getroottree().getroot():
        return [element for element, names in index[1] if name in names]
    return [element for element in _WITH_ITEMPROP(root)
            if name in (element.get("itemprop") or "").split()]


def contains(ancestor: Any, element: Any) -> bool:
    node = element.getparent()
    while node is not None:
        if node is ancestor:
            return True
        node = node.getparent()
    return False


def h1_texts(root: Any) -> list[str]:
    out: list[str] = []
    for h1 in root.iter("h1"):
        text = text_value(inner_text(h1))
        if text:
            out.append(text)
    return out

