"""The fast path: a page of a known site extracted through its layout, without trafilatura's
search for the main text.

The page is parsed once (lxml), its body container found by the layout's XPath, the subtrees
the layout drops removed, and the rest written as paragraphs by trafilatura's converter over
the container alone (:func:`container_text`). Title, authors, dates, language and the other
fields come from the page's structured data as in the full extraction
(crawler/extraction/article.assemble_item).

The result is checked against the layout (:func:`check`): a page that fails goes the full way.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import html_text
import lxml.html
import trafilatura
from lxml import etree
from lxml.html import HtmlElement

from crawler.canonical import split_paragraphs
from crawler.extraction.article import NOT_RUN, assemble_item
from crawler.extraction.body import body_options, body_paragraphs
from crawler.extraction.boilerplate import HTML_BLOCKS, drop_link_blocks, prune_element
from crawler.extraction.metadata import page_metadata
from crawler.extraction.text import word_count
from crawler.extraction.trafilatura_metadata import TrafilaturaMetadata
from crawler.items import Extraction
from crawler.layouts.date_element import shown_day
from crawler.layouts.learn import TRAFILATURA
from crawler.layouts.selectors import compiled, is_named, signature
from crawler.layouts.site_layout import Layout

# Never text: removed from the container before its text is read.
_JUNK = etree.XPath(".//script|.//style|.//noscript|.//template|.//svg|.//button|.//select"
                    "|.//iframe|.//textarea")
_NEWLINE_TAGS = html_text.NEWLINE_TAGS | {"td", "th", "section", "center"}
# How far a page may fall outside its layout's learned ranges before it goes the full way.
WORDS_LOW, WORDS_HIGH = 0.25, 4.0
PARAGRAPHS_LOW, PARAGRAPHS_HIGH = 0.25, 4.0
LINK_DENSITY_SLACK = 0.15
# ``published_source`` of a date read where the site's layout shows it (date_element.py).
SHOWN_DATE_SOURCE = "layout"
# Below this many words a page is not an article, whatever its layout.
MIN_WORDS = 15

def find_container(tree: HtmlElement, layout: Layout) -> HtmlElement | None:
    """The layout's body container on a page: exactly one element, else None."""
    found = compiled(layout.container)(tree)
    return found[0] if len(found) == 1 else None


def remove_drops(container: HtmlElement, drops: list[str]) -> None:
    """Remove the layout's dropped subtrees and what is never text (the container changes)."""
    for expression in drops:
        for element in compiled(expression)(container):
            element.drop_tree()
    for element in _JUNK(container):
        element.drop_tree()


def unknown_signatures(container: HtmlElement, known: set[str]) -> list[str]:
    """Named elements with text inside the container that the layout has not seen there."""
    unknown = []
    for element in container.iterdescendants():
        sig = signature(element)
        if sig is None or sig in known or not is_named(sig):
            continue
        if any(text.strip() for text in element.itertext()):
            unknown.append(sig)
    return sorted(set(unknown))


def container_text(container: HtmlElement) -> tuple[list[str], float]:
    """The paragraphs of a container whose drops are removed, and the share of its text inside
    links (the container is changed).

    The text is written by trafilatura's own converter, run over the container alone (fast
    mode: no fallback extractors, a few kB instead of the page), so that it reads exactly as
    the full way's (list items, inline elements, line breaks); a container it finds too short
    to keep is written by html-text instead."""
    prune_element(container)
    total_chars = len(" ".join(container.text_content().split()))
    linked = sum(len(" ".join(a.text_content().split())) for a in container.iter("a"))
    density = min(1.0, linked / total_chars) if total_chars else 1.0
    container.tail = None
    page = lxml.html.fromstring("<html><body><article></article></body></html>")
    article = page.find("body/article")
    assert article is not None
    article.append(container)
    # bare_extraction works on a copy of the page it is given: the container stays as it was.
    paragraphs = body_paragraphs(trafilatura.bare_extraction(page, options=body_options(fast=True)))
    if paragraphs:
        return paragraphs, density
    drop_link_blocks(container, blocks=HTML_BLOCKS, link="a", lists=("ul", "ol"), items=("li",),
                     strip=False)
    text = html_text.etree_to_text(container, guess_layout=True, newline_tags=_NEWLINE_TAGS)
    return split_paragraphs(text), density


def lead_paragraphs(tree: HtmlElement, container: HtmlElement, expression: str) -> list[str]:
    """The standfirst the layout finds outside the container (``Layout.lead``): its element's
    text as paragraphs; none when the page has no such element, or several, or it is inside
    the container or around it."""
    found = compiled(expression)(tree)
    if len(found) != 1:
        return []
    element = found[0]
    if element is container or any(a is element for a in container.iterancestors()) or any(
            a is container for a in element.iterancestors()):
        return []
    for junk in _JUNK(element):
        junk.drop_tree()
    text = html_text.etree_to_text(element, guess_layout=True, newline_tags=_NEWLINE_TAGS)
    return split_paragraphs(text)


@dataclass(slots=True)
class FastResult:
    extraction: Extraction | None  # None: the page goes the full way (``miss`` says why)
    miss: str | None = None
    unknown: list[str] | None = None  # the named elements the layout has not seen
    fast: Extraction | None = None  # the fast result that missed a check (to compare)
    # It missed only the length checks: its container, link density, date and types fit, so
    # the page is one of the site's articles, however short (a wire story).
    fits_but_length: bool = False


def extract_with_layout(html: str, url: str, layout: Layout, *, tree: HtmlElement | None = None,
                        container: HtmlElement | None = None,
                        not_before: datetime | None = None,
                        detect_language: bool = True) -> FastResult:
    """A page extracted through its site's layout, or why not (``miss``). ``container``: the
    layout's container in ``tree``, when the caller found it."""
    if tree is None:
        from trafilatura.utils import load_html
        tree = load_html(html)
        if tree is None:
            return FastResult(None, "unparseable")
    if container is None:
        container = find_container(tree, layout)
    if container is None:
        return FastResult(None, "container")
    meta = page_metadata(tree, url, not_before=not_before)
    # A page that declares no date, of a site whose date came from trafilatura's metadata:
    # the day where the layout says the site shows it (read before the container changes).
    shown = None
    if (meta.published is None and layout.date_xpath
            and layout.sources.get("published") == TRAFILATURA):
        shown = shown_day(tree, layout.date_xpath)
    # A site whose dates, authors, site name, ... came from trafilatura's metadata on a
    # learning page gets them from there again (from the page before its container changes).
    needs = {name for name, source in layout.sources.items() if source == TRAFILATURA}
    if shown is not None:
        needs.discard("published")
    found = (TrafilaturaMetadata(deepcopy(tree), url)
             if needs or layout.sources.get("published") == "htmldate" else NOT_RUN)
    lead = lead_paragraphs(tree, container, layout.lead) if layout.lead else []
    remove_drops(container, layout.drops)
    unknown = unknown_signatures(container, set(layout.known))
    paragraphs, density = container_text(container)
    if lead:
        paragraphs = [p for p in lead if p not in paragraphs] + paragraphs
    item = assemble_item(tree, html, url, meta, paragraphs, found, not_before=not_before,
                         detect_language=detect_language,
                         shown_date=(shown, SHOWN_DATE_SOURCE) if shown else None)
    result = Extraction(item, is_article=True, page_kind=f"layout {layout.version}",
                        metadata_error=meta.failed)
    dated = item.published is not None
    miss = check(layout, item.paragraphs, density, meta.types, dated)
    if miss is None and unknown:
        miss = "unknown"
    if miss:
        fits = miss in LENGTH_MISSES and check(layout, item.paragraphs, density, meta.types,
                                               dated, lengths=False) is None
        return FastResult(None, miss, unknown=unknown, fast=result,
                          fits_but_length=fits)
    return FastResult(result)


LENGTH_MISSES = frozenset({"length", "paragraphs"})


def check(layout: Layout, paragraphs: list[str], density: float, types: Any,
          dated: bool, *, lengths: bool = True) -> str | None:
    """Why a fast result does not fit its layout, or None when it does (``lengths=False``:
    whatever its number of words and paragraphs)."""
    words = sum(word_count(p) for p in paragraphs)
    if words < MIN_WORDS:
        return "empty"
    if lengths and not (layout.min_words * WORDS_LOW <= words
                        <= max(layout.max_words * WORDS_HIGH, 200)):
        return "length"
    count = len(paragraphs)
    if lengths and not (layout.min_paragraphs * PARAGRAPHS_LOW <= count
                        <= max(layout.max_paragraphs * PARAGRAPHS_HIGH, 20)):
        return "paragraphs"
    if density > min(0.5, layout.max_link_density + LINK_DENSITY_SLACK):
        return "links"
    if layout.sources.get("published") and not dated:
        return "date"
    declared = {str(t).lower() for t in types}
    if layout.types and not declared & set(layout.types):
        return "type"
    return None

