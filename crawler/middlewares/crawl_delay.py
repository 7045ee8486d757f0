"""Apply the ``Crawl-delay`` (and ``Request-rate``) a site's robots.txt asks of us.

Scrapy's RobotsTxtMiddleware fetches and parses each site's robots.txt but only uses it to
allow or forbid URLs. This middleware listens to Scrapy's ``robots_parsed`` signal, which the
robots middleware sends once per site (host and port) before it lets the first request
of that site through, and asks the parser (``RobotParser.crawl_delay``, Scrapy >= 2.18) for the
delay of the group that matches our ``ROBOTSTXT_USER_AGENT`` or ``USER_AGENT`` (a group naming
``newscrawl`` wins over ``*``). With our ``ROBOTSTXT_PARSER`` (crawler/middlewares/robots.py,
Protego as Scrapy's default), a ``Request-rate: n/Ts`` of that group is honoured too, as T/n
seconds between requests; the larger of the two wins.

The delay is kept here, per host name (http and https of one host share it: the slowest one
wins), and applied by this downloader middleware itself, through Scrapy's public interfaces
only (it runs after the robots middleware, so a site's first page waits for its robots.txt):

- one request of the host at a time: ``process_request`` (a coroutine) holds the next one
  until the one before has left the downloader (Scrapy's ``request_left_downloader`` signal;
  or came back through this middleware without reaching it);
- the next one starts no sooner than the crawl delay after the one before *ended* (its
  download over): consecutive requests are at least the delay apart whatever the download
  slot did meanwhile, a slow answer included (and robots.txt counts as the first request);
- the waiting requests of a host go in the order they came.

Scrapy's own download slot still applies its delay (``DOWNLOAD_DELAY``, AutoThrottle) on top:
AutoThrottle may slow a site down further, never below what it asks. Scrapy offers no public
way to set one download slot's delay or concurrency once the crawl runs (``DOWNLOAD_SLOTS`` is
read when it starts; Crawl-delay in Scrapy itself: https://github.com/scrapy/scrapy/issues/892),
so the wait is here rather than in the slot. While a request waits here it counts towards
``CONCURRENT_REQUESTS``, as one waiting in a slot's queue does.

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

import asyncio
import logging
import math
import time
from dataclasses import dataclass, field

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.httpobj import urlparse_cached

from crawler.defaults import news_float

logger = logging.getLogger(__name__)


class CrawlDelayMiddleware:
    def __init__(self, crawler: Crawler, user_agent: str, max_delay: float = 30.0) -> None:
        self.crawler = crawler  # its stats
        self.user_agent = user_agent
        self.max_delay = max_delay
        self.paces: dict[str, _Pace] = {}  # host name -> its delay and turns
        # a request that never left the downloader stops holding its host back after this
        self.stuck_after = 2 * crawler.settings.getfloat("DOWNLOAD_TIMEOUT", 180.0) + 60.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlDelayMiddleware:
        settings = crawler.settings
        if not settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured("ROBOTSTXT_OBEY is off: robots.txt is not read")
        max_delay = news_float(settings, "NEWS_MAX_CRAWL_DELAY")
        if not max_delay > 0:
            raise NotConfigured("NEWS_MAX_CRAWL_DELAY is 0: robots.txt Crawl-delay is ignored")
        user_agent = settings.get("ROBOTSTXT_USER_AGENT") or settings.get("USER_AGENT") or ""
        middleware = cls(crawler, str(user_agent), max_delay)
        crawler.signals.connect(middleware.robots_parsed, signal=signals.robots_parsed)
        crawler.signals.connect(middleware.request_left_downloader,
                                signal=signals.request_left_downloader)
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
        host = _host(request)
        pace = self.paces.get(host)
        if pace is None:
            # its robots.txt has just been answered: the first page waits the delay from now
            self.paces[host] = _Pace(delay, free_at=time.monotonic() + delay)
        else:  # several sites (http and https of one host) share it: the slowest one wins
            pace.delay = max(pace.delay, delay)

    def request_left_downloader(self, request: Request) -> None:
        self._release(request)

    # -- the downloader middleware -------------------------------------------------------

    async def process_request(self, request: Request) -> None:
        """Hold a request of a host with a crawl delay until its turn (see the module doc)."""
        pace = self.paces.get(_host(request)) if self.paces else None
        if pace is None:
            return
        async with pace.turn:  # FIFO: one request of the host past this point at a time
            while pace.holder is not None:  # the one before is still being downloaded
                pace.idle.clear()
                try:
                    await asyncio.wait_for(pace.idle.wait(), timeout=self.stuck_after)
                except TimeoutError:
                    logger.debug("%s never left the downloader: %s no longer waits for it",
                                 pace.holder, request)
                    self._release(pace.holder)
            wait = pace.free_at - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            pace.holder = request

    def process_response(self, request: Request, response: Response) -> Response:
        self._release(request)  # already done when it was downloaded; not when cached, say
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._release(request)  # refused on its way (IgnoreRequest), or its download failed

    # -- helpers -------------------------------------------------------------------------

    def _release(self, request: Request) -> None:
        pace = self.paces.get(_host(request)) if self.paces else None
        if pace is None or pace.holder is not request:
            return
        pace.holder = None
        pace.free_at = time.monotonic() + pace.delay
        pace.idle.set()

    def _count(self, event: str) -> None:
        self.crawler.stats.inc_value(f"news/politeness/{event}")


@dataclass
class _Pace:
    """A host with a crawl delay: its delay, and the turns of its requests."""

    delay: float  # seconds from the end of one request to the start of the next
    free_at: float = 0.0  # time.monotonic() from which the next request may start
    holder: Request | None = None  # the request being downloaded
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    idle: asyncio.Event = field(default_factory=asyncio.Event)


def _host(request: Request) -> str:
    return urlparse_cached(request).hostname or ""


def _request_rate(parser: RobotParser, user_agent: str) -> tuple[int, float] | None:
    """``Request-rate`` of the group for ``user_agent`` as (requests, seconds), from a parser
    that tells it (``RobotsTxtParser.request_rate``, crawler/middlewares/robots.py); None when
    absent, unusable or unsupported (Scrapy's own parsers do not tell it)."""
    method = getattr(parser, "request_rate", None)
    if not callable(method):
        return None
    try:
        rate = method(user_agent)
    except Exception:  # a parsing library's bug must not stop the crawl of the site
        logger.debug("Request-rate of %r not readable", user_agent, exc_info=True)
        return None
    if not isinstance(rate, tuple) or len(rate) != 2:
        return None
    requests, seconds = rate
    if not isinstance(requests, int) or not isinstance(seconds, int | float):
        return None
    if requests <= 0 or not (math.isfinite(seconds) and seconds > 0):
        return None
    return requests, float(seconds)
