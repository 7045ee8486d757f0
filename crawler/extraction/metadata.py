"""Page metadata from the page's own structured data: the assembler.

trafilatura gives us good main text but weak metadata (day-only dates, titles with the
site name attached, noisy authors). This module reads what publishers declare themselves:
JSON-LD (schema.org), OpenGraph / ``article:*`` / Dublin Core ``<meta>`` tags, microdata
``itemprop`` attributes, ``<time datetime>`` elements and, as a last resort, the URL. Each
field's rules live in their own module (jsonld, dates, titles, authors, language, paywall);
this one parses the page once and puts the fields together.

Everything here is a plain function over HTML (``str``/``bytes``) or an lxml tree plus the
page URL: no Scrapy, no network. Nothing raises on garbage input; problems are logged at
debug level and the affected field is left empty.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from lxml import etree

from crawler.extraction.author_sources import choose_authors
from crawler.extraction.authors import clean_authors
from crawler.extraction.dom import (
    MetaIndex,
    element_value,
    itemprop,
    itemprop_index,
    meta_index,
    to_root,
)
from crawler.extraction.jsonld import (
    JsonLd,
    collect_jsonld,
    is_page_node,
    jsonld_values,
    pick_article,
    types_of,
)
from crawler.extraction.language import choose_language, normalize_language
from crawler.extraction.page_dates import (
    DateBounds,
    choose_modified,
    choose_published,
    date_from_url,
    parse_datetime,
)
from crawler.extraction.paywall import paywall_status
from crawler.extraction.text import dedupe, text_value
from crawler.extraction.titles import choose_headline, clean_title

logger = logging.getLogger(__name__)

__all__ = [
    "PageMetadata",
    "clean_authors",
    "clean_title",
    "normalize_language",
    "page_metadata",
    "parse_datetime",
]


@dataclass
class PageMetadata:
    """Metadata a page declares about itself (see :func:`page_metadata`)."""

    headline: str | None = None
    site_name: str | None = None
    description: str | None = None
    image: str | None = None
    authors: list[str] = field(default_factory=list)
    authors_source: str | None = None
    published: datetime | None = None
    published_source: str | None = None
    modified: datetime | None = None
    modified_source: str | None = None
    language: str | None = None
    tags: list[str] = field(default_factory=list)
    section: str | None = None
    types: set[str] = field(default_factory=set)
    accessible_for_free: bool | None = None
    paywall_source: str | None = None
    failed: bool = False  # collecting raised: this is what was left (counted by the spider)



def page_metadata(
    html: str | bytes | etree._Element | etree._ElementTree,
    url: str,
    *,
    now: datetime | None = None,
    not_before: datetime | None = None,
) -> PageMetadata:
    """Collect the metadata a page declares about itself.

    ``html`` is the page as ``str``/``bytes`` or an lxml tree/element; ``url`` is used to
    resolve relative image URLs, to recognise the site's name in titles and as a last-resort
    date source. Dates after ``now`` (default: the current time) or before ``not_before``
    (the site's first article, when the caller knows it) are not believed. Never raises: on
    unusable input an empty :class:`PageMetadata` is returned, and where collecting raised
    (a bug, or a page beyond it: JSON-LD nested past Python's recursion limit) an empty one
    with ``failed`` set, which the crawl counts (``news/extract/metadata_errors``).
    """
    try:
        return _page_metadata(html, url or "", DateBounds(now, not_before))
    except Exception:  # defensive: metadata must never break the crawl
        logger.debug("metadata extraction failed for %s", url, exc_info=True)
        return PageMetadata(failed=True)


def _page_metadata(html: Any, url: str, bounds: DateBounds) -> PageMetadata:
    meta = PageMetadata()
    root = to_root(html)
    if root is None:
        date = date_from_url(url, bounds)
        if date is not None:
            meta.published, meta.published_source = date, "url"
        return meta
    with itemprop_index(root):
        return _fields(meta, root, url, bounds)


def _fields(meta: PageMetadata, root: Any, url: str, bounds: DateBounds) -> PageMetadata:
    jsonld = collect_jsonld(root)
    metas = meta_index(root)
    article = pick_article(jsonld, url)
    pages = [node for node in jsonld.nodes if is_page_node(node)]
    primary: list[dict[str, Any] | None] = [article, *pages]

    meta_values = metas.find

    def first_text(values: Iterable[Any]) -> str | None:
        for value in values:
            text = text_value(value)
            if text:
                return text
        return None

    # ---- types
    for node in jsonld.nodes:
        meta.types.update(types_of(node))
    for og_type in meta_values("og:type"):
        if og_type.strip():
            meta.types.add(og_type.strip())
    for itemtype in root.xpath("//*[@itemtype]/@itemtype"):
        for value in str(itemtype).split():
            name = re.split(r"[/#:]", value.rstrip("/"))[-1]
            if name:
                meta.types.add(name)

    # ---- site name
    publisher_names = []
    for publisher in jsonld_values([article], "publisher"):
        publisher = jsonld.resolve(publisher)
        if isinstance(publisher, list):
            publisher = jsonld.resolve(publisher[0]) if publisher else None
        publisher_names.append(publisher)
    websites = [node.get("name") for node in jsonld.nodes if "WebSite" in types_of(node)]
    micro_publishers = [
        element_value(name)
        for publisher in itemprop(root, "publisher")
        for name in publisher.xpath(
            ".//*[contains(concat(' ', normalize-space(@itemprop), ' '), ' name ')]"
        )[:1]
    ]
    meta.site_name = first_text(
        [
            *meta_values("og:site_name"),
            *publisher_names,
            *websites,
            *micro_publishers,
            *meta_values("application-name", "apple-mobile-web-app-title", "twitter:app:name"),
        ]
    )

    # ---- section and tags (section helps to clean titles)
    meta.section = first_text(
        [
            *meta_values("article:section"),
            *jsonld_values(primary, "articleSection"),
            *[element_value(e) for e in itemprop(root, "articleSection")],
        ]
    )
    meta.tags = _collect_tags(meta_values, primary)

    # ---- headline
    meta.headline = choose_headline(root, metas, article, meta.site_name, meta.section, url)

    # ---- description, image
    meta.description = first_text(
        [
            *meta_values("og:description"),
            *jsonld_values([article], "description"),
            *meta_values("description", "twitter:description", "dc.description"),
        ]
    )
    meta.image = choose_image(root, metas, article, jsonld, url)

    # ---- authors
    meta.authors, meta.authors_source = choose_authors(
        root, metas, article, jsonld, meta.site_name, url
    )

    # ---- dates
    meta.published, meta.published_source = choose_published(
        root, metas, article, pages, url, bounds
    )
    meta.modified, meta.modified_source = choose_modified(root, metas, article, pages, bounds)

    # ---- language
    meta.language = choose_language(root, metas, primary)

    # ---- paywall flag
    meta.accessible_for_free, meta.paywall_source = paywall_status(root, metas, primary, jsonld)
    return meta


def _collect_tags(
    meta_values: Callable[..., list[str]], primary: list[dict[str, Any] | None]
) -> list[str]:
    tags: list[str] = []
    for value in meta_values("article:tag", "og:article:tag"):
        tags.extend(_split_keywords(value, split_commas=False))
    for value in jsonld_values(primary[:1], "keywords"):
        tags.extend(_split_keywords(value, split_commas=True))
    if not tags:
        for value in meta_values("news_keywords", "keywords"):
            tags.extend(_split_keywords(value, split_commas=True))
    return dedupe(tags)


def _split_keywords(value: Any, split_commas: bool) -> list[str]:
    if isinstance(value, list):
        return [t for item in value for t in _split_keywords(item, split_commas=False)]
    text = text_value(value)
    if not text:
        return []
    parts = re.split(r"\s*[,;]\s*", text) if split_commas else [text]
    return [part.strip() for part in parts if part.strip() and len(part.strip()) <= 100]


def _image_url(value: Any, jsonld: JsonLd) -> str | None:
    value = jsonld.resolve(value)
    if isinstance(value, list):
        for item in value:
            found = _image_url(item, jsonld)
            if found:
                return found
        return None
    if isinstance(value, dict):
        return _image_url(value.get("url") or value.get("contentUrl"), jsonld)
    if isinstance(value, str) and value.strip() and not value.strip().startswith("data:"):
        return value.strip()
    return None


def choose_image(
    root: Any,
    metas: MetaIndex,
    article: dict[str, Any] | None,
    jsonld: JsonLd,
    url: str,
) -> str | None:
    candidates: list[str | None] = [
        *metas.find("og:image:secure_url"),
        *metas.find("og:image"),
        *metas.find("og:image:url"),
        _image_url(article.get("image") or article.get("thumbnailUrl"), jsonld)
        if article
        else None,
        *metas.find("twitter:image"),
        *metas.find("twitter:image:src"),
        *[str(link.get("href")) for link in root.xpath("//link[@rel='image_src'][@href]")],
    ]
    for candidate in candidates:
        if candidate and candidate.strip() and not candidate.strip().startswith("data:"):
            try:
                return urljoin(url, candidate.strip()) if url else candidate.strip()
            except ValueError:
                continue
    return None

