"""What a perfect crawl of the demo sites stores: the ground truth the crawl tests compare to."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from crawler.demo.content import DemoSite
from crawler.demo.sites import layout_for

logger = logging.getLogger(__name__)


@dataclass
class ArticleTruth:
    """One article as it should be stored: canonical URL, clean text and metadata."""

    source: str
    url: str
    title: str
    paragraphs: list[str]
    language: str
    authors: list[str]
    published: datetime
    modified: datetime | None
    site_name: str
    section: str
    tags: list[str]

    @property
    def text(self) -> str:
        """The article body as one text, paragraphs separated by a blank line."""
        return "\n\n".join(self.paragraphs)


def article_truth(sites: Iterable[DemoSite]) -> dict[str, ArticleTruth]:
    """Every article of ``sites``, keyed by its canonical absolute URL.

    The paragraphs are the article's own text only: the sites' in-body boilerplate (see
    :func:`boilerplate_lines`) is not part of it, and neither are captions or comments.
    """
    truth: dict[str, ArticleTruth] = {}
    for site in sites:
        layout = layout_for(site.name, site.base_url)
        content = layout.content
        for article in content.articles:
            url = layout.article_url(article)
            truth[url] = ArticleTruth(
                source=content.name,
                url=url,
                title=article.headline,
                paragraphs=list(article.paragraphs),
                language=content.language,
                authors=list(article.authors),
                published=article.published,
                modified=article.modified,
                site_name=content.title,
                section=content.section(article.section).name,
                tags=list(article.tags),
            )
    return truth


def non_article_urls(sites: Iterable[DemoSite]) -> list[str]:
    """Pages that must not be stored as articles: home, sections, tag, about and private."""
    urls: list[str] = []
    for site in sites:
        layout = layout_for(site.name, site.base_url)
        urls.extend(layout.url(path) for path in layout.non_article_paths())
    return urls


def private_urls(sites: Iterable[DemoSite]) -> list[str]:
    """Pages disallowed by robots.txt (linked from the home page): a polite crawler skips them."""
    return [
        layout.url(layout.private_path)
        for layout in (layout_for(site.name, site.base_url) for site in sites)
    ]


def boilerplate_lines(sites: Iterable[DemoSite]) -> dict[str, list[str]]:
    """Per site, the exact template lines inside its article bodies (none is article text)."""
    lines: dict[str, list[str]] = {}
    for site in sites:
        layout = layout_for(site.name, site.base_url)
        seen: dict[str, None] = {}
        for article in layout.content.articles:
            seen.update(dict.fromkeys(layout.boilerplate(article)))
        lines[site.name] = list(seen)
    return lines
