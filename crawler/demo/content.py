"""The demo sites' editorial content, loaded from the bundled ``data/*.json`` files."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

SITE_NAMES: tuple[str, ...] = ("rundschau", "harbour", "courrier")
DEFAULT_HOSTS: dict[str, str] = {
    "rundschau": "127.0.0.2",
    "harbour": "127.0.0.3",
    "courrier": "127.0.0.4",
}


@dataclass(frozen=True)
class DemoSite:
    """One running demo site: where it is served and where its entry points are."""

    name: str
    title: str
    language: str
    base_url: str
    home_url: str
    feed_url: str
    sitemap_url: str
    atom_url: str | None = None

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    @property
    def port(self) -> int:
        return urlsplit(self.base_url).port or 80

    @property
    def robots_url(self) -> str:
        return self.base_url + "/robots.txt"

    def url(self, path: str) -> str:
        """Absolute URL of a site-relative ``path`` (which starts with ``/``)."""
        return self.base_url + path


@dataclass(frozen=True)
class Section:
    slug: str
    name: str


@dataclass(frozen=True)
class InlineLink:
    """A link inside a body paragraph: ``text`` (first occurrence) points to another article."""

    paragraph: int
    text: str
    article: str


@dataclass(frozen=True)
class Comment:
    author: str
    text: str


@dataclass(frozen=True)
class StaticPage:
    title: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Article:
    slug: str
    headline: str
    section: str
    tags: tuple[str, ...]
    authors: tuple[str, ...]
    published: datetime
    modified: datetime | None
    description: str
    image: str
    image_caption: str
    image_credit: str
    ref: str  # per-article number used by the site's boilerplate (trailer, story id, ...)
    paragraphs: tuple[str, ...]
    links: tuple[InlineLink, ...] = ()

    @property
    def updated(self) -> datetime:
        return self.modified or self.published


@dataclass(frozen=True)
class SiteContent:
    name: str
    title: str
    language: str
    locale: str
    host: str
    tagline: str
    publisher: str
    sections: tuple[Section, ...]
    featured_tag: str
    about: StaticPage
    private: StaticPage
    comments: tuple[Comment, ...]
    articles: tuple[Article, ...]

    def section(self, slug: str) -> Section:
        for section in self.sections:
            if section.slug == slug:
                return section
        raise KeyError(slug)

    def article(self, slug: str) -> Article:
        for article in self.articles:
            if article.slug == slug:
                return article
        raise KeyError(slug)

    def newest_first(self) -> list[Article]:
        return sorted(self.articles, key=lambda a: a.published, reverse=True)

    def in_section(self, slug: str) -> list[Article]:
        return [a for a in self.newest_first() if a.section == slug]

    def tagged(self, tag: str) -> list[Article]:
        return [a for a in self.newest_first() if tag in a.tags]

    def comments_for(self, article: Article) -> list[Comment]:
        """Two reader comments per article, picked deterministically from the site's pool."""
        index = self.articles.index(article)
        pool = self.comments
        return [pool[(2 * index) % len(pool)], pool[(2 * index + 1) % len(pool)]]

    def related(self, article: Article, count: int = 3) -> list[Article]:
        """``count`` other articles, the following ones in data order (wrapping around)."""
        index = self.articles.index(article)
        total = len(self.articles)
        return [self.articles[(index + step) % total] for step in range(1, count + 1)]


def _page(raw: dict[str, Any]) -> StaticPage:
    return StaticPage(title=raw["title"], paragraphs=tuple(raw["paragraphs"]))


def _article(raw: dict[str, Any]) -> Article:
    modified = raw.get("modified")
    return Article(
        slug=raw["slug"],
        headline=raw["headline"],
        section=raw["section"],
        tags=tuple(raw["tags"]),
        authors=tuple(raw["authors"]),
        published=datetime.fromisoformat(raw["published"]),
        modified=datetime.fromisoformat(modified) if modified else None,
        description=raw["description"],
        image=raw["image"],
        image_caption=raw["image_caption"],
        image_credit=raw["image_credit"],
        ref=str(raw["ref"]),
        paragraphs=tuple(raw["paragraphs"]),
        links=tuple(InlineLink(**link) for link in raw.get("links", [])),
    )


@cache
def load_site(name: str) -> SiteContent:
    """The content of demo site ``name`` (one of :data:`SITE_NAMES`)."""
    if name not in SITE_NAMES:
        raise KeyError(f"unknown demo site {name!r}; expected one of {SITE_NAMES}")
    text = (
        resources.files(__package__ or "crawler.demo")
        .joinpath("data", f"{name}.json")
        .read_text("utf-8")
    )
    raw = json.loads(text)
    content = SiteContent(
        name=raw["name"],
        title=raw["title"],
        language=raw["language"],
        locale=raw["locale"],
        host=raw["host"],
        tagline=raw["tagline"],
        publisher=raw["publisher"],
        sections=tuple(Section(**s) for s in raw["sections"]),
        featured_tag=raw["featured_tag"],
        about=_page(raw["about"]),
        private=_page(raw["private"]),
        comments=tuple(Comment(author=c[0], text=c[1]) for c in raw["comments"]),
        articles=tuple(_article(a) for a in raw["articles"]),
    )
    logger.debug("loaded demo site %s: %d articles", name, len(content.articles))
    return content
