"""What an operator is told when something is wrong or empty (issue 18, item 5): each message
says what happened and what to do. Fast tests, no crawl; the crawls are in
tests/test_operator_errors.py and tests/test_archive_crawl.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from crawler import settings as defaults
from crawler.config import ConfigError, check_settings
from crawler.sources import SourcesError
from crawler.spiders.news import NewsSpider
from crawler.templates.model import SiteTemplate
from crawler.url_state import RecrawlPolicy, UrlStateStore
from tests.conftest import ROOT


def test_a_wrong_depth_limit_reports_our_default() -> None:
    settings = Settings({"DEPTH_LIMIT": "abc"})
    with pytest.raises(ConfigError) as raised:
        check_settings(settings)
    assert str(raised.value) == (f"setting DEPTH_LIMIT: 'abc' is not a whole number "
                                 f"(default {defaults.DEPTH_LIMIT})")
    assert defaults.DEPTH_LIMIT == 2


@pytest.mark.parametrize("url", ["", "  "])
def test_an_empty_url_argument_is_an_error_not_every_source(url: str) -> None:
    crawler = get_crawler(NewsSpider, {"NEWS_EXTRACT_WORKERS": 1})
    with pytest.raises(SourcesError, match=r"^-a url: empty URL given; give the http"):
        NewsSpider.from_crawler(crawler, url=url)


# -- docs/schema.md names every field the code writes ---------------------------------------


def _undocumented(collection: str, doc: dict[str, Any]) -> list[str]:
    """The fields of ``doc`` that the first paragraph of the collection's section of
    docs/schema.md does not list (a field is listed as ``name`` followed by its description,
    a comma, "and" or "=": a mention inside another field's description does not count)."""
    text = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    section = text.split(f"## Collection `{collection}`", 1)[1].strip().split("\n\n", 1)[0]
    return [field for field in doc
            if not re.search(rf"`{field}`(?: \(| =|,| and |\.)", section)]


def test_every_url_state_field_is_documented(mongo_db: Any) -> None:
    store = UrlStateStore(mongo_db["url_state"], RecrawlPolicy([timedelta(hours=1)], None))
    store.record([{"url": "https://example.org/a", "source": "example", "kind": "article",
                   "status": 200, "etag": '"1"', "last_modified": "x", "content_hash": "h",
                   "published": datetime(2024, 1, 1, tzinfo=UTC)}])
    doc = mongo_db["url_state"].find_one({"_id": "https://example.org/a"})
    assert doc is not None and doc["url"] == doc["_id"]
    missing = _undocumented("url_state", doc)
    assert not missing, f"url_state fields missing from docs/schema.md: {missing}"


def test_every_site_templates_field_is_documented() -> None:
    doc = SiteTemplate("example.org").to_document()
    assert doc["site"] == doc["_id"]
    missing = _undocumented("site_templates", doc)
    assert not missing, f"site_templates fields missing from docs/schema.md: {missing}"
