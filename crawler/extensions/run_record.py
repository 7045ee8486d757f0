"""Record every crawl in ``crawl_runs``: start, end, outcome and per-source counts.

The record is written when the spider opens (``status: running``) and replaced when it closes.
Only crawls are runs: ``scrapy shell`` and ``scrapy parse`` set ``NEWS_RUN_RECORD`` to False
(crawler/commands) and record nothing. A run that is killed leaves its record ``running``; the
next run marks such records whose process is gone as ``killed``. A run stopped by SIGINT or
SIGTERM (crawler/interrupt.py) is recorded ``interrupted``, outcome ``failed``, with the reason
in ``problems`` (its partial counts are not judged). Otherwise the outcome is ``failed``
when a source failed entirely (nothing listed, nothing fetched, only errors) or its extraction
health collapsed (most fetched pages with empty text, or not one article among many pages).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import PyMongoError
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.database import Database, stores_articles
from crawler.defaults import news_bool, news_float
from crawler.interrupt import STAT as INTERRUPTED
from crawler.per_source import SourceCounts
from crawler.report.source_counts import HEALTH_MIN_PAGES, health

logger = logging.getLogger(__name__)

def _kept(c: dict[str, int], storing: bool) -> int:
    """The articles a run kept: those stored, or, when it stores none (no storage pipeline:
    a feed export), those it found."""
    return c["stored_new"] + c["updated"] + c["unchanged"] if storing else c["articles"]


def judge(counts: dict[str, dict[str, int]], storing: bool = True) -> list[str]:
    """The problems of a run, one sentence per failing source; empty when all went well."""
    problems = []
    for name, c in sorted(counts.items()):
        stored = _kept(c, storing)
        seen = c["discovered"] + c["fetched"] + c["not_modified"]
        if seen == 0 and c["errors"] > 0:
            problems.append(f"source {name}: failed entirely ({c['errors']} fetch errors, "
                            f"nothing fetched)")
        elif seen == 0 and c["skipped_not_due"] + c["skipped_too_old"] == 0:
            problems.append(f"source {name}: nothing found to crawl")
        elif c["fetched"] >= HEALTH_MIN_PAGES and c["empty_text"] > c["fetched"] / 2:
            problems.append(f"source {name}: extraction health collapsed "
                            f"({c['empty_text']} of {c['fetched']} pages with empty text)")
        elif (c["fetched"] >= HEALTH_MIN_PAGES and stored == 0 and c["not_modified"] == 0
              and c["skipped_not_due"] == 0):
            # Not one article among many pages, and none known from before: extraction or
            # article detection broke (a no-change run fetches listing pages only, fine).
            problems.append(f"source {name}: no article among {c['fetched']} pages fetched")
    return problems


def summarize(counts: dict[str, dict[str, int]], max_age_days: float,
              problems: list[str] | None = None, storing: bool = True,
              ) -> list[tuple[int, str]]:
    """What happened to each source, as (log level, line): its counts, the listed entries
    skipped as too old and the setting that keeps them, and why nothing was stored."""
    lines: list[tuple[int, str]] = []
    for name, c in sorted(counts.items()):
        stored = _kept(c, storing)
        lines.append((logging.INFO, (
            f"Source {name}: {c['discovered']} listed, {c['fetched']} fetched, "
            f"{c['not_modified']} not modified, {c['stored_new']} new, {c['updated']} updated, "
            f"{c['unchanged']} unchanged, {c['rejected']} not articles, {c['errors']} errors, "
            f"{c['skipped_too_old']} too old, {c['skipped_not_due']} not due")))
        if c["skipped_too_old"]:
            lines.append((logging.INFO, (
                f"Source {name}: {c['skipped_too_old']} listed entries skipped as older than "
                f"{max_age_days:g} days (setting NEWS_MAX_AGE_DAYS; 0 keeps them)")))
        if stored or any(p.startswith(f"source {name}:") for p in problems or []):
            continue  # stored something, or the problem is logged as an error already
        if c["skipped_too_old"] and not c["discovered"] - c["skipped_too_old"]:
            why = (f"every listed entry ({c['skipped_too_old']}) is older than "
                   f"NEWS_MAX_AGE_DAYS={max_age_days:g}")
        elif c["skipped_not_due"] or c["not_modified"]:  # an incremental run, all known
            lines.append((logging.INFO, f"Source {name}: nothing new or changed"))
            continue
        elif c["rejected"] and c["rejected"] == c["fetched"]:
            why = f"the {c['fetched']} page(s) fetched hold no article"
        else:
            why = (f"{c['fetched']} page(s) fetched, {c['rejected']} not articles, "
                   f"{c['errors']} fetch errors")
        lines.append((logging.WARNING, f"Source {name}: no article stored: {why}"))
    return lines


class RunRecorder:
    def __init__(self, crawler: Crawler, run_id: str | None = None,
                 max_age_days: float = 7.0, recorded: bool = True) -> None:
        self.crawler = crawler  # its stats, and its database (opened when the spider opens)
        self.run_id = run_id or uuid.uuid4().hex
        self.max_age_days = max_age_days
        self.recorded = recorded  # False: articles are not stored, no database (logs only)
        self.started_at = datetime.now(UTC)
        self.record: dict[str, Any] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecorder:
        if not news_bool(crawler.settings, "NEWS_RUN_RECORD"):
            raise NotConfigured("not a crawl: scrapy shell or scrapy parse")
        recorder = cls(crawler, crawler.settings.get("NEWS_RUN_ID") or None,
                       max_age_days=news_float(crawler.settings, "NEWS_MAX_AGE_DAYS"),
                       recorded=stores_articles(crawler.settings))
        crawler.signals.connect(recorder.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        return recorder

    def _collection(self) -> Any:
        return Database.for_crawler(self.crawler).db["crawl_runs"]

    def _sources(self, spider: Spider) -> list[str]:
        return [s.name for s in getattr(spider, "sources", [])]

    def spider_opened(self, spider: Spider) -> None:
        self.started_at = datetime.now(UTC)
        self.record = {"_id": self.run_id, "started_at": self.started_at, "ended_at": None,
                       "status": "running", "outcome": None, "problems": [],
                       "sources": self._sources(spider), "host": socket.gethostname(),
                       "pid": os.getpid(), "counts": {}}
        if not self.recorded:
            logger.info("Run %s not recorded in crawl_runs: articles are not stored "
                        "(pipelines.mongo.MongoPipeline is not in ITEM_PIPELINES)", self.run_id)
            return
        try:
            collection = self._collection()
            self._mark_killed(collection)
            collection.replace_one({"_id": self.run_id}, self.record, upsert=True)
        except PyMongoError as exc:
            logger.warning("crawl_runs record not written: %s", type(exc).__name__)

    def _mark_killed(self, collection: Any) -> None:
        host = socket.gethostname()
        for old in collection.find({"status": "running", "host": host}):
            if old["pid"] != os.getpid() and not _alive(old["pid"]):
                collection.replace_one({"_id": old["_id"]},
                                       {**old, "status": "killed", "outcome": "failed"})
                logger.warning("Run %s (pid %s) had been killed; marked as such",
                               old["_id"], old["pid"])

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = self.crawler.stats.get_stats()
        counts = SourceCounts.for_crawler(self.crawler).of(self._sources(spider))
        interrupted = stats.get(INTERRUPTED) or (reason == "shutdown" and "a stop request")
        if interrupted:  # partial counts: no source is judged on them
            problems = [interruption(str(interrupted), stats)]
        else:
            problems = judge(counts, storing=self.recorded)
            if reason != "finished":
                problems.append(f"crawl ended early: {reason}")
        outcome = "failed" if problems else "ok"
        for level, line in summarize(counts, self.max_age_days, problems,
                                     storing=self.recorded):
            if not (interrupted and level > logging.INFO):  # "no article stored": it stopped
                logger.log(level, "%s", line)
        for problem in problems:
            logger.log(logging.WARNING if interrupted else logging.ERROR, "Run %s: %s",
                       self.run_id, problem)
        shares = health(counts)
        for name, values in shares.items():
            for metric, share in values.items():
                self.crawler.stats.set_value(f"news/health/{name}/{metric}", share)
        self.record["health"] = shares
        self.crawler.stats.set_value("news/run/outcome", outcome)
        self.crawler.stats.set_value("news/run/id", self.run_id)
        status = "interrupted" if interrupted else "finished"
        self.record.update({"ended_at": datetime.now(UTC), "status": status,
                            "finish_reason": reason, "outcome": outcome,
                            "problems": problems, "counts": counts})
        self._write()
        logger.info("Run %s %s: %s", self.run_id, status, outcome)

    def stopped_at_once(self, signals_received: list[str]) -> None:
        """The crawl was stopped at once (a second SIGINT or SIGTERM): the spider never
        closed. Record the run ``interrupted``, with the counts it had."""
        if not self.record or self.record.get("status") != "running":
            return  # not opened, or recorded already
        counts = SourceCounts.for_crawler(self.crawler).of(self.record.get("sources") or [])
        why = " then ".join(signals_received)
        problems = [f"interrupted by {why}: stopped at once; the articles not written yet "
                    f"are fetched again next run"]
        self.crawler.stats.set_value("news/run/outcome", "failed")
        self.record.update({"ended_at": datetime.now(UTC), "status": "interrupted",
                            "finish_reason": "stopped at once", "outcome": "failed",
                            "problems": problems, "counts": counts, "health": health(counts)})
        self._write()
        logger.warning("Run %s: %s", self.run_id, problems[0])
        logger.info("Run %s interrupted: failed", self.run_id)

    def _write(self) -> None:
        if not self.recorded:
            return
        try:
            self._collection().replace_one({"_id": self.run_id}, self.record, upsert=True)
        except PyMongoError as exc:
            logger.warning("crawl_runs record not written: %s", type(exc).__name__)


def interruption(signal_name: str, stats: dict[str, Any]) -> str:
    """The problem of a run stopped by a signal: what it left for the next run."""
    dropped = int(stats.get("news/templates/not_stored", 0) or 0)
    left = (f"; {dropped} held article(s) not stored (their site's template was not learned "
            f"yet), fetched again next run" if dropped else "")
    return f"interrupted by {signal_name}: the crawl stopped early{left}"


def _alive(pid: int) -> bool:
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError):
        return False
    return True
