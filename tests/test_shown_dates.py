"""Dates shown to the reader (crawler/extraction/shown_dates.py): the one date an article shows
next to its text, and the dated entries of a listing."""

from __future__ import annotations

from datetime import date

from lxml.html import fromstring

from crawler.extraction.shown_dates import dated_entries, shown_days, shown_near_text

DAY = date(2006, 12, 11)


def test_days_in_the_forms_pages_write_them() -> None:
    for text in ("2006-12-11", "Published 11 December 2006", "11.12.2006, 10:15 Uhr",
                 "Monday, 11 Dec, 2006", "Dec. 11th, 2006", "December 11, 2006 at 10:15",
                 "Posted 11/12/06", "2006年12月11日 10:15", "2006년 12월 11일", "2006. 12. 11.",
                 "2006/12/11"):
        assert DAY in shown_days(text), text
    assert shown_days("12/11/2006") == {DAY, date(2006, 11, 12)}  # either way round
    assert shown_days("31 Febtober 2006, 31.02.2006, © 2006, 2006-13-01") == set()


def test_dated_entries_count_dates_on_lines_of_their_own() -> None:
    listing = ["Published 11 December 2006", "A paragraph about one press cutting.",
               "Published 6 December 2006", "Another paragraph about another cutting.",
               "Published 30 October 2006", "A third one."]
    assert dated_entries(listing) == 3
    article = ["WASHINGTON, Dec. 11, 2006 -- The Senate voted on Monday to pass the bill.",
               "Updated 12/12/2006", "The bill was first introduced on 11 December 2006, the "
               "day after the hearing on 10 December 2006 ended without a vote."]
    assert dated_entries(article) == 1  # the update line; dates inside sentences are prose
    tweets = [  # an article that embeds posts: each signed with its day
        "The minister's post drew replies within minutes.",
        "— Arvind Kejriwal (@ArvindKejriwal) November 1, 2019",
        "— Josh Apte (@joshapte) November 3, 2019",
        "— RT (@RT_com) July 16, 2019",
        "— Jo Doe, 5 March 2019"]
    assert dated_entries(tweets) == 0


PARAGRAPHS = ["The council voted on Monday to approve the harbour budget for next year.",
              "Work on the quay starts in May."]


def _page(before: str, after: str = "") -> object:
    return fromstring(f"<html><body><div class=nav>Home News Sport</div>{before}"
                      f"<p>{PARAGRAPHS[0]}</p><p>{PARAGRAPHS[1]}</p>{after}"
                      "<footer>© 2006 The Ledger. Last updated 2006-12-11</footer></body></html>")


def test_a_date_is_shown_near_the_text_above_it_or_in_its_first_words() -> None:
    assert shown_near_text(_page("<h1>Budget passed</h1><p>By Jo Doe, 11 December 2006</p>"),
                           PARAGRAPHS, DAY)
    # a text not found in the page as written: its first paragraph alone is looked at
    assert shown_near_text(_page("<h1>Budget passed</h1>"),
                           ["HARBOURTOWN, 11.12.2006 - " + PARAGRAPHS[0]], DAY)
    assert not shown_near_text(_page("<h1>Budget passed</h1>"), ["Not on the page."], DAY)
    # the dateline starts the text
    tree = fromstring(
        f"<html><body><p>HARBOURTOWN, 11.12.2006 - {PARAGRAPHS[0]}</p></body></html>")
    assert shown_near_text(tree, [f"HARBOURTOWN, 11.12.2006 - {PARAGRAPHS[0]}"], DAY)


def test_a_date_far_from_the_text_is_not_shown_near_it() -> None:
    filler = "<p>" + " ".join(["menu"] * 300) + "</p>"
    assert not shown_near_text(_page("<p>11 December 2006</p>" + filler), PARAGRAPHS, DAY)
    # the footer's "last updated" comes after the text
    assert not shown_near_text(_page("<h1>Budget passed</h1>", filler), PARAGRAPHS, DAY)
    assert not shown_near_text(_page("<p>11 December 2006</p>"), [], DAY)

