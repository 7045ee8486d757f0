"""The template hold over random crawls (crawler/template_hold.py): every request ends exactly
once, no held article is left, none is settled twice, and every site is released.

Each example is a random small crawl model (sites of pages that are articles, listings of
links, 404s, redirects, a 503 then a 200, a retry delayed by the back-off, download errors,
robots-disallowed paths, offsite and duplicate links, callbacks that raise), played as Scrapy
plays it: the signals in their order (request_scheduled / request_dropped / reached and left
the downloader / response_received / the spider's errback / the outermost spider middleware's
end of output / item_scraped), its steps interleaved at random, the template pipeline counting
each article and awaiting :meth:`TemplateHold.wait`, the ticker on a fake clock. Some crawls
close early (the engine stops taking requests). Real crawls through the same hold:
tests/test_crawl.py, tests/test_template_pipeline.py, tests/test_story_templates.py."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scrapy import Request
from scrapy.http import HtmlResponse

from crawler.template_hold import Ledger, Release, TemplateHold

KINDS = ["article", "article", "article", "listing", "404", "redirect", "retry", "backoff",
         "error", "robots", "raises"]


@dataclass
class Page:
    kind: str
    links: list[tuple[int, int, bool]]  # (site, page, offsite: filtered before scheduling)
    target: tuple[int, int]  # where a redirect goes


@dataclass
class Model:
    sites: list[list[Page]]
    warmup: int
    budget: int  # held bytes
    close_at: int | None  # the step at which the crawl closes early; None: it finishes


def url(site: int, page: int) -> str:
    return f"http://s{site}.example/p{page}"


@st.composite
def models(draw: st.DrawFn) -> Model:
    n_sites = draw(st.integers(1, 3))
    sizes = [draw(st.integers(1, 9)) for _ in range(n_sites)]
    spot = st.integers(0, n_sites - 1).flatmap(
        lambda s: st.tuples(st.just(s), st.integers(0, sizes[s] - 1)))
    sites = []
    for s in range(n_sites):
        pages = []
        for p in range(sizes[s]):
            kind = "listing" if p == 0 else draw(st.sampled_from(KINDS))
            links = [(t[0], t[1], draw(st.booleans()) and t[0] != s)
                     for t in draw(st.lists(spot, max_size=5))] if kind == "listing" else []
            if p == 0:  # a home page lists the site's pages, as a sitemap
                links = [(s, q, False) for q in range(1, sizes[s])] + links
            pages.append(Page(kind, links, draw(spot)))
        sites.append(pages)
    close_at = draw(st.one_of(st.none(), st.integers(0, 60)))
    return Model(sites, draw(st.integers(1, 6)), draw(st.sampled_from([2048, 4096, 1 << 20])),
                 close_at)


class Recording(TemplateHold):
    """The hold, every settling of a held article recorded."""

    def __init__(self, check: Callable[[Release], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settled: Counter[int] = Counter()
        self.releases: list[Release] = []
        self.check = check

    def _apply(self, releases: list[Release]) -> None:
        for release in releases:
            self.check(release)
            self.releases.append(release)
            self.settled.update(entry.key for entry in release.entries)
        super()._apply(releases)


@dataclass
class Crawl:
    model: Model
    rnd: random.Random
    now: float = 0.0
    ledger: Ledger = field(init=False)
    hold: Recording = field(init=False)
    actions: list[tuple[str, Callable[[], None]]] = field(default_factory=list)
    queue: list[Request] = field(default_factory=list)  # waiting in the scheduler
    seen: set[str] = field(default_factory=set)  # the dupefilter
    pages: Counter[str] = field(default_factory=Counter)  # per site, counted by the pipeline
    open_fetches: Counter[str] = field(default_factory=Counter)  # the model's own view
    in_transit: Counter[str] = field(default_factory=Counter)
    waiting: list[tuple[asyncio.Task[bool], Any, HtmlResponse]] = field(default_factory=list)
    outcomes: dict[int, bool] = field(default_factory=dict)  # item number -> stored
    seen_items: list[dict[str, Any]] = field(default_factory=list)
    articles = 0
    begun = 0
    starting = True
    closing = False

    def __post_init__(self) -> None:
        self.ledger = Ledger(clock=lambda: self.now)
        self.hold = Recording(self.check_release, warmup=self.model.warmup,
                              hold_max_bytes=self.model.budget, hold_timeout=60.0,
                              tick=0.5, ledger=self.ledger, clock=lambda: self.now)
        self.hold._pages = lambda site: self.pages[site]
        self.ledger.on_idle(self.hold._site_idle)

    # -- what the model knows, against what the hold decides -----------------------------

    def check_release(self, release: Release) -> None:
        site = release.site
        if release.key == "all_seen":
            assert self.open_fetches[site] == 0 and self.in_transit[site] == 0, release
            assert not self.starting
        if release.key == "quiet":
            assert not self.starting and sum(self.open_fetches.values()) == 0
        if release.key == "warmup":
            assert self.pages[site] >= self.model.warmup
        if release.key == "closing":
            assert self.closing
            learned = self.pages[site] >= self.model.warmup or (
                not self.starting and self.open_fetches[site] == 0
                and self.in_transit[site] == 0)
            assert release.store == learned, (release, self.pages[site])
        if release.key == "budget":
            assert self.hold.rules.held_bytes + sum(e.size for e in release.entries) \
                > self.model.budget

    # -- Scrapy's steps -------------------------------------------------------------------

    def schedule(self, request: Request, new_fetch: bool = True) -> None:
        """engine.crawl(request): request_scheduled, then the dupefilter."""
        site = request.url.split("/")[2]
        if new_fetch:
            self.begun += 1
            self.open_fetches[site] += 1
        self.ledger.request_scheduled(request)
        if not request.dont_filter and request.url in self.seen:
            self.open_fetches[site] -= 1
            self.ledger.request_dropped(request)
            return
        self.seen.add(request.url)
        self.queue.append(request)
        self.actions.append(("pop", lambda: self.pop(request)))

    def page_of(self, request: Request) -> Page:
        host, path = request.url.split("/")[2:4]
        return self.model.sites[int(host[1:].split(".")[0])][int(path[1:])]

    def pop(self, request: Request) -> None:
        self.queue.remove(request)
        page = self.page_of(request)
        if page.kind == "robots":  # refused before its download: the errback
            self.end(request)
            self.ledger.request_failed(request)
            return
        self.ledger.request_reached_downloader(request)
        self.actions.append(("download", lambda: self.downloaded(request)))

    def end(self, request: Request) -> None:
        self.open_fetches[request.url.split("/")[2]] -= 1

    def moved(self, old: Request, new: Request) -> None:
        self.open_fetches[old.url.split("/")[2]] -= 1
        self.open_fetches[new.url.split("/")[2]] += 1

    def downloaded(self, request: Request) -> None:
        self.ledger.request_left_downloader(request)
        page = self.page_of(request)
        tries = request.meta.get("tries", 0)
        if page.kind == "retry" and tries == 0:  # a 503: RetryMiddleware's copy
            retry = request.replace(dont_filter=True)
            retry.meta["tries"] = 1
            self.schedule(retry, new_fetch=False)
            return
        if page.kind == "backoff" and tries == 0:  # a 503, the retry delayed
            retry = request.replace(dont_filter=True)
            retry.meta["tries"] = 1
            self.ledger.request_scheduled(retry)
            self.end(request)
            self.ledger.request_dropped(retry)  # IgnoreRequest from the back-off

            def resume() -> None:
                self.schedule(retry)

            self.actions.append(("resume", resume))
            return
        if page.kind == "redirect" and tries < 2:
            moved = request.replace(url=url(*page.target))
            moved.meta["tries"] = tries + 1
            self.moved(request, moved)
            self.schedule(moved, new_fetch=False)
            return
        if page.kind == "error":
            self.end(request)
            self.ledger.request_failed(request)
            return
        response = HtmlResponse(request.url, request=request, body=b"x" * 1500)
        self.ledger.response_received(response, request)
        self.actions.append(("parse", lambda: self.parse(response, page)))

    def parse(self, response: HtmlResponse, page: Page) -> None:
        """The callback's output through the outermost spider middleware."""
        request = response.request
        assert request is not None
        if page.kind == "listing":
            for site, number, offsite in page.links:
                if not offsite:  # an offsite link is filtered before it is scheduled
                    self.schedule(Request(url(site, number), meta=dict(request.meta)))
        elif page.kind in ("article", "retry", "backoff", "redirect"):
            item = {"url": response.url, "n": len(self.seen_items)}
            self.seen_items.append(item)
            self.ledger.item_yielded(item, response)
            self.in_transit[response.url.split("/")[2]] += 1
            self.actions.append(("count", lambda: self.count(item, response)))
        self.end(request)
        if page.kind == "raises":
            self.ledger.parsed(response)  # process_spider_exception, then the output's end
        self.ledger.parsed(response)

    def count(self, item: Any, response: HtmlResponse) -> None:
        """The template pipeline counts the article's page and asks the hold."""
        site = response.url.split("/")[2]
        self.pages[site] += 1
        self.articles += 1
        self.in_transit[site] -= 1
        task = asyncio.ensure_future(self.hold.wait(item, site, self.pages[site], 1500))
        self.waiting.append((task, item, response))

    def started(self) -> None:
        self.starting = False
        self.ledger.started()

    async def tick(self) -> None:
        # Scrapy's engine pulls its scheduler at least every ENGINE_HEARTBEAT seconds while its
        # downloader has room (what the hold's closing inference stands on): while requests
        # wait for it and the crawl is not closing, the model's clock moves in steps far below
        # the heartbeat, so that only a closing crawl shows the hold a stall.
        waiting = not self.closing and any(name == "pop" for name, _ in self.actions)
        self.now += 0.5 if waiting else self.rnd.choice([0.5, 0.5, 2.0, 7.0])
        await self.hold.tick_once()

    # -- the crawl --------------------------------------------------------------------------

    async def run(self) -> None:
        for site in range(len(self.model.sites)):
            self.schedule(Request(url(site, 0)))
        self.actions.append(("started", self.started))
        steps = 0
        while self.actions or self.waiting:
            steps += 1
            assert steps < 5000, "the crawl never ends: held articles never released"
            if steps == self.model.close_at:
                self.closing = True
            runnable = [a for a in self.actions if not (self.closing and a[0] == "pop")]
            if runnable and self.rnd.random() < 0.85:
                action = self.rnd.choice(runnable)
                self.actions.remove(action)
                action[1]()
            else:
                await self.tick()
            await asyncio.sleep(0)
            for entry in [e for e in self.waiting if e[0].done()]:
                self.waiting.remove(entry)
                task, item, response = entry
                assert item["n"] not in self.outcomes
                self.outcomes[item["n"]] = task.result()
                self.ledger.item_left(item, response)  # item_scraped / item_dropped
            if self.closing and not self.waiting and all(a[0] == "pop" for a in self.actions):
                break  # closed: what waits in the scheduler is never fetched


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=models(), seed=st.integers(0, 2 ** 32 - 1))
# Found by Hypothesis: the model's clock once moved 7 s twice while requests waited for the
# downloader, a stall no running engine shows; the hold took it for the crawl closing.
@example(model=Model(sites=[[
    Page("listing", [(0, q, False) for q in range(1, 6)], (0, 0)),
    Page("article", [], (0, 0)), Page("404", [], (0, 0)), Page("404", [], (0, 0)),
    Page("error", [], (0, 0)), Page("retry", [], (0, 0))]], warmup=2, budget=2048,
    close_at=None), seed=345730394)
def test_every_request_ends_once_and_every_held_article_is_settled_once(
        model: Model, seed: int) -> None:
    crawl = Crawl(model, random.Random(seed))
    asyncio.run(crawl.run())
    hold, ledger = crawl.hold, crawl.ledger

    # Every article counted came out exactly once, none left held, none settled twice.
    assert len(crawl.outcomes) == crawl.articles
    assert hold.held == {} and hold.held_bytes == 0 and not hold._futures
    assert all(times == 1 for times in hold.settled.values()), hold.settled
    released = {r.site for r in hold.releases}
    assert {e.site for r in hold.releases for e in r.entries} <= released

    # Every request ended exactly once: each fetch the model began, the ledger began and
    # ended once (a crawl closed early leaves those waiting in the scheduler open).
    assert ledger.begun == crawl.begun
    assert ledger.open == len(crawl.queue)
    assert ledger.ended == crawl.begun - len(crawl.queue)
    if not crawl.closing:
        assert not crawl.queue and not ledger.fetches and not ledger.busy
        assert all(stored for stored in crawl.outcomes.values())
    assert ledger.in_downloader == 0 or crawl.closing
