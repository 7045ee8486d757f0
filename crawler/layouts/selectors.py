"""Element signatures and the XPaths built from them (plain functions over lxml elements).

A signature names an element by what a site's template gives it, never by what a page's
content gives it: its tag, its id and its classes, leaving out ids and classes with digits in
them (``post-48213``, ``css-1x2y3z``), which change from page to page or build to build.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

_VOLATILE = re.compile(r"\d")
_SAFE = re.compile(r"^[A-Za-z_][A-Za-z0-9_:-]{0,60}$")
# Tags that name furniture by themselves, or headings (a drop may be named by the tag alone).
SEMANTIC_FURNITURE = frozenset({"aside", "figure", "figcaption", "nav", "form", "footer",
                                "header", "button", "iframe", "noscript", "svg", "select",
                                "style", "script", "template", "video", "audio", "picture",
                                # headings: a site's full extraction keeps or drops them all
                                "h1", "h2", "h3", "h4", "h5", "h6"})


def _stable(value: str) -> bool:
    return bool(_SAFE.match(value)) and not _VOLATILE.search(value)


def signature(element: Any) -> str | None:
    """``tag#id`` or ``tag.class1.class2`` (classes sorted), or the bare tag; None for
    comments and processing instructions."""
    tag = element.tag
    if not isinstance(tag, str):
        return None
    tag = tag.lower()
    ident = (element.get("id") or "").strip()
    if ident and _stable(ident):
        return f"{tag}#{ident}"
    classes = sorted({c for c in (element.get("class") or "").split() if _stable(c)})
    if classes:
        return tag + "".join(f".{c}" for c in classes)
    return tag


def is_named(sig: str) -> bool:
    """Whether a signature names more than a tag (an id or classes), or names a furniture tag."""
    return "#" in sig or "." in sig or sig in SEMANTIC_FURNITURE


def step_xpath(sig: str) -> str:
    """The XPath step that selects elements of a signature."""
    if "#" in sig:
        tag, ident = sig.split("#", 1)
        return f"{tag}[@id='{ident}']"
    tag, *classes = sig.split(".")
    conditions = "".join(
        f"[contains(concat(' ', normalize-space(@class), ' '), ' {c} ')]" for c in classes)
    return tag + conditions


def chain_xpath(signatures: list[str]) -> str:
    """``//a/b/c``: an element of the last signature, child of one of the one before, ..."""
    return "//" + "/".join(step_xpath(sig) for sig in signatures)


def drop_xpath(sig: str) -> str:
    """Every element of a signature inside the container."""
    return ".//" + step_xpath(sig)


_COMPILED: dict[str, etree.XPath] = {}


def compiled(expression: str) -> etree.XPath:
    """A layout's XPath compiled once a process (raises ``etree.XPathSyntaxError``)."""
    found = _COMPILED.get(expression)
    if found is None:
        if len(_COMPILED) > 4096:
            _COMPILED.clear()
        found = _COMPILED[expression] = etree.XPath(expression)
    return found
