"""Run extraction in a process pool, so the Twisted reactor keeps fetching.

trafilatura is CPU-bound and not safe to call from several threads; a pool of processes sized
to the cores extracts in parallel. Workers are started with ``spawn`` (never forked from the
reactor's process) and recycled after a number of pages, which bounds the memory trafilatura's
caches grow to.

A page may be handed over as it was downloaded (:class:`crawler.encoding.EncodedPage`, the
body and its encoding): it is decoded in the worker (:func:`run_task`), so that the crawl
process never holds the text of a page waiting for a worker, nor spends its time decoding.

Language detection for pages that declare none runs here, in the crawl process, after the
worker returns: the detector's model takes 74 MB in every process that loads it, so one copy
instead of one per worker (and again after each recycling). The result is the same.

The pool is pebble's ``ProcessPool``: one page gets at most ``timeout`` seconds of a worker;
a page that takes longer is given up and its worker is killed and replaced. A worker that dies
(segfault, out of memory) is replaced as well, and a pool that breaks as a whole is recreated.
Either way :meth:`ExtractionPool.extract` returns a result with ``extract_error`` set
(``"timeout"`` or ``"error"``) instead of raising, so one page never stops the crawl.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from pebble import ProcessExpired, ProcessPool

from crawler.encoding import EncodedPage
from crawler.extraction.article import detected_language, extract_article
from crawler.items import ArticleItem, Extraction
from crawler.layouts.task import extract_page
from crawler.logjson import install_in_child

logger = logging.getLogger(__name__)

TIMEOUT = "timeout"
ERROR = "error"


# A page through every step of the extraction, so that what trafilatura loads lazily is loaded
# before a page's clock runs. Its date is one htmldate reads itself. A date htmldate hands on to
# dateparser and that no locale reads makes dateparser compile its patterns for all its ~200
# locales: 2-3 s of CPU, which the warm-up paid in every worker until this was measured, for a
# call that a real page seldom causes (1 page in the 439 of ../shared/eval) and that then costs
# that page 0.05-2.4 s of its 30 s timeout, once a worker.
_WARM_UP_PAGE = ("<html><body><article><p>Published on 1 January 2020 at 10:00.</p></article>"
                 "</body></html>")


def _init_worker() -> None:
    install_in_child()  # JSON log lines when the crawl logs them (crawler/logjson.py)
    _warm_up()


def _warm_up() -> None:
    """Worker initializer: load what trafilatura and its date parsers load lazily, before the
    clock of a page runs (a fresh worker would otherwise spend part of its first page's
    ``timeout`` on it, and a replaced one again)."""
    extract_article(_WARM_UP_PAGE, "http://warm.up/")


def _detect_language(item: ArticleItem) -> None:
    """Fill in the language of a page that declares none; a failing detector costs the
    language, never the page."""
    try:
        item.language, item.language_source = detected_language(item.paragraphs)
    except Exception:
        logger.exception("Language detection failed for %s", item.url)


def run_task(task: Callable[..., Extraction], page: str | EncodedPage, url: str,
             kwargs: dict[str, Any]) -> Extraction:
    """In a worker: the page decoded when it comes as downloaded, then ``task`` on its text."""
    repaired = False
    if isinstance(page, EncodedPage):
        page, repaired = page.decoded()
    result = task(page, url, **kwargs)
    result.encoding_repaired = repaired
    return result


def failed_result(url: str, error: str) -> Extraction:
    """What :meth:`ExtractionPool.extract` returns for a page it could not extract."""
    return Extraction.nothing(url, f"extraction {error}", extract_error=error)


class ExtractionPool:
    def __init__(self, workers: int | None = None, max_tasks_per_child: int = 10_000,
                 min_words: int = 80, timeout: float = 30.0,
                 task: Callable[..., Extraction] = extract_page) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.max_tasks_per_child = max_tasks_per_child
        self.min_words = min_words
        self.timeout = timeout
        self.task = task  # a module-level function (workers import it); tests swap it
        self.in_flight = 0
        self.restarts = 0
        self._executor: ProcessPool | None = None

    def _pool(self) -> ProcessPool:
        if self._executor is not None and not self._executor.active:
            logger.error("Extraction pool broke down: starting a new one")
            self._discard()
            self.restarts += 1
        if self._executor is None:
            self._executor = ProcessPool(
                max_workers=self.workers,
                max_tasks=max(self.max_tasks_per_child, 0),
                initializer=_init_worker if self._ours else install_in_child,
                context=multiprocessing.get_context("spawn"),
            )
            logger.info("Extraction pool: %d worker processes", self.workers)
        return self._executor

    @property
    def _ours(self) -> bool:
        return self.task in (extract_page, extract_article)

    async def extract(self, html: str | EncodedPage, url: str, *, hinted: bool = False,
                      **task_kwargs: Any) -> Extraction:
        """Extract one page in a worker process without blocking the event loop
        (``html``: its text, or its body to decode there; ``task_kwargs``: for the task, e.g.
        the site's layouts for ``extract_page``).

        Never raises for a page: a page that times out or kills its worker gets
        :func:`failed_result` (``extract_error`` set), and the pool goes on.
        """
        self.in_flight += 1
        try:
            kwargs: dict[str, Any] = {"min_words": self.min_words, "hinted": hinted,
                                      **task_kwargs}
            detect_here = self._ours
            if detect_here:
                kwargs["detect_language"] = False
            future = self._pool().schedule(
                run_task, args=(self.task, html, url, kwargs),
                timeout=self.timeout if self.timeout > 0 else None)
            result: Extraction = await asyncio.wrap_future(future)
            if detect_here and result.item.language is None:
                _detect_language(result.item)
            return result
        except TimeoutError:
            logger.warning("Extraction of %s took more than %s s: page skipped, worker replaced",
                           url, self.timeout)
            return failed_result(url, TIMEOUT)
        except ProcessExpired as exc:
            logger.error("Extraction worker died on %s (exit code %s): page skipped, worker "
                         "replaced", url, exc.exitcode)
            return failed_result(url, ERROR)
        except BrokenProcessPool as exc:
            logger.error("Extraction pool failed on %s (%s): page skipped, pool recreated",
                         url, exc)
            self._discard()
            self.restarts += 1
            return failed_result(url, ERROR)
        except Exception:
            logger.exception("Extraction of %s failed: page skipped", url)
            return failed_result(url, ERROR)
        finally:
            self.in_flight -= 1

    def _discard(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.stop()
            executor.join(timeout=10)

    def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        executor.close()
        try:
            executor.join(timeout=max(self.timeout, 1.0) + 5.0)
        except TimeoutError:
            executor.stop()
            executor.join(timeout=10)
