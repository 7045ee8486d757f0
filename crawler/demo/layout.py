"""Shared machinery of the demo sites' templates: URL scheme, pages, HTML helpers."""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
import struct
import unicodedata
import zlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from crawler.demo.content import Article, Section, SiteContent

logger = logging.getLogger(__name__)

HTML = "text/html; charset=utf-8"
XML = "application/xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
CSS = "text/css; charset=utf-8"
PNG = "image/png"
GZIP = "application/gzip"

TRACKING_QUERY = "?utm_source=home&utm_medium=teaser"


@dataclass(frozen=True)
class Page:
    """One response body the server can send, with its validators."""

    body: bytes
    content_type: str
    last_modified: datetime | None = None

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:20] + '"'


def esc(text: str) -> str:
    """Escape text for an HTML/XML text node."""
    return html.escape(text, quote=False)


def attr(text: str) -> str:
    """Escape text for a double-quoted HTML/XML attribute value."""
    return html.escape(text, quote=True)


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def json_ld(data: dict[str, Any]) -> str:
    """A ``<script type="application/ld+json">`` element holding ``data``."""
    text = json.dumps(data, ensure_ascii=False, indent=2).replace("</", "<\\/")
    return f'<script type="application/ld+json">\n{text}\n</script>'


def placeholder_png(seed: str, width: int = 160, height: int = 90) -> bytes:
    """A small solid-colour PNG whose colour is derived from ``seed``."""
    rgb = hashlib.md5(seed.encode("utf-8")).digest()[:3]
    row = b"\x00" + rgb * width
    raw = row * height

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def join_names(names: list[str] | tuple[str, ...], conjunction: str) -> str:
    """``A``, ``A and B``, ``A, B and C`` (with the language's ``conjunction``)."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + f" {conjunction} " + names[-1]


class SiteLayout(ABC):
    """A site's templates and URL scheme, rendering its content for one base URL."""

    name: ClassVar[str]
    about_path: ClassVar[str]
    private_path: ClassVar[str]
    css_path: ClassVar[str]
    logo_path: ClassVar[str] = "/static/logo.png"
    has_atom: ClassVar[bool] = False
    sitemap_gzip: ClassVar[bool] = False  # the sitemap index points to sitemap-news.xml.gz
    stylesheet: ClassVar[str] = "body { font-family: Georgia, serif; margin: 0; }\n"

    def __init__(self, content: SiteContent, base_url: str) -> None:
        self.content = content
        self.base_url = base_url.rstrip("/")

    # -- URL scheme -------------------------------------------------------------------------

    @abstractmethod
    def article_path(self, article: Article) -> str: ...

    @abstractmethod
    def section_path(self, slug: str) -> str: ...

    @abstractmethod
    def tag_path(self, tag: str) -> str: ...

    def url(self, path: str) -> str:
        return self.base_url + path

    def article_url(self, article: Article) -> str:
        return self.url(self.article_path(article))

    def teaser_href(self, article: Article, position: int) -> str:
        """Home-page link to ``article``: every second teaser carries tracking parameters."""
        path = self.article_path(article)
        return path + TRACKING_QUERY if position % 2 == 1 else path

    def listing_paths(self) -> list[str]:
        """Home, section and tag pages (what ``sitemap-pages.xml`` lists, with the about page)."""
        return (
            ["/"]
            + [self.section_path(s.slug) for s in self.content.sections]
            + [self.tag_path(self.content.featured_tag)]
        )

    def non_article_paths(self) -> list[str]:
        return [*self.listing_paths(), self.about_path, self.private_path]

    # -- article body -----------------------------------------------------------------------

    @abstractmethod
    def boilerplate(self, article: Article) -> list[str]:
        """Template lines this site puts inside ``article``'s body (not part of the article)."""

    def paragraph_html(self, article: Article, index: int) -> str:
        """Inner HTML of body paragraph ``index``, with its inline links."""
        text = article.paragraphs[index]
        for link in article.links:
            if link.paragraph != index:
                continue
            target = self.content.article(link.article)
            before, found, after = text.partition(link.text)
            if not found:
                raise ValueError(f"link text {link.text!r} not in {article.slug}[{index}]")
            href = attr(self.article_path(target))
            return f'{esc(before)}<a href="{href}">{esc(found)}</a>{esc(after)}'
        return esc(text)

    # -- pages ------------------------------------------------------------------------------

    @abstractmethod
    def render_article(self, article: Article) -> str: ...

    @abstractmethod
    def render_home(self) -> str: ...

    @abstractmethod
    def render_section(self, section: Section) -> str: ...

    @abstractmethod
    def render_tag(self, tag: str) -> str: ...

    @abstractmethod
    def render_about(self) -> str: ...

    @abstractmethod
    def render_private(self) -> str: ...

    @abstractmethod
    def render_not_found(self) -> str: ...

    def pages(self) -> dict[str, Page]:
        """Every page of the site, keyed by path; feeds and sitemaps are added by the server."""
        content = self.content
        latest = max(a.updated for a in content.articles)
        pages: dict[str, Page] = {
            "/": Page(self.render_home().encode(), HTML, latest),
            self.about_path: Page(self.render_about().encode(), HTML),
            self.private_path: Page(self.render_private().encode(), HTML),
            self.css_path: Page(self.stylesheet.encode(), CSS),
            self.logo_path: Page(placeholder_png(self.name + "-logo", 120, 40), PNG),
        }
        for section in content.sections:
            listed = content.in_section(section.slug)
            modified = max((a.updated for a in listed), default=None)
            pages[self.section_path(section.slug)] = Page(
                self.render_section(section).encode(), HTML, modified
            )
        tagged = content.tagged(content.featured_tag)
        pages[self.tag_path(content.featured_tag)] = Page(
            self.render_tag(content.featured_tag).encode(),
            HTML,
            max((a.updated for a in tagged), default=None),
        )
        for article in content.articles:
            pages[self.article_path(article)] = Page(
                self.render_article(article).encode(), HTML, article.updated
            )
            pages[article.image] = Page(placeholder_png(article.image), PNG)
        return pages

    def not_found_page(self) -> Page:
        return Page(self.render_not_found().encode(), HTML)
