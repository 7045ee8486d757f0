"""Tell articles from home, section, tag and listing pages.

Real publishers' pages are untidy: many declare no type or a generic one (``og:type website``
on every page), a large menu or link footer can hold more text than a short article, dates are
shown in the text rather than declared, and Chinese and Japanese put no spaces between words.
So a page is judged by where its article would be (the main text trafilatura finds) and by
several independent signals, each measured on the public benchmarks and on the demo and test
sites' listing pages (docs/quality.md):

1. A page that declares an article type (JSON-LD ``@type``, ``og:type``) or was listed as an
   article by a feed or news sitemap is one, unless its text is a stub or its main text and the
   page are both mostly links.
2. A page that declares a listing type (``CollectionPage``, ``ItemList``, ...) is not.
3. Any other page is an article when it has a date (declared or found in the page) and reads
   like one: enough of its words sit in paragraphs of prose (teasers and headlines are short),
   or its URL has the shape of an article's (a date, a long slug or a numeric id) and it
   declares its date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from lxml.html import HtmlElement

from crawler.extraction.text import word_count

# schema.org and OpenGraph types that name a single story.
_ARTICLE_TYPES = {"article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle",
                  "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle",
                  "blogposting", "liveblogposting", "report", "scholarlyarticle", "techarticle",
                  "socialmediaposting"}
# Types that name a listing or a page about the site. ``WebSite``, ``WebPage`` and
# ``Organization`` are not among them: many sites declare them on every page, articles too.
_LISTING_TYPES = {"collectionpage", "itemlist", "searchresultspage", "profilepage",
                  "aboutpage", "contactpage", "faqpage"}
# A paywalled article shows only its first paragraphs; it is stored with what is visible.
PAYWALLED_MIN_WORDS = 15
# A page that says it is an article may be a brief (a flash, a correction): this many words.
BRIEF_MIN_WORDS = 25
# A paragraph of at least this many words is prose; teasers, headlines and menus are shorter.
PROSE_PARAGRAPH_WORDS = 30
# More of the text than this inside links: a list of links, not an article.
MAX_LINK_DENSITY = 0.5

_DATE_IN_PATH = re.compile(r"(?<!\d)(?:19|20)\d\d[/_-]?(?:0?[1-9]|1[0-2])"
                           r"(?:[/_-]?(?:0?[1-9]|[12]\d|3[01]))?(?!\d)")
_EXTENSION = re.compile(r"\.[a-z0-9]{2,5}$", re.IGNORECASE)
_SLUG_SPLIT = re.compile(r"[-_+.,]|%20")
_LETTER = re.compile(r"[^\W\d_]")
_NUMERIC_ID = re.compile(r"\d{4,}")


# Why a page is not an article: the first words of the reasons below, as a small fixed set of
# kinds. The spider counts news/source/<name>/refused_<slug>, an event of the source like the
# others (in crawl_runs.counts, summed over the workers of a distributed run).
REFUSAL_KINDS: dict[str, str] = {
    "too_short": "too short",
    "mostly_links": "mostly links",
    "declared_listing": "declared listing",
    "no_type_no_date": "no article type and no date",
    "not_prose": "not prose",
    "other": "other",
    "needs_browser": "needs a browser",
}
_KIND_OF_LABEL = {label: slug for slug, label in REFUSAL_KINDS.items()}


def refusal_kind(reason: str) -> str:
    """The kind (a slug of :data:`REFUSAL_KINDS`) of a reason such as ``"mostly links (72%)"``
    or ``"too short (12 words)"``."""
    return _KIND_OF_LABEL.get(reason.split(" (", 1)[0].strip(), "other")


@dataclass(frozen=True)
class PageKind:
    is_article: bool
    reason: str


@dataclass(frozen=True)
class PageSignals:
    """What the classification looks at, measured by :func:`page_signals`."""

    url: str
    types: frozenset[str]
    words: int
    prose_words: int  # words in paragraphs of at least PROSE_PARAGRAPH_WORDS words
    page_link_density: float  # the whole page's visible text
    text_link_density: float | None  # the main text; None when there is none
    declared_date: bool  # the page's structured data or markup states its publication date
    found_date: bool  # a date was found in the page (trafilatura/htmldate)


def link_density(tree: HtmlElement) -> float:
    """The share of the body's visible text that sits inside links."""
    body = tree.find("body")
    if body is None:
        body = tree
    for junk in body.xpath(".//script|.//style|.//noscript|.//template"):
        junk.drop_tree()
    total = len(" ".join(body.text_content().split()))
    if total == 0:
        return 1.0
    linked = sum(len(" ".join(a.text_content().split())) for a in body.iter("a"))
    return min(1.0, linked / total)


def prose_words(paragraphs: list[str]) -> int:
    """Words in the paragraphs long enough to be prose."""
    counts = (word_count(p) for p in paragraphs)
    return sum(n for n in counts if n >= PROSE_PARAGRAPH_WORDS)


def article_url_shape(url: str) -> str | None:
    """Whether a URL looks like an article's: ``"date"`` (a date in the path), ``"slug"`` (a
    path segment of three or more words), ``"id"`` (a numeric id of four or more digits in the
    path or a query value); None for a home, section or tag URL."""
    parts = urlsplit(url)
    if _DATE_IN_PATH.search(parts.path):
        return "date"
    for segment in (s for s in parts.path.split("/") if s):
        words = [t for t in _SLUG_SPLIT.split(_EXTENSION.sub("", segment)) if _LETTER.search(t)]
        if len(words) >= 3:
            return "slug"
        if _NUMERIC_ID.search(segment):
            return "id"
    if any(_NUMERIC_ID.fullmatch(value) for _, value in parse_qsl(parts.query)):
        return "id"
    return None


def classify_page(signals: PageSignals, *, min_words: int = 80, hinted: bool = False,
                  paywalled: bool = False) -> PageKind:
    """Decide whether a page is one article.

    ``hinted`` is true when a feed or a news sitemap listed the page as an article. A page that
    declares itself paywalled needs only ``PAYWALLED_MIN_WORDS`` of visible text.
    """
    lowered = {t.lower().rsplit("/", 1)[-1] for t in signals.types}
    declared_article = bool(lowered & _ARTICLE_TYPES)
    url_shape = article_url_shape(signals.url)
    said_so = declared_article or hinted
    dated_url = signals.declared_date and url_shape is not None
    floor = BRIEF_MIN_WORDS if said_so or dated_url else min_words
    if paywalled:
        floor = min(floor, PAYWALLED_MIN_WORDS)
    if signals.words < floor:
        return PageKind(False, f"too short ({signals.words} words)")
    if lowered & _LISTING_TYPES and not declared_article:
        return PageKind(False, "declared listing")
    # A large menu or footer weighs in the page's density, not in the main text's.
    density = signals.page_link_density
    if (said_so or url_shape) and signals.text_link_density is not None:
        density = min(density, signals.text_link_density)
    if density >= MAX_LINK_DENSITY:
        return PageKind(False, f"mostly links ({density:.0%})")
    if said_so:
        return PageKind(True, "declared article" if declared_article else "listed in a feed")
    if not (signals.declared_date or signals.found_date):
        return PageKind(False, "no article type and no date")
    if dated_url:
        return PageKind(True, "dated page at an article URL")
    # A date found somewhere in the page is weak evidence (about pages have a copyright year).
    needed = min_words if signals.declared_date or url_shape else 2 * min_words
    if signals.prose_words >= needed:
        return PageKind(True, "dated prose")
    return PageKind(False, f"not prose ({signals.prose_words} words in long paragraphs)")
