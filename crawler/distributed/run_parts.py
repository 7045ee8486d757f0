"""``crawl_runs`` records of a distributed crawl: one per run, whatever the number of workers.

A run begins when a seeder finds the shared crawl idle (:meth:`SharedCrawl.begin_or_join`). Each
worker writes its share of the run's per-source counts to ``crawl_run_parts`` (one document per
run and worker, replaced whole every ``NEWS_REDIS_RECORD_INTERVAL`` seconds and at close, so a
killed worker's counts survive up to its last write). The worker that closes when the shared
crawl is idle sums the parts, judges the run as a single-process run is judged
(:func:`crawler.extensions.run_record.judge`) and replaces the run's ``crawl_runs`` document;
a part whose worker died is marked ``killed``. A later run finishes the record of a run no
worker finished (all killed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError, PyMongoError
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.database import Database, stores_articles
from crawler.defaults import news_bool, news_float
from crawler.distributed.shared import SharedCrawl
from crawler.extensions.run_record import judge
from crawler.per_source import SourceCounts
from crawler.report.source_counts import EVENTS

logger = logging.getLogger(__name__)

Counts = dict[str, dict[str, int]]


def subtract(now: Counts, base: Counts) -> Counts:
    return {name: {event: value - base.get(name, {}).get(event, 0)
                   for event, value in events.items()}
            for name, events in now.items()}


def add(total: Counts, part: Counts) -> None:
    for name, events in part.items():
        into = total.setdefault(name, dict.fromkeys(EVENTS, 0))
        for event, value in events.items():
            into[event] = into.get(event, 0) + int(value)


def _empty(counts: Counts) -> bool:
    return not any(v for events in counts.values() for v in events.values())


class RunRecords:
    """The ``crawl_runs`` and ``crawl_run_parts`` documents of distributed runs (plain)."""

    def __init__(self, db: Any, shared: SharedCrawl) -> None:
        self.runs = db["crawl_runs"]
        self.parts = db["crawl_run_parts"]
        self.shared = shared

    def ensure_run(self, run: dict[str, Any]) -> None:
        """The run's record, ``running``, unless it exists. Host and pid stay empty: the record
        belongs to no single process (a single-process run marks dead processes' records)."""
        with contextlib.suppress(DuplicateKeyError):
            self.runs.insert_one({
                "_id": run["id"], "started_at": _parse(run.get("started_at")), "ended_at": None,
                "status": "running", "outcome": None, "problems": [], "sources": run["sources"],
                "host": None, "pid": None, "mode": "distributed", "seeded_by":
                f"{run.get('host')}:{run.get('pid')}", "counts": {}, "workers": [],
                "finalized_parts": -1})

    def write_part(self, run: dict[str, Any], worker: str, started_at: datetime,
                   counts: Counts, status: str) -> None:
        self.parts.replace_one({"_id": f"{run['id']}:{worker}"}, {
            "_id": f"{run['id']}:{worker}", "run": run["id"], "worker": worker,
            "host": socket.gethostname(), "pid": os.getpid(), "started_at": started_at,
            "updated_at": datetime.now(UTC), "status": status, "counts": counts}, upsert=True)

    def finalize(self, run_id: str) -> dict[str, Any] | None:
        """Sum the run's parts into its record; returns the record (None when a more complete
        record was written meanwhile by another worker)."""
        record = self.runs.find_one({"_id": run_id}) or {
            "_id": run_id, "started_at": datetime.now(UTC), "sources": [], "mode": "distributed"}
        parts = list(self.parts.find({"run": run_id}))
        # The run's seeded sources, and any other source a worker counted something for.
        totals: Counts = {name: dict.fromkeys(EVENTS, 0) for name in record.get("sources", [])}
        workers = []
        for part in parts:
            if part["status"] == "running" and not self.shared.alive(part["worker"]):
                part["status"] = "killed"
                self.parts.replace_one({"_id": part["_id"]}, part)
                logger.warning("Run %s: worker %s had died; its in-flight requests were done "
                               "by others", run_id, part["worker"])
            add(totals, {name: events for name, events in (part.get("counts") or {}).items()
                         if name in totals or any(events.values())})
            workers.append({"worker": part["worker"], "status": part["status"]})
        problems = judge(totals)
        finished = sum(1 for w in workers if w["status"] != "running")
        record.update({"ended_at": datetime.now(UTC), "status": "finished",
                       "outcome": "failed" if problems else "ok", "problems": problems,
                       "finish_reason": "finished", "sources": sorted(totals), "counts": totals,
                       "workers": workers, "finalized_parts": finished})
        result = self.runs.replace_one(
            {"_id": run_id, "finalized_parts": {"$lte": finished}}, record)
        if result.matched_count == 0:
            if self.runs.count_documents({"_id": run_id}):
                return None  # a record summing more parts is already there
            self.runs.insert_one(record)
        return record

    def unfinished(self, current: str | None) -> list[str]:
        """Distributed runs other than ``current`` whose record is still ``running``."""
        return [doc["_id"] for doc in self.runs.find({"mode": "distributed",
                                                      "status": "running"}, {"_id": 1})
                if doc["_id"] != current]


def _parse(value: Any) -> datetime:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return datetime.now(UTC)


class DistributedRunRecorder:
    def __init__(self, crawler: Crawler, shared: SharedCrawl, interval: float = 10.0) -> None:
        self.crawler = crawler  # its stats, and its database (opened when the spider opens)
        self.shared = shared
        self.interval = interval
        self.records: RunRecords | None = None
        self.run: dict[str, Any] | None = None
        self.baseline: Counts = {}
        self.started_at = datetime.now(UTC)
        self.sources: list[str] = []
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DistributedRunRecorder:
        if not news_bool(crawler.settings, "NEWS_RUN_RECORD"):
            raise NotConfigured("not a crawl: scrapy shell or scrapy parse")
        if not stores_articles(crawler.settings):
            logger.info("Run not recorded in crawl_runs: articles are not stored "
                        "(pipelines.mongo.MongoPipeline is not in ITEM_PIPELINES)")
            raise NotConfigured("articles are not stored: no crawl_runs record")
        recorder = cls(crawler, SharedCrawl.for_crawler(crawler),
                       news_float(crawler.settings, "NEWS_REDIS_RECORD_INTERVAL"))
        crawler.signals.connect(recorder.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        return recorder

    def _counts(self) -> Counts:
        return SourceCounts.for_crawler(self.crawler).of(self.sources)

    def spider_opened(self, spider: Spider) -> None:
        self.started_at = datetime.now(UTC)
        self.sources = [s.name for s in getattr(spider, "sources", [])]
        self.records = RunRecords(Database.for_crawler(self.crawler).db, self.shared)
        try:
            current = self.shared.current_run()
            for run_id in self.records.unfinished(current["id"] if current else None):
                self.records.finalize(run_id)
                logger.info("Run %s had been left unfinished; its record is now complete", run_id)
        except PyMongoError as exc:
            logger.warning("crawl_runs not readable: %s", type(exc).__name__)
        self._task = asyncio.ensure_future(self._periodically())

    async def _periodically(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                self.write("running")
            except Exception as exc:
                logger.warning("Run part not written: %s: %s", type(exc).__name__, exc)

    def write(self, status: str) -> None:
        """Write this worker's counts to the current run's part (switching runs if a new run
        began since the last write)."""
        assert self.records is not None  # opened with the spider
        run = self.shared.current_run()
        if run is None:
            return
        counts = self._counts()
        if self.run is None or self.run["id"] != run["id"]:
            if self.run is not None:
                share = subtract(counts, self.baseline)
                if not _empty(share):
                    self.records.write_part(self.run, self.shared.worker, self.started_at,
                                            share, "finished")
                self.baseline = counts
                self.started_at = datetime.now(UTC)
            self.run = run
            self.records.ensure_run(run)
        self.records.write_part(run, self.shared.worker, self.started_at,
                                subtract(counts, self.baseline), status)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self._task is not None:
            self._task.cancel()
        outcome = "ok" if reason == "finished" else "failed"
        try:
            self.write("finished")
            if self.run is not None and self.shared.status().idle:
                record = self.records.finalize(self.run["id"]) if self.records else None
                if record is not None:
                    outcome = record["outcome"]
                    for problem in record["problems"]:
                        logger.error("Run %s: %s", self.run["id"], problem)
                    logger.info("Run %s finished: %s (%d worker(s))", self.run["id"], outcome,
                                len(record["workers"]))
            elif self.run is not None:
                logger.info("Leaving run %s, which other workers go on with", self.run["id"])
        except (PyMongoError, OSError) as exc:
            logger.warning("crawl_runs record not written: %s", type(exc).__name__)
        except Exception as exc:
            logger.warning("crawl_runs record not written: %s: %s", type(exc).__name__, exc)
        self.crawler.stats.set_value("news/run/outcome", outcome)
        if self.run is not None:
            self.crawler.stats.set_value("news/run/id", self.run["id"])
