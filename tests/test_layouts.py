"""Learned site layouts as plain functions: learning a layout from fully extracted pages, the
fast path and its checks, and a site's layouts across pages (crawler/layouts/). The pages are
tests/layout_site.py's: real article text, a different article on every page, furniture
inside the article that names other articles."""

from __future__ import annotations

import pickle
import re

import pytest
from trafilatura.utils import load_html

from crawler.canonical import normalize_line
from crawler.extraction.article import extract_article
from crawler.items import Extraction
from crawler.layouts.book import CLOSED, CONFIRMED, LEARNED, UPDATED, LayoutBook
from crawler.layouts.fast import extract_with_layout
from crawler.layouts.learn import agreement, learn
from crawler.layouts.selectors import signature
from crawler.layouts.site_layout import Layout
from crawler.layouts.task import FAST, FULL, extract_page
from tests.layout_site import (
    RENDER,
    LayoutArticle,
    _articles,
    _teasers,
    available,
    standfirst,
)

pytestmark = pytest.mark.skipif(not available(), reason="../shared/eval/scrapinghub-aeb absent")
SITE = "ledger.test"


@pytest.fixture(scope="module")
def articles() -> list[LayoutArticle]:
    return _articles()


def page(articles: list[LayoutArticle], n: int, layout: str = "a") -> tuple[str, str]:
    url = f"http://{SITE}/a/{n}.html"
    return RENDER[layout](articles[n], url, _teasers(articles[n], articles)), url


def text_of(article: LayoutArticle) -> list[str]:
    return [normalize_line(p) for p in article.paragraphs]


def plain(html: str) -> str:
    """The page without its declared type and date (JSON-LD, og:type), as older sites serve
    them: the date is shown in the byline instead."""
    published = re.search(r'"datePublished": "(\d{4}-\d\d-\d\d)', html)
    html = re.sub(r'<script type="application/ld\+json">.*?</script>', "", html, flags=re.S)
    if published:
        html = re.sub(r'(<div class="byline">[^<]*)', rf"\1 | {published.group(1)}", html)
    return html.replace('<meta property="og:type" content="article">', "")


def learned(articles: list[LayoutArticle], layout: str = "a", first: int = 0,
            declared: bool = True) -> Layout:
    """A layout learned from three pages, each observed after its full extraction."""
    observations = []
    for n in range(first, first + 3):
        html, url = page(articles, n, layout)
        if not declared:
            html = plain(html)
        report = extract_page(html, url, observe_page=True).layout
        assert report.observation is not None
        observations.append(report.observation)
    result = learn(SITE, observations, version=1)
    assert result is not None
    return result


def test_a_signature_names_an_element_by_its_template_not_its_content() -> None:
    tree = load_html('<html><body><div id="post-4821" class="entry css-1x2y story">x</div>'
                     '<div id="main">y</div><p>z</p></body></html>')
    first, second, third = tree.find("body")
    assert signature(first) == "div.entry.story"  # ids and classes with digits change
    assert signature(second) == "div#main"
    assert signature(third) == "p"


def test_a_layout_is_the_container_and_the_furniture_the_full_way_left_out(
        articles: list[LayoutArticle]) -> None:
    layout = learned(articles)
    assert "story-body" in layout.container
    drops = " ".join(layout.drops)
    for furniture in ("inline-teaser", "photo", "share-tools", "newsletter-box"):
        assert furniture in drops
    assert layout.sources["published"] == "jsonld:datePublished"
    assert "newsarticle" in layout.types
    assert layout.min_words > 100 and layout.max_link_density < 0.2
    assert Layout.from_doc(layout.to_doc()) == layout
    assert layout.to_doc()["_id"] == f"{SITE}#1"


def test_the_fast_way_gives_the_full_ways_text_on_pages_it_was_not_learned_from(
        articles: list[LayoutArticle]) -> None:
    layout = learned(articles)
    fitting = 0
    for n in range(3, 23):
        html, url = page(articles, n)
        fast = extract_with_layout(html, url, layout)
        if fast.miss == "length":  # far shorter than the learning pages: the full way
            continue
        assert fast.miss is None and fast.extraction is not None, (n, fast.miss)
        fitting += 1
        full = extract_article(html, url)
        item = fast.extraction.item
        assert item.paragraphs == text_of(articles[n]) == full.item.paragraphs
        assert (item.title, item.published, item.authors, item.site_name) == (
            full.item.title, full.item.published, full.item.authors, full.item.site_name)
    assert fitting >= 15


def test_a_standfirst_outside_the_container_is_read_where_the_learning_pages_had_it(
        articles: list[LayoutArticle]) -> None:
    # Long stories: the body's element holds all but a few per cent of the text, so it is the
    # container and the standfirst is outside it (around a short story the container would be
    # the element that holds both)
    articles = [a for a in articles if sum(len(p.split()) for p in a.paragraphs) >= 700]
    assert len(articles) >= 15
    layout = learned(articles, "lead")
    assert "story-body" in layout.container
    assert layout.lead is not None and "standfirst" in layout.lead
    assert Layout.from_doc(layout.to_doc()) == layout
    for n in range(3, 13):
        html, url = page(articles, n, "lead")
        fast = extract_with_layout(html, url, layout)
        if fast.miss == "length":
            continue
        assert fast.extraction is not None, (n, fast.miss)
        full = extract_article(html, url)
        assert fast.extraction.item.paragraphs == full.item.paragraphs == [
            normalize_line(standfirst(articles[n])), *text_of(articles[n])]
    # A page of the site without one: the body alone, nothing taken from elsewhere
    html, url = page(articles, 14, "lead")
    html = html.replace('<p class="standfirst">', '<p class="kicker">', 1)
    fast = extract_with_layout(html, url, layout)
    assert fast.extraction is not None and fast.extraction.item.paragraphs[0] != normalize_line(
        standfirst(articles[14]))
    # The classic layout (no standfirst) learns none
    assert learned(articles, "a").lead is None


def test_a_date_the_site_only_shows_is_read_where_its_layout_shows_it(
        articles: list[LayoutArticle]) -> None:
    # Pages that declare no date: the full way takes trafilatura's (htmldate's search of the
    # page); the layout learns where the page shows it and reads the day there.
    layout = learned(articles, declared=False)
    assert layout.sources["published"] == "trafilatura"
    assert layout.date_xpath is not None and "byline" in layout.date_xpath
    days = set()
    for n in range(3, 23, 2):
        html, url = page(articles, n)
        html = plain(html)
        fast = extract_with_layout(html, url, layout)
        result = fast.extraction or fast.fast  # (a page far shorter misses only its length)
        assert result is not None, (n, fast.miss)
        item, full = result.item, extract_article(html, url).item
        assert item.published_source == "layout" and full.published_source == "trafilatura"
        assert item.published == full.published
        assert item.published is not None
        assert item.published.date() == articles[n].published.date()
        days.add(item.published.date())
    assert len(days) >= 3  # the pages show different days, and each is read
    # A page that does not show it there: htmldate's search, as the full way.
    html, url = page(articles, 14)
    html = plain(html).replace(f" | {articles[14].published:%Y-%m-%d}", "")
    result = extract_with_layout(html, url, layout)
    other = result.extraction or result.fast
    assert other is not None
    assert other.item.published_source != "layout"
    assert other.item.published == extract_article(html, url).item.published
    # An element XPath edited by hand into something that does not compile: the same.
    layout.date_xpath = "//div[@class='byline'"
    result = extract_with_layout(html, url, layout)
    other = result.extraction or result.fast
    assert other is not None and other.item.published_source == "trafilatura"


def test_a_page_that_does_not_fit_its_layout_goes_the_full_way(
        articles: list[LayoutArticle]) -> None:
    layout = learned(articles)
    html, url = page(articles, 5, "b")  # the redesign: the old container holds a standfirst
    result = extract_page(html, url, layouts=[layout])
    report = result.layout
    assert (report.path, report.version, report.miss) == (FULL, 1, "length")
    assert result.item.paragraphs == text_of(articles[5])
    assert report.agreement is not None and report.agreement < 0.2
    # No container at all: the full way, nothing tried.
    html, url = page(articles, 6, "long")
    report = extract_page(html, url, layouts=[layout]).layout
    assert (report.path, report.version, report.misses) == (FULL, None, {})


def test_a_short_story_in_its_sites_layout_is_an_article(
        articles: list[LayoutArticle]) -> None:
    layout = learned(articles, declared=False)
    assert layout.types == []
    short = LayoutArticle(99, "Council approves the harbour budget", [
        "The city council approved the harbour budget on Tuesday evening.",
        "The vote was 31 to 4, with two abstentions.",
        "Work on the new quay starts in May, the port authority said."],
        "Hannah Cole", articles[0].published)
    url = f"http://{SITE}/a/99.html"
    html = plain(RENDER["a"](short, url, _teasers(articles[7], articles)))
    alone = extract_article(html, url)
    assert not alone.is_article  # the page-by-page classifier refuses it
    result = extract_page(html, url, layouts=[layout])
    assert result.is_article and result.layout.by_layout
    assert result.item.paragraphs == [normalize_line(p) for p in short.paragraphs]


def test_a_page_of_links_in_the_container_is_not_made_an_article(
        articles: list[LayoutArticle]) -> None:
    layout = learned(articles)
    links = "".join(f'<p><a href="/a/{n}.html">{articles[n].headline}</a></p>'
                    for n in range(10, 16))
    html = (f'<html lang="en"><head><title>City</title></head><body><div class="story-body">'
            f'{links}</div></body></html>')
    result = extract_page(html, f"http://{SITE}/city/", layouts=[layout])
    assert not result.is_article and not result.layout.by_layout
    assert result.layout.miss in ("empty", "links"), result.layout


def test_agreement_is_one_for_the_same_text_and_low_for_another() -> None:
    one = ["The council met on Tuesday to vote on the harbour budget for next year."]
    other = ["Rain is expected across the region from Thursday, forecasters said today."]
    assert agreement(one, one) == 1.0
    assert agreement(one, other) == 0.0
    assert agreement(one, [*one, *other]) == pytest.approx(2 / 3)  # a paragraph lost
    assert agreement(["The council met on Tuesday", "to vote on the harbour budget."],
                     one) == 1.0  # split differently


def report_of(articles: list[LayoutArticle], book: LayoutBook, n: int,
              layout: str = "a") -> tuple[Extraction, list[tuple[str, int, str | None]]]:
    html, url = page(articles, n, layout)
    plan = book.plan(SITE, url)
    result = extract_page(html, url, layouts=plan.layouts, sample=plan.sample,
                          fresh=plan.fresh, observe_page=plan.observe)
    result = pickle.loads(pickle.dumps(result))  # as it comes back from a worker process
    events = book.record(SITE, result.layout)
    return result, [(e.kind, e.layout.version, e.layout.closed_reason) for e in events]


def test_a_site_learns_its_layout_checks_it_and_relearns_it_after_a_redesign(
        articles: list[LayoutArticle]) -> None:
    book = LayoutBook(sample_every=0, learn_pages=3, max_failures=5)
    paths, events = [], []
    for n in range(10):
        result, changed = report_of(articles, book, n)
        assert result.item.paragraphs == text_of(articles[n])
        paths.append(result.layout.path)
        events += changed
    # Three pages learn it; its first page that fits is also extracted the full way.
    assert paths == [FULL, FULL, FULL, FULL] + [FAST] * 6
    assert events == [(LEARNED, 1, None), (CONFIRMED, 1, None)]
    for n in range(10, 20):
        result, changed = report_of(articles, book, n, "b")
        assert result.item.paragraphs == text_of(articles[n]), n
        paths.append(result.layout.path)
        events += changed
    # Beside the open layout A, B is learned from one page more, and checked on its first.
    assert events[2:] == [(CLOSED, 1, "replaced"), (LEARNED, 2, None), (CONFIRMED, 2, None)]
    assert paths[10:] == [FULL] * 5 + [FAST] * 5
    assert [lay.version for lay in book.sites[SITE].open] == [2]


def test_a_layout_no_page_has_fitted_is_checked_in_the_next_crawl(
        articles: list[LayoutArticle]) -> None:
    """A crawl that ends right after a site's layout was learned leaves it unconfirmed: the
    next crawl, which reads it from site_layouts, compares its first fitting page too."""
    book = LayoutBook(sample_every=0, learn_pages=1)
    result, events = report_of(articles, book, 0)
    assert events == [(LEARNED, 1, None)] and result.layout.path == FULL
    stored = [Layout.from_doc(layout.to_doc()) for layout in book.sites[SITE].layouts]
    assert [layout.confirmed for layout in stored] == [False]
    paths = []
    for crawl in range(2):  # the next crawl, then the one after it
        book = LayoutBook(sample_every=0, learn_pages=1)
        book.add(SITE, stored)
        result, events = report_of(articles, book, 1 + crawl)
        assert result.item.paragraphs == text_of(articles[1 + crawl])
        paths.append((result.layout.path, result.layout.sampled, events))
        stored = [Layout.from_doc(layout.to_doc()) for layout in book.sites[SITE].layouts]
    assert paths == [(FULL, True, [(CONFIRMED, 1, None)]), (FAST, False, [])]
    assert [layout.confirmed for layout in stored] == [True]


def test_a_layout_that_disagrees_with_the_full_way_is_closed_and_learned_again(
        articles: list[LayoutArticle]) -> None:
    book = LayoutBook(sample_every=1, learn_pages=3)
    for n in range(3):
        report_of(articles, book, n)
    (layout,) = book.sites[SITE].open
    # As if learned wrong: every other paragraph dropped, a text of plausible length.
    layout.drops = [*layout.drops, ".//p[position() mod 2 = 0]"]
    result, events = report_of(articles, book, 3)
    assert result.layout.path == FULL and result.layout.sampled
    assert result.item.paragraphs == text_of(articles[3])  # stored from the full way
    assert events == [(CLOSED, 1, "disagreed")]
    # Learned again from the next pages (the full way's): the layout with its drops.
    for n in range(4, 7):
        report_of(articles, book, n)
    (relearned,) = book.sites[SITE].open
    assert relearned.version == 2 and relearned.drops


def test_a_new_element_in_the_article_is_learned_from_the_full_way(
        articles: list[LayoutArticle]) -> None:
    book = LayoutBook(sample_every=0, learn_pages=3)
    for n in range(4):
        report_of(articles, book, n)
    (layout,) = book.sites[SITE].open
    html, url = page(articles, 4)
    html = html.replace('<div class="share-tools">',
                        '<div class="poll-box">Should the harbour open on Sundays? '
                        'Vote now in our reader poll</div><div class="share-tools">')
    plan = book.plan(SITE, url)
    result = extract_page(html, url, layouts=plan.layouts, fresh=plan.fresh)
    assert (result.layout.path, result.layout.miss) == (FULL, "unknown")
    assert result.layout.dropped == ["div.poll-box"]
    events = book.record(SITE, result.layout)
    assert [e.kind for e in events] == [UPDATED]
    assert any("poll-box" in drop for drop in layout.drops)
    again = extract_page(html, url, layouts=book.plan(SITE, url).layouts)
    assert again.layout.path == FAST
    assert "Vote now" not in again.item.text


def test_a_page_shorter_than_the_learning_pages_that_reads_the_same_widens_the_layout(
        articles: list[LayoutArticle]) -> None:
    book = LayoutBook(sample_every=0, learn_pages=3)
    for n in range(4):
        report_of(articles, book, n)
    (layout,) = book.sites[SITE].open
    short = LayoutArticle(98, "Ferry service resumes after the storm", [
        "The harbour ferry resumed its timetable on Friday morning after two days of storms.",
        "Passengers were asked to check the operator's website before travelling today."],
        "Priya Raman", articles[0].published)
    url = f"http://{SITE}/a/98.html"
    html = RENDER["a"](short, url, _teasers(articles[5], articles))
    plan = book.plan(SITE, url)
    result = extract_page(html, url, layouts=plan.layouts, fresh=plan.fresh)
    assert (result.layout.path, result.layout.miss) == (FULL, "length")
    assert [e.kind for e in book.record(SITE, result.layout)] == [UPDATED]
    assert layout.min_words == result.layout.words < 40
    again = extract_page(html, url, layouts=book.plan(SITE, url).layouts)
    assert again.layout.path == FAST
    assert again.item.paragraphs == [normalize_line(p) for p in short.paragraphs]


def test_a_layout_that_cannot_be_applied_costs_the_page_nothing(
        articles: list[LayoutArticle]) -> None:
    broken = Layout(site=SITE, key="k", container="//div[@class='unclosed", version=7)
    html, url = page(articles, 4)
    result = extract_page(html, url, layouts=[broken, learned(articles)])
    assert result.layout.misses == {7: "error"}
    assert result.item.paragraphs == text_of(articles[4])  # the other layout, or the full way
    book = LayoutBook(max_failures=2)
    book.add(SITE, [broken])
    for _ in range(2):
        report = extract_page(html, url, layouts=[broken]).layout
        assert report.path == FULL
        events = book.record(SITE, report)
    assert [(e.kind, e.layout.closed_reason) for e in events] == [(CLOSED, "failed")]


@pytest.mark.parametrize("learn_pages", [1, 3])
def test_a_site_whose_pages_share_no_container_stops_being_observed(
        articles: list[LayoutArticle], learn_pages: int) -> None:
    from crawler.layouts.book import OBSERVE_LIMIT, UNCONFIRMED

    book = LayoutBook(learn_pages=learn_pages, max_failures=5)
    observed, events = 0, []
    for n in range(OBSERVE_LIMIT + 10):  # every page in a container of its own
        html, url = page(articles, n % 40)
        html = html.replace('class="story-body"', f'class="story-body body-v{chr(97 + n % 26)}'
                            f'{chr(97 + n // 26)}"').replace('<article class="story">',
                                                             f'<article id="s{n}x">')
        plan = book.plan(SITE, url + f"?{n}")
        observed += plan.observe
        result = extract_page(html, url, layouts=plan.layouts, observe_page=plan.observe)
        assert result.item.paragraphs == text_of(articles[n % 40])
        events += [(e.kind, e.layout.closed_reason) for e in book.record(SITE, result.layout)]
    assert book.sites[SITE].open == []
    if learn_pages == 1:
        # Its first page made a layout that no later page fitted: closed after 5 pages; the
        # next layouts need two pages that share a container, and none do: OBSERVE_LIMIT
        # pages after the layout, observing stops.
        assert observed == 1 + OBSERVE_LIMIT
        assert events == [(LEARNED, None), (CLOSED, UNCONFIRMED)]
    else:
        assert observed == OBSERVE_LIMIT
        assert events == []
