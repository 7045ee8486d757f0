"""``newscrawl run``: one scheduled crawl, as cron runs it.

It validates the sources file, takes a lock per sources file (a second run started while the
first is going exits at once with ``EXIT_LOCKED``), runs the ``news`` spider in this process and
turns the run's outcome into the exit code (``EXIT_INTERRUPTED`` when SIGINT or SIGTERM stopped
it: crawler/interrupt.py).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings
from scrapy.utils.project import get_project_settings
from twisted.python.failure import Failure

from crawler.config import ConfigError, check_settings, operator_error
from crawler.defaults import news_get
from crawler.interrupt import EXIT_INTERRUPTED, Interrupts
from crawler.sources import SourcesError, load_sources

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1  # a source failed entirely or its extraction health collapsed
EXIT_ERROR = 2  # bad configuration or database unreachable: nothing was crawled
EXIT_LOCKED = 75  # another run holds the lock (EX_TEMPFAIL): try again next time
__all__ = ["EXIT_ERROR", "EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_LOCKED", "EXIT_OK", "run"]


class LockHeld(RuntimeError):
    pass


@contextmanager
def run_lock(data_dir: Path, sources: Path, kind: str = "run") -> Iterator[Path]:
    """An exclusive, non-blocking lock per sources file (and ``kind``: ``run``, or a worker
    slot), released when the process ends."""
    key = hashlib.sha256(str(sources.resolve()).encode()).hexdigest()[:16]
    path = data_dir / "locks" / f"{kind}-{key}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle: IO[str] = open(path, "a+")  # noqa: SIM115 - held for the whole run
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            raise LockHeld(f"another newscrawl {kind} (pid {holder}) is crawling {sources}; "
                           f"lock {path}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield path
    finally:
        handle.close()


def build_settings(overrides: list[str], sources: str | None) -> Settings:
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    settings = get_project_settings()
    for item in overrides:
        name, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"-s expects NAME=VALUE, got {item!r}")
        settings.set(name.strip(), value, priority="cmdline")
    if sources:
        settings.set("NEWS_SOURCES", sources, priority="cmdline")
    return settings


def configure_logging(settings: Settings, json_lines: bool) -> None:
    if json_lines:  # every line JSON, times with their zone (crawler/logjson.py)
        from crawler.logjson import install

        install(settings.get("LOG_LEVEL", "INFO"))
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(settings.get("LOG_LEVEL", "INFO"))
    handler.setFormatter(logging.Formatter(settings.get("LOG_FORMAT"),
                                           settings.get("LOG_DATEFORMAT")))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.get("LOG_LEVEL", "INFO"))


def run(source: str | None, sources: str | None, overrides: list[str],
        json_lines: bool = False) -> int:
    settings = build_settings(overrides, sources)
    configure_logging(settings, json_lines)
    sources_path = Path(settings.get("NEWS_SOURCES"))
    try:
        check(settings)
        names = [s.name for s in load_sources(sources_path)]
    except (ConfigError, SourcesError) as exc:
        logger.error("%s", exc)
        return EXIT_ERROR
    if source and source not in names:
        logger.error("%s: no source named %r (have: %s)", sources_path, source, ", ".join(names))
        return EXIT_ERROR
    try:
        with run_lock(Path(news_get(settings, "NEWS_DATA_DIR")), sources_path):
            return _crawl(settings, source)
    except LockHeld as exc:
        logger.warning("Not crawling: %s", exc)
        return EXIT_LOCKED


def check(settings: Settings) -> None:
    """Raise ConfigError for a wrong setting; log a warning for each unknown NEWS_ name."""
    for warning in check_settings(settings):
        logger.warning("%s", warning)


def _crawl(settings: Settings, source: str | None) -> int:
    from crawler.spiders.news import NewsSpider

    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(NewsSpider)
    failures: list[BaseException] = []
    done = process.crawl(crawler, **({"source": source} if source else {}))

    def _failed(failure: Failure) -> None:  # consumed here: logged below, once
        failures.append(failure.value or RuntimeError("the crawl failed"))

    done.addErrback(_failed)
    interrupts = Interrupts(process, [crawler])
    interrupts.install()
    process.start(install_signal_handlers=False)
    if interrupts.at_once:
        finish_interrupted(crawler, interrupts)
    if failures:
        return bootstrap_failed(crawler, failures[0])
    if interrupts.interrupted:
        return EXIT_INTERRUPTED
    outcome = crawl_stats(crawler).get("news/run/outcome")
    if outcome is None:  # the crawl did not start
        logger.error("The crawl did not run; see the errors above")
        return EXIT_ERROR
    return EXIT_OK if outcome == "ok" else EXIT_FAILED


def crawl_stats(crawler: Crawler) -> dict[str, Any]:
    """The stats of a crawl once it ran; empty for a crawler that never started (Scrapy sets
    ``Crawler.stats`` when the crawl starts, and reading it before raises RuntimeError)."""
    try:
        stats = crawler.stats
    except RuntimeError:
        return {}
    return dict(stats.get_stats())


def finish_interrupted(crawler: Crawler, interrupts: Interrupts) -> None:
    """After a stop at once (the spider never closed): record the run ``interrupted`` and
    leave the database (the embedded server stops if no other process uses it)."""
    from crawler.database import Database
    from crawler.extensions.run_record import RunRecorder

    try:
        recorder = crawler.get_extension(RunRecorder)
    except RuntimeError:  # stopped before its extensions were built
        recorder = None
    if recorder is not None:
        recorder.stopped_at_once(interrupts.received)
    database = Database.opened_for(crawler)
    if database is not None:
        database.close()


def bootstrap_failed(crawler: Crawler, error: BaseException) -> int:
    """A crawl that failed to start: one line for an operator error (exit 2), a traceback for
    anything else (exit 1). The embedded database it may have started is stopped."""
    from crawler.database import Database

    database = Database.opened_for(crawler)
    if database is not None:
        database.close()
    message = operator_error(error)
    if message is not None:
        logger.error("%s", message)
        return EXIT_ERROR
    logger.error("The crawl failed to start", exc_info=error)
    return EXIT_FAILED
