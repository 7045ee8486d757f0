"""Ctrl-C and SIGTERM: a clean stop, and at a second signal a stop at once (docs/cron.md).

``newscrawl run`` and ``scrapy crawl`` start their crawl with Scrapy's signal handlers off and
these instead (:meth:`Interrupts.install`), so that SIGTERM (cron's ``timeout``) and SIGINT
(Ctrl-C) behave alike and the run knows it was interrupted:

- the first signal stops the crawl cleanly: nothing new is fetched; the pages being fetched or
  extracted are finished; held articles whose site's template is learned are stored, the
  others not (fetched again next run: pipelines/template_strip.py); the buffered articles and
  their URL state are written; the run is recorded ``interrupted`` (crawler/extensions/
  run_record.py). The crawler's stat ``news/run/interrupted`` names the signal.
- a second signal stops at once: whatever was written stays written with its URL state (an
  article's state is written only after the article), whatever was not (held or buffered
  articles) is fetched again by the next run. The run's record is marked ``interrupted`` by
  :func:`crawler.run.finish_interrupted` once the reactor has stopped.

Either way the process exits with :data:`EXIT_INTERRUPTED` (128 + SIGINT, the shell's code
for a command stopped by Ctrl-C).
"""

from __future__ import annotations

import contextlib
import logging
import signal
from collections.abc import Iterable
from types import FrameType
from typing import Any

from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro

logger = logging.getLogger(__name__)

EXIT_INTERRUPTED = 130  # stopped by SIGINT or SIGTERM
STAT = "news/run/interrupted"  # the signal's name, once one was received
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupts:
    """The signals a crawl process received, and what it does about them. ``process``: a
    Scrapy ``CrawlerProcess`` (or ``AsyncCrawlerProcess``), started with
    ``install_signal_handlers=False``."""

    def __init__(self, process: Any, crawlers: Iterable[Crawler] = ()) -> None:
        self.process = process
        self.crawlers = list(crawlers)
        self.received: list[str] = []  # signal names, in order

    @property
    def interrupted(self) -> bool:
        return bool(self.received)

    @property
    def at_once(self) -> bool:
        """A second signal stopped the crawl without its clean end."""
        return len(self.received) > 1

    def install(self) -> None:
        for signum in SIGNALS:
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # Nothing but bookkeeping here (logging in a signal handler may deadlock): the rest
        # runs in the reactor thread.
        from twisted.internet import reactor

        name = signal.Signals(signum).name
        self.received.append(name)
        if len(self.received) == 1:
            reactor.callFromThread(self._stop, name)
        elif len(self.received) == 2:
            reactor.callFromThread(self._stop_at_once, name)

    def _stop(self, name: str) -> None:
        logger.warning("Received %s: stopping cleanly (the pages being fetched are finished; "
                       "held articles whose site's template is not learned yet are not stored "
                       "and are fetched again next run). Send it again to stop at once.", name)
        for crawler in self.crawlers:
            with contextlib.suppress(RuntimeError):  # no stats: the crawl has not started
                crawler.stats.set_value(STAT, name)
        deferred_from_coro(self.process.stop())

    def _stop_at_once(self, name: str) -> None:
        from twisted.internet import reactor

        logger.warning("Received %s again: stopping at once; the articles not written yet are "
                       "fetched again next run", name)
        with contextlib.suppress(RuntimeError):  # stopping already
            reactor.stop()  # type: ignore[misc]
