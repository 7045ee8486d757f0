"""Older and plainer pages (tests/plain_corpus): wire copy, table layouts, pages libxml2 reads
only in part. What a user sees: the story's text, not nothing and not table pipes."""

from __future__ import annotations

import gzip
from pathlib import Path

from crawler.extraction import extract_article
from crawler.extraction.body import layout_row
from crawler.extraction.classify import prose_words, site_page_url
from crawler.extraction.text import word_count

CORPUS = Path(__file__).parent / "plain_corpus" / "pages"


def _page(name: str) -> str:
    return gzip.decompress((CORPUS / name).read_bytes()).decode("utf-8", "replace")


def test_a_story_pasted_as_a_second_document_is_read_as_a_browser_reads_it() -> None:
    # WVVA (2008): the story is a whole second <html> document after the first one's </body>;
    # libxml2 drops it, leaving the weather box (13 words)
    url = "http://www.wvva.com/News/index.php?ID=20129"
    result = extract_article(_page("l3sgn1--wvva.com.954487ce.html.gz"), url)
    assert result.html_repaired
    assert "LAS VEGAS - The Democratic presidential primary is taking on a racial tone" in (
        result.item.text)
    assert result.is_article, result.page_kind
    assert not any(p.startswith("|") for p in result.item.paragraphs)


def test_a_page_with_text_is_not_parsed_again() -> None:
    url = "http://www.kmph.com/Global/story.asp?S=7606486&nav=menu612_2"
    result = extract_article(_page("l3sgn1--kmph.com.5ee7902b.html.gz"), url)
    assert not result.html_repaired
    assert result.is_article, result.page_kind  # wire copy: one sentence a paragraph


def test_rows_of_layout_tables_are_their_one_cell() -> None:
    assert layout_row("| | LAS VEGAS - The primary is taking on a racial tone. |") == (
        "LAS VEGAS - The primary is taking on a racial tone.")
    assert layout_row("| | | |") == ""
    assert layout_row("| Team | Won | Lost |") == "| Team | Won | Lost |"  # data stays
    assert layout_row("Plain text | with a bar") == "Plain text | with a bar"


WIRE = [  # one or two sentences a paragraph, as agencies write
    "WASHINGTON (AP) - The Senate passed the bill on Tuesday by a vote of 61 to 38.",
    "The measure now goes to the House, where its fate is uncertain.",
    "Republican leaders said they would bring it to the floor next week.",
    "Democrats called the vote a victory for working families.",
    "The White House said the president would sign it.",
]
LISTING = [  # headlines (no sentences) alternating with one-sentence teasers
    "Senate passes spending bill",
    "The measure now goes to the House, where its fate is uncertain.",
    "Storm knocks out power to thousands",
    "Crews expect to restore service by Friday evening across the county.",
    "Local team wins title",
    "The Hawks beat the Eagles 3-1 in front of a record crowd on Saturday.",
]


def test_prose_is_judged_by_sentences_not_paragraph_length() -> None:
    assert prose_words(WIRE) == sum(word_count(p) for p in WIRE)
    assert prose_words(LISTING) == 0


def test_urls_of_front_about_and_listing_pages() -> None:
    assert site_page_url("https://n.example/") == "front page"
    assert site_page_url("https://n.example/index.html") == "front page"
    assert site_page_url("https://n.example/de/") == "front page"
    assert site_page_url("https://n.example/ueber-uns/") == "about page"
    assert site_page_url("https://n.example/kontakt/impressum-agentur/") == "about page"
    assert site_page_url("https://n.example/blog/") == "listing"
    assert site_page_url("https://n.example/tag/wahlen") == "listing"
    for article in ("https://n.example/?p=959", "https://n.example/about-bugs/",
                    "http://n.example/Global/story.asp?S=7606486",
                    "https://n.example/news/2019/05/fire-downtown",
                    "https://n.example/blog/why-we-moved-to-postgres"):
        assert site_page_url(article) is None, article
