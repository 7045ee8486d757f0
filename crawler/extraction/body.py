"""The article's main text: trafilatura twice on a pre-cleaned page.

1. Furniture boxes and captions are removed from the page (:mod:`boilerplate`).
2. trafilatura's balanced pass (comments excluded, tables included) gives the text; blocks
   that are mostly links are dropped from it. trafilatura's own metadata of the page
   (:class:`~crawler.extraction.trafilatura_metadata.TrafilaturaMetadata`) is computed only
   when the caller asks for a field, i.e. when the page's structured data lacks it, with
   exactly the arguments the pass would have used, so the result is the same as
   ``with_metadata=True`` at a fraction of the pages (the date's search only when the date
   is asked for).
3. A ``favor_precision`` pass marks where the article starts and ends: paragraphs of the
   balanced text before the first and after the last paragraph the precision pass also kept
   are boilerplate at the edges (teasers, newsletter prompts, "more on this"). Paragraphs in
   between stay, so lists and sub-headings the precision pass is unsure about are kept. When
   the precision pass keeps too little (under half the words), the edges are left alone. The
   page's own lead (standfirst) is not an edge: a paragraph just before the article start
   that repeats the page's declared description is kept, with what follows it. The pass runs
   first without trafilatura's fallback extractors (readability, jusText: half of its
   cost); when that pass would cut nothing, nothing is cut, else the whole pass decides.

Measured on the public benchmarks (docs/quality.md), each step improves body F1 on both sets.
"""

from __future__ import annotations

import logging
from copy import deepcopy
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import trafilatura
from trafilatura.settings import Extractor
from trafilatura.xml import xmltotxt

from crawler.canonical import split_paragraphs
from crawler.extraction.boilerplate import drop_link_blocks, prune_page
from crawler.extraction.text import squash
from crawler.extraction.trafilatura_metadata import TrafilaturaMetadata

logger = logging.getLogger(__name__)


class _NoLinkTargetNoise(logging.Filter):
    """trafilatura warns about every empty link or link without a target when links are
    kept; we keep them only to measure link density, so those warnings are noise here."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(("missing link attribute", "empty link"))


logging.getLogger("trafilatura.xml").addFilter(_NoLinkTargetNoise())

BODY_OPTIONS: dict[str, Any] = {
    "include_comments": False,
    "include_tables": True,
    "include_images": False,
    "include_links": True,  # to recognise link blocks; the links are stripped afterwards
    "deduplicate": False,
}


@cache
def body_options(*, fast: bool = False, precision: bool = False) -> Extractor:
    """``BODY_OPTIONS`` as the options object ``bare_extraction`` builds from them on every
    call (reading trafilatura's config each time: 0.2-0.3 ms a call), built once a process.
    Nothing in trafilatura changes it (its recall retry works on a copy)."""
    return Extractor(output_format="python", fast=fast, precision=precision,
                     comments=BODY_OPTIONS["include_comments"],
                     tables=BODY_OPTIONS["include_tables"],
                     images=BODY_OPTIONS["include_images"], links=BODY_OPTIONS["include_links"],
                     dedup=BODY_OPTIONS["deduplicate"])


# The precision pass may cut the edges only when it kept at least this share of the words.
_MIN_PRECISION_SHARE = 0.5
# How many paragraphs before the article start the page's lead may sit (byline, date between).
_LEAD_REACH = 3


@dataclass
class Body:
    paragraphs: list[str] = field(default_factory=list)
    # trafilatura's metadata of the page, or None when trafilatura found no article in it.
    metadata: TrafilaturaMetadata | None = None
    # The share of the main text (before link blocks are dropped) inside links; None: no text.
    link_density: float | None = None


def _link_density(document: Any) -> float | None:
    """The share of trafilatura's main text that sits inside links (``<ref>`` elements)."""
    body = getattr(document, "body", None)
    if body is None:
        return None
    total = len(" ".join("".join(body.itertext()).split()))
    if not total:
        return None
    linked = sum(len(" ".join("".join(ref.itertext()).split())) for ref in body.iter("ref"))
    return min(1.0, linked / total)


def body_paragraphs(document: Any) -> list[str]:
    """The paragraphs of a trafilatura document's body, link blocks left out, the rows of
    layout tables unwrapped (:func:`layout_row`)."""
    if document is None or getattr(document, "body", None) is None:
        return []
    body = document.body
    drop_link_blocks(body)
    rows = (layout_row(p) for p in split_paragraphs(xmltotxt(body, False)))
    return [p for p in rows if p]


def layout_row(paragraph: str) -> str:
    """trafilatura writes a table row as ``| cell | cell |``. An old page laid out in tables
    has rows of one filled cell: the story's paragraphs (``| | LAS VEGAS - The ... |``), empty
    spacer rows (``| | |``). Such a row is its one cell's text (or nothing); a row of two or
    more filled cells is data and stays as it is."""
    if not paragraph.startswith("|"):
        return paragraph
    filled = [cell.strip() for cell in paragraph.strip("| ").split("|") if cell.strip()]
    if len(filled) > 1:
        return paragraph
    return filled[0] if filled else ""


def _is_lead(paragraph: str, description: str | None) -> bool:
    """Whether a paragraph is the page's declared description (possibly cut with "…")."""
    if not description:
        return False
    lead, text = squash(description.rstrip(" .…")), squash(paragraph)
    return len(lead) >= 40 and (text == lead or text.startswith(lead)
                                or (lead.startswith(text) and len(text) >= 40))


def _trim_edges(paragraphs: list[str], precise: list[str],
                description: str | None = None) -> list[str]:
    kept = set(precise)
    inside = [i for i, paragraph in enumerate(paragraphs) if paragraph in kept]
    if not inside:
        return paragraphs
    start = inside[0]
    for i in range(start - 1, max(start - 1 - _LEAD_REACH, -1), -1):
        if _is_lead(paragraphs[i], description):
            start = i
            break
    trimmed = paragraphs[start:inside[-1] + 1]
    words = sum(len(p.split()) for p in paragraphs)
    if sum(len(p.split()) for p in trimmed) < _MIN_PRECISION_SHARE * words:
        return paragraphs
    return trimmed


def _precision_paragraphs(page: Any, *, fast: bool) -> list[str]:
    return body_paragraphs(trafilatura.bare_extraction(
        page, options=body_options(fast=fast, precision=True)))


def extract_body(tree: Any, url: str, description: str | None = None) -> Body:
    """Main text of a parsed page (``tree`` is not modified); ``description`` is the page's
    declared description, which marks its lead."""
    page = deepcopy(tree)
    prune_page(page)
    # No URL: trafilatura would resolve every link's target against it (courlan, 1.6 of 45 ms
    # a page over the eval pages), and the links are only counted and stripped, never read.
    document = trafilatura.bare_extraction(page, options=body_options())
    if document is None:
        return Body([], None)
    metadata = TrafilaturaMetadata(page, url)
    density = _link_density(document)
    paragraphs = body_paragraphs(document)
    if not paragraphs:
        return Body([], metadata, density)
    # The precision pass without trafilatura's fallback extractors (readability, jusText) says
    # whether an edge is to be cut at all; only a page with edges to cut (about one in five)
    # runs it with them, so the edges cut are those the whole pass marks.
    precise = _precision_paragraphs(page, fast=True)
    trimmed = _trim_edges(paragraphs, precise, description) if precise else paragraphs
    if trimmed != paragraphs or not precise:
        precise = _precision_paragraphs(page, fast=False)
        trimmed = _trim_edges(paragraphs, precise, description) if precise else paragraphs
    return Body(trimmed, metadata, density)
