"""A site's article layout: where its article text sits, what inside it is furniture, and the
ranges its learning pages fell in (plain, picklable; stored in ``site_layouts``).

A layout is learned from pages that went the full way (crawler/layouts/learn.py) and applied
to later pages of the site without trafilatura (crawler/layouts/fast.py). See docs/layouts.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class Layout:
    site: str
    key: str  # the container's signature: one site may have several layouts (standard, live)
    container: str  # XPath of the body container: exactly one element on every learning page
    drops: list[str] = field(default_factory=list)  # XPaths (relative to the container) of
    # subtrees the full extraction dropped on every learning page: share bars, teasers, captions
    known: list[str] = field(default_factory=list)  # named signatures seen inside the
    # container on the learning pages (and accepted since): a page with another one (a new
    # box in the article) goes the full way, and what the full way did with it is learned
    sources: dict[str, str | None] = field(default_factory=dict)  # field -> where it came from
    min_words: int = 0  # the learning pages' text: fewest and most words, paragraphs
    max_words: int = 0
    min_paragraphs: int = 0
    max_paragraphs: int = 0
    max_link_density: float = 0.0  # the largest share of the container's text inside links
    types: list[str] = field(default_factory=list)  # article types every learning page declared
    learned_from: list[str] = field(default_factory=list)
    version: int = 0  # per site, counting every layout learned for it
    valid_from: datetime | None = None
    valid_until: datetime | None = None  # set when closed (disagreed, or failed in a row)
    closed_reason: str | None = None
    # Whether a page that fitted it was extracted both ways and agreed: until then its pages
    # are all compared, in this crawl and the next ones (False when learned; a document
    # written before the field existed counts as confirmed).
    confirmed: bool = True
    # Where its pages show their date when they declare none and trafilatura's metadata found
    # it (an XPath, crawler/layouts/date_element.py); None: htmldate searches each page.
    date_xpath: str | None = None
    # Where its pages carry a standfirst outside the container (an XPath): the full way's first
    # paragraphs came from that element on every learning page; the fast way puts its text
    # first (crawler/layouts/learn.py ``_lead``). None: no such paragraphs.
    lead: str | None = None

    @property
    def is_open(self) -> bool:
        return self.valid_until is None

    def to_doc(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["_id"] = f"{self.site}#{self.version}"
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Layout:
        names = set(cls.__dataclass_fields__)
        return cls(**{key: value for key, value in doc.items() if key in names})
