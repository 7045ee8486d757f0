"""Where a site's line counts are kept while its template is learned.

:class:`TemplateCounts` is what :class:`pipelines.template_strip.TemplateStripPipeline` needs of
a count store. :class:`LocalCounts` counts in this process and keeps the counts in MongoDB's
``site_templates`` between runs (:class:`crawler.templates.local_store.TemplateStore`); a
distributed crawl counts live in MongoDB instead
(:class:`crawler.templates.shared_counts.SharedCounts`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from pymongo.errors import PyMongoError

from crawler.templates.local_store import TemplateStore
from crawler.templates.model import SiteTemplate

logger = logging.getLogger(__name__)


class TemplateCounts(Protocol):
    """Where a site's line counts are kept (see the module docstring)."""

    shared: bool  # other processes count the same sites' pages

    async def open(self) -> None: ...

    async def load(self, site: str) -> SiteTemplate:
        """The site's template, as stored before (pages known so far)."""

    async def observe(self, template: SiteTemplate, lines: list[str]) -> None:
        """Count a page of the site; ``template.pages`` is the site's page count after it."""

    async def stripping(self, template: SiteTemplate, lines: list[str]) -> SiteTemplate:
        """The template to strip ``lines`` with (up to date with the other processes)."""

    async def counted(self, sites: list[str]) -> dict[str, int]:
        """Pages counted of these sites by every process (empty when not shared)."""

    async def tick(self) -> None: ...

    async def close(self, templates: dict[str, SiteTemplate]) -> None: ...


class LocalCounts:
    """Counts kept in this process, loaded from and saved to ``site_templates``."""

    shared = False

    def __init__(self, store: TemplateStore | None = None, min_pages: int = 3,
                 min_share: float = 0.1, count: Any = None) -> None:
        self.store = store
        self.min_pages = min_pages
        self.min_share = min_share
        self.count = count or (lambda key, value=1: None)

    async def open(self) -> None:
        return None

    async def load(self, site: str) -> SiteTemplate:
        template = SiteTemplate(site, min_pages=self.min_pages, min_share=self.min_share)
        if self.store is None:
            return template
        try:
            await asyncio.to_thread(self.store.load, template)
        except PyMongoError as exc:
            # Learning starts afresh for this run; the articles are held and cleaned as usual.
            self.count("load_errors")
            logger.warning("Site %s: stored template not readable (%s); learning afresh",
                           site, type(exc).__name__)
        if template.pages:
            logger.info("Site %s: template state of %d pages loaded", site, template.pages)
        return template

    async def observe(self, template: SiteTemplate, lines: list[str]) -> None:
        template.observe(lines)

    async def stripping(self, template: SiteTemplate, lines: list[str]) -> SiteTemplate:
        return template

    async def counted(self, sites: list[str]) -> dict[str, int]:
        return {}

    async def tick(self) -> None:
        return None

    async def close(self, templates: dict[str, SiteTemplate]) -> None:
        if self.store is None:
            return
        for template in templates.values():
            try:
                await asyncio.to_thread(self.store.save, template)
            except PyMongoError as exc:
                self.count("save_errors")
                logger.warning("Site %s: template not saved (%s); the next run relearns it",
                               template.site, type(exc).__name__)
