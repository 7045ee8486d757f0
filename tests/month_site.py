"""A news site that lives through a month on loopback, and the crawl runs that follow it.

The site has a simulated clock (``site.now``): what it serves is what was published, edited,
deleted and moved by then. Each crawl run is started at its simulated moment (``NEWS_NOW``),
so the crawl's schedule follows the same clock (benchmarks/month.py, tests/test_month.py).

- Articles appear between runs, each in one of three sections, reachable from everywhere
  (feed, sitemap, section page) or only from its section page, only from the feed or only
  from the sitemap. The text is real article text (the scrapinghub benchmark's ground truth).
- The home page links the sections and two pages that never change (``/about/``,
  ``/archive/2019/``). A section page lists its 10 newest articles, the Atom feed the 12
  newest of its articles (older entries drop out, ``updated`` moves with an edit), the
  sitemap all of its articles (``lastmod`` moves with an edit).
- An edit adds a paragraph of the article's own text (a new ``content_hash``); a deleted
  article answers 410 or 404 and leaves every listing; a moved article answers 301 to its new
  URL, which the listings show instead.

``simulate(runs, ...)`` crawls it ``runs`` times (``scrapy crawl news`` in a subprocess, the
embedded nx-27017 database given by URI) and checks, after each run, that every article
published before the run is stored; at the end, revisions, ``gone_at``, moves, fetches and
``url_state`` size (:class:`MonthReport`).
"""

from __future__ import annotations

import html
import json
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import pymongo

from tests.loopback import NOT_FOUND, LoopbackServer, Reply

ROOT = Path(__file__).resolve().parent.parent
GROUND_TRUTH = ROOT.parent / "shared" / "eval" / "scrapinghub-aeb" / "ground-truth.json"
START = datetime(2025, 3, 3, tzinfo=UTC)
SECTIONS = ("world", "business", "culture")
# where an article is linked from: everywhere, or only its section page, feed or sitemap
CHANNELS = ("all", "section", "feed", "sitemap")
STATIC_PAGES = ("/about/", "/archive/2019/")
FEED_SIZE = 12
SECTION_SIZE = 10
BODY_PARAGRAPHS = 6
SCHEDULE = (timedelta(hours=1), timedelta(hours=6), timedelta(hours=24), timedelta(days=3))


@dataclass
class Article:
    n: int
    section: str
    channel: str
    published: datetime
    title: str
    paragraphs: list[str]  # the body, then the paragraphs edits add
    path: str
    edits: list[datetime] = field(default_factory=list)
    gone: tuple[datetime, int] | None = None  # (when, 404 or 410)
    moved: tuple[datetime, str] | None = None  # (when, new path)

    def path_at(self, t: datetime) -> str:
        return self.moved[1] if self.moved and self.moved[0] <= t else self.path

    def edits_at(self, t: datetime) -> int:
        return sum(1 for when in self.edits if when <= t)

    def modified_at(self, t: datetime) -> datetime:
        done = [when for when in self.edits if when <= t]
        moved = [self.moved[0]] if self.moved and self.moved[0] <= t else []
        return max([self.published, *done, *moved])

    def live_at(self, t: datetime) -> bool:
        return self.published <= t and not (self.gone and self.gone[0] <= t)

    def listed_in(self, where: str) -> bool:
        return self.channel in ("all", where)


def _texts() -> list[tuple[str, list[str]]]:
    truth: dict[str, Any] = json.loads(GROUND_TRUTH.read_text(encoding="utf-8"))
    texts = []
    for key in sorted(truth):
        paragraphs = [p.replace("\xad", "").strip() for p in truth[key]["articleBody"].split("\n")
                      if len(p.split()) >= 12]
        if len(paragraphs) >= BODY_PARAGRAPHS + 2 and \
                sum(len(p.split()) for p in paragraphs[:BODY_PARAGRAPHS]) >= 150:
            texts.append((" ".join(paragraphs[0].split()[:10]), paragraphs))
    return texts


def available() -> bool:
    return GROUND_TRUTH.exists()


class Timeline:
    """What happens to the site: the articles and their events, drawn once (seeded)."""

    def __init__(self, runs: int, step: timedelta, per_run: int = 2, seed: int = 18) -> None:
        rng = random.Random(seed)
        texts = _texts()
        self.step = step
        self.times = [START + k * step for k in range(runs)]
        self.articles: list[Article] = []

        def publish(at: datetime) -> Article:
            n = len(self.articles)
            title, paragraphs = texts[n % len(texts)]
            if n >= len(texts):
                paragraphs = paragraphs[1:] + paragraphs[:1]  # a second use: other text
            section = SECTIONS[n % len(SECTIONS)]
            article = Article(n, section, CHANNELS[n // len(SECTIONS) % len(CHANNELS)], at,
                              f"{title} ({n})", paragraphs, f"/{section}/{n:04d}.html")
            self.articles.append(article)
            return article

        for i in range(6):  # before the first run
            publish(START - timedelta(hours=40 - 6 * i))
        events = 0
        for k in range(1, runs):
            begin = self.times[k - 1]
            for at in sorted(begin + step * rng.uniform(0.02, 0.98) for _ in range(per_run)):
                publish(at)
            # an event for an article half a day to two days old (seen by its 3d recrawl at
            # the latest); none near the end, so that each one is seen before the end
            if self.times[k] > self.times[-1] - SCHEDULE[-1] - step:
                continue
            candidates = [a for a in self.articles if not a.edits and not a.gone
                          and not a.moved and timedelta(hours=12) <= begin - a.published
                          <= timedelta(days=2)]
            if not candidates:
                continue
            chosen = rng.choice(candidates)
            at = begin + step * rng.uniform(0.05, 0.95)
            event = ("edit", "delete", "move", "edit")[events % 4]
            if event == "edit":
                chosen.edits.append(at)
            elif event == "delete":
                chosen.gone = (at, (410, 404)[events // 4 % 2])
            else:
                chosen.moved = (at, chosen.path.replace(".html", "-renamed.html"))
            events += 1
        # sitemap-listed articles get a second, late edit (their lastmod tells of it)
        late = [a for a in self.articles if a.listed_in("sitemap") and a.channel == "sitemap"
                and not a.gone and a.published < self.times[-1] - timedelta(days=9)]
        for article in late[::3]:
            article.edits.append(article.published + timedelta(days=6, hours=3))


class MonthSite:
    """The site as it is at ``now`` (set between runs), served on 127.0.0.1."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.now = timeline.times[0]
        self.server = LoopbackServer(self.reply, "127.0.0.1")
        self.base = self.server.base

    def __enter__(self) -> MonthSite:
        self.server.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.server.__exit__(exc_type, exc, tb)

    def live(self) -> list[Article]:
        return [a for a in self.timeline.articles if a.live_at(self.now)]

    def reply(self, target: str) -> Reply:
        path = target.split("?", 1)[0]
        if path == "/robots.txt":
            return Reply(200, "text/plain", b"User-agent: *\nAllow: /\n")
        if path == "/":
            links = [f"/{s}/" for s in SECTIONS] + list(STATIC_PAGES)
            return self._page("Metro Courier", "".join(
                f'<li><a href="{link}">{link.strip("/").title()}</a></li>' for link in links))
        if path in STATIC_PAGES:
            return self._page("About us", "<p>Metro Courier is a news site.</p>")
        if path.strip("/") in SECTIONS:
            listed = [a for a in self.live() if a.section == path.strip("/")
                      and a.listed_in("section")][-SECTION_SIZE:]
            return self._page(path.strip("/").title(), "".join(
                f'<li><a href="{a.path_at(self.now)}">{html.escape(a.title)}</a></li>'
                for a in reversed(listed)))
        if path == "/feed.xml":
            return self._feed()
        if path == "/sitemap.xml":
            return self._sitemap()
        for article in self.timeline.articles:
            if article.published > self.now:
                continue
            if path == article.path_at(self.now):
                if article.gone and article.gone[0] <= self.now:
                    return Reply(article.gone[1], "text/plain", b"Gone")
                return Reply(body=self._article(article).encode())
            if path == article.path and article.moved and article.moved[0] <= self.now:
                if article.gone and article.gone[0] <= self.now:
                    return Reply(article.gone[1], "text/plain", b"Gone")
                return Reply(301, None, b"", {"Location": f"{self.base}{article.moved[1]}"})
        return NOT_FOUND

    def _page(self, title: str, items: str) -> Reply:
        nav = "".join(f'<a href="/{s}/">{s.title()}</a> ' for s in SECTIONS)
        return Reply(body=f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title} | Metro Courier</title></head><body><header><a href="/">Metro Courier</a>
{nav}</header><main><h1>{title}</h1><ul>{items}</ul></main></body></html>""".encode())

    def _article(self, article: Article) -> str:
        url = f"{self.base}{article.path_at(self.now)}"
        count = BODY_PARAGRAPHS + article.edits_at(self.now)
        modified = article.modified_at(self.now)
        ld = {"@context": "https://schema.org", "@type": "NewsArticle",
              "headline": article.title, "datePublished": article.published.isoformat(),
              "dateModified": modified.isoformat(),
              "author": {"@type": "Person", "name": "Courier staff"}, "url": url}
        body = "\n".join(f"<p>{html.escape(p)}</p>" for p in article.paragraphs[:count])
        nav = "".join(f'<a href="/{s}/">{s.title()}</a> ' for s in SECTIONS)
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(article.title)} | Metro Courier</title>
<link rel="canonical" href="{url}">
<meta property="og:type" content="article">
<meta property="article:published_time" content="{article.published.isoformat()}">
<script type="application/ld+json">{json.dumps(ld)}</script></head>
<body><header><a href="/">Metro Courier</a> {nav}</header>
<main><article><h1>{html.escape(article.title)}</h1>
<p class="byline">By Courier staff</p>
{body}
</article></main><footer><p>Metro Courier, all rights reserved.</p></footer></body></html>"""

    def _feed(self) -> Reply:
        listed = [a for a in self.live() if a.listed_in("feed")][-FEED_SIZE:]
        entries = "".join(
            f"<entry><title>{html.escape(a.title)}</title>"
            f'<link href="{self.base}{a.path_at(self.now)}"/>'
            f"<id>{self.base}/id/{a.n}</id>"
            f"<published>{a.published.isoformat()}</published>"
            f"<updated>{a.modified_at(self.now).isoformat()}</updated></entry>\n"
            for a in reversed(listed))
        return Reply(200, "application/atom+xml", (
            '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Metro Courier</title><id>{self.base}/</id>"
            f"<updated>{self.now.isoformat()}</updated>\n{entries}</feed>\n").encode())

    def _sitemap(self) -> Reply:
        entries = "".join(
            f"<url><loc>{self.base}{a.path_at(self.now)}</loc>"
            f"<lastmod>{a.modified_at(self.now).isoformat()}</lastmod></url>\n"
            for a in self.live() if a.listed_in("sitemap"))
        return Reply(200, "application/xml", (
            '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/'
            f'schemas/sitemap/0.9">\n{entries}</urlset>\n').encode())


@dataclass
class RunRow:
    run: int
    at: datetime
    published: int  # articles published up to this run (live or not)
    expected: int  # of them, those that should be stored by now
    stored_in_time: int  # expected ones first stored by this run (cumulative)
    fetches: int  # requests the site answered in this run (robots.txt included)
    minimum: int  # start URLs + robots.txt + section pages + new + due articles
    url_state: int
    urls_seen: int  # distinct paths the site was asked for, all runs so far
    seconds: float


@dataclass
class MonthReport:
    rows: list[RunRow]
    articles: int
    late: list[str]  # "n: stored at run k, published before run j"
    lost: list[str]
    revisions: dict[int, tuple[int, int]]  # article n -> (edits, revisions stored)
    gone: dict[int, bool]  # deleted article n -> stored with gone_at (and not removed)
    moved: dict[int, int]  # moved article n -> documents of its URLs
    problems: list[str]
    stats: list[dict[str, Any]]


def _minimum(timeline: Timeline, k: int, seen: set[int]) -> int:
    """Fetches run ``k`` cannot do without: robots.txt, the three start URLs, the section
    pages, the articles new since the last run and those with a recrawl point since the last
    run (gone ones included: that fetch is how they are found gone), a moved article's new
    URL. The pages that never change (``STATIC_PAGES``) are not counted."""
    now = timeline.times[k]
    before = timeline.times[k - 1] if k else now - timeline.step
    count = 4 + len(SECTIONS)
    for article in timeline.articles:
        if article.published > now:
            continue
        if article.n not in seen:
            count += 1 if not (article.gone and article.gone[0] <= now) else 0
            continue
        points = [article.published + offset for offset in SCHEDULE]
        if any(before < point <= now for point in points):
            count += 1
        if article.moved and before < article.moved[0] <= now:
            count += 1  # its new URL
    return count


def _crawl(site: MonthSite, at: datetime, mongo_uri: str, database: str, data: Path,
           sources: Path, stats_file: Path) -> subprocess.CompletedProcess[str]:
    settings = {
        "NEWS_NOW": at.isoformat(), "NEWS_SOURCES": str(sources), "MONGO_DATABASE": database,
        "NEWS_DATA_DIR": str(data), "AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_DELAY": "0",
        "NEWS_EXTRACT_WORKERS": "1", "NEWS_MONGO_FLUSH_INTERVAL": "0.2",
        "NEWS_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8", "NEWS_ARCHIVE": "False",
        "NEWS_PROGRESS_INTERVAL": "0", "LOG_LEVEL": "INFO",
        "STATS_CLASS": "tests.stats_file.JsonStatsCollector", "STATS_FILE": str(stats_file),
    }
    command = [sys.executable, "-m", "scrapy", "crawl", "news"]
    for key, value in settings.items():
        command += ["-s", f"{key}={value}"]
    env = dict(os.environ, MONGO_URI=mongo_uri, SCRAPY_SETTINGS_MODULE="crawler.settings",
               PYTHONPATH=str(ROOT))
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)


def simulate(runs: int, mongo_uri: str, database: str, data: Path,
             step: timedelta = timedelta(hours=12), per_run: int = 2,
             log: Any = None) -> MonthReport:
    """Crawl a month-site ``runs`` times, one run per ``step`` of its clock; check as it goes."""
    from tests.stats_file import read_stats

    timeline = Timeline(runs, step, per_run)
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri, tz_aware=True)
    db = client[database]
    rows: list[RunRow] = []
    first_stored: dict[int, int] = {}
    problems: list[str] = []
    stats: list[dict[str, Any]] = []
    seen_paths: set[str] = set()
    data.mkdir(parents=True, exist_ok=True)
    with MonthSite(timeline) as site:
        sources = data / "sources.yaml"
        sources.write_text(f"sources:\n  - name: courier\n    feeds: [{site.base}/feed.xml]\n"
                           f"    sitemaps: [{site.base}/sitemap.xml]\n"
                           f"    start_urls: [{site.base}/]\n    language: en\n",
                           encoding="utf-8")
        for k, at in enumerate(timeline.times):
            site.now = at
            asked = len(site.server.requests)
            started = time.monotonic()
            crawl = _crawl(site, at, mongo_uri, database, data, sources,
                           data / f"stats-{k}.json")
            seconds = time.monotonic() - started
            (data / f"crawl-{k}.log").write_text(crawl.stderr, encoding="utf-8")
            if crawl.returncode != 0:
                problems.append(f"run {k}: exit {crawl.returncode}")
            stats.append(read_stats(data / f"stats-{k}.json"))
            with site.server._lock:
                paths = [p for _, p in site.server.requests[asked:]]
            seen_paths.update(paths)
            stored = {doc["url"]: doc for doc in db.articles.find(
                {}, {"url": 1, "gone_at": 1, "revision": 1})}
            published = [a for a in timeline.articles if a.published <= at]
            expected = [a for a in published if a.live_at(at)]
            for article in published:
                urls = {f"{site.base}{article.path}", f"{site.base}{article.path_at(at)}"}
                if urls & set(stored) and article.n not in first_stored:
                    first_stored[article.n] = k
            in_time = sum(1 for a in expected if a.n in first_stored)
            seen = set(first_stored)
            rows.append(RunRow(k, at, len(published), len(expected), in_time, len(paths),
                               _minimum(timeline, k, seen), db.url_state.count_documents({}),
                               len(seen_paths), seconds))
            if log is not None:
                log(rows[-1])
        end = timeline.times[-1]
        late, lost = [], []
        for article in timeline.articles:
            due_run = next((k for k, t in enumerate(timeline.times) if article.published <= t),
                           None)
            if due_run is None:
                continue
            if article.gone and article.gone[0] <= timeline.times[due_run]:
                continue  # gone before any run could see it
            if article.n not in first_stored:
                lost.append(f"{article.n} ({article.channel}, {article.section})")
            elif first_stored[article.n] > due_run:
                late.append(f"{article.n} ({article.channel}): run {first_stored[article.n]}, "
                            f"due by run {due_run}")
        revisions, gone, moved = {}, {}, {}
        for article in timeline.articles:
            if article.n not in first_stored:
                continue
            urls = [f"{site.base}{article.path}"]
            if article.moved:
                urls.append(f"{site.base}{article.moved[1]}")
            docs = list(db.articles.find({"url": {"$in": urls}}))
            edits = article.edits_at(end)
            if edits:
                revisions[article.n] = (edits, db.article_revisions.count_documents(
                    {"url": {"$in": urls}}))
            elif db.article_revisions.count_documents({"url": {"$in": urls}}):
                problems.append(f"article {article.n}: revisions without an edit")
            if article.gone and article.gone[0] <= end:
                gone[article.n] = bool(docs) and all(d.get("gone_at") for d in docs)
            elif any(d.get("gone_at") for d in docs):
                problems.append(f"article {article.n}: gone_at but not gone")
            if article.moved and article.moved[0] <= end:
                moved[article.n] = len(docs)
    client.close()
    return MonthReport(rows, len(timeline.articles), late, lost, revisions, gone, moved,
                       problems, stats)
