"""Tell articles from home, section, tag and listing pages."""

from __future__ import annotations

from dataclasses import dataclass

from lxml.html import HtmlElement

# schema.org and OpenGraph types that name a single story.
_ARTICLE_TYPES = {"article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle",
                  "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle",
                  "blogposting", "liveblogposting", "report", "scholarlyarticle", "techarticle",
                  "socialmediaposting"}
# Types that name a listing, a site or a generic page.
_LISTING_TYPES = {"website", "collectionpage", "itemlist", "searchresultspage", "profilepage",
                  "aboutpage", "contactpage", "faqpage", "organization", "newsmediaorganization"}
# A paywalled article shows only its first paragraphs; it is stored with what is visible.
PAYWALLED_MIN_WORDS = 15


@dataclass(frozen=True)
class PageKind:
    is_article: bool
    reason: str


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


def classify_page(
    types: set[str],
    has_date: bool,
    words: int,
    density: float,
    *,
    min_words: int = 80,
    hinted: bool = False,
    paywalled: bool = False,
) -> PageKind:
    """Decide whether a page is one article.

    ``types`` are the page's declared types (JSON-LD ``@type``, ``og:type``), ``has_date`` says
    whether the page itself states a publication date, ``words`` counts the extracted main text,
    ``density`` is :func:`link_density` and ``hinted`` is true when a feed or a news sitemap
    listed the page as an article. A page that declares itself paywalled needs only
    ``PAYWALLED_MIN_WORDS`` of visible text.
    """
    lowered = {t.lower().rsplit("/", 1)[-1] for t in types}
    if paywalled:
        min_words = min(min_words, PAYWALLED_MIN_WORDS)
    if words < min_words:
        return PageKind(False, f"too short ({words} words)")
    declared_article = bool(lowered & _ARTICLE_TYPES)
    if declared_article and density < 0.6:
        return PageKind(True, "declared article")
    if lowered & _LISTING_TYPES and not declared_article:
        return PageKind(False, "declared listing/website")
    if density >= 0.5:
        return PageKind(False, f"mostly links ({density:.0%})")
    if has_date or hinted:
        return PageKind(True, "dated text page" if has_date else "listed in a feed")
    return PageKind(False, "no article type and no date")
