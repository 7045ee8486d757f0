"""Older and plainer pages (tests/plain_corpus): wire copy, table layouts, pages libxml2 reads
only in part. What a user sees: the story's text, not nothing and not table pipes."""

from __future__ import annotations

import gzip
from pathlib import Path

from crawler.extraction import extract_article
from crawler.extraction.body import layout_row
from crawler.extraction.classify import article_url_shape, prose_words, site_page_url
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
    # Movable Type's category and week archives; its entries are not
    assert site_page_url("http://n.example/importance/archives/cat_induce_act.php") == "listing"
    assert site_page_url("http://n.example/archives/week_2004_07_11.PHP") == "listing"
    assert site_page_url("http://n.example/archives/2004/09/induce_act_dead.html") is None
    assert site_page_url("http://n.example/archives/000123.html") is None
    for article in ("https://n.example/?p=959", "https://n.example/about-bugs/",
                    "http://n.example/Global/story.asp?S=7606486",
                    "https://n.example/news/2019/05/fire-downtown",
                    "https://n.example/blog/why-we-moved-to-postgres"):
        assert site_page_url(article) is None, article


def test_a_small_number_in_a_query_key_that_names_a_story_is_an_article_url() -> None:
    for url in ("http://blog.kinra.de/?p=959/", "http://n.example/article.php?storyid=504",
                "https://n.example/detail1.php?id=765&lang=de",
                "https://n.example/index.php?tx_ttnews%5Btt_news%5D=477",
                "http://www.loldf.org/spip.php?article717"):
        assert article_url_shape(url) == "id", url
    for url in ("http://n.example/?start_from=15", "http://n.example/index.php3?ca=35",
                "http://n.example/list.php?page=2", "http://n.example/main.asp?id=news",
                "http://n.example/spip.php?rubrique7"):
        assert article_url_shape(url) is None, url


def test_a_page_of_dated_entries_is_not_an_article() -> None:
    # Lancaster University's press cuttings (CleanEval, 2006): "Published 11 December 2006"
    # above each of twelve items, every item a paragraph of prose
    result = extract_article(_page("cleaneval--lums.lancs.ac.uk.552.html.gz"),
                             "http://www.lums.lancs.ac.uk/news/cuttings/")
    assert not result.is_article
    assert result.page_kind.startswith("several dated entries"), result.page_kind


def test_a_date_found_away_from_the_text_does_not_make_a_page_an_article() -> None:
    # A licensing page: no type, no declared date, no article URL; the date htmldate finds
    # is nowhere near the text
    result = extract_article(_page("htmldate--rosneft.com.licensing.html.gz"),
                             "https://www.rosneft.com/business/Upstream/Licensing/")
    assert result.item.published is not None  # found, but not shown with the text
    assert (result.is_article, result.page_kind) == (False, "found date not shown")


def test_a_date_shown_above_the_text_makes_a_plain_page_an_article() -> None:
    # WebMD (readability's test page, served without its URL): no type, no declared date,
    # the date in the line above the story
    result = extract_article(_page("readability--webmd-2.html.gz"),
                             "http://readability.example/webmd-2.html")
    assert result.is_article, result.page_kind
    assert result.item.published is not None
    assert result.item.published.date().isoformat() == "2015-04-17"


def test_a_number_as_the_last_path_segment_is_an_article_url() -> None:
    assert article_url_shape("http://n.example/articles/3.html") == "id"
    assert article_url_shape("http://n.example/news/12") == "id"
    assert article_url_shape("http://n.example/blog/page/2/") is None  # a listing's page
    assert article_url_shape("http://n.example/news/sport/") is None
