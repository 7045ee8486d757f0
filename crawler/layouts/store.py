"""Learned layouts in MongoDB (``site_layouts``): one document per site and version, written
whole (``replace_one`` by ``_id`` = ``<site>#<version>``), so dates keep their type on every
server (docs/schema.md)."""

from __future__ import annotations

import logging
from typing import Any

from pymongo import ASCENDING
from pymongo.collection import Collection

from crawler.layouts.site_layout import Layout

logger = logging.getLogger(__name__)


class LayoutStore:
    def __init__(self, collection: Collection[dict[str, Any]]) -> None:
        self.collection = collection

    def ensure_indexes(self) -> None:
        self.collection.create_index([("site", ASCENDING), ("version", ASCENDING)],
                                     name="site_version")

    def load(self, site: str) -> list[Layout]:
        """Every version of a site's layouts, open and closed (a document that is not a
        layout, edited by hand or written by another version, is skipped and logged)."""
        layouts = []
        for doc in self.collection.find({"site": site}):
            try:
                layouts.append(Layout.from_doc(doc))
            except (TypeError, ValueError) as exc:
                logger.warning("site_layouts document %s is not a layout (%s): skipped",
                               doc.get("_id"), exc)
        return layouts

    def save(self, layout: Layout) -> None:
        doc = layout.to_doc()
        self.collection.replace_one({"_id": doc["_id"]}, doc, upsert=True)
