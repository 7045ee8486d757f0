from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from crawler.canonical import canonicalize_url, content_hash, normalize_text, site_of
from crawler.document import SCHEMA_VERSION, article_document
from crawler.items import ArticleItem


@pytest.mark.parametrize(("url", "expected"), [
    ("HTTP://WWW.Example.COM:80/News/a.html?utm_source=rss&utm_medium=x#top",
     "http://www.example.com/News/a.html"),
    ("https://example.com/a?id=3&fbclid=abc&page=2", "https://example.com/a?id=3&page=2"),
    ("https://example.com", "https://example.com/"),
    ("http://127.0.0.2:8601/x.html?utm_source=home", "http://127.0.0.2:8601/x.html"),
])
def test_canonical_url(url: str, expected: str) -> None:
    assert canonicalize_url(url) == expected


def test_normalize_text_nfc_controls_spaces_paragraphs() -> None:
    raw = "  Cafe\u0301\u00a0 au\tlait\x07 \r\n\n\n\u200bSecond  line \n"
    assert normalize_text(raw) == "Café au lait\n\nSecond line"


def test_content_hash_ignores_formatting_but_not_words() -> None:
    assert content_hash("A  b\n\nc", "T") == content_hash("A b\nc", "T")
    assert content_hash("A b c", "T") != content_hash("A b d", "T")
    assert content_hash("A b c", "T") != content_hash("A b c", "U")
    # A text already normalised hashes the same without normalising it again.
    raw = " Caf\u0065\u0301  au lait\r\n\n\x07second "
    assert content_hash(normalize_text(raw), "T", normalized=True) == content_hash(raw, "T")


def test_site_of() -> None:
    assert site_of("https://WWW.Example.com/x") == "example.com"


def test_article_document() -> None:
    cet = timezone(timedelta(hours=1))
    doc = article_document(ArticleItem(
        url="https://Example.com/a.html?utm_source=x", source="ex",
        title="  Title\u00a0here ", text="One.\nTwo  words.", language="DE",
        published=datetime(2024, 1, 15, 10, 30, tzinfo=cet),
        modified="not a date", authors=["Jane Doe", "Jane Doe", " "],
        fetched_at=datetime(2024, 1, 16, tzinfo=UTC), paragraphs=["x"],
    ))
    assert doc["url"] == "https://example.com/a.html"
    assert doc["site"] == "example.com"
    assert doc["title"] == "Title here"
    assert doc["text"] == "One.\n\nTwo words."
    assert doc["language"] == "de"
    assert doc["published"] == datetime(2024, 1, 15, 9, 30, tzinfo=UTC)
    assert doc["modified"] is None
    assert doc["authors"] == ["Jane Doe"]
    assert doc["word_count"] == 3
    assert doc["schema_version"] == SCHEMA_VERSION
    assert "paragraphs" not in doc and "fetch" not in doc


def test_absurd_values_are_bounded() -> None:
    doc = article_document(ArticleItem(url="https://e.com/a", title="x" * 100_000,
                                       language="xx-garbage"))
    assert len(doc["title"]) == 1000
    assert doc["language"] is None
