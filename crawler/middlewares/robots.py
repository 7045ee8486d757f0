"""Scrapy's robots.txt middleware, with a robots.txt that cannot be fetched said in one line.

Scrapy's ``RobotsTxtMiddleware`` logs a robots.txt it could not download (a dead port, a
refused connection, a DNS error) as an ERROR with the whole traceback, some sixty lines, after
the retry middleware's ``Gave up retrying <GET .../robots.txt>``; then it crawls the site as if
robots.txt allowed everything. This one logs a single WARNING per site instead, saying so, and
counts it in ``news/politeness/robots_errors``; the page requests of the site are fetched (and
fail, or not) and counted as usual. Enabled in place of Scrapy's in ``DOWNLOADER_MIDDLEWARES``.

``RobotsTxtParser`` (``ROBOTSTXT_PARSER``) is Scrapy's Protego parser that also tells the
``Request-rate`` a robots.txt asks.
"""

from __future__ import annotations

import logging
from typing import Any, Self

from protego import Protego
from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxt
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request
from scrapy.robotstxt import RobotParser, decode_robotstxt
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.python import to_unicode

logger = logging.getLogger(__name__)

STAT_ERRORS = "news/politeness/robots_errors"
# The loggers of Scrapy's lines that this middleware replaces with its own.
_ROBOTS_LOGGER = "scrapy.downloadermiddlewares.robotstxt"
_RETRY_LOGGER = "scrapy.downloadermiddlewares.retry"


def _robots_request(request: Any) -> bool:
    return (isinstance(request, Request) and bool(request.meta.get("dont_obey_robotstxt"))
            and urlparse_cached(request).path == "/robots.txt")


class _ReplacedLines(logging.Filter):
    """Drops Scrapy's ERROR lines about a robots.txt download that failed (its traceback, and
    the retry middleware's give-up line): :class:`RobotsTxtMiddleware` says it in one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR:
            return True
        if record.name == _ROBOTS_LOGGER:
            return not str(record.msg).startswith("Error downloading")
        args = record.args if isinstance(record.args, dict) else {}
        return not _robots_request(args.get("request"))


_FILTER = _ReplacedLines()


class RobotsTxtMiddleware(ScrapyRobotsTxt):
    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        for name in (_ROBOTS_LOGGER, _RETRY_LOGGER):
            if _FILTER not in logging.getLogger(name).filters:
                logging.getLogger(name).addFilter(_FILTER)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        if not isinstance(exc, IgnoreRequest):
            self.crawler.stats.inc_value(STAT_ERRORS)
            logger.warning("robots.txt of %s not fetched (%s: %s): crawling the site as if it "
                           "allowed everything (%s)", netloc, type(exc).__name__,
                           str(exc).rstrip("."), STAT_ERRORS)
        super()._robots_error(exc, netloc)


class RobotsTxtParser(RobotParser):
    """Scrapy's default robots.txt parser (Protego, the same decoding and answers), which also
    tells a group's ``Request-rate`` (crawler/middlewares/crawl_delay.py). Scrapy's
    ``RobotParser`` interface offers ``allowed`` and ``crawl_delay`` only, and its parsers keep
    the parsing library in an undocumented attribute; this one, our ``ROBOTSTXT_PARSER``, holds
    its own Protego."""

    def __init__(self, robotstxt_body: bytes, spider: Spider | None = None) -> None:
        self.protego = Protego.parse(decode_robotstxt(robotstxt_body, spider))

    @classmethod
    def from_crawler(cls, crawler: Crawler, robotstxt_body: bytes) -> Self:
        return cls(robotstxt_body, crawler.spider if crawler else None)

    def allowed(self, url: str | bytes, user_agent: str | bytes) -> bool:
        return bool(self.protego.can_fetch(to_unicode(url), to_unicode(user_agent)))

    def crawl_delay(self, user_agent: str | bytes) -> float | None:
        delay = self.protego.crawl_delay(to_unicode(user_agent))
        return None if delay is None else float(delay)

    def request_rate(self, user_agent: str | bytes) -> tuple[int, float] | None:
        """``Request-rate`` of the group for ``user_agent`` as (requests, seconds); None when
        absent."""
        rate = self.protego.request_rate(to_unicode(user_agent))
        return None if rate is None else (int(rate.requests), float(rate.seconds))
