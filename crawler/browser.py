"""Pages that need a browser: Debian's chromium through scrapy-playwright, behind the URL guard.

A page that says it is an article (its structured data declares an article type, or a feed or
news sitemap listed it: ``hinted``) but whose HTML holds almost no text (the extraction
refuses it as too short) is requested once more through the browser, and the DOM its scripts
wrote goes through the same extraction (crawler/spiders/news.py, ``parse_page``). A source
with ``render: browser`` in the sources file has its pages fetched through the browser at once.

- :class:`BrowserAddon` (``ADDONS``) maps our settings to scrapy-playwright's: with
  ``NEWS_BROWSER`` on, :class:`BrowserDownloadHandler` handles http and https; a request
  without ``meta["playwright"]`` goes to Scrapy's own HTTP handler, as before.
- :class:`BrowserDownloadHandler` starts Playwright and chromium when the first page needs
  them (not when the crawl starts) and closes them with the crawl. Every request the browser
  makes passes the crawler's URL guard (crawler/middlewares/url_guard.py: http(s) only, no
  private address unless in ``NEWS_ALLOWED_PRIVATE_NETWORKS``; ``news/browser/blocked``);
  images, media and fonts are not loaded. When chromium is missing or does not start, one
  warning names the Debian package and the setting, and each page that needed it is refused
  as "needs a browser" (``BrowserUnavailable``); the crawl goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import weakref
from pathlib import Path
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page
from playwright.async_api import Request as PlaywrightRequest
from playwright.async_api import TimeoutError as PlaywrightTimeoutError
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.settings import BaseSettings
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler
from scrapy_playwright.page import PageMethod

from crawler import keys
from crawler.defaults import news_bool, news_float, news_int
from crawler.middlewares.url_guard import parse_networks, url_refusal

logger = logging.getLogger(__name__)

BROWSER_KEY = keys.BROWSER  # request.meta: fetched through the browser (at most once a page)
AGAIN_KEY = keys.BROWSER_AGAIN  # request.meta: a page fetched already, now through the browser
REFERS_KEY = keys.ARCHIVE_REFERS  # request.meta: the archive record of the page as fetched
CONTEXT = "news"  # the one browser context all pages share
SKIPPED_TYPES = frozenset({"image", "media", "font"})  # never loaded by the browser
SETTLE_MAX_MS = 5000.0  # the longest wait for the network to go quiet after ``load``
DEFAULT_EXECUTABLE = "/usr/bin/chromium"
PACKAGE = "chromium"  # the Debian package
HANDLER = "crawler.browser.BrowserDownloadHandler"
PRIORITY = "addon"
_ARGS = ["--headless", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--disable-features=NetworkPrediction"]


class BrowserUnavailable(IgnoreRequest):
    """The browser could not be started: the page is refused as "needs a browser"."""


def executable(settings: BaseSettings) -> str:
    """NEWS_BROWSER_EXECUTABLE, or chromium on the PATH, or /usr/bin/chromium."""
    return str(settings.get("NEWS_BROWSER_EXECUTABLE") or "") or shutil.which(PACKAGE) \
        or DEFAULT_EXECUTABLE


class BrowserAddon:
    """With NEWS_BROWSER on, the browser's download handler and scrapy-playwright's settings
    (each at add-on priority: a ``-s PLAYWRIGHT_...`` of the command line wins)."""

    def update_settings(self, settings: BaseSettings) -> None:
        if not news_bool(settings, "NEWS_BROWSER"):
            return
        handlers = dict(settings.getdict("DOWNLOAD_HANDLERS"))
        for scheme in ("http", "https"):
            handlers.setdefault(scheme, HANDLER)  # a handler set explicitly stays
        settings.set("DOWNLOAD_HANDLERS", handlers, PRIORITY)
        args = [*_ARGS, *(["--no-sandbox"] if os.geteuid() == 0 else [])]
        timeout_ms = browser_timeout(settings) * 1000
        for name, value in {
            "PLAYWRIGHT_BROWSER_TYPE": "chromium",
            "PLAYWRIGHT_LAUNCH_OPTIONS": {"executable_path": executable(settings),
                                          "headless": True, "args": args},
            "PLAYWRIGHT_MAX_CONTEXTS": 1,
            "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": max(news_int(settings, "NEWS_BROWSER_PAGES"), 1),
            "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": timeout_ms,
        }.items():
            settings.set(name, value, PRIORITY)


def browser_timeout(settings: BaseSettings) -> float:
    """NEWS_BROWSER_TIMEOUT in seconds (at least one)."""
    return max(news_float(settings, "NEWS_BROWSER_TIMEOUT"), 1.0)


async def settle(page: Page, timeout_ms: float) -> None:
    """After ``load``: wait until the network is quiet (the page's scripts have fetched and
    written what they fetch), at most ``timeout_ms``; a page that never goes quiet is taken
    as it is then."""
    with contextlib.suppress(PlaywrightTimeoutError):
        await page.wait_for_load_state("networkidle", timeout=timeout_ms)


def browser_meta(timeout: float, again: bool = False) -> dict[str, Any]:
    """The ``meta`` of a request fetched through the browser (``timeout``: seconds)."""
    return {
        "playwright": True,
        BROWSER_KEY: True,
        **({AGAIN_KEY: True} if again else {}),
        "playwright_context": CONTEXT,
        "playwright_context_kwargs": {"service_workers": "block", "accept_downloads": False},
        "playwright_page_goto_kwargs": {"wait_until": "load"},
        "playwright_page_methods": [
            PageMethod(settle, min(SETTLE_MAX_MS, timeout * 1000 / 2))],
    }


def rendered(response: Response) -> bool:
    """Whether a response is a page the browser rendered (not a fetch, not a replay)."""
    return "playwright" in response.flags


# The handler of a crawl that runs the browser: Scrapy builds one handler per scheme (http,
# https); the browser pages of both go through the first, so that one chromium runs and
# NEWS_BROWSER_PAGES bounds them all.
_PRIMARY: weakref.WeakKeyDictionary[Crawler, BrowserDownloadHandler] = \
    weakref.WeakKeyDictionary()


class BrowserDownloadHandler(ScrapyPlaywrightDownloadHandler):
    """scrapy-playwright's handler, started at the first page that needs it, behind the URL
    guard. Requests without ``meta["playwright"]`` go to Scrapy's HTTP handler."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        self.allowed = parse_networks(settings.getlist("NEWS_ALLOWED_PRIVATE_NETWORKS"))
        self.executable = executable(settings)
        self.abort_request = self._abort
        self._start_lock = asyncio.Lock()
        self._started = False
        self.unavailable: str | None = None  # why the browser could not be started
        self._blocked_logged: set[str] = set()
        self.primary = _PRIMARY.setdefault(crawler, self)

    async def _maybe_launch_in_thread(self) -> None:
        """Not at the start of the crawl: when the first page needs the browser."""

    def _engine_started(self) -> Any:  # Scrapy < 2.14's hook, the same
        return None

    async def download_request(self, request: Request, *args: Any) -> Response:
        if request.meta.get("playwright"):
            if self.primary is not self:
                return await self.primary.download_request(request, *args)
            await self._start()
        return await super().download_request(request, *args)

    async def _start(self) -> None:
        if self._started:
            return
        async with self._start_lock:
            if self.unavailable is None and not self._started:
                try:
                    if not Path(self.executable).is_file():
                        raise FileNotFoundError(f"no such file: {self.executable}")
                    await self._launch()
                    await self._maybe_launch_browser()
                except (OSError, PlaywrightError) as exc:
                    self.unavailable = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
                    self.stats.inc_value("news/browser/unavailable")
                    logger.warning(
                        "No browser for the pages that need one: chromium %s did not start "
                        "(%s). Install Debian's package %r (apt-get install %s) or point "
                        "NEWS_BROWSER_EXECUTABLE at a chromium; NEWS_BROWSER=False turns "
                        "rendering off. Such pages are refused as 'needs a browser'.",
                        self.executable, self.unavailable, PACKAGE, PACKAGE)
                    with contextlib.suppress(Exception):
                        await self._close()
                    with contextlib.suppress(AttributeError):
                        del self.browser_provider  # closed: not again at the end
                else:
                    self._started = True
                    logger.info("Browser started for the pages that need one: %s",
                                self.executable)
        if self.unavailable is not None:
            raise BrowserUnavailable(f"no browser: {self.unavailable}")

    async def _abort(self, request: PlaywrightRequest) -> bool:
        """PLAYWRIGHT_ABORT_REQUEST: images, media and fonts are not loaded; a request the
        crawler's URL guard refuses is not sent (counted, logged once per host)."""
        if request.resource_type in SKIPPED_TYPES:
            self.stats.inc_value("news/browser/skipped")
            return True
        refused = await url_refusal(request.url, self.allowed)
        if refused is None:
            return False
        self.stats.inc_value("news/browser/blocked")
        if refused.key not in self._blocked_logged:
            self._blocked_logged.add(refused.key)
            logger.warning("Browser request refused %s: %s (further refusals of %s are logged "
                           "at debug level)", request.url[:300], refused.reason, refused.key)
        else:
            logger.debug("Browser request refused %s: %s", request.url[:300], refused.reason)
        return True
