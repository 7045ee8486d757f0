"""One page in, one article out: trafilatura for the main text (crawler.extraction.body),
structured data for metadata (crawler.extraction.metadata).

A plain function of (HTML, URL), independent of Scrapy, so it runs in worker processes and in
tests and benchmarks alone.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

import py3langid
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from crawler.canonical import canonicalize_url, normalize_line, same_site
from crawler.extraction.body import TrafilaturaMetadata, extract_body
from crawler.extraction.bylines import bold_byline, drop_bylines
from crawler.extraction.classify import (
    PageSignals,
    classify_page,
    declares_article,
    link_density,
    prose_words,
    shown_date_needed,
)
from crawler.extraction.edges import drop_edge_furniture
from crawler.extraction.metadata import PageMetadata, clean_title, page_metadata
from crawler.extraction.page_dates import DateBounds, parse_datetime
from crawler.extraction.repair import html5_serialised
from crawler.extraction.shown_dates import dated_entries, shown_near_text
from crawler.extraction.text import word_count
from crawler.extraction.visible_dates import searched_date
from crawler.items import ArticleItem, Extraction

logger = logging.getLogger(__name__)

# A page read again with the HTML5 parser (crawler/extraction/repair.py) is taken as read so
# when that gives at least this many more words.
REPAIR_MIN_MORE_WORDS = 20
# Below this many words the detector is a guess, so a page without a declared language gets none.
_MIN_WORDS_FOR_DETECTION = 15
# The detector reads this many characters of the text: its cost grows with the sample, its answer
# does not (the same language as from 5,000 on all 764 texts of the eval sets and the plain
# corpus; docs/performance.md).
_DETECTION_SAMPLE = 2000


def extract_article(html: str, url: str, *, min_words: int = 80, hinted: bool = False,
                    not_before: datetime | None = None,
                    detect_language: bool = True) -> Extraction:
    """Extract the article of one HTML page.

    Returns an :class:`~crawler.items.Extraction`: the article (``item``: ``url``, ``title``,
    ``text``, ``authors``, ``published``, ``modified``, ``language``, ...) and
    ``is_article``/``page_kind`` saying whether the page is one article. ``text`` holds
    paragraphs separated by a blank line; ``paragraphs`` holds the same as a list.
    ``not_before`` (the site's first article, when the caller knows it) rejects older dates
    as implausible, as dates in the future are. With ``detect_language=False`` a page that
    declares no language gets ``language`` None and the caller may run
    :func:`detected_language` on the paragraphs itself (the extraction pool does, so that only
    the crawl process holds the 74 MB language model).
    """
    return extract_article_parts(html, url, min_words=min_words, hinted=hinted,
                                 not_before=not_before, detect_language=detect_language)[0]


def extract_article_parts(html: str, url: str, *, min_words: int = 80, hinted: bool = False,
                          not_before: datetime | None = None, detect_language: bool = True,
                          tree: HtmlElement | None = None,
                          ) -> tuple[Extraction, HtmlElement | None, PageMetadata | None]:
    """:func:`extract_article`, with the parsed page (unchanged) and its metadata, for a caller
    that reads them further (crawler/layouts/task.py observes the page). ``tree``: ``html``
    already parsed (``load_html``) and unchanged, when the caller has it."""
    if tree is None:
        tree = load_html(html)
    found = _extract(tree, html, url, min_words=min_words, hinted=hinted,
                     not_before=not_before, detect_language=detect_language)
    if _words(found[0]) >= min_words:
        return found
    # Too little text: a page libxml2 reads only in part (crawler/extraction/repair.py)?
    repaired = html5_serialised(html, tree)
    if repaired is None:
        return found
    again = _extract(load_html(repaired), repaired, url, min_words=min_words, hinted=hinted,
                     not_before=not_before, detect_language=detect_language)
    if _words(again[0]) < _words(found[0]) + REPAIR_MIN_MORE_WORDS:
        return found
    logger.debug("Read %s with the HTML5 parser: %d words instead of %d", url,
                 _words(again[0]), _words(found[0]))
    again[0].html_repaired = True
    return again


def _words(extraction: Extraction) -> int:
    return word_count(extraction.item.text) if extraction.item.text else 0


def _extract(tree: HtmlElement | None, html: str, url: str, *, min_words: int, hinted: bool,
             not_before: datetime | None, detect_language: bool,
             ) -> tuple[Extraction, HtmlElement | None, PageMetadata | None]:
    if tree is None:
        return Extraction.nothing(url, "unparseable HTML"), None, None
    meta = page_metadata(tree, url, not_before=not_before)
    body = extract_body(tree, url, meta.description)
    item = assemble_item(tree, html, url, meta, body.paragraphs, body.metadata,
                         not_before=not_before, detect_language=detect_language)
    # Only a found date, and nothing else that says "article": is it shown next to the text?
    date_shown = None
    if meta.published is None and item.published is not None and shown_date_needed(url):
        date_shown = shown_near_text(tree, item.paragraphs, item.published.date())
    signals = PageSignals(
        url=url, types=frozenset(meta.types), words=word_count(item.text),
        prose_words=prose_words(item.paragraphs), page_link_density=link_density(tree),
        text_link_density=body.link_density, declared_date=meta.published is not None,
        found_date=item.published is not None, dated_entries=dated_entries(item.paragraphs),
        date_shown=date_shown)
    kind = classify_page(signals, min_words=min_words, hinted=hinted, paywalled=item.paywalled)
    declared = declares_article(meta.types)
    return Extraction(item, is_article=kind.is_article, page_kind=kind.reason,
                      metadata_error=meta.failed, declared_article=declared), tree, meta


# ``found`` for a page whose text came from its site's layout: trafilatura never ran on it, so
# no field falls back to trafilatura's metadata or to htmldate's search.
NOT_RUN: Any = object()


def assemble_item(tree: HtmlElement, html: str, url: str, meta: PageMetadata,
                  body_paragraphs: list[str], found: TrafilaturaMetadata | Any | None, *,
                  not_before: datetime | None = None, detect_language: bool = True,
                  shown_date: tuple[str, str] | None = None) -> ArticleItem:
    """The article of a page from its metadata and its main text's paragraphs, as the full
    extraction and a site layout's (crawler/layouts/fast.py) both build it. ``found``:
    trafilatura's metadata of the page, None when trafilatura found no article, ``NOT_RUN``
    when trafilatura did not run. ``shown_date``: the day (``YYYY-MM-DD``) the page shows
    where its site's layout says, and its source, taken instead of trafilatura's date."""
    bounds = DateBounds(not_before=not_before)
    ran = found is not NOT_RUN
    found_meta: TrafilaturaMetadata | None = found if ran else None
    title = _title(meta, found_meta)
    paragraphs = _drop_leading_title(body_paragraphs, title)
    authors, authors_source = _authors(meta, found_meta, tree, paragraphs)
    paragraphs = drop_edge_furniture(drop_bylines(paragraphs, authors))
    language: str | None
    language_source: str | None
    if meta.language:
        language, language_source = meta.language, "declared"
    elif detect_language:
        language, language_source = detected_language(paragraphs)
    else:
        language, language_source = None, None
    paywalled = meta.accessible_for_free is False
    text = "\n\n".join(paragraphs)
    if meta.published is None and shown_date is not None:
        published, published_source = _parsed(shown_date[0], shown_date[1], bounds)
    elif ran:
        published, published_source = _published(meta, found_meta, html, url, bounds)
    else:
        published, published_source = meta.published, meta.published_source
    return ArticleItem(
        url=_canonical_url(tree, url),
        fetched_url=url,
        title=title,
        paragraphs=paragraphs,
        text=text,
        authors=authors,
        authors_source=authors_source,
        published=published,
        published_source=published_source,
        modified=meta.modified,
        modified_source=meta.modified_source,
        language=language,
        language_source=language_source,
        site_name=meta.site_name or _found(found_meta, "sitename") or None,
        description=meta.description or _found(found_meta, "description") or None,
        image=meta.image or _found(found_meta, "image") or None,
        tags=meta.tags or _split_tags(_found(found_meta, "tags")),
        section=meta.section,
        paywalled=paywalled,
        paywall_source=meta.paywall_source,
    )


_HEAD_CANONICAL = etree.XPath('/html/head/link[@rel="canonical"]/@href')
_ANY_CANONICAL = etree.XPath('//link[@rel="canonical"]/@href')


def _canonical_url(tree: HtmlElement, url: str) -> str:
    """The first ``rel=canonical`` that points to the same site, else the cleaned fetched URL.
    The head's links come first in the document, so they are read first; the whole document
    (a search of every element) only when none of them will do."""
    for found in (_HEAD_CANONICAL, _ANY_CANONICAL):
        for href in found(tree):
            href = str(href).strip()
            if href:
                absolute = urljoin(url, href)
                if same_site(absolute, url) and absolute.startswith(("http://", "https://")):
                    return canonicalize_url(absolute)
    return canonicalize_url(url)


def _found(found: TrafilaturaMetadata | None, name: str) -> Any:
    return found.get(name) if found is not None else None


def _title(meta: PageMetadata, found: TrafilaturaMetadata | None) -> str | None:
    if meta.headline:
        return normalize_line(meta.headline) or None
    raw = _found(found, "title")
    if raw:
        return normalize_line(clean_title(raw, meta.site_name)) or None
    return None


def _drop_leading_title(paragraphs: list[str], title: str | None) -> list[str]:
    """trafilatura keeps a headline that sits inside the article container; the text does not."""
    if paragraphs and title and paragraphs[0].casefold() == title.casefold():
        return paragraphs[1:]
    return paragraphs


def detected_language(paragraphs: list[str]) -> tuple[str | None, str | None]:
    """The language py3langid finds in the text, with source ``"detected"``; none for a text
    of fewer than 15 words, where the detector guesses."""
    sample = " ".join(paragraphs)[:_DETECTION_SAMPLE]
    if len(sample.split()) < _MIN_WORDS_FOR_DETECTION:
        return None, None
    code, _score = py3langid.classify(sample)
    return str(code), "detected"


def _authors(meta: PageMetadata, found: TrafilaturaMetadata | None, tree: HtmlElement,
             paragraphs: list[str]) -> tuple[list[str], str | None]:
    """Persons the page declares; else a bold byline in the text; else the declared
    organisation; else trafilatura's guess."""
    if meta.authors and meta.authors_source != "organization":
        return meta.authors, meta.authors_source
    in_text = bold_byline(tree, paragraphs)
    if in_text:
        return in_text, "text:bold"
    if meta.authors:
        return meta.authors, meta.authors_source
    guessed = _trafilatura_authors(found)
    return guessed, "trafilatura" if guessed else None


def _trafilatura_authors(found: TrafilaturaMetadata | None) -> list[str]:
    raw = _found(found, "author")
    if not raw:
        return []
    return [a.strip() for a in str(raw).split(";") if a.strip()]


def _published(meta: PageMetadata, found: TrafilaturaMetadata | None, html: str, url: str,
               bounds: DateBounds) -> tuple[datetime | None, str | None]:
    """The page's declared date; else trafilatura's (htmldate); else, when trafilatura found
    no article at all, htmldate's search of the page."""
    if meta.published is not None:
        return meta.published, meta.published_source
    if found is not None:
        source, raw = "trafilatura", found.get("date")
    else:
        source, raw = "htmldate", searched_date(html, url)
    return _parsed(raw, source, bounds)


def _parsed(raw: Any, source: str, bounds: DateBounds) -> tuple[datetime | None, str | None]:
    if not raw:
        return None, None
    value = parse_datetime(str(raw), now=bounds.now, not_before=bounds.not_before)
    return (value, source) if value is not None else (None, None)


def _split_tags(raw: Any) -> list[str]:
    if not raw:
        return []
    if isinstance(raw, list):
        return [str(t).strip() for t in raw if str(t).strip()]
    return [t.strip() for t in str(raw).split(",") if t.strip()]
