"""Apply the ``Crawl-delay`` (and ``Request-rate``) a site's robots.txt asks of us.

Scrapy's RobotsTxtMiddleware fetches and parses each site's robots.txt but only uses it to
allow or forbid URLs. This component listens to Scrapy's ``robots_parsed`` signal, which the
robots middleware sends once per site (host and port) before it lets the first request
of that site through, and asks the parser (``RobotParser.crawl_delay``, Scrapy >= 2.18) for the
delay of the group that matches our ``ROBOTSTXT_USER_AGENT`` or ``USER_AGENT`` (a group naming
``newscrawl`` wins over ``*``). With Scrapy's default Protego parser, a ``Request-rate: n/Ts``
of that group is honoured too, as T/n seconds between requests; the larger of the two wins.

The delay goes to the site's download slot (``Downloader.get_slot_key``: the host name):

- the live slot gets ``delay`` = the crawl delay (or more, if it already waits longer),
  ``concurrency`` = 1 (one request at a time: "one request per N seconds") and no jitter
  (``DOWNLOAD_DELAY_JITTER`` would otherwise make half of the waits shorter than asked);
- the same values go into the downloader's per-slot settings (what ``DOWNLOAD_SLOTS`` sets),
  so a slot that Scrapy drops after a minute of idleness comes back with them.

Scrapy's downloader waits at least ``slot.delay`` between the starts of two downloads of a
slot. AutoThrottle (enabled in crawler/settings.py) sets ``slot.delay`` after every response,
bounded below only by the global ``DOWNLOAD_DELAY``, and so would soon go under the crawl
delay. After AutoThrottle's adjustment, on the same ``response_downloaded`` signal, this
component raises the slot's delay back to the crawl delay: AutoThrottle may slow a site down
further, never below what it asks. Receivers of a signal are called in the order they were
connected; extensions (AutoThrottle) are built before the engine, downloader middlewares with
the engine, which is why this is a downloader middleware (it has no ``process_*`` method).

A delay above ``NEWS_MAX_CRAWL_DELAY`` (``Crawl-delay: 86400``) is capped to it, with a warning;
``NEWS_MAX_CRAWL_DELAY = 0`` turns the component off. Syntactically bad values
(``Crawl-delay: soon``, negative, ``nan``) are dropped by Protego as if absent; a parser that
passes one on gets it refused here, with a warning. Stats: ``news/politeness/crawl_delay``
(sites whose delay was applied), ``news/politeness/request_rate`` (of them, those where
Request-rate set the delay), ``news/politeness/crawl_delay_capped``,
``news/politeness/bad_crawl_delay``.

Each crawl process applies the delay to its own requests: with several distributed workers
(docs/distributed.md) a site gets up to one request per delay from each worker.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.robotstxt import RobotParser
from scrapy.utils.httpobj import urlparse_cached

logger = logging.getLogger(__name__)


class CrawlDelayMiddleware:
    def __init__(self, crawler: Crawler, user_agent: str, max_delay: float = 30.0) -> None:
        self.crawler = crawler  # its engine's downloader holds the slots
        self.user_agent = user_agent
        self.max_delay = max_delay
        self.floors: dict[str, float] = {}  # download slot key -> seconds between requests

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlDelayMiddleware:
        settings = crawler.settings
        if not settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured("ROBOTSTXT_OBEY is off: robots.txt is not read")
        max_delay = settings.getfloat("NEWS_MAX_CRAWL_DELAY", 30.0)
        if not max_delay > 0:
            raise NotConfigured("NEWS_MAX_CRAWL_DELAY is 0: robots.txt Crawl-delay is ignored")
        user_agent = settings.get("ROBOTSTXT_USER_AGENT") or settings.get("USER_AGENT") or ""
        middleware = cls(crawler, str(user_agent), max_delay)
        crawler.signals.connect(middleware.robots_parsed, signal=signals.robots_parsed)
        crawler.signals.connect(middleware.response_downloaded,
                                signal=signals.response_downloaded)
        return middleware

    # -- what the site asks ------------------------------------------------------------------

    def asked_delay(self, parser: RobotParser, site: str) -> tuple[float, str] | None:
        """Seconds between requests the site's robots.txt asks of our user agent, and the
        directive that asks it; None when it asks nothing (or only something unusable)."""
        asked: list[tuple[float, str]] = []
        crawl_delay = parser.crawl_delay(self.user_agent)
        if crawl_delay is not None:
            if math.isfinite(crawl_delay) and crawl_delay >= 0:
                asked.append((float(crawl_delay), f"Crawl-delay {crawl_delay:g} s"))
            else:
                self._count("bad_crawl_delay")
                logger.warning("Site %s asks Crawl-delay %r: not a usable number of seconds, "
                               "ignored", site, crawl_delay)
        rate = _request_rate(parser, self.user_agent)
        if rate is not None:
            requests, seconds = rate
            asked.append((seconds / requests, f"Request-rate {requests}/{seconds:g}s"))
        if not asked:
            return None
        return max(asked, key=lambda item: item[0])  # on a tie, Crawl-delay names it

    # -- signal handlers ---------------------------------------------------------------------

    def robots_parsed(self, robotparser: RobotParser, request: Request) -> None:
        site = urlparse_cached(request).netloc
        asked = self.asked_delay(robotparser, site)
        if asked is None or asked[0] <= 0:
            return
        wanted, directive = asked
        delay = min(wanted, self.max_delay)
        if wanted > self.max_delay:
            self._count("crawl_delay_capped")
            logger.warning("Site %s asks %s: capped at NEWS_MAX_CRAWL_DELAY, %g s applied",
                           site, directive, delay)
        else:
            logger.info("Site %s asks %s: applied", site, directive)
        self._count("crawl_delay")
        if directive.startswith("Request-rate"):
            self._count("request_rate")
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        # Several sites (http and https of one host) may share a slot: the slowest one wins.
        floor = max(delay, self.floors.get(key, 0.0))
        self.floors[key] = floor
        configured = dict(downloader.per_slot_settings.get(key, {}))
        configured.update(delay=max(floor, float(configured.get("delay", 0.0))),
                          concurrency=1, jitter=0.0)
        downloader.per_slot_settings[key] = configured
        slot = downloader.slots.get(key)
        if slot is not None:
            slot.delay = max(slot.delay, floor)
            slot.concurrency = 1
            slot.jitter = 0.0

    def response_downloaded(self, request: Request) -> None:
        """Undo an AutoThrottle adjustment that went below the crawl delay (see the module
        doc: this runs after AutoThrottle's receiver of the same signal)."""
        if not self.floors:
            return
        key = request.meta.get("download_slot")
        if not isinstance(key, str) or key not in self.floors:
            return
        floor = self.floors[key]
        slot = self.crawler.engine.downloader.slots.get(key)
        if slot is not None and slot.delay < floor:
            slot.delay = floor

    def _count(self, event: str) -> None:
        self.crawler.stats.inc_value(f"news/politeness/{event}")


def _request_rate(parser: RobotParser, user_agent: str) -> tuple[int, float] | None:
    """``Request-rate`` of the group for ``user_agent`` as (requests, seconds), read from the
    parsing library behind Scrapy's parser (``.rp``: Protego and the standard library's
    RobotFileParser both offer ``request_rate``); None when absent, unusable or unsupported."""
    backend: Any = getattr(parser, "rp", None)
    method = getattr(backend, "request_rate", None)
    if not callable(method):
        return None
    try:
        rate = method(user_agent)
    except Exception:  # a parsing library's bug must not stop the crawl of the site
        logger.debug("Request-rate of %r not readable", user_agent, exc_info=True)
        return None
    requests = getattr(rate, "requests", None)
    seconds = getattr(rate, "seconds", None)
    if not isinstance(requests, int) or not isinstance(seconds, int | float):
        return None
    if requests <= 0 or not (math.isfinite(seconds) and seconds > 0):
        return None
    return requests, float(seconds)
