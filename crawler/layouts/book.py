"""Per site, in the crawl process: which layouts a page tries, which pages are sampled or
observed, and what a page's report changes (plain: no Scrapy, no database).

A site's life::

    learning --(NEWS_LAYOUT_LEARN_PAGES observations share a container; one more when the
                site has a layout open, or had one closed unconfirmed)--> layout open
    layout open, no page fitted yet --(NEWS_LAYOUT_MAX_FAILURES articles in a row without
                   its container)--> closed ("unconfirmed") --> learning
    layout open --(a sampled page disagrees: paragraph F1 < MIN_AGREEMENT (0.95),
                   or its date or title differs)--> closed ("disagreed") --> learning
    layout open --(NEWS_LAYOUT_MAX_FAILURES pages in a row fail its checks)--> closed
                   ("failed") --> learning
    layout open --(a new layout is learned from pages that all failed its checks: a
                   redesign)--> closed ("replaced")
    layout open --(a page outside its ranges of words or paragraphs that the full way reads
                   the same: its ranges widened)--> layout open
    layout open --(a page holds a named element it has not seen: the page goes the full
                   way, and the element is learned as kept or dropped, when the container
                   holds the full way's text; else a failure)--> layout open

Pages that go the full way on a site with fewer than ``max_layouts`` open layouts are
observed (until ``OBSERVE_LIMIT`` of them gave no layout), so a second
article layout (long-form, live) is learned beside the first. A layout learned again after it
was closed as disagreeing (the same container and drops) is not opened again: that site's
pages of that kind go the full way.
"""

from __future__ import annotations

import zlib
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

from crawler.layouts.fast import LENGTH_MISSES
from crawler.layouts.learn import MIN_AGREEMENT, Observation, group, learn
from crawler.layouts.selectors import drop_xpath
from crawler.layouts.site_layout import Layout
from crawler.layouts.task import FAST, LayoutReport

LEARNED, CLOSED, UPDATED, CONFIRMED = "learned", "closed", "updated", "confirmed"
UNCONFIRMED = "unconfirmed"
# A site whose pages, this many of them observed, gave no layout (no few of them share a
# container: a host of many publishers, a site of many templates) is not observed any more
# until one of its layouts closes: observing costs a page ~6 ms.
OBSERVE_LIMIT = 20


@dataclass(slots=True)
class Plan:
    layouts: list[Layout]
    sample: bool
    observe: bool
    fresh: list[int] = field(default_factory=list)  # layouts whose first fast page is sampled


@dataclass(slots=True)
class Event:
    kind: str  # learned, closed, updated, confirmed
    layout: Layout


@dataclass
class SiteLayouts:
    layouts: list[Layout] = field(default_factory=list)  # every version: open and closed
    observations: dict[str, deque[Observation]] = field(default_factory=dict)
    failures: dict[int, int] = field(default_factory=dict)  # version -> misses in a row
    fresh: set[int] = field(default_factory=set)  # versions whose first fast page is sampled
    fruitless: int = 0  # pages observed since a layout was last learned or closed

    @property
    def unconfirmed(self) -> bool:
        """Whether a layout of the site closed before any page fitted it."""
        return any(layout.closed_reason == UNCONFIRMED for layout in self.layouts)

    @property
    def open(self) -> list[Layout]:
        return [layout for layout in self.layouts if layout.is_open]

    def next_version(self) -> int:
        return max((layout.version for layout in self.layouts), default=0) + 1


class LayoutBook:
    def __init__(self, sample_every: int = 20, learn_pages: int = 2, max_failures: int = 5,
                 max_layouts: int = 3, min_agreement: float = MIN_AGREEMENT) -> None:
        self.sample_every = sample_every
        self.learn_pages = learn_pages
        self.max_failures = max_failures
        self.max_layouts = max_layouts
        self.min_agreement = min_agreement
        self.sites: dict[str, SiteLayouts] = {}

    def has_open(self, site: str) -> bool:
        state = self.sites.get(site)
        return state is not None and bool(state.open)

    def add(self, site: str, layouts: list[Layout]) -> None:
        """The layouts stored for a site (every version), when it is first seen."""
        state = self.sites.setdefault(site, SiteLayouts())
        versions = {layout.version for layout in state.layouts}
        for layout in layouts:
            if layout.version not in versions:
                state.layouts.append(layout)
                if layout.is_open and not layout.confirmed:  # learned, never checked
                    state.fresh.add(layout.version)

    def plan(self, site: str, url: str) -> Plan:
        state = self.sites.setdefault(site, SiteLayouts())
        layouts = state.open
        sample = bool(layouts) and self.sample_every > 0 and (
            zlib.crc32(url.encode()) % self.sample_every == 0)
        observe = (len(layouts) < self.max_layouts
                   and state.fruitless < OBSERVE_LIMIT)
        return Plan(layouts, sample, observe=observe,
                    fresh=sorted(state.fresh))

    def record(self, site: str, report: LayoutReport, now: datetime | None = None,
               ) -> list[Event]:
        """What one page's report changes: layouts closed, learned or updated."""
        state = self.sites.setdefault(site, SiteLayouts())
        now = now or datetime.now(UTC)
        events: list[Event] = []
        by_version = {lay.version: lay for lay in state.open}
        for version, miss in report.misses.items():
            if version in by_version:
                events += self._missed(state, by_version[version], miss, report, now)
        used = (by_version.get(report.version)
                if report.version is not None and report.miss is None else None)
        if used is not None:
            events += self._verify(state, used, report, now)
        if report.observation is not None:
            events += self._unconfirmed(state, report, now)
        if report.observation is not None and len(state.open) < self.max_layouts:
            events += self._observe(site, state, report.observation, now)
        return events

    def _verify(self, state: SiteLayouts, layout: Layout, report: LayoutReport,
                now: datetime) -> list[Event]:
        """A page the layout's checks passed: sampled (compared with the full way) or not."""
        if report.agreement is not None and (
                report.agreement < self.min_agreement or not report.fields_agree):
            return [self._close(state, layout, "disagreed", now)]
        state.failures[layout.version] = 0
        if report.sampled or report.path == FAST:
            state.fresh.discard(layout.version)
        if report.sampled and not layout.confirmed:
            layout.confirmed = True  # stored: the next crawl does not check it again
            return [Event(CONFIRMED, layout)]
        return []

    def _missed(self, state: SiteLayouts, layout: Layout, miss: str, report: LayoutReport,
                now: datetime) -> list[Event]:
        """A page with the layout's container whose fast result failed a check."""
        if miss == "unknown" and (report.version != layout.version or report.coverage is None
                                  or report.coverage < self.min_agreement):
            # Not judged (another layout was tried first), or the container lacks the text
            # the full way found: the page is not this layout's, whatever the new element.
            miss = "foreign"
        if miss == "unknown":
            # A new element in the article: the full way's verdict on it is learned.
            layout.known = sorted(set(layout.known) | set(report.accepted) | set(report.dropped))
            layout.drops = sorted(set(layout.drops) | {drop_xpath(sig) for sig in report.dropped})
            return [Event(UPDATED, layout)] if report.accepted or report.dropped else []
        if (miss in LENGTH_MISSES and report.version == layout.version
                and report.agreement is not None and report.agreement >= self.min_agreement
                and report.fields_agree):
            # Longer or shorter than the learning pages, and the full way reads the same text:
            # the layout's ranges were too narrow. Widened, not a failure.
            layout.min_words = min(layout.min_words, report.words)
            layout.max_words = max(layout.max_words, report.words)
            layout.min_paragraphs = min(layout.min_paragraphs, report.paragraphs)
            layout.max_paragraphs = max(layout.max_paragraphs, report.paragraphs)
            state.failures[layout.version] = 0
            return [Event(UPDATED, layout)]
        failures = state.failures.get(layout.version, 0) + 1
        state.failures[layout.version] = failures
        if failures >= self.max_failures:
            return [self._close(state, layout, "failed", now)]
        return []

    def _unconfirmed(self, state: SiteLayouts, report: LayoutReport,
                     now: datetime) -> list[Event]:
        """An article read the full way without the container of a layout it was tried with
        that no page has fitted yet: ``max_failures`` such pages in a row close that layout
        (learned from one odd page, or from a site of many templates)."""
        events = []
        for layout in state.open:
            version = layout.version
            if (version in state.fresh and version in report.tried
                    and version not in report.misses and version != report.version):
                failures = state.failures.get(version, 0) + 1
                state.failures[version] = failures
                if failures >= self.max_failures:
                    fruitless = state.fruitless  # these pages gave no layout
                    events.append(self._close(state, layout, UNCONFIRMED, now))
                    state.fruitless = fruitless
        return events

    def _close(self, state: SiteLayouts, layout: Layout, reason: str, now: datetime) -> Event:
        layout.valid_until, layout.closed_reason = now, reason
        state.fruitless = 0  # its pages may make a new one
        state.observations.pop(layout.key, None)
        state.failures.pop(layout.version, None)
        state.fresh.discard(layout.version)
        return Event(CLOSED, layout)

    def _observe(self, site: str, state: SiteLayouts, observation: Observation,
                 now: datetime) -> list[Event]:
        if any(lay.key == observation.key for lay in state.open):
            return []  # that layout is known: its pages missed a check
        queue = state.observations.setdefault(observation.key,
                                              deque(maxlen=2 * (self.learn_pages + 1)))
        if any(o.url == observation.url for o in queue):
            return []
        queue.append(observation)
        state.fruitless += 1
        # A site's first layout (none open) from learn_pages pages; one beside an open layout
        # (a second article layout, a redesign's) from one more: a single odd page of a site
        # whose layout is known (a short story read from a wider element) makes none.
        # The same after a layout learned so closed unconfirmed: that site's pages vary.
        needed = (self.learn_pages + 1 if state.open or state.unconfirmed
                  else self.learn_pages)
        if len(queue) < needed:
            return []
        recent = list(queue)[-needed:]
        layout = learn(site, group(recent)[observation.key], version=state.next_version(),
                       now=now)
        if layout is None or self._refused(state, layout):
            return []
        events = []
        # An open layout whose fast result missed on every page this one was learned from
        # was redesigned away: this one replaces it.
        replaced = set.intersection(*(set(o.missed) for o in recent))
        for old in state.open:
            if old.version in replaced:
                events.append(self._close(state, old, "replaced", now))
        state.layouts.append(layout)
        state.fresh.add(layout.version)
        state.observations.pop(observation.key, None)
        state.fruitless = 0
        return [*events, Event(LEARNED, layout)]

    def _refused(self, state: SiteLayouts, layout: Layout) -> bool:
        """The same layout as one closed for disagreeing with the full extraction."""
        return any(old.closed_reason == "disagreed" and old.container == layout.container
                   and old.drops == layout.drops for old in state.layouts)
