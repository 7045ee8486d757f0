"""Hostile HTML for fuzzing extraction: Hypothesis strategies, the properties, the profiles.

Shared by tests/test_fuzz_extraction.py (short CI budget, profile ``fuzz-ci``) and
benchmarks/fuzz.py (long budget, profile ``fuzz-long``). Pages are random, or the real pages
of tests/fixtures/pages mutated: truncated, bytes flipped, tag soup, deep nesting, huge
attributes, random unicode (control characters included), hostile metadata.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from crawler.document import MAX_TITLE_CHARS, article_document
from crawler.extraction import extract_article

PAGES_DIR = Path(__file__).resolve().parent / "fixtures" / "pages"
PAGES = [p.read_text(encoding="utf-8") for p in sorted(PAGES_DIR.glob("*.html"))]
URL = "http://127.0.0.2:8601/2024/05/01/fuzzed-article/"
EXTRACT_TIMEOUT = 30.0  # NEWS_EXTRACT_TIMEOUT's default
WELL_UNDER = EXTRACT_TIMEOUT / 3  # what one call may take here, on a slow, busy machine

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
settings.register_profile(
    "fuzz-ci", max_examples=12, deadline=WELL_UNDER * 1000, derandomize=True, database=None,
    suppress_health_check=_SLOW_OK, print_blob=True)
settings.register_profile(
    "fuzz-long", max_examples=2000, deadline=WELL_UNDER * 1000, derandomize=False,
    database=None, suppress_health_check=_SLOW_OK, print_blob=True)

# -- strategies --------------------------------------------------------------------------------

# Any code point but surrogates (a decoded HTTP body never holds one), controls included.
any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=300)
TAGS = ["html", "head", "body", "div", "p", "span", "a", "article", "main", "section", "table",
        "tr", "td", "ul", "li", "h1", "h2", "script", "style", "title", "meta", "time", "br",
        "iframe", "svg", "math", "template", "noscript", "form", "select", "textarea", "!--",
        "![CDATA[", "?xml", "!DOCTYPE"]
tag_soup_piece = st.one_of(
    st.sampled_from(TAGS).map(lambda t: f"<{t}>"),
    st.sampled_from(TAGS).map(lambda t: f"</{t}>"),
    st.sampled_from(["<", ">", "</", "/>", '"', "'", "=", "&", "&amp", "&#x0;", "&#1114112;",
                     "-->", "]]>", "<p <p>", "<a href='", "<meta charset=\"", "\x00"]),
)
DATES = ["9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00-12:00", "1900-01-01", "2024-02-30",
         "10000-01-01", "-2024-01-01", "1714557600000", "99999999999999999999", "NaN",
         "2024-05-01T06:00:00+25:00", "Mon, 31 Dec 9999 23:59:59 +9999", "", "\x00"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | any_text
    | st.sampled_from(DATES),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.sampled_from(["@type", "@context", "@graph", "headline", "name",
                                       "author", "datePublished", "dateModified",
                                       "inLanguage", "image", "keywords", "isAccessibleForFree",
                                       "publisher", "articleSection", "url"]) | any_text,
                      children, max_size=6),
    max_leaves=20)


@st.composite
def _jsonld(draw: st.DrawFn) -> str:
    value: Any = draw(json_values)
    if draw(st.booleans()):
        return f'<script type="application/ld+json">{json.dumps(value)}</script>'
    raw = draw(st.sampled_from(['{"@type": "NewsArticle", "headline": ', "[{,}", "{\"a\": 1}}",
                                "/* x */ {", "<!--{", "{\"@graph\": [[[[[[[[[["]))
    return f'<script type="application/ld+json">{raw}{draw(any_text)}</script>'


@st.composite
def _meta(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(["article:published_time", "og:title", "og:locale", "author",
                                 "date", "og:site_name", "description", "article:tag",
                                 "og:image", "dc.language"]))
    content = draw(st.sampled_from(DATES) | any_text | st.text(max_size=20).map(
        lambda s: s * 5000))
    return f'<meta property="{name}" name="{name}" content="{content}">'


def _at(html: str, position: float, insert: str) -> str:
    index = int(len(html) * position)
    return html[:index] + insert + html[index:]


positions = st.floats(min_value=0, max_value=1)


@st.composite
def mutation(draw: st.DrawFn, html: str) -> str:
    kind = draw(st.sampled_from(["truncate", "flip", "soup", "nest", "attribute", "unicode",
                                 "jsonld", "meta", "lang", "title"]))
    if kind == "truncate":
        return html[:int(len(html) * draw(positions))]
    if kind == "flip":
        data = bytearray(html.encode("utf-8"))
        for _ in range(draw(st.integers(1, 64))):
            if data:
                index = draw(st.integers(0, len(data) - 1))
                data[index] ^= draw(st.integers(1, 255))
        return data.decode("utf-8", errors="replace")
    if kind == "soup":
        return _at(html, draw(positions), "".join(draw(st.lists(tag_soup_piece, max_size=40))))
    if kind == "nest":
        tag = draw(st.sampled_from(["div", "span", "table", "b", "li", "blockquote"]))
        depth = draw(st.integers(1, 20_000))
        closing = f"</{tag}>" * depth if draw(st.booleans()) else ""
        return _at(html, draw(positions), f"<{tag}>" * depth + draw(any_text) + closing)
    if kind == "attribute":
        size = draw(st.integers(1, 2_000_000))
        name = draw(st.sampled_from(["data-x", "class", "href", "style", "content", "lang"]))
        return _at(html, draw(positions), f'<div {name}="{"a" * size}">x</div>')
    if kind == "unicode":
        result = html
        for _ in range(draw(st.integers(1, 8))):
            result = _at(result, draw(positions), draw(any_text))
        return result
    if kind == "jsonld":
        return _at(html, draw(positions), draw(_jsonld()))
    if kind == "meta":
        return _at(html, draw(positions), draw(_meta()))
    if kind == "lang":
        return html.replace("<html", f'<html lang="{draw(any_text)}" xml:lang', 1)
    title = draw(any_text) * draw(st.integers(1, 400))
    return html.replace("<title>", f"<title>{title}", 1).replace("<h1", f"<h1>{title}</h1><h1", 1)


@st.composite
def mutated_pages(draw: st.DrawFn) -> str:
    """A real page, mutated one to three times."""
    html = draw(st.sampled_from(PAGES))
    for _ in range(draw(st.integers(1, 3))):
        html = draw(mutation(html))
    return html


random_pages = st.one_of(
    any_text,
    st.binary(max_size=2000).map(lambda b: b.decode("latin-1")),
    st.lists(st.one_of(tag_soup_piece, any_text), max_size=200).map("".join),
)

# -- the properties ----------------------------------------------------------------------------


def check_page(html: str, url: str = URL) -> None:
    """extract_article never raises and is fast; its result always makes a valid document."""
    started = time.monotonic()
    result = extract_article(html, url)
    elapsed = time.monotonic() - started
    assert elapsed < WELL_UNDER, f"extraction took {elapsed:.1f} s"
    assert isinstance(result.is_article, bool)
    assert isinstance(result.item.text, str)
    document = article_document(replace(result.item, source="fuzz"))
    title = document["title"]
    assert title is None or (isinstance(title, str) and len(title) <= MAX_TITLE_CHARS)
    for key in ("title", "text", "site_name", "description", "image", "section"):
        value = document[key]
        assert value is None or not any(
            (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F for c in value), key
    language = document["language"]
    assert language is None or (len(language) == 2 and language.isalpha())
    for key in ("published", "modified"):
        value = document[key]
        assert value is None or 1995 <= value.year <= 2200, (key, value)
