"""Tell articles from home, section, tag and listing pages.

Real publishers' pages are untidy: many declare no type or a generic one (``og:type website``
on every page), a large menu or link footer can hold more text than a short article, dates are
shown in the text rather than declared, and Chinese and Japanese put no spaces between words.
So a page is judged by where its article would be (the main text trafilatura finds) and by
several independent signals, each measured on the public benchmarks and on the demo and test
sites' listing pages (docs/quality.md):

1. A page that declares an article type (JSON-LD ``@type``, ``og:type``) with its date or at
   an article's URL, or was listed as an article by a feed or news sitemap, is one, unless its
   text is a stub or its main text and the page are both mostly links.
2. A page that declares a listing type (``CollectionPage``, ``ItemList``, ...) is not.
3. A page at the URL of a front page (``/``, ``/index.html``, ``/en/``), of an about or legal
   page (``/about-us/``, ``/impressum``, ``/terms``) or of a listing (``/blog/``, ``/news``,
   ``/tag/...``) is not, whatever it declares (many sites declare ``og:type article`` on every
   page), unless a feed or news sitemap listed it.
4. A page whose main text shows several dates on lines of their own (``DATED_ENTRIES``: a
   news archive, a page of posts, press cuttings) is a listing.
5. Any other page is an article when it has a date (declared or found in the page) and reads
   like one: enough of its words are prose (see
   :func:`prose_words`: sentences, not teasers and headlines), or its URL has the shape of an
   article's (a date, a long slug or a numeric id) and it declares its date. A date that only
   a search of the page found, on a page whose URL has no article's shape and names it in
   fewer than two words (:func:`shown_date_needed`), must be shown next to the main text, as
   an article shows its date (crawler/extraction/shown_dates.py): about and product pages get
   theirs from a copyright line, a file name or a footer.

Prose is judged by sentences, not by paragraph length: wire copy and local news write
paragraphs of one or two sentences, listing pages alternate headlines with one-sentence
teasers. A long paragraph (``PROSE_PARAGRAPH_WORDS``) is prose; so is a paragraph of one or
more whole sentences (ending in a full stop, a question or exclamation mark, of a plausible
number of words each) next to another one.
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
# A paragraph of whole sentences needs this many words to count as prose (not "Read more.")
SENTENCE_PARAGRAPH_WORDS = 6
# Words per sentence of prose, on average over a paragraph (a list of names has none; a run-on
# block of text without full stops has too many).
SENTENCE_WORDS = (4, 60)
# A main text with this much prose and no more of it in links than this is judged by its own
# link density, not the page's (an old page's menus can hold more links than its story has words).
PROSE_TEXT_MAX_LINK_DENSITY = 0.1
# More of the text than this inside links: a list of links, not an article.
MAX_LINK_DENSITY = 0.5
# A main text that shows this many different days on lines of their own is a listing of dated
# entries (a news archive, a page of posts, press cuttings); an article shows one or two.
DATED_ENTRIES = 3

_DATE_IN_PATH = re.compile(r"(?<!\d)(?:19|20)\d\d[/_-]?(?:0?[1-9]|1[0-2])"
                           r"(?:[/_-]?(?:0?[1-9]|[12]\d|3[01]))?(?!\d)")
_EXTENSION = re.compile(r"\.[a-z0-9]{2,5}$", re.IGNORECASE)
_SLUG_SPLIT = re.compile(r"[-_+.,]|%20")
_LETTER = re.compile(r"[^\W\d_]")
_NUMERIC_ID = re.compile(r"\d{4,}")
_DIGIT = re.compile(r"\d")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
# Query keys that name one story or post by its number, however small (WordPress ``?p=959``,
# ``article.php?storyid=504``, ``detail.php?id=765``, TYPO3's ``tx_ttnews[tt_news]=477``);
# the part in the last brackets counts. Not ``page``, ``start``, ``cat`` or ``issue_id``: those
# page through or name a listing.
_ID_KEY = re.compile(r"(?:p|id|(?:story|article|news|post|item|content|entry)_?id|artnr"
                     r"|tt_news)", re.IGNORECASE)
# A query that is a story's kind and number, as SPIP writes them (``spip.php?article717``,
# ``?breve45``; not ``?rubrique7``, a section).
_STORY_KEY = re.compile(r"(?:article|breve|story|post)\d+", re.IGNORECASE)
# Path segments before a listing's page number (``/page/2/``, ``/seite/3``).
_PAGING = frozenset({"page", "pages", "seite", "pagina", "p"})
_KEY_TAIL = re.compile(r"\[([^\[\]]*)\]$")
# A paragraph ends a sentence: ".", "?", "!", "…", CJK full stops, then closing quotes/brackets.
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’»)\]]*$")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?。！？])[\"'”’»)\]]*\s+")
# The last path segment of a front page (besides "/"): an index file, or a language's home.
_FRONT_SEGMENT = re.compile(
    r"(?:index|default|home|start)(?:\.[a-z0-9]{2,5})?|[a-z]{2}(?:[-_][a-z]{2})?", re.IGNORECASE)
# The last path segment (extension dropped) of a page about the site, in the languages of the
# sites we crawl: about, contact, legal notice, privacy, terms, team, jobs.
_ABOUT_SEGMENTS = frozenset({
    "about", "about-us", "aboutus", "about_us", "who-we-are", "contact", "contact-us",
    "contactus", "contacts", "kontakt", "impressum", "imprint", "legal", "legal-notice",
    "disclaimer", "privacy", "privacy-policy", "datenschutz", "datenschutzerklaerung", "terms",
    "terms-of-use", "terms-of-service", "terms-and-conditions", "tos", "agb", "ueber-uns",
    "uber-uns", "über-uns", "wir-ueber-uns", "team", "staff", "masthead", "jobs", "careers",
    "karriere", "advertise", "werben", "mediadaten", "faq", "help", "hilfe", "sitemap",
    "a-propos", "qui-sommes-nous", "mentions-legales", "nous-contacter", "chi-siamo",
    "contatti", "note-legali", "quienes-somos", "sobre-nosotros", "contacto", "aviso-legal",
})
# A path segment above the last one that makes the page one about the site (/about/submissions).
_ABOUT_PARENTS = frozenset({"about", "about-us", "aboutus", "ueber-uns", "uber-uns", "über-uns",
                            "impressum", "imprint", "legal", "a-propos", "chi-siamo",
                            "contact", "kontakt"})
# The last path segment of a listing: a blog's, a site's news or archive index, a tag's or a
# category's page.
_LISTING_SEGMENTS = frozenset({
    "blog", "blogs", "news", "archive", "archives", "archiv", "category", "categories", "tag",
    "tags", "topic", "topics", "section", "sections", "search", "latest", "articles", "posts",
    "stories",
})
# Movable Type's category and weekly archive pages (``/archives/cat_induce_act.php``,
# ``/archives/week_2004_07_11.html``); its entries are ``/archives/2004/09/title.html`` or
# ``/archives/000123.html``.
_ARCHIVE_PAGE = re.compile(r"(?:cat|week)_[\w-]+", re.IGNORECASE)
_LISTING_PARENTS = frozenset({"tag", "tags", "category", "categories", "topic", "topics",
                              "author", "authors"})

# Why a page is not an article: the first words of the reasons below, as a small fixed set of
# kinds. The spider counts news/source/<name>/refused_<slug>, an event of the source like the
# others (in crawl_runs.counts, summed over the workers of a distributed run).
REFUSAL_KINDS: dict[str, str] = {
    "too_short": "too short",
    "mostly_links": "mostly links",
    "declared_listing": "declared listing",
    "no_type_no_date": "no article type and no date",
    "not_prose": "not prose",
    "site_page_url": "URL of a front, about or listing page",
    "other": "other",
    "needs_browser": "needs a browser",
    "dated_entries": "several dated entries",
    "date_not_shown": "found date not shown",
}
_KIND_OF_LABEL = {label: slug for slug, label in REFUSAL_KINDS.items()}


def refusal_kind(reason: str) -> str:
    """The kind (a slug of :data:`REFUSAL_KINDS`) of a reason such as ``"mostly links (72%)"``
    or ``"too short (12 words)"``."""
    return _KIND_OF_LABEL.get(reason.split(" (", 1)[0].strip(), "other")


def declares_article(types: frozenset[str] | set[str] | list[str]) -> bool:
    """Whether a page's declared types (JSON-LD ``@type``, ``og:type``) name a single story."""
    return any(t.lower().rsplit("/", 1)[-1] in _ARTICLE_TYPES for t in types)


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
    prose_words: int  # words of prose, by sentences (:func:`prose_words`)
    page_link_density: float  # the whole page's visible text
    text_link_density: float | None  # the main text; None when there is none
    declared_date: bool  # the page's structured data or markup states its publication date
    found_date: bool  # a date was found in the page (trafilatura/htmldate)
    # Different dates the main text shows on lines of their own (crawler/extraction/shown_dates.py).
    dated_entries: int = 0
    # Whether a found (not declared) date is shown where an article shows its date, next to
    # the main text; None when not measured (a declared date, or a URL that says "article" or
    # names the page: :func:`shown_date_needed`).
    date_shown: bool | None = None


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


def is_sentences(paragraph: str, words: int) -> bool:
    """Whether a paragraph of ``words`` words is whole sentences: it ends as a sentence does
    and its sentences have a plausible number of words."""
    text = paragraph.strip()
    if words < SENTENCE_PARAGRAPH_WORDS or not _SENTENCE_END.search(text):
        return False
    sentences = max(1, len(_SENTENCE_SPLIT.split(text)))
    return SENTENCE_WORDS[0] <= words / sentences <= SENTENCE_WORDS[1]


def prose_words(paragraphs: list[str]) -> int:
    """Words of prose in the text: in paragraphs of ``PROSE_PARAGRAPH_WORDS`` or more, and in
    paragraphs of whole sentences next to another paragraph of whole sentences. Teasers
    alternate with headlines, which are no sentences; wire copy is sentence after sentence."""
    counts = [word_count(p) for p in paragraphs]
    sentences = [is_sentences(p, n) for p, n in zip(paragraphs, counts, strict=True)]
    total = 0
    for i, n in enumerate(counts):
        if n >= PROSE_PARAGRAPH_WORDS or (sentences[i] and (
                (i > 0 and sentences[i - 1]) or (i + 1 < len(counts) and sentences[i + 1]))):
            total += n
    return total


def site_page_url(url: str) -> str | None:
    """What a URL says a page is when it is not an article's: ``"front page"`` (``/``, an
    index file, a language's home such as ``/en/``), ``"about page"`` (about, contact, legal
    notice, terms: the last path segment names one), ``"listing"`` (``/blog/``, ``/news``,
    ``/tag/<name>``, a Movable Type category or week archive); None for any other URL."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    has_id = _DIGIT.search(parts.query) is not None  # ?p=959, ?S=7606486, ?article717
    if not segments:
        return None if has_id else "front page"
    last = _EXTENSION.sub("", segments[-1]).lower()
    if len(segments) == 1 and _FRONT_SEGMENT.fullmatch(segments[0]) and not has_id:
        return "front page"
    if has_id:
        return None
    if last in _ABOUT_SEGMENTS or any(s.lower() in _ABOUT_PARENTS for s in segments[:-1]):
        return "about page"
    if last in _LISTING_SEGMENTS or (len(segments) >= 2
                                      and segments[-2].lower() in _LISTING_PARENTS):
        return "listing"
    if (len(segments) >= 2 and segments[-2].lower() in ("archives", "archive")
            and _ARCHIVE_PAGE.fullmatch(last)):
        return "listing"
    return None


def article_url_shape(url: str) -> str | None:
    """Whether a URL looks like an article's: ``"date"`` (a date in the path), ``"slug"`` (a
    path segment of three or more words), ``"id"`` (a numeric id of four or more digits in the
    path or the query, a number as the last path segment, a number under a query key that
    names a story, or a UUID in the query); None for a home, section or tag URL."""
    parts = urlsplit(url)
    if _DATE_IN_PATH.search(parts.path):
        return "date"
    segments = [s for s in parts.path.split("/") if s]
    for segment in segments:
        words = [t for t in _SLUG_SPLIT.split(_EXTENSION.sub("", segment)) if _LETTER.search(t)]
        if len(words) >= 3:
            return "slug"
        if _NUMERIC_ID.search(segment):
            return "id"
    # /articles/3.html, /news/12: the page's number; not /page/2, a listing's second page
    if (segments and _EXTENSION.sub("", segments[-1]).isdigit()
            and (len(segments) < 2 or segments[-2].lower() not in _PAGING)):
        return "id"
    # ?S=7606486, ?storyID=331198, ?article717, ?/base/news/1199182521267330.xml,
    # ?content_id=02e886be-a21b-4863-a59b-6a09e69c9e68, ?p=959, ?storyid=504
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if _NUMERIC_ID.search(key) or _NUMERIC_ID.search(value) or _UUID.search(value):
            return "id"
        tail = _KEY_TAIL.search(key)
        if value.rstrip("/").isdigit() and _ID_KEY.fullmatch(tail.group(1) if tail else key):
            return "id"
        if not value and _STORY_KEY.fullmatch(key):
            return "id"
    return None


def shown_date_needed(url: str) -> bool:
    """Whether a page at ``url`` with only a found date must show it next to its text: its URL
    has no article's shape and does not name the page in words (a last path segment of two
    or more words, ``/dieta-atkinsa.html``, as all five such article URLs of the AEB set
    have), so nothing but that date says "article"."""
    if article_url_shape(url) is not None:
        return False
    segments = [s for s in urlsplit(url).path.split("/") if s]
    last = _EXTENSION.sub("", segments[-1]) if segments else ""
    return sum(1 for t in _SLUG_SPLIT.split(last) if _LETTER.search(t)) < 2


def classify_page(signals: PageSignals, *, min_words: int = 80, hinted: bool = False,
                  paywalled: bool = False) -> PageKind:
    """Decide whether a page is one article.

    ``hinted`` is true when a feed or a news sitemap listed the page as an article. A page that
    declares itself paywalled needs only ``PAYWALLED_MIN_WORDS`` of visible text.
    """
    lowered = {t.lower().rsplit("/", 1)[-1] for t in signals.types}
    declared_article = declares_article(signals.types)
    url_shape = article_url_shape(signals.url)
    # Some sites declare an article type on every page: with neither a declared date nor an
    # article's URL it says little, and the page is judged as if it declared nothing.
    said_so = hinted or (declared_article and (signals.declared_date or url_shape is not None))
    dated_url = signals.declared_date and url_shape is not None
    floor = BRIEF_MIN_WORDS if said_so or dated_url else min_words
    if paywalled:
        floor = min(floor, PAYWALLED_MIN_WORDS)
    # Before "too short": a front page that declares an article type and shows little text
    # is not rendered in the browser for nothing (crawler/browser.py renders "too short" ones).
    if not hinted and (site_page := site_page_url(signals.url)) is not None:
        return PageKind(False, f"URL of a front, about or listing page ({site_page})")
    if signals.words < floor:
        return PageKind(False, f"too short ({signals.words} words)")
    if lowered & _LISTING_TYPES and not declared_article:
        return PageKind(False, "declared listing")
    # A large menu or footer weighs in the page's density, not in the main text's.
    density = signals.page_link_density
    text_density = signals.text_link_density
    if text_density is not None and (said_so or url_shape or (
            signals.prose_words >= min_words and text_density <= PROSE_TEXT_MAX_LINK_DENSITY)):
        density = min(density, text_density)
    if density >= MAX_LINK_DENSITY:
        return PageKind(False, f"mostly links ({density:.0%})")
    if said_so:
        return PageKind(True, "listed in a feed" if hinted and not declared_article
                        else "declared article")
    if not (signals.declared_date or signals.found_date):
        return PageKind(False, "no article type and no date")
    if signals.dated_entries >= DATED_ENTRIES:
        return PageKind(False, f"several dated entries ({signals.dated_entries} days)")
    if dated_url:
        return PageKind(True, "dated page at an article URL")
    # A date found somewhere in the page is weak evidence (about pages have a copyright year, a
    # file name, a "last updated" footer): with nothing else saying "article", the page must
    # show it where an article shows its date.
    if not signals.declared_date and signals.date_shown is False:
        return PageKind(False, "found date not shown")
    needed = min_words if signals.declared_date or url_shape else 2 * min_words
    if signals.prose_words >= needed:
        return PageKind(True, "dated prose")
    return PageKind(False, f"not prose ({signals.prose_words} words of prose)")
