"""Learning a site's layout from pages that went the full way (plain functions).

:func:`observe` looks at one page and its full extraction: which element holds the extracted
text (the deepest one holding at least ``COVER`` of its words), how that element is named
from the root down, which named subtrees inside it the full extraction left out and which it
kept. :func:`learn` turns the observations of one site that share a container into a
:class:`~crawler.layouts.site_layout.Layout`: the shortest chain of signatures that finds
exactly the container on every learning page, the subtrees dropped on every page they appear
on (and kept on none), where the fields came from, and the ranges of length and link density.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree
from lxml.html import HtmlElement

from crawler.items import ArticleItem
from crawler.layouts.date_element import locate
from crawler.layouts.selectors import chain_xpath, drop_xpath, is_named, signature
from crawler.layouts.site_layout import Layout

# The container holds at least this share of the full extraction's words, and a child is
# taken instead of its parent while it keeps this share of what the parent holds.
COVER = 0.85
DESCEND = 0.95
# A subtree is left out when under this share of its word trigrams is in the extracted text,
# kept when over KEPT.
DROPPED, KEPT = 0.2, 0.8
# Two extractions of a page agree when their paragraph F1 (:func:`agreement`) is at least this.
MIN_AGREEMENT = 0.95
MAX_CHAIN = 6  # signatures tried from the container up
# A standfirst outside the container: at most this many of the full way's first paragraphs,
# in one element holding at least LEAD_COVER of their words and at most LEAD_SLACK times as many.
MAX_LEAD, LEAD_COVER, LEAD_SLACK = 2, 0.9, 1.25
KEY_STEPS = 3  # the container and two ancestors name a layout
_JUNK = etree.XPath("//script|//style|//noscript|//template")
_WORD = re.compile(r"\w+")
TRAFILATURA = "trafilatura"  # a field's source: trafilatura's metadata of the page
# Fields the full extraction takes from trafilatura's metadata when the page declares none.
FALLBACK_FIELDS = ("title", "site_name", "description", "image", "tags")
ARTICLE_TYPES = {"article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle",
                 "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle",
                 "blogposting", "liveblogposting", "report"}


@dataclass(slots=True)
class Observation:
    """What one fully extracted page says about its site's layout."""

    url: str
    chain: list[str]  # signatures from the container up to the root
    unique: list[bool]  # unique[k]: chain[:k+1] (read root-down) finds only the container
    path: str = ""  # the container's position from the root (/html/body/div[2]/...)
    dropped: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)  # named signatures inside the container
    sources: dict[str, str | None] = field(default_factory=dict)
    words: int = 0
    paragraphs: int = 0
    link_density: float = 0.0
    types: list[str] = field(default_factory=list)
    missed: list[int] = field(default_factory=list)  # layouts whose fast result missed here
    date_xpath: str | None = None  # where the page shows trafilatura's date (date_element.py)
    lead: str | None = None  # the element outside the container holding the first paragraphs

    @property
    def key(self) -> str:
        key = " < ".join(self.chain[:KEY_STEPS])
        return key if any(self.unique) else f"{key} @ {self.path}"


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _covered(counts: Counter[str], target: Counter[str]) -> int:
    """The words of ``target`` that ``counts`` holds (each at most as often as in both)."""
    small, large = (counts, target) if len(counts) < len(target) else (target, counts)
    return sum(min(n, large[t]) for t, n in small.items() if t in large)


def _element_children(element: HtmlElement) -> Iterable[HtmlElement]:
    return (child for child in element if isinstance(child.tag, str))


def find_text_container(root: HtmlElement, paragraphs: list[str]) -> HtmlElement | None:
    """The deepest element holding at least ``COVER`` of the paragraphs' words."""
    target = Counter(_tokens(" ".join(paragraphs)))
    total = sum(target.values())
    if not total:
        return None
    node = root.find("body")
    if node is None:
        node = root
    node_text = node.text_content()
    covered = _covered(Counter(_tokens(node_text)), target)
    if covered < COVER * total:
        return None
    while True:
        node_stripped = node_text.strip()
        best, best_covered, best_text = None, 0, ""
        for child in _element_children(node):
            text = child.text_content()
            if len(text) < DESCEND * covered:  # fewer characters than it needs words
                continue
            if len(text) >= len(node_stripped) and text.strip() == node_stripped:
                # A wrapper: its parent's words and whitespace around them, the same words
                best, best_covered, best_text = child, covered, text
                break
            words = _tokens(text)
            if len(words) < DESCEND * covered:  # it cannot hold enough: not counted
                continue
            value = _covered(Counter(words), target)
            if value > best_covered:
                best, best_covered, best_text = child, value, text
        if best is None or best_covered < DESCEND * covered:
            return node
        node, covered, node_text = best, best_covered, best_text


def _shingles(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + 3]) for i in range(len(words) - 2)}


def _subtrees(container: HtmlElement, text: str) -> tuple[list[str], list[str], list[str]]:
    """Named subtrees inside the container: left out by the full extraction, kept, present."""
    kept_shingles = _shingles(_tokens(text))
    lowered = " ".join(_tokens(text))
    dropped: list[str] = []
    kept: list[str] = []
    present: list[str] = []
    stack = list(_element_children(container))
    while stack:
        element = stack.pop()
        sig = signature(element)
        if sig is None:
            continue
        words = _tokens(element.text_content())
        named = is_named(sig)
        if named:
            present.append(sig)
        if not words:
            continue
        share = _share(words, kept_shingles, lowered)
        if share < DROPPED:
            if named:
                dropped.append(sig)
                continue
        elif share > KEPT and named:
            kept.append(sig)
        stack.extend(_element_children(element))
    return dropped, kept, present


def _share(words: list[str], kept_shingles: set[tuple[str, ...]], lowered: str) -> float:
    if len(words) < 3:
        return 1.0 if " ".join(words) in lowered else 0.0
    shingles = _shingles(words)
    return len(shingles & kept_shingles) / len(shingles)


def classify_subtrees(container: HtmlElement, text: str,
                      signatures: set[str]) -> tuple[list[str], list[str]]:
    """Of the given signatures inside a container: those the extracted ``text`` kept (or
    partly kept) somewhere, and those it left out wherever they appear."""
    kept_shingles = _shingles(_tokens(text))
    lowered = " ".join(_tokens(text))
    kept: set[str] = set()
    seen: set[str] = set()
    for element in container.iterdescendants():
        sig = signature(element)
        if sig is None or sig not in signatures:
            continue
        words = _tokens(element.text_content())
        if not words:
            continue
        seen.add(sig)
        if _share(words, kept_shingles, lowered) >= DROPPED:
            kept.add(sig)
    return sorted(kept), sorted(seen - kept)


def observe(root: HtmlElement, item: ArticleItem, types: Iterable[str] = (),
            fallbacks: Iterable[str] = ()) -> Observation | None:
    """What a page (its parsed, unchanged tree) and its full extraction say of the layout.
    ``fallbacks``: the fields (``FALLBACK_FIELDS``) the full extraction took from trafilatura's
    metadata because the page declares none."""
    if not item.paragraphs:
        return None
    for junk in _JUNK(root):
        junk.drop_tree()
    container = find_text_container(root, item.paragraphs)
    if container is None:
        return None
    chain: list[str] = []
    node: HtmlElement | None = container
    while node is not None and len(chain) < MAX_CHAIN:
        sig = signature(node)
        if sig is None or sig in ("html",):
            break
        chain.append(sig)
        node = node.getparent()
    unique = []
    for k in range(1, len(chain) + 1):
        try:
            found = root.xpath(chain_xpath(list(reversed(chain[:k]))))
        except etree.XPathError:
            found = []
        unique.append(len(found) == 1 and found[0] is container)
    path = root.getroottree().getpath(container)
    date_xpath = None
    if item.published_source == TRAFILATURA and item.published is not None:
        date_xpath = locate(root, item.published.date().isoformat())
    dropped, kept, present = _subtrees(container, item.text)
    lead = _lead(root, container, item.paragraphs)
    linked = sum(len(" ".join(a.text_content().split())) for a in container.iter("a"))
    total = len(" ".join(container.text_content().split()))
    return Observation(
        url=item.url, chain=chain, unique=unique, path=path, dropped=sorted(set(dropped)),
        kept=sorted(set(kept)), present=sorted(set(present)),
        sources={"published": item.published_source, "authors": item.authors_source,
                 "language": item.language_source,
                 **dict.fromkeys(fallbacks, TRAFILATURA)},
        words=sum(len(p.split()) for p in item.paragraphs), paragraphs=len(item.paragraphs),
        link_density=min(1.0, linked / total) if total else 1.0,
        types=sorted({str(t).lower() for t in types} & ARTICLE_TYPES), date_xpath=date_xpath,
        lead=lead)


def _lead(root: HtmlElement, container: HtmlElement, paragraphs: list[str]) -> str | None:
    """Where a standfirst sits outside the container: the first paragraphs of the full
    extraction (up to ``MAX_LEAD``) that the container does not hold, when one element outside
    it holds them (nearly nothing else), named by the shortest chain of signatures that finds
    only it."""
    lowered = " ".join(_tokens(container.text_content()))
    outside = 0
    for paragraph in paragraphs:  # the first one the container holds word for word ends them
        words = _tokens(paragraph)
        if words and " ".join(words) in lowered:
            break
        outside += 1
    if not 0 < outside <= MAX_LEAD or outside == len(paragraphs):
        return None
    target = Counter(_tokens(" ".join(paragraphs[:outside])))
    total = sum(target.values())
    first = " ".join(_tokens(paragraphs[0])[:6])
    body = root.find("body")
    for element in (body if body is not None else root).iter():
        if not isinstance(element.tag, str) or not element.text:
            continue
        starts = " ".join(_tokens(element.text))  # the lead's first words, or its first part
        if not starts or not (starts.startswith(first) or first.startswith(starts)):
            continue
        # From the element that starts the lead up to the first one that holds all of it
        best = None
        node: HtmlElement | None = element
        while node is not None and node is not container:
            words = _tokens(node.text_content())
            if len(words) > LEAD_SLACK * total:
                break
            if _covered(Counter(words), target) >= LEAD_COVER * total:
                best = node
                break
            node = node.getparent()
        if best is None or any(a is container for a in best.iterancestors()):
            continue
        found = _unique_chain(root, best)
        if found is not None:
            return found
    return None


def _unique_chain(root: HtmlElement, element: HtmlElement) -> str | None:
    """The shortest chain of signatures (an XPath) that finds only ``element``, else None."""
    chain: list[str] = []
    node: HtmlElement | None = element
    while node is not None and len(chain) < MAX_CHAIN:
        sig = signature(node)
        if sig is None or sig == "html":
            return None
        chain.append(sig)
        expression = chain_xpath(list(reversed(chain)))
        try:
            found = root.xpath(expression)
        except etree.XPathError:
            return None
        if len(found) == 1 and found[0] is element:
            return expression if any(is_named(s) for s in chain) else None
        node = node.getparent()
    return None


def learn(site: str, observations: list[Observation], *, version: int = 0,
          now: datetime | None = None) -> Layout | None:
    """A layout from the observations of one site that share a container (one ``key``), or
    None when no chain of signatures finds the container alone on every page."""
    if not observations:
        return None
    chains = [o.chain for o in observations]
    depth = None
    for k in range(1, min(len(c) for c in chains) + 1):
        if len({tuple(c[:k]) for c in chains}) > 1:
            break
        if all(o.unique[k - 1] for o in observations):
            depth = k
            break
    if depth is not None:
        container = chain_xpath(list(reversed(chains[0][:depth])))
    elif len({o.path for o in observations}) == 1 and observations[0].path:
        container = observations[0].path  # no names to go by: the same place on every page
    else:
        return None
    dropped = Counter(s for o in observations for s in o.dropped)
    present = Counter(s for o in observations for s in o.present)
    kept = {s for o in observations for s in o.kept}
    drops = sorted(drop_xpath(s) for s, n in dropped.items() if n == present[s] and s not in kept)
    sources: dict[str, str | None] = {}
    for name in ("published", "authors", "language"):
        values = {o.sources.get(name) for o in observations}
        sources[name] = values.pop() if len(values) == 1 else None
    for name in FALLBACK_FIELDS:  # from trafilatura when any learning page needed it
        if any(o.sources.get(name) == TRAFILATURA for o in observations):
            sources[name] = TRAFILATURA
    date_xpaths = {o.date_xpath for o in observations}
    leads = {o.lead for o in observations}
    known = sorted(present)
    types = set(observations[0].types)
    for o in observations[1:]:
        types &= set(o.types)
    return Layout(
        site=site, key=observations[0].key, container=container, drops=drops, known=known,
        sources=sources,
        min_words=min(o.words for o in observations),
        max_words=max(o.words for o in observations),
        min_paragraphs=min(o.paragraphs for o in observations),
        max_paragraphs=max(o.paragraphs for o in observations),
        max_link_density=max(o.link_density for o in observations),
        types=sorted(types), learned_from=[o.url for o in observations], version=version,
        valid_from=now or datetime.now(UTC), confirmed=False,
        date_xpath=date_xpaths.pop() if len(date_xpaths) == 1 else None,
        lead=leads.pop() if len(leads) == 1 else None)


def group(observations: list[Observation]) -> dict[str, list[Observation]]:
    """Observations by container key (one site may have several layouts)."""
    groups: dict[str, list[Observation]] = {}
    for o in observations:
        groups.setdefault(o.key, []).append(o)
    return groups


def _matched(paragraphs: list[str], other: str) -> int:
    """How many of the paragraphs are in the other text: at least half of their word
    trigrams (a short line: all of its words, in a row)."""
    shingles, lowered = _shingles(_tokens(other)), " ".join(_tokens(other))
    count = 0
    for paragraph in paragraphs:
        words = _tokens(paragraph)
        if words and _share(words, shingles, lowered) >= 0.5:
            count += 1
    return count


def coverage(fast: list[str], full: list[str]) -> float:
    """The share of the full extraction's paragraphs that the fast one holds (1.0 when the
    full one has none)."""
    full = [p for p in full if _tokens(p)]
    return _matched(full, " ".join(fast)) / len(full) if full else 1.0


def agreement(fast: list[str], full: list[str]) -> float:
    """How far two extractions of one page agree: the F1 of their paragraphs, a paragraph of
    one counting as found when the other text holds it (at least half of its word trigrams).
    A furniture line the fast way kept, or a paragraph it lost, costs a whole paragraph
    however short; a paragraph split or punctuated differently costs nothing. 1.0 for two
    empty texts."""
    fast = [p for p in fast if _tokens(p)]
    full = [p for p in full if _tokens(p)]
    if not fast and not full:
        return 1.0
    if not fast or not full:
        return 0.0
    precision = _matched(fast, " ".join(full)) / len(fast)
    recall = _matched(full, " ".join(fast)) / len(full)
    if not precision + recall:
        return 0.0
    return 2 * precision * recall / (precision + recall)
