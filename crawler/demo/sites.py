"""The registry of demo sites: which layout renders which site, and all pages of a site."""

from __future__ import annotations

import logging

from crawler.demo.content import DemoSite, load_site
from crawler.demo.courrier import CourrierLayout
from crawler.demo.feeds import feed_pages
from crawler.demo.harbour import HarbourLayout
from crawler.demo.layout import Page, SiteLayout
from crawler.demo.rundschau import RundschauLayout

logger = logging.getLogger(__name__)

LAYOUTS: dict[str, type[SiteLayout]] = {
    "rundschau": RundschauLayout,
    "harbour": HarbourLayout,
    "courrier": CourrierLayout,
}


def layout_for(name: str, base_url: str) -> SiteLayout:
    """The layout of site ``name`` rendering for ``base_url`` (``http://host:port``)."""
    try:
        layout_class = LAYOUTS[name]
    except KeyError:
        raise KeyError(f"unknown demo site {name!r}; expected one of {sorted(LAYOUTS)}") from None
    return layout_class(load_site(name), base_url)


def site_pages(layout: SiteLayout) -> dict[str, Page]:
    """Every path the site serves (HTML pages, images, feeds, sitemaps, robots.txt)."""
    pages = layout.pages()
    pages.update(feed_pages(layout))
    logger.debug("rendered %d pages for %s at %s", len(pages), layout.name, layout.base_url)
    return pages


def demo_site(layout: SiteLayout) -> DemoSite:
    """The public description of a site rendered by ``layout``."""
    content = layout.content
    return DemoSite(
        name=content.name,
        title=content.title,
        language=content.language,
        base_url=layout.base_url,
        home_url=layout.url("/"),
        feed_url=layout.url("/rss.xml"),
        sitemap_url=layout.url("/sitemap.xml"),
        atom_url=layout.url("/atom.xml") if layout.has_atom else None,
    )
