"""Persist what was learned of each site's template lines in MongoDB (``site_templates``)."""

from __future__ import annotations

from typing import Any

from pymongo.collection import Collection

from crawler.templates.model import SiteTemplate


class TemplateStore:
    def __init__(self, collection: Collection[dict[str, Any]]) -> None:
        self.collection = collection

    def load(self, template: SiteTemplate) -> SiteTemplate:
        doc = self.collection.find_one({"_id": template.site})
        if doc:
            template.merge_document(doc)
        return template

    def save(self, template: SiteTemplate) -> None:
        self.collection.replace_one({"_id": template.site}, template.to_document(), upsert=True)
