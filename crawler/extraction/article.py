"""One page in, one article out: trafilatura for the main text, structured data for metadata.

A plain function of (HTML, URL), independent of Scrapy, so it runs in worker processes and in
tests and benchmarks alone.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

import py3langid
import trafilatura
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from crawler.extraction.classify import classify_page, link_density
from crawler.extraction.metadata import PageMetadata, clean_title, page_metadata
from crawler.normalize import canonicalize_url, normalize_line, same_site, split_paragraphs

logger = logging.getLogger(__name__)

# Below this many words the detector is a guess, so a page without a declared language gets none.
_MIN_WORDS_FOR_DETECTION = 15
# A byline is short and opens with a byline word in one of the common languages.
_MAX_BYLINE_WORDS = 15
_BYLINE_START = re.compile(r"^(?i:by|von|par|por|door|av|af|przez|written by)\s+[A-ZÀ-ÖØ-Þ]")


def extract_article(html: str, url: str, *, min_words: int = 80,
                    hinted: bool = False) -> dict[str, Any]:
    """Extract the article of one HTML page.

    Returns a dict with the schema's fields (``url``, ``title``, ``text``, ``authors``,
    ``published``, ``modified``, ``language``, ...) and ``is_article``/``page_kind`` saying
    whether the page is one article. ``text`` holds paragraphs separated by a blank line;
    ``paragraphs`` holds the same as a list.
    """
    tree = load_html(html)
    if tree is None:
        return _empty(url, "unparseable HTML")
    meta = page_metadata(tree, url)
    canonical = _canonical_url(tree, url)
    document = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, include_tables=True,
        include_images=False, deduplicate=False,
    )
    raw_text = getattr(document, "text", None) or ""
    title = _title(meta, document)
    authors = meta.authors or _trafilatura_authors(document)
    paragraphs = _drop_bylines(_drop_leading_title(split_paragraphs(raw_text), title), authors)
    words = sum(len(p.split()) for p in paragraphs)
    language, language_source = _language(meta, paragraphs)
    kind = classify_page(meta.types, meta.published is not None, words, link_density(tree),
                         min_words=min_words, hinted=hinted)
    return {
        "url": canonical,
        "fetched_url": url,
        "title": title,
        "paragraphs": paragraphs,
        "text": "\n\n".join(paragraphs),
        "authors": authors,
        "published": meta.published or _trafilatura_date(document),
        "published_source": meta.published_source
        or ("trafilatura" if _trafilatura_date(document) else None),
        "modified": meta.modified,
        "modified_source": meta.modified_source,
        "language": language,
        "language_source": language_source,
        "site_name": meta.site_name or getattr(document, "sitename", None) or None,
        "description": meta.description or getattr(document, "description", None) or None,
        "image": meta.image or getattr(document, "image", None) or None,
        "tags": meta.tags or _split_tags(getattr(document, "tags", None)),
        "section": meta.section,
        "paywalled": meta.accessible_for_free is False,
        "is_article": kind.is_article,
        "page_kind": kind.reason,
    }


def _empty(url: str, reason: str) -> dict[str, Any]:
    return {"url": canonicalize_url(url), "fetched_url": url, "title": None, "paragraphs": [],
            "text": "", "authors": [], "published": None, "published_source": None,
            "modified": None, "modified_source": None, "language": None,
            "language_source": None, "site_name": None, "description": None, "image": None,
            "tags": [], "section": None, "paywalled": False, "is_article": False,
            "page_kind": reason}


def _canonical_url(tree: HtmlElement, url: str) -> str:
    """``rel=canonical`` when it points to the same site, else the cleaned fetched URL."""
    for href in tree.xpath('//link[@rel="canonical"]/@href'):
        href = str(href).strip()
        if href:
            absolute = urljoin(url, href)
            if same_site(absolute, url) and absolute.startswith(("http://", "https://")):
                return canonicalize_url(absolute)
    return canonicalize_url(url)


def _title(meta: PageMetadata, document: Any) -> str | None:
    if meta.headline:
        return normalize_line(meta.headline) or None
    raw = getattr(document, "title", None)
    if raw:
        return normalize_line(clean_title(raw, meta.site_name)) or None
    return None


def _drop_leading_title(paragraphs: list[str], title: str | None) -> list[str]:
    """trafilatura keeps a headline that sits inside the article container; the text does not."""
    if paragraphs and title and paragraphs[0].casefold() == title.casefold():
        return paragraphs[1:]
    return paragraphs


def _drop_bylines(paragraphs: list[str], authors: list[str]) -> list[str]:
    """Drop byline lines ("By Jane Doe | Published ...") near the start or the end of the text:
    short paragraphs that name an author or open with a byline word and a capitalised name."""
    names = [a.casefold() for a in authors if len(a) > 3]

    def is_byline(paragraph: str) -> bool:
        if len(paragraph.split()) > _MAX_BYLINE_WORDS:
            return False
        lowered = paragraph.casefold()
        return any(name in lowered for name in names) or bool(_BYLINE_START.match(paragraph))

    edge = len(paragraphs) > 2
    return [p for i, p in enumerate(paragraphs)
            if not (edge and (i < 3 or i >= len(paragraphs) - 2) and is_byline(p))]


def _language(meta: PageMetadata, paragraphs: list[str]) -> tuple[str | None, str | None]:
    if meta.language:
        return meta.language, "declared"
    sample = " ".join(paragraphs)[:5000]
    if len(sample.split()) < _MIN_WORDS_FOR_DETECTION:
        return None, None
    code, _score = py3langid.classify(sample)
    return str(code), "detected"


def _trafilatura_authors(document: Any) -> list[str]:
    raw = getattr(document, "author", None)
    if not raw:
        return []
    return [a.strip() for a in str(raw).split(";") if a.strip()]


def _trafilatura_date(document: Any) -> datetime | None:
    raw = getattr(document, "date", None)
    if not raw:
        return None
    try:
        return datetime.fromisoformat(str(raw))
    except ValueError:
        return None


def _split_tags(raw: Any) -> list[str]:
    if not raw:
        return []
    if isinstance(raw, list):
        return [str(t).strip() for t in raw if str(t).strip()]
    return [t.strip() for t in str(raw).split(",") if t.strip()]
