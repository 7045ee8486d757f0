"""Pages whose markup libxml2 cannot read: parsed again the way a browser parses them.

trafilatura parses with lxml (libxml2's HTML 4 parser). Some real pages break it: an old CMS
that pastes a whole second document (``<!DOCTYPE ...><html><head>...<body>``) into the page
for its story, markup so broken that libxml2 gives up (trafilatura then says the page cannot
be parsed). A browser shows these pages in full: the HTML5 parsing algorithm merges a second
``<html>``/``<body>`` into the first and recovers from any input. Lexbor (through selectolax)
implements that algorithm; its tree, serialised, is HTML that libxml2 reads as the browser did.

This runs only for a page whose extraction found too little text (crawler/extraction/article.py),
whose result is kept only when it gives more text. Counting the visible words of both trees
does not tell such a page in advance: libxml2 reads the scripts and styles of the pasted
document as text.
"""

from __future__ import annotations

import logging

from lxml.html import HtmlElement
from selectolax.lexbor import LexborHTMLParser

logger = logging.getLogger(__name__)


# libxml2 stops reading at 256 levels of nesting. A page that deep is hostile or broken beyond
# what a browser shows, and the HTML5 parser takes time quadratic in the depth (37 s for
# 100,000 nested <div>s): such a page is not parsed again.
MAX_DEPTH = 200


def too_deep(tree: HtmlElement | None) -> bool:
    """Whether libxml2's tree of the page nests ``MAX_DEPTH`` elements or more."""
    if tree is None:
        return False
    for element in tree.iter():
        if len(element) == 0 and sum(1 for _ in element.iterancestors()) >= MAX_DEPTH:
            return True
    return False


def html5_serialised(html: str, tree: HtmlElement | None = None) -> str | None:
    """The page as the HTML5 parser reads it, serialised; None when it cannot read it, or
    when libxml2's ``tree`` of it is too deep (:func:`too_deep`)."""
    if too_deep(tree):
        return None
    try:
        return LexborHTMLParser(html).html
    except (ValueError, TypeError) as exc:  # selectolax refuses what is not text
        logger.debug("HTML5 parser could not read the page: %s", exc)
        return None
