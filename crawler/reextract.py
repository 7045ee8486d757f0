"""``newscrawl reextract``: extract the archived pages again, without fetching anything.

The pages come from the WARC archive (crawler/warc.py), the newest record of each URL. They
go through the crawl's own code: the ``news`` spider's page callback (extraction in the same
:class:`~crawler.extraction_pool.ExtractionPool`, article or not, the feed's hints), then the
crawl's item pipelines (template stripping, normalisation, :class:`~pipelines.mongo.MongoPipeline`
with its revisions), in a Scrapy crawl whose downloader answers every request from the archive
(:class:`ArchiveReplay`). So an article changes exactly as a recrawl of the same page would
change it: a new revision when its title or text changed, nothing when not. What a crawl does
for a fetch (URL state, run record, archiving) is left out: nothing was fetched.

Counted: ``changed`` (stored article with new content), ``unchanged``, ``new_articles`` (a page
stored for the first time: not an article before), ``newly_refused`` (a stored article whose
page is no article any more: counted, the article is kept), ``still_refused``.

Progress is kept in MongoDB (``reextract_checkpoints``): after each batch of articles written
(and for the pages that give no article), the archive records done. A run killed midway, run
again with the same arguments, skips what was done; a run that ends clears its checkpoints,
so the next one starts over. ``--dry-run`` writes nothing (articles, revisions, checkpoints):
it compares the new extraction with the stored articles and reports which fields would change.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import resource
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import PyMongoError
from scrapy import signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.http import Request, Response
from scrapy.settings import SETTINGS_PRIORITIES, Settings
from twisted.python.failure import Failure

from crawler import keys
from crawler.canonical import canonicalize_url
from crawler.database import Database
from crawler.defaults import news_int
from crawler.extensions.archive import archive_dir
from crawler.extraction.article import detected_language
from crawler.spiders.news import NewsSpider
from crawler.warc import (
    Location,
    archive_files,
    decode_meta,
    iter_responses,
)

logger = logging.getLogger(__name__)

REPLAY_KEY = keys.REPLAY  # request.meta: the Location of the record to answer with
DATE_KEY = keys.REPLAY_DATE
# The fields a dry run compares (those a reader of the article sees).
COMPARED = ("title", "text", "language", "published", "published_zone", "modified", "authors",
            "tags", "section", "site_name", "description", "image", "paywalled", "word_count")
OUTCOMES = ("changed", "unchanged", "new_articles", "newly_refused", "still_refused", "failed")
OUTCOME_KEY = keys.REPLAY_OUTCOME  # response.meta: refused or not, for the checkpoint
OUTCOME_OF_WRITE = {"updated": "changed", "unchanged": "unchanged", "new": "new_articles"}
_WARM_PAGE = "<html><body><p>warm up</p></body></html>"
_WARM_TEXT = ["The language detector loads its model the first time it is asked for a language, "
              "which takes a second or two."]


def job_key(source: str | None, since: datetime | None, overrides: list[str]) -> str:
    """The same arguments make the same job: its checkpoints are resumed."""
    raw = json.dumps([source, since.isoformat() if since else None, sorted(overrides)])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


class Checkpoints:
    """The records done by a reextract job, in ``reextract_checkpoints``: insert-only documents
    ``{job, at, done: [[file, offset], ...], counts: {outcome: n}}``, summed when resumed."""

    def __init__(self, collection: Any, job: str, enabled: bool = True) -> None:
        self.collection = collection
        self.job = job
        self.enabled = enabled
        self.pending: list[tuple[str, int]] = []
        self.pending_counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def load(self) -> tuple[set[tuple[str, int]], Counter[str]]:
        done: set[tuple[str, int]] = set()
        counts: Counter[str] = Counter()
        if not self.enabled:
            return done, counts
        self.collection.create_index([("job", ASCENDING)], name="job")
        for doc in self.collection.find({"job": self.job}):
            done.update((str(f), int(o)) for f, o in doc.get("done", []))
            counts.update({k: int(v) for k, v in (doc.get("counts") or {}).items()})
        return done, counts

    def add(self, records: Iterable[tuple[str, int]], counts: dict[str, int] | None = None,
            ) -> None:
        with self._lock:
            self.pending.extend(records)
            self.pending_counts.update(counts or {})

    def flush(self) -> None:
        """Write what is pending (in a worker thread, or at the end)."""
        with self._lock:
            done, self.pending = self.pending, []
            counts, self.pending_counts = self.pending_counts, Counter()
        if not done or not self.enabled:
            return
        try:
            self.collection.insert_one({"job": self.job, "at": datetime.now(UTC),
                                        "done": [[f, o] for f, o in done],
                                        "counts": dict(counts)})
        except PyMongoError as exc:  # redone next time, which changes nothing
            logger.warning("reextract checkpoint not written (%s)", type(exc).__name__)

    def clear(self) -> None:
        if self.enabled:
            self.collection.delete_many({"job": self.job})


class ReextractSpider(NewsSpider):
    """The ``news`` spider's page handling over archived responses instead of fetches."""

    name = "reextract"

    def __init__(self, *args: Any, since: datetime | None = None, dry_run: bool = False,
                 job: str = "", render: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.since = since
        self.dry_run = dry_run
        self.render = render  # --render: pages that need a browser are rendered again
        self.job = job
        self.archive = Path("data/archive")
        self.checkpoints: Checkpoints | None = None
        self.planned: set[tuple[str, int]] = set()
        self.done: set[tuple[str, int]] = set()
        self.counts: Counter[str] = Counter()  # this run
        self.before: Counter[str] = Counter()  # runs of the same job that were killed
        self.stored_records: set[tuple[str, int]] = set()
        self.stored_urls: set[str] = set()
        self.articles: Any = None  # the articles collection
        self.batch_size = 100
        self.first = 0.0  # monotonic time of the first page handed to extraction
        self.last = 0.0  # ... and of the last page done

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> ReextractSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        assert isinstance(spider, ReextractSpider)
        spider.archive = archive_dir(crawler.settings)
        database = Database.for_crawler(crawler)
        database.check(consequence="nothing was reextracted")  # one line, before any work
        spider.checkpoints = Checkpoints(database.db["reextract_checkpoints"], spider.job,
                                         enabled=not spider.dry_run)
        spider.articles = database.db["articles"]
        spider.batch_size = max(news_int(crawler.settings, "NEWS_MONGO_BATCH_SIZE"), 1)
        crawler.signals.connect(spider._finish, signal=signals.spider_closed)
        return spider

    # -- what to do ------------------------------------------------------------------------

    def _plan(self) -> list[tuple[Location, str, str | None, datetime, dict[str, Any]]]:
        """The newest record of each URL (of the source, since the time), not done before."""
        assert self.checkpoints is not None
        done, self.before = self.checkpoints.load()
        names = {s.name for s in self.sources}
        newest: dict[str, tuple[Location, str, str | None, datetime, dict[str, Any]]] = {}
        files = archive_files(self.archive)
        for path in files:
            for record in iter_responses(path):
                if self.source_name and record.source not in names:
                    continue
                if self.since is not None and record.date < self.since:
                    continue
                if record.rendered and self.render:
                    continue  # --render: from the page as fetched, rendered again
                newest[record.url] = (record.location, record.url, record.source, record.date,
                                      record.meta)
        query: dict[str, Any] = {"archive": {"$exists": True}}
        if self.source_name:
            query["source"] = self.source_name
        for doc in self.articles.find(query, {"url": 1, "fetched_url": 1, "archive": 1,
                                              "_id": 0}):
            where = doc.get("archive") or {}
            self.stored_records.add((str(where.get("file")), int(where.get("offset") or 0)))
            self.stored_urls.add(doc["url"])
        plan = sorted(newest.values(), key=lambda r: (files.index(self.archive / r[0].file),
                                                      r[0].offset))
        self.planned = {(r[0].file, r[0].offset) for r in plan}
        todo = [r for r in plan if (r[0].file, r[0].offset) not in done]
        self.done = self.planned - {(r[0].file, r[0].offset) for r in todo}
        logger.info("Reextracting %d archived page(s) of %d WARC file(s) in %s%s", len(todo),
                    len(files), self.archive,
                    f" ({len(self.done)} done by an earlier run of this job)" if self.done else "")
        return todo

    async def start(self) -> AsyncIterator[Request]:
        # The extraction workers start (and warm up) and the language detector's model loads
        # while the archive is read.
        warm = [self.extractor.extract(_WARM_PAGE, "http://warm.up/")
                for _ in range(self.extractor.workers)]
        plan = asyncio.ensure_future(asyncio.to_thread(self._plan))
        await asyncio.gather(plan, *warm, asyncio.to_thread(detected_language, _WARM_TEXT))
        for location, url, source, date, meta in plan.result():
            request_meta = decode_meta(meta, self._zone(source))
            request_meta.update({keys.SOURCE: source, REPLAY_KEY: location, DATE_KEY: date})
            yield Request(url, callback=self.parse_page, errback=self.on_error,
                          dont_filter=True, meta=request_meta)

    # -- what a crawl does for a fetch, left out ---------------------------------------------

    def follows_links(self, response: Response) -> bool:
        """An archived page's links are not crawled: only the archive is read again."""
        return False

    def _may_render(self, response: Response) -> bool:
        """Only with ``--render``: otherwise the archived rendered page is extracted (the
        newest record of its URL), and nothing is fetched."""
        return self.render and super()._may_render(response)

    def _render_request(self, response: Response) -> Request:
        request = super()._render_request(response)
        for key in (REPLAY_KEY, DATE_KEY):  # the record it stands for
            if key in response.meta:
                request.meta[key] = response.meta[key]
        return request

    def mark_fetched(self, response: Response, kind: str) -> None:
        """A page that gives no article: no URL state to write (nothing was fetched)."""
        location = response.meta.get(REPLAY_KEY)
        if not isinstance(location, Location):
            return
        was_article = ((location.file, location.offset) in self.stored_records
                       or canonicalize_url(response.url) in self.stored_urls)
        response.meta[OUTCOME_KEY] = "newly_refused" if was_article else "still_refused"

    def count(self, outcome: str, value: int = 1) -> None:
        self.counts[outcome] += value
        self._count(f"news/reextract/{outcome}", value)

    def record_done(self, records: list[tuple[str, int]],
                    counts: dict[str, int] | None = None) -> None:
        """Records done (their articles written, or none to write); called in the reactor
        thread and in the store's writer thread."""
        self.done.update(records)
        self.last = time.monotonic()
        if self.checkpoints is not None:
            self.checkpoints.add(records, counts)

    def pages_done(self, location: Location, outcome: str) -> None:
        """A record that gave no article (refused, or its extraction failed): done now;
        checkpointed with the next batch, or in a thread once a batch's worth is pending."""
        self.count(outcome)
        self.record_done([(location.file, location.offset)], {outcome: 1})
        checkpoints = self.checkpoints
        if checkpoints is not None and len(checkpoints.pending) >= self.batch_size:
            asyncio.get_running_loop().run_in_executor(None, checkpoints.flush)

    def _finish(self, reason: str) -> None:
        if self.checkpoints is not None:
            self.checkpoints.flush()
            if reason == "finished" and self.planned <= self.done:
                self.checkpoints.clear()
        total = self.before + self.counts
        stats = self.crawler.stats
        for outcome in OUTCOMES:
            stats.set_value(f"news/reextract/total/{outcome}", total[outcome])
        usage = resource.getrusage(resource.RUSAGE_SELF)  # this process, not its workers
        stats.set_value("news/reextract/process_cpu_ms",
                        round(1000 * (usage.ru_utime + usage.ru_stime)))
        if self.first and self.last > self.first:
            stats.set_value("news/reextract/pages_per_second",
                            round(sum(self.counts[o] for o in OUTCOMES)
                                  / (self.last - self.first), 2))
        logger.info("Reextract %s%s: %d changed, %d unchanged, %d newly articles, "
                    "%d newly refused (%d still refused, %d failed)%s", reason,
                    " (dry run)" if self.dry_run else "", total["changed"], total["unchanged"],
                    total["new_articles"], total["newly_refused"], total["still_refused"],
                    total["failed"],
                    f"; {sum(self.before.values())} done by an earlier run" if self.before
                    else "")


def reextract_settings(settings: Settings, dry_run: bool) -> None:
    """The crawl's settings, turned into a replay of the archive."""
    def replaced(name: str, changes: dict[str, Any]) -> dict[str, Any]:
        current = dict(settings.getdict(name))
        current.update(changes)
        return current

    settings.set("DOWNLOADER_MIDDLEWARES",
                 replaced("DOWNLOADER_MIDDLEWARES",
                          {"crawler.middlewares.archive_replay.ArchiveReplay": 1}),
                 priority="cmdline")
    settings.set("SPIDER_MIDDLEWARES", replaced("SPIDER_MIDDLEWARES", {
        "crawler.middlewares.incremental.IncrementalStateMiddleware": None,  # nothing fetched
        "crawler.middlewares.archive_locations.ArchiveLocations": None,
        "crawler.middlewares.replay_tracker.ReplayTracker": 950}), priority="cmdline")
    settings.set("EXTENSIONS", replaced("EXTENSIONS", {
        "crawler.extensions.archive.WarcArchive": None,
        "crawler.extensions.run_record.RunRecorder": None,
        "crawler.extensions.summary.RunSummary": None,
        "crawler.extensions.progress.Progress": None}), priority="cmdline")
    store = ("pipelines.reextract_store.DryRunStore" if dry_run
             else "pipelines.reextract_store.ReextractStore")
    pipelines = {name: order for name, order in settings.getdict("ITEM_PIPELINES").items()
                 if name != "pipelines.mongo.MongoPipeline"}
    pipelines[store] = 900
    templates = "pipelines.template_strip.TemplateStripPipeline"
    if dry_run and templates in pipelines:  # and a dry run saves no template counts
        pipelines["pipelines.reextract_store.DryRunTemplates"] = pipelines.pop(templates)
    settings.set("ITEM_PIPELINES", pipelines, priority="cmdline")
    settings.set("NEWS_REDIS_URL", "", priority="cmdline")  # one process, never the shared queue
    settings.set("DOWNLOAD_DELAY", 0, priority="cmdline")
    if (settings.getpriority("NEWS_MONGO_FLUSH_INTERVAL") or 0) < SETTINGS_PRIORITIES["cmdline"]:
        # Pages come faster than from the network: the last ones are not left waiting 2 s.
        settings.set("NEWS_MONGO_FLUSH_INTERVAL", 0.5, priority="cmdline")
    settings.set("AUTOTHROTTLE_ENABLED", False, priority="cmdline")


def run_reextract(source: str | None, since: str | None, dry_run: bool, overrides: list[str],
                  json_lines: bool = False, render: bool = False) -> int:
    from crawler.export import parse_since
    from crawler.run import (
        EXIT_ERROR,
        EXIT_FAILED,
        EXIT_OK,
        bootstrap_failed,
        build_settings,
        configure_logging,
        crawl_stats,
    )
    from crawler.sources import SourcesError, load_sources

    settings = build_settings(overrides, None)
    configure_logging(settings, json_lines)
    try:
        names = [s.name for s in load_sources(settings.get("NEWS_SOURCES"))]
    except SourcesError as exc:
        logger.error("%s", exc)
        return EXIT_ERROR
    if source and source not in names:
        logger.error("%s: no source named %r (have: %s)", settings.get("NEWS_SOURCES"), source,
                     ", ".join(names))
        return EXIT_ERROR
    start = parse_since(since) if since else None
    directory = archive_dir(settings)
    if not archive_files(directory):
        logger.error("No WARC archive in %s (setting NEWS_ARCHIVE_DIR): nothing to reextract",
                     directory)
        return EXIT_ERROR
    reextract_settings(settings, dry_run)
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(ReextractSpider)
    done = process.crawl(crawler, since=start, dry_run=dry_run, render=render,
                         job=job_key(source, start, overrides),
                         **({"source": source} if source else {}))
    failures: list[BaseException] = []

    def _failed(failure: Failure) -> None:  # consumed here, not Twisted's "Unhandled error"
        failures.append(failure.value or RuntimeError("reextract failed"))

    done.addErrback(_failed)
    process.start()
    if failures:  # the database down, say: one line and EXIT_ERROR; a bug: its traceback
        return bootstrap_failed(crawler, failures[0])
    reason = crawl_stats(crawler).get("finish_reason")  # none: the crawl did not start
    if reason is None:
        logger.error("reextract did not run; see the errors above")
        return EXIT_ERROR
    return EXIT_OK if reason == "finished" else EXIT_FAILED
