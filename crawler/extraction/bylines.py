"""Bylines inside the extracted text: recognised, used as authors when the page names no
person elsewhere, and dropped from the text."""

from __future__ import annotations

import logging
import re
from typing import Any

from crawler.extraction.authors import clean_authors
from crawler.extraction.text import norm_ws

logger = logging.getLogger(__name__)

# A byline is short and opens with a byline word in one of the common languages.
_MAX_BYLINE_WORDS = 15
# Scripts written without spaces (Japanese, Chinese): two characters count as a word.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
_BYLINE_START = re.compile(r"^(?i:by|von|par|por|door|av|af|przez|written by)\s+[A-ZÀ-ÖØ-Þ]")
# A bold paragraph of names only: at most this many words.
_MAX_BOLD_BYLINE_WORDS = 9
_WORD = re.compile(r"[^\W\d_]+")
_NAME_WORD = re.compile(r"^[^\W\d_][^\W\d_'’.-]*(?:[-'’.][^\W\d_]+)*\.?$")


def drop_bylines(paragraphs: list[str], authors: list[str]) -> list[str]:
    """Drop byline lines ("By Jane Doe | Published ...") near the start or the end of the text:
    short paragraphs that name an author or open with a byline word and a capitalised name."""
    names = [a.casefold() for a in authors if len(a) > 3]

    def is_byline(paragraph: str) -> bool:
        words = max(len(paragraph.split()), len(_UNSPACED.findall(paragraph)) // 2)
        if words > _MAX_BYLINE_WORDS:
            return False
        lowered = paragraph.casefold()
        return any(name in lowered for name in names) or bool(_BYLINE_START.match(paragraph))

    edge = len(paragraphs) > 2
    return [p for i, p in enumerate(paragraphs)
            if not (edge and (i < 3 or i >= len(paragraphs) - 2) and is_byline(p))]


def _bold_paragraphs(tree: Any) -> set[str]:
    """Texts of the page's paragraphs that are bold from end to end."""
    out: set[str] = set()
    for paragraph in tree.iter("p"):
        text = norm_ws(paragraph.text_content())
        if not text or len(text.split()) > _MAX_BOLD_BYLINE_WORDS:
            continue
        bold = " ".join(norm_ws(b.text_content()) for b in paragraph.iter("strong", "b"))
        if norm_ws(bold) == text:
            out.add(text)
    return out


def _looks_like_names(names: list[str], text_words: set[str]) -> bool:
    """Two to four capitalised words each, none of which the text uses in lower case (a
    title-case sub-heading, "What Happens Next", reuses ordinary words; names do not)."""
    return bool(names) and all(
        2 <= len(name.split()) <= 4
        and all(_NAME_WORD.match(word) and word[:1].isupper()
                and word.lower() not in text_words for word in name.split())
        for name in names
    )


def bold_byline(tree: Any, paragraphs: list[str]) -> list[str]:
    """Names from a bold names-only paragraph that opens (first two) or closes the text
    ("<p><strong>Jane Doe/John Smith</strong></p>"), as small sites write their bylines."""
    if len(paragraphs) < 3:
        return []
    edges = [*paragraphs[:2], paragraphs[-1]]
    candidates = [p for p in edges if len(p.split()) <= _MAX_BOLD_BYLINE_WORDS]
    if not candidates:
        return []
    bold = _bold_paragraphs(tree)
    text_words = {w for p in paragraphs for w in _WORD.findall(p) if w.islower()}
    for paragraph in candidates:
        if paragraph in bold:
            names = clean_authors([paragraph])
            if _looks_like_names(names, text_words):
                return names
    return []
