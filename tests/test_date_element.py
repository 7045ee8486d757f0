"""Where a page shows its date (crawler/layouts/date_element.py): found on a learning page,
read on the next."""

from __future__ import annotations

from datetime import date

from trafilatura.utils import load_html

from crawler.layouts.date_element import day_of, locate, shown_day


def tree(body: str, head: str = "") -> object:
    return load_html(f"<html><head>{head}</head><body>{body}</body></html>")


def test_the_deepest_element_that_shows_the_day_is_found_and_read_again() -> None:
    learning = tree('<div class="meta"><span class="by">By Ann Lee</span>'
                    '<span class="when"><b>March</b> <b>5</b>, 2024</span></div>'
                    '<p>Story text of 5 March 2024 and more words.</p>')
    xpath = locate(learning, "2024-03-05")
    assert xpath is not None and "when" in xpath
    later = tree('<div class="meta"><span class="by">By Bo Ek</span>'
                 '<span class="when"><b>April</b> <b>17</b>, 2023</span></div><p>Other.</p>')
    assert shown_day(later, xpath) == "2023-04-17"


def test_an_attribute_or_a_meta_tag_that_shows_it_is_named_with_the_attribute() -> None:
    page = tree('<p>Words</p><abbr class="published" title="2019-11-18T09:30:00">Monday</abbr>')
    xpath = locate(page, "2019-11-18")
    assert xpath is not None and xpath.endswith("/@title")
    assert shown_day(tree('<abbr class="published" title="2020-01-02">x</abbr>'),
                     xpath) == "2020-01-02"
    page = tree("<p>Words</p>", '<meta name="dc.created" content="2019-11-18">')
    assert locate(page, "2019-11-18") == "//meta[@name='dc.created']/@content"


def test_an_element_among_many_alike_is_named_by_its_position() -> None:
    page = tree("<div><p>x</p></div><div><p>x</p><p>Posted 18.11.2019</p></div>")
    xpath = locate(page, "2019-11-18")
    assert xpath is not None and xpath.startswith("/html/body/div[2]/p[2]")
    assert shown_day(tree("<div><p>y</p></div><div><p>y</p><p>Posted 01.02.2020</p></div>"),
                     xpath) == "2020-02-01"


def test_nothing_is_found_where_the_day_is_not_shown_and_nothing_is_read_there() -> None:
    page = tree("<p>Published in 2019, updated 20.11.2019</p><p>12345 readers</p>")
    assert locate(page, "2019-11-18") is None
    assert shown_day(tree("<p>No date here</p>"), "//p") is None
    assert shown_day(tree("<p>x</p>"), "//div[@class='gone']") is None
    assert shown_day(tree("<p>x</p>"), "//p[") is None  # an XPath edited by hand
    assert day_of("3 comments, 12 shares") is None
    assert day_of("x" * 200 + " 18.11.2019") is None  # not a short element's text


def test_a_page_of_the_crawls_day_names_no_element_a_header_could_be_taken_for() -> None:
    # A newspaper's header shows the day's date on every page: on a page published that day
    # it comes first, and later pages (published earlier) would be given the header's day.
    page = tree('<div class="masthead">Monday, December 7, 2026</div>'
                '<p class="byline">By Ann Lee, December 7, 2026</p><p>Text.</p>')
    assert locate(page, "2026-12-07", today=date(2026, 12, 7)) is None
    assert locate(page, "2026-12-07", today=date(2026, 12, 8)) is None  # a zone apart
    older = tree('<div class="masthead">Monday, December 7, 2026</div>'
                 '<p class="byline">By Ann Lee, December 1, 2026</p><p>Text.</p>')
    xpath = locate(older, "2026-12-01", today=date(2026, 12, 7))
    assert xpath is not None and "byline" in xpath
