"""trafilatura's metadata of a page, computed field by field when a caller needs one.

``bare_extraction(..., with_metadata=True)`` runs ``trafilatura.metadata.extract_metadata`` on a
copy of the page: the page's meta tags and JSON-LD, then title, author, URL, the date (htmldate's
``find_date``, which searches the whole page when nothing declares a date), site name,
categories, tags and licence. The crawl asks for one of those only when the page's structured
data lacks it, and most such pages need a site name, authors or tags, not the date (213 of the
671 web-mode pages that ask at all). :class:`TrafilaturaMetadata` runs the same steps of
trafilatura with the same arguments, in the same order, the date's search only when the date is
asked for, so each value is the one ``extract_metadata`` gives (pinned by
tests/test_extraction.py). On the web-mode pages that ask: 7.7 → 5.5 CPU ms a page.
"""

from __future__ import annotations

import logging
from typing import Any

from htmldate import find_date
from trafilatura import metadata as tm
from trafilatura.settings import Document, Extractor

logger = logging.getLogger(__name__)

# trafilatura's options of the crawl's balanced pass (crawler/extraction/body.py), as
# trafilatura.settings.Extractor takes them: its date parameters come from these.
EXTRACTOR_OPTIONS: dict[str, Any] = {"comments": False, "tables": True, "images": False,
                                     "links": True, "dedup": False}


class TrafilaturaMetadata:
    """trafilatura's metadata of a page (title, author, date, sitename, description, image,
    tags, categories, hostname), computed on the first :meth:`get` of a field and kept: the
    date on its own, the other fields together."""

    def __init__(self, page: Any, url: str) -> None:
        self._page = page
        self._options = Extractor(url=url, with_metadata=True, **EXTRACTOR_OPTIONS)
        self._fields: Document | None = None
        self._date: str | None = None
        self._dated = False

    def get(self, name: str) -> Any:
        if name == "date":
            return self.date()
        return getattr(self.fields(), name, None)

    def date(self) -> str | None:
        """htmldate's date of the page, as ``extract_metadata`` searches it (``find_date``
        copies the tree it is given, so it runs on the page itself)."""
        if not self._dated:
            fields = self.fields()
            config = {**(self._options.date_params or tm.set_date_params(self._options.fast)),
                      "url": fields.url}
            document = Document()
            document.date = find_date(self._page, **config)
            document.clean_and_trim()
            self._date = document.date
            self._dated = True
        return self._date

    def fields(self) -> Document:
        """Every field but the date: ``extract_metadata``'s steps without ``find_date``, on the
        page itself (none of them changes it: ``extract_author`` prunes a copy; pinned by
        tests/test_extraction.py), not on a copy of it."""
        if self._fields is not None:
            return self._fields
        tree = self._page
        blacklist = self._options.author_blacklist or set()
        metadata = tm.examine_meta(tree)
        if metadata.author and " " not in metadata.author:
            metadata.author = None
        try:
            metadata = tm.extract_meta_json(tree, metadata)
        except Exception as exc:  # as trafilatura: bugs in its json_metadata.py
            logger.warning("error in JSON metadata extraction: %s", exc)
        if not metadata.title:
            metadata.title = tm.extract_title(tree)
        if metadata.author and blacklist:
            metadata.author = tm.check_authors(metadata.author, blacklist)
        if not metadata.author:
            metadata.author = tm.extract_author(tree)
        if metadata.author and blacklist:
            metadata.author = tm.check_authors(metadata.author, blacklist)
        if not metadata.url:
            metadata.url = tm.extract_url(tree, self._options.url)
        if metadata.url:
            metadata.hostname = tm.extract_domain(metadata.url, fast=True)
        if not metadata.sitename:
            metadata.sitename = tm.extract_sitename(tree)
        if metadata.sitename:
            metadata.sitename = metadata.sitename.lstrip("@")
            if (metadata.sitename and "." not in metadata.sitename
                    and not metadata.sitename[0].isupper()):
                metadata.sitename = metadata.sitename.title()
        elif metadata.url:
            match = tm.META_URL.match(metadata.url)
            if match:
                metadata.sitename = match[1]
        if not metadata.categories:
            metadata.categories = tm.extract_catstags("category", tree)
        if not metadata.tags:
            metadata.tags = tm.extract_catstags("tag", tree)
        metadata.license = tm.extract_license(tree)
        metadata.date = None  # searched apart (:meth:`date`)
        metadata.clean_and_trim()
        self._fields = metadata
        return metadata
