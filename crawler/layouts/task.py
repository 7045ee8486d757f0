"""One page through its site's layouts, in an extraction worker (plain, picklable in and out).

:func:`extract_page` is the extraction pool's task: the fast path when a layout of the page's
site finds its container and its checks pass; otherwise (or when the page is sampled) the full
extraction, compared with the fast result when there is one. With ``observe`` the full
extraction's page is also observed for learning (crawler/layouts/learn.py). What happened is
the result's ``layout`` (:class:`LayoutReport`), which the crawl process's
:class:`crawler.layouts.book.LayoutBook` reads.
"""

from __future__ import annotations

import logging
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime

from trafilatura.utils import load_html

from crawler.extraction.article import extract_article_parts
from crawler.extraction.text import word_count
from crawler.items import ArticleItem, Extraction
from crawler.layouts.fast import FastResult, extract_with_layout, find_container
from crawler.layouts.learn import (
    MIN_AGREEMENT,
    Observation,
    agreement,
    classify_subtrees,
    coverage,
    observe,
)
from crawler.layouts.site_layout import Layout

logger = logging.getLogger(__name__)

FAST, FULL = "fast", "full"


@dataclass(slots=True)
class LayoutReport:
    path: str = FULL  # how the returned result was extracted
    version: int | None = None  # the layout used, else the first whose container was found
    miss: str | None = None  # why that layout's fast result was not used
    misses: dict[int, str] = field(default_factory=dict)  # every layout tried and missed
    tried: list[int] = field(default_factory=list)  # the layouts the page was tried with
    sampled: bool = False
    agreement: float | None = None  # fast against full, when both ran
    coverage: float | None = None  # the share of the full way's paragraphs the fast way has
    words: int = 0  # the fast result's words and paragraphs, when both ways ran
    paragraphs: int = 0
    fields_agree: bool = True  # the date and title, when both ran
    observation: Observation | None = None
    accepted: list[str] = field(default_factory=list)  # new signatures the full way kept
    dropped: list[str] = field(default_factory=list)  # ... and the ones it left out
    by_layout: bool = False  # an article because its site's layout says so


def extract_page(html: str, url: str, *, layouts: tuple[Layout, ...] | list[Layout] = (),
                 sample: bool = False, fresh: tuple[int, ...] | list[int] = (),
                 observe_page: bool = False, min_words: int = 80, hinted: bool = False,
                 not_before: datetime | None = None,
                 detect_language: bool = True) -> Extraction:
    """One page: through the first of ``layouts`` (newest first) whose container it has and
    whose checks its result passes, else the full way. ``sample``, or a passing layout in
    ``fresh`` (learned, no page checked yet): the full way too, and the two compared."""
    report = LayoutReport()
    fast: FastResult | None = None  # the result used, else the first that missed
    tree = None  # the page parsed, unchanged (no layout was applied to it)
    if layouts:
        tree = load_html(html)
        if tree is None:
            return Extraction.nothing(url, "unparseable HTML")
        for layout in sorted(layouts, key=lambda lay: -lay.version):
            report.tried.append(layout.version)
            if tree is None:
                tree = load_html(html)  # the layout tried before changed the tree
            try:
                container = find_container(tree, layout)
                if container is None:
                    continue
                # A page that will go the full way too keeps an unchanged copy for it (a
                # copy costs a quarter of parsing the page again).
                compared = sample or layout.version in fresh
                changed, tree = tree, (deepcopy(tree) if compared else None)
                result = extract_with_layout(html, url, layout, tree=changed, container=container,
                                             not_before=not_before,
                                             detect_language=detect_language)
            except Exception as exc:  # a layout that cannot be applied (an XPath edited by
                # hand, a bug): the page goes on, the layout counts a failure
                logger.warning("Layout %d of %s not applicable to %s (%s: %s): the full way",
                               layout.version, layout.site, url, type(exc).__name__, exc)
                report.misses[layout.version] = "error"
                if report.version is None:
                    report.version, report.miss = layout.version, "error"
                tree = None
                continue
            if result.miss is None:
                fast, report.version, report.miss = result, layout.version, None
                sample = sample or layout.version in fresh
                break
            report.misses[layout.version] = result.miss or "container"
            if fast is None:
                fast, report.version, report.miss = result, layout.version, result.miss
        if fast is not None and fast.extraction is not None and not sample:
            report.path = FAST
            fast.extraction.layout = report
            return fast.extraction
    full, page, meta = extract_article_parts(html, url, min_words=min_words, hinted=hinted,
                                             not_before=not_before,
                                             detect_language=detect_language, tree=tree)
    report.sampled = sample and fast is not None and fast.extraction is not None
    candidate = fast.extraction or fast.fast if fast is not None else None
    if candidate is not None:
        report.agreement = agreement(candidate.item.paragraphs, full.item.paragraphs)
        report.coverage = coverage(candidate.item.paragraphs, full.item.paragraphs)
        report.fields_agree = _fields_agree(candidate.item, full.item)
        report.words = sum(word_count(p) for p in candidate.item.paragraphs)
        report.paragraphs = len(candidate.item.paragraphs)
    if fast is not None and fast.unknown and full.item.paragraphs:
        report.accepted, report.dropped = _judge_unknown(html, url, layouts, report.version,
                                                         fast.unknown, full.item.text)
    if (fast is not None and fast.fast is not None and not full.is_article
            and fast.fits_but_length and report.agreement is not None
            and report.agreement >= MIN_AGREEMENT):
        # The page-by-page classifier refused a page that fits its site's article layout in
        # all but its length (a short wire story), and both ways read the same text: an
        # article. (Not when they read different texts: the container is something else.)
        report.path, report.by_layout = FAST, True
        fast.fast.layout = report
        return fast.fast
    # A page that fit a layout (sampled) says nothing new of the site's layouts.
    fitted = fast is not None and fast.extraction is not None
    if (observe_page and not fitted and full.is_article and full.item.paragraphs
            and page is not None and meta is not None):
        declared = {"title": meta.headline, "site_name": meta.site_name,
                    "description": meta.description, "image": meta.image, "tags": meta.tags}
        # The fields the full way took from trafilatura's metadata, the page declaring none
        fallbacks = [name for name, value in declared.items()
                     if getattr(full.item, name) and not value]
        report.observation = observe(page, full.item, meta.types, fallbacks=fallbacks)
        if report.observation is not None:
            report.observation.missed = sorted(report.misses)
    full.layout = report
    return full


def _fields_agree(fast: ArticleItem, full: ArticleItem) -> bool:
    """The fast result's date (to the minute) and title are the full extraction's."""
    if (fast.published is None) != (full.published is None):
        return False
    if fast.published is not None and full.published is not None and abs(
            (fast.published - full.published).total_seconds()) >= 60:
        return False
    return fast.title == full.title


def _judge_unknown(html: str, url: str, layouts: tuple[Layout, ...] | list[Layout],
                   version: int | None, unknown: list[str],
                   text: str) -> tuple[list[str], list[str]]:
    """Of the named elements a layout had not seen, the ones the full extraction kept and
    the ones it left out (each judged on this page)."""
    layout = next((lay for lay in layouts if lay.version == version), None)
    page = load_html(html)
    if layout is None or page is None:
        return [], []
    container = find_container(page, layout)
    if container is None:
        return [], []
    return classify_subtrees(container, text, set(unknown))

