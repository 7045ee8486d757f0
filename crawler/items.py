"""The article item, and what extraction returns: each field declared once, here.

:class:`ArticleItem` is what the ``news`` spider yields and the pipelines read (through
``ItemAdapter``): the article as extracted, then what the crawl adds (``source``,
``fetched_at``, ``fetch``, ``archive``, ``template_lines_removed``). crawler/document.py turns
it into the stored document (docs/schema.md). :class:`Extraction` is the result of
:func:`crawler.extraction.article.extract_article`: the item and the verdict on the page. Both
cross process boundaries (the extraction pool pickles them): plain dataclasses of plain values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crawler.canonical import canonicalize_url


@dataclass(slots=True)
class Fetch:
    """How the article's page was fetched: what its URL state is written from."""

    status: int
    url: str  # canonical form of the URL the server answered with
    listed: str | None  # canonical form of the URL requested, before permanent redirects
    etag: str | None = None
    last_modified: str | None = None
    queue_id: int | None = None  # the shared queue's entry, in a distributed crawl


@dataclass(slots=True)
class ArticleItem:
    """One article: the fields of the page as extracted, then what the crawl adds.

    Every field but ``paragraphs`` and ``fetch`` becomes a field of the stored document
    (``archive`` when set); see docs/schema.md for their meaning.
    """

    url: str  # canonical: rel=canonical on the same site, else the fetched URL cleaned
    fetched_url: str | None = None
    title: str | None = None
    paragraphs: list[str] = field(default_factory=list)  # ``text`` as a list (not stored)
    text: str = ""  # the paragraphs, separated by a blank line
    authors: list[str] = field(default_factory=list)
    authors_source: str | None = None
    published: datetime | None = None
    published_source: str | None = None
    modified: datetime | None = None
    modified_source: str | None = None
    language: str | None = None
    language_source: str | None = None
    site_name: str | None = None
    description: str | None = None
    image: str | None = None
    tags: list[str] = field(default_factory=list)
    section: str | None = None
    paywalled: bool = False
    paywall_source: str | None = None
    # -- added by the crawl ------------------------------------------------------------------
    source: str | None = None
    fetched_at: datetime | None = None
    fetch: Fetch | None = None
    template_lines_removed: int = 0  # set by the template pipeline
    archive: dict[str, Any] | None = None  # the page's WARC record: file, offset, length


@dataclass(slots=True)
class Extraction:
    """What extracting one page gives: the article and whether the page is one.

    ``page_kind`` is the classifier's reason (crawler/extraction/classify.py), or why there is
    nothing (``"unparseable HTML"``, ``"extraction timeout"``). ``metadata_error``: the page's
    metadata could not be read (the rest was extracted). ``extract_error``: the extraction
    itself failed (``"timeout"``, ``"error"``: crawler/extraction_pool.py). ``layout``: how
    the site's learned layouts took part (a :class:`crawler.layouts.task.LayoutReport`), when
    the page went through them.
    """

    item: ArticleItem
    is_article: bool
    page_kind: str
    metadata_error: bool = False
    extract_error: str | None = None
    layout: Any = None
    declared_article: bool = False  # the page's structured data declares an article type
    html_repaired: bool = False  # read with the HTML5 parser (crawler/extraction/repair.py)
    encoding_repaired: bool = False  # Windows-1252 declared as UTF-8 (crawler/encoding.py)

    @classmethod
    def nothing(cls, url: str, page_kind: str, extract_error: str | None = None) -> Extraction:
        """A page that gives no article: unparseable, or its extraction failed."""
        return cls(ArticleItem(url=canonicalize_url(url), fetched_url=url), is_article=False,
                   page_kind=page_kind, extract_error=extract_error)
