"""extract_article on stored pages: text, metadata, and article/listing classification."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from crawler.extraction import extract_article
from crawler.extraction.classify import PageSignals, article_url_shape, classify_page
from crawler.extraction.text import word_count

PAGES = Path(__file__).parent / "fixtures" / "pages"
EXPECTED: dict[str, dict[str, Any]] = json.loads((PAGES / "expected.json").read_text("utf-8"))


def _extract(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    expected = EXPECTED[name]
    html = (PAGES / f"{name}.html").read_text(encoding="utf-8")
    return extract_article(html, expected["url"]), expected


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if e["is_article"]))
def test_article_text_and_metadata(name: str) -> None:
    result, expected = _extract(name)
    assert result.is_article, result.page_kind
    assert result.item.title == expected["title"]
    assert result.item.language == expected["language"]
    assert result.item.authors == expected["authors"]
    assert result.item.published == datetime.fromisoformat(expected["published"])
    assert result.item.url == expected["url"]
    # One page alone cannot tell the site's template lines from text: they are still here,
    # and everything else is exactly the article (no headline, byline, teasers or comments).
    templates = set(expected["template_lines"])
    leftover = [p for p in result.item.paragraphs if p not in templates]
    assert leftover == expected["paragraphs"]
    assert [p for p in result.item.paragraphs if p in templates]
    assert result.item.text == "\n\n".join(result.item.paragraphs)


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if not e["is_article"]))
def test_listing_and_static_pages_are_not_articles(name: str) -> None:
    result, _ = _extract(name)
    assert not result.is_article


def test_canonical_url_drops_tracking_and_uses_rel_canonical() -> None:
    name = "harbour-article"
    html = (PAGES / f"{name}.html").read_text(encoding="utf-8")
    result = extract_article(html, EXPECTED[name]["url"] + "?utm_source=home&utm_medium=teaser")
    assert result.item.url == EXPECTED[name]["url"]


@pytest.mark.parametrize("html", ["", "   ", "<html></html>", "\x00\x01binary\xff",
                                  "<html><body><p>Too short.</p></body></html>",
                                  "<div>" * 5000 + "deep" + "</div>" * 10])
def test_degenerate_input_is_not_an_article_and_does_not_raise(html: str) -> None:
    result = extract_article(html, "https://example.com/x")
    assert result.is_article is False
    assert result.item.text == "" or isinstance(result.item.text, str)


def _signals(url: str = "https://news.example/politics", types: tuple[str, ...] = (),
             words: int = 300, prose: int = 300, page: float = 0.2, text: float | None = 0.0,
             declared: bool = False, found: bool = False) -> PageSignals:
    return PageSignals(url=url, types=frozenset(types), words=words, prose_words=prose,
                       page_link_density=page, text_link_density=text, declared_date=declared,
                       found_date=found)


def test_classifier_rules() -> None:
    article = ("NewsArticle",)
    assert classify_page(_signals(types=article, declared=True)).is_article
    assert not classify_page(_signals(types=article, words=20)).is_article  # a stub
    assert classify_page(_signals(types=article, words=40, prose=40, declared=True)
                         ).is_article  # a brief
    # some sites declare an article type on every page: with no date and no article URL it
    # says nothing
    assert not classify_page(_signals(types=article, words=40, prose=40)).is_article
    assert not classify_page(_signals(types=article)).is_article
    assert classify_page(_signals(url="https://n.example/a/123456", types=article, words=40)
                         ).is_article
    # URLs of front, about and listing pages, whatever the page declares, unless listed
    for url in ("https://n.example/", "https://n.example/index.php", "https://n.example/es/",
                "https://n.example/about-us/", "https://n.example/about/submissions",
                "https://n.example/impressum.html", "https://n.example/blog/",
                "https://n.example/tag/elections"):
        assert not classify_page(_signals(url=url, types=article, declared=True)).is_article
        assert classify_page(_signals(url=url, types=article, declared=True), hinted=True
                             ).is_article
    for url in ("https://n.example/?p=959", "https://n.example/about-bugs/",
                "https://n.example/story.asp?S=7606486", "https://n.example/news/local-fire"):
        assert classify_page(_signals(url=url, types=article, declared=True)).is_article
    # a big menu outweighs the article in the page, not in the main text
    assert classify_page(_signals(types=article, page=0.8, text=0.05, declared=True)).is_article
    assert not classify_page(_signals(types=article, page=0.8, text=0.7, declared=True)
                             ).is_article
    assert not classify_page(_signals(types=("CollectionPage",), declared=True)).is_article
    # og:type website is on many sites' every page: it says nothing
    assert classify_page(_signals(types=("website",), declared=True)).is_article
    assert not classify_page(_signals(page=0.7, text=0.6, declared=True)).is_article  # links
    assert not classify_page(_signals(page=0.7, prose=60, declared=True)).is_article
    # an old page's menus outweigh its story: a main text of prose with few links decides
    assert classify_page(_signals(page=0.7, text=0.05, declared=True)).is_article
    assert classify_page(_signals(declared=True)).is_article
    assert not classify_page(_signals()).is_article  # no type, no date
    assert classify_page(_signals(), hinted=True).is_article
    # a found date is weak: prose at twice the minimum, or an article-shaped URL
    assert not classify_page(_signals(found=True, prose=100)).is_article
    assert classify_page(_signals(found=True, prose=200)).is_article
    assert classify_page(_signals(url="https://n.example/a/123456", found=True, prose=100)
                         ).is_article
    # listing pages: dated, long enough, but teasers rather than prose
    assert not classify_page(_signals(declared=True, words=140, prose=0)).is_article
    assert not classify_page(_signals(url="https://n.example/politik/", declared=True,
                                      words=90, prose=60)).is_article
    # a dated brief at an article URL
    assert classify_page(_signals(url="https://n.example/2018/09/10/open-thread/",
                                  declared=True, words=60, prose=50)).is_article


@pytest.mark.parametrize(("url", "shape"), [
    ("https://n.example/2024/05/12/minister-resigns.html", "date"),
    ("https://n.example/news/20250114/k00/00m/030/335000c", "date"),
    ("https://n.example/local/cat-found-after-going-missing.php", "slug"),
    ("https://n.example/article/3834/1", "id"),
    ("https://n.example/news/view.html?idx=8576&page=1", "id"),
    ("https://n.example/", None),
    ("https://n.example/politik/", None),
    ("https://n.example/rubrique/vie-locale/", None),
    ("https://n.example/about/", None),
    ("https://n.example/tag/waterfront/?page=2", None),
])
def test_article_url_shape(url: str, shape: str | None) -> None:
    assert article_url_shape(url) == shape


def test_words_of_unspaced_scripts() -> None:
    assert word_count("Three plain words") == 3
    assert word_count("先日、不正に改造した") == 5  # ten characters, two per word
    assert word_count("iPhone を販売") == 3


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_lazy_trafilatura_metadata_equals_with_metadata(name: str) -> None:
    """extract_body asks trafilatura for its metadata only when a field is needed; the values
    must be those of ``bare_extraction(..., with_metadata=True)``, whichever field is asked
    first (pins trafilatura's steps that TrafilaturaMetadata runs one by one)."""
    from copy import deepcopy

    import lxml.html
    import trafilatura
    from trafilatura.utils import load_html

    from crawler.extraction.body import BODY_OPTIONS
    from crawler.extraction.trafilatura_metadata import TrafilaturaMetadata

    html = (PAGES / f"{name}.html").read_text(encoding="utf-8")
    url = EXPECTED[name]["url"]
    page = load_html(html)
    full = trafilatura.bare_extraction(deepcopy(page), url=url, with_metadata=True, **BODY_OPTIONS)
    fields = ("title", "author", "date", "sitename", "description", "image", "tags",
              "categories", "hostname")
    expected = {f: getattr(full, f) for f in fields}
    before = lxml.html.tostring(page)
    lazy = TrafilaturaMetadata(page, url)
    assert {f: lazy.get(f) for f in fields} == expected
    assert lxml.html.tostring(page) == before  # read, never changed: no copy needed
    # Each field asked first on its own (the date's search runs only for the date).
    assert {f: TrafilaturaMetadata(page, url).get(f) for f in fields} == expected
    assert any(lazy.get(f) for f in fields)


def test_the_pages_own_lead_is_article_text() -> None:
    """A standfirst in the article header that repeats the page's declared description is
    kept (the precision pass alone would cut it as an edge); byline and teasers are not."""
    html = (Path(__file__).parent / "fixtures" / "lead" / "article-with-lead.html").read_text(
        encoding="utf-8")
    result = extract_article(html, "https://www.mdn.example/nachrichten/hitze-verkehr-100.html")
    assert result.item.paragraphs[0].startswith("Auch bei aktuell erträglichen Temperaturen")
    assert result.item.paragraphs[1].startswith("Wenn das Thermometer über 35 Grad")
    assert len(result.item.paragraphs) == 7
    assert not any("Katrin Wendt" in p or "Mehr zum Thema" in p or "Hitze: So schützen" in p
                   for p in result.item.paragraphs)
    assert result.item.authors == ["Katrin Wendt"]


def test_a_paragraph_without_spaces_that_names_the_reporters_is_not_a_byline() -> None:
    from crawler.extraction.bylines import drop_bylines

    closing = ("一方で、イスラエル軍は13日、ガザ北部の戦闘でイスラエル兵5人が死亡したと発表した。"
               "ガザでは約100人の人質が拘束されている。【エルサレム松岡大地、カイロ金子淳】")
    paragraphs = ["第一段落の本文です。" * 5, "第二段落の本文です。" * 5, closing]
    assert drop_bylines(paragraphs, ["松岡大地"]) == paragraphs
    assert drop_bylines([*paragraphs, "By Jane Doe"], ["Jane Doe"]) == paragraphs
