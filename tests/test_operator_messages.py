"""What an operator is told when something is wrong or empty (issue 18, item 5): each message
says what happened and what to do. Fast tests, no crawl; the crawls are in
tests/test_operator_errors.py and tests/test_archive_crawl.py."""

from __future__ import annotations

import json
import logging
import re
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from crawler import settings as defaults
from crawler.cli import follow_ups, main
from crawler.config import EXIT_CONFIG, ConfigError, check_settings
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


# -- newscrawl export --source NAME that has nothing --------------------------------------


def _export(tmp_path: Path, database: str, source: str) -> int:
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n  - name: harbour\n    feeds: [https://example.org/feed]\n"
                       "  - name: courrier\n    feeds: [https://example.net/feed]\n")
    return main(["export", "--since", "7d", "--source", source, "--out", str(tmp_path / "out"),
                 "-s", f"MONGO_DATABASE={database}", "-s", f"NEWS_SOURCES={sources}",
                 "-s", "NEWS_MONGO_TIMEOUT=2"])


@pytest.fixture
def stored(mongo_db: Any, mongo_uri: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """One article of harbour, stored now, in a fresh database that MONGO_URI names."""
    monkeypatch.setenv("MONGO_URI", mongo_uri)
    mongo_db.articles.insert_one({"url": "https://example.org/a", "source": "harbour",
                                  "updated_at": datetime.now(UTC)})
    return mongo_db


def test_export_of_an_unknown_source_names_the_known_ones(
        stored: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        assert _export(tmp_path, stored.name, "nope") == EXIT_CONFIG
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == [f"--source 'nope': no source named 'nope' in {tmp_path / 'sources.yaml'} "
                      f"(have: harbour, courrier), and no stored article has that source "
                      f"(stored articles have: harbour); nothing was exported"]
    assert not (tmp_path / "out").exists()


def test_export_of_a_source_with_nothing_stored_says_so(
        stored: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        assert _export(tmp_path, stored.name, "courrier") == EXIT_CONFIG
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == ["--source 'courrier': no stored article has this source yet (stored "
                      "articles have: harbour); nothing was exported"]


def test_export_of_a_stored_source_exports_it(stored: Any, tmp_path: Path) -> None:
    assert _export(tmp_path, stored.name, "harbour") == 0
    assert json.loads((tmp_path / "out").read_text())["source"] == "harbour"


# -- the demo's follow-up commands --------------------------------------------------------


def test_the_demo_follow_ups_name_its_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MONGO_URI", raising=False)
    data, sources = Path("data/demo"), Path("data/demo/demo-sources.yaml")
    commands = [shlex.split(line) for line in follow_ups(data, sources)]
    assert all(words[0].endswith("newscrawl") and words[2:4] == ["--data-dir", "data/demo"]
               for words in commands), commands
    assert [words[1] for words in commands] == ["runs", "report", "export", "reextract"]
    assert commands[3][4:] == ["--sources", str(sources), "--dry-run"]
    # MONGO_URI set: emptied for them (the demo did not use it); a MongoDB given: that one
    monkeypatch.setenv("MONGO_URI", "mongodb://prod.internal/news")
    assert all(line.startswith("MONGO_URI= ") for line in follow_ups(data, sources))
    given = follow_ups(data, sources, "mongodb://demo:s3cret@db.internal/news")
    assert all(line.startswith("MONGO_URI='mongodb://demo:***@db.internal/news' ")
               for line in given), given
