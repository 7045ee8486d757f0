"""``scrapy crawl``, with configuration errors as one line and exit code 2, and SIGINT / SIGTERM
as in ``newscrawl run`` (exit code 130; docs/cron.md)."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from scrapy import signals
from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.crawler import Crawler
from scrapy.extensions.feedexport import FeedExporter

from crawler.config import ConfigError
from crawler.interrupt import EXIT_INTERRUPTED, Interrupts
from crawler.run import EXIT_ERROR, bootstrap_failed, check, finish_interrupted

logger = logging.getLogger(__name__)


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            super().run(args, opts)  # Scrapy's usage errors
            return
        assert self.crawler_process is not None and self.settings is not None
        try:
            check(self.settings)
        except ConfigError as exc:
            logger.error("%s", exc)
            self.exitcode = EXIT_ERROR
            return
        crawler = self.crawler_process.create_crawler(args[0])
        crawler.signals.connect(_warn_if_feeds_unused, signal=signals.engine_started)
        task: Any = self.crawler_process.crawl(crawler, **opts.spargs)
        interrupts = Interrupts(self.crawler_process, [crawler])
        interrupts.install()
        self.crawler_process.start(install_signal_handlers=False)
        if interrupts.at_once:
            finish_interrupted(crawler, interrupts)
        error = _failure(task)
        if error is not None:
            self.exitcode = bootstrap_failed(crawler, error)
        elif self.crawler_process.bootstrap_failed:
            self.exitcode = 1
        elif interrupts.interrupted:
            self.exitcode = EXIT_INTERRUPTED


def _warn_if_feeds_unused(sender: Crawler) -> None:
    """What Scrapy's own ``crawl`` command says of ``-o`` without its feed exporter."""
    if sender.settings.getdict("FEEDS") and sender.get_extension(FeedExporter) is None:
        logger.warning("The FeedExporter extension is not enabled, so no item will be "
                       "exported to the configured feeds (FEEDS, -o, -O).")


def _failure(task: Any) -> BaseException | None:
    """The exception a crawl ended with (an asyncio task, or a Deferred with
    FORCE_CRAWLER_PROCESS), marked as handled."""
    if isinstance(task, asyncio.Future):
        if not task.done() or task.cancelled():
            return None
        return task.exception()
    failures: list[BaseException] = []

    def _failed(failure: Any) -> None:
        failures.append(failure.value)

    task.addErrback(_failed)
    return failures[0] if failures else None

