"""Page furniture that is not article text: removed before and after trafilatura.

Before: elements whose class or id names a related-articles, newsletter, comments, share or
recommendation box (``class="related-posts"``, ``id="newsletter-signup"``), and image
captions. An element that holds long paragraphs of prose is never removed, whatever its name
(``class="entry-content entry-content-read-more"`` is the article itself).

After: blocks of trafilatura's output that are mostly link text, not counting a short label
before the link (lists of teaser links, "Read more: <link>"), and lists left empty by that.

Both are general rules about how pages are built, not rules for particular sites.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from lxml import etree

logger = logging.getLogger(__name__)

_BOX_WORDS = (
    "newsletter", "newsletters", "related", "recommended", "recommendation", "recommendations",
    "outbrain", "taboola", "comments", "comment", "commenting", "disqus", "share", "sharing",
    "sharebar", "social", "subscribe", "subscription", "signup", "promo", "read-more",
    "readmore", "more-stories", "most-popular", "trending", "also-read", "see-also",
)
_BOX_RE = re.compile(
    r"(?:^|[\s_-])(?:" + "|".join(re.escape(w) for w in _BOX_WORDS) + r")(?:$|[\s_-])",
    re.IGNORECASE,
)
_NEVER_REMOVED = {"html", "body", "article", "main"}
# An element with this many paragraphs of prose is article text, whatever its class says.
_PROSE_CHARS = 150
_PROSE_PARAGRAPHS = 2
# ... and so is one that holds this share of the page's text.
_MAX_SHARE = 0.3
# A block whose text is at least this share link text is a teaser, not article text.
_LINK_SHARE = 0.8
_MAX_LINKED_PARAGRAPH = 200
# A short label before a link ("Read more:", "ALSO READ:", "Mehr zum Thema:").
_LABEL_RE = re.compile(r"^[^:.!?]{1,30}:\s*")


def _length(element: Any) -> int:
    return len(" ".join(element.text_content().split()))


def _is_prose(element: Any) -> bool:
    long_paragraphs = 0
    for paragraph in element.iter("p"):
        if _length(paragraph) > _PROSE_CHARS:
            long_paragraphs += 1
            if long_paragraphs >= _PROSE_PARAGRAPHS:
                return True
    return False


def prune_page(tree: Any) -> int:
    """Remove furniture boxes and captions from a parsed page in place; return how many."""
    body = tree.find("body") if tree.tag != "body" else tree
    if body is None:
        return 0
    return prune_element(body)


def prune_element(body: Any) -> int:
    """:func:`prune_page` inside one element (a site layout's body container)."""
    removed = 0
    for caption in list(body.iter("figcaption")):
        if caption.getparent() is not None:
            caption.drop_tree()
            removed += 1
    total = _length(body) or 1
    for element in list(body.iter()):
        if not isinstance(element.tag, str) or element.tag in _NEVER_REMOVED:
            continue
        names = " ".join(filter(None, [element.get("class"), element.get("id")]))
        if not names or not _BOX_RE.search(names) or element.getparent() is None:
            continue
        if element.xpath(".//h1 | .//*[@itemprop='articleBody']"):
            continue
        if _length(element) > _MAX_SHARE * total or _is_prose(element):
            continue
        element.drop_tree()
        removed += 1
    return removed


def _text_length(element: Any) -> int:
    return len(" ".join("".join(element.itertext()).split()))


_XML_BLOCKS = ("item", "p", "head")
HTML_BLOCKS = ("li", "p", "h2", "h3", "h4", "h5", "h6", "dt", "dd")


def drop_link_blocks(body: Any, *, blocks: tuple[str, ...] = _XML_BLOCKS, link: str = "ref",
                     lists: tuple[str, ...] = ("list",), items: tuple[str, ...] = ("item",),
                     strip: bool = True) -> int:
    """Remove list items and short paragraphs of trafilatura's output (``<item>``, ``<p>``,
    ``<head>``) that are mostly link text (``<ref>``); return how many. The same on HTML
    (a site layout's container): ``blocks=HTML_BLOCKS, link="a", lists=("ul", "ol"),
    items=("li",), strip=False``."""
    removed = 0
    for block in list(body.iter(*blocks)):
        total = _text_length(block)
        if total == 0:
            continue
        linked = sum(_text_length(ref) for ref in block.iter(link))
        label = _LABEL_RE.match(" ".join("".join(block.itertext()).split()))
        if label and linked:
            # "Read more: <link>", "Lesen Sie auch: <link>"
            total = max(total - len(label.group(0)), linked, 1)
        short = block.tag in items or total < _MAX_LINKED_PARAGRAPH
        parent = block.getparent()
        if linked / total >= _LINK_SHARE and short and parent is not None:
            if strip:
                parent.remove(block)
            else:
                block.drop_tree()  # keeps its tail: the text after it in its parent
            removed += 1
    for listing in list(body.iter(*lists)):
        parent = listing.getparent()
        if not len(listing) and parent is not None:
            if strip:
                parent.remove(listing)
            else:
                listing.drop_tree()
    if strip:
        etree.strip_tags(body, link)
    return removed
