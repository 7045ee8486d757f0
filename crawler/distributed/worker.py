"""``newscrawl worker``: take requests from the shared queue until it has been idle for
``NEWS_REDIS_IDLE_TIMEOUT`` seconds, then exit. It seeds nothing (``newscrawl seed`` does).

``--slot N`` takes a lock per sources file and slot, so a cron line that starts workers 1..N
every minute keeps N of them running on the machine. Exit codes as ``newscrawl run``: 0, 1 (the
run this worker finished failed), 2 (configuration, Redis or MongoDB), 75 (slot taken).
"""

from __future__ import annotations

import logging
from pathlib import Path

from redis.exceptions import RedisError

from crawler.database import mask_uri
from crawler.defaults import news_get
from crawler.distributed import redis_url
from crawler.distributed.shared import SharedCrawl
from crawler.run import (
    EXIT_ERROR,
    EXIT_LOCKED,
    LockHeld,
    _crawl,
    build_settings,
    check,
    configure_logging,
    run_lock,
)
from crawler.sources import SourcesError, load_sources

logger = logging.getLogger(__name__)


def worker(sources: str | None, overrides: list[str], json_lines: bool = False,
           slot: int = 1) -> int:
    settings = build_settings(overrides, sources)
    settings.set("NEWS_REDIS_SEED", False, priority="cmdline")
    configure_logging(settings, json_lines)
    check(settings)  # ConfigError: one line, exit 2 (crawler.cli)
    url = redis_url(settings)
    if not url:
        logger.error("newscrawl worker needs NEWS_REDIS_URL (or the environment variable "
                     "REDIS_URL): see docs/distributed.md")
        return EXIT_ERROR
    sources_path = Path(settings.get("NEWS_SOURCES"))
    try:
        load_sources(sources_path)
    except SourcesError as exc:
        logger.error("%s", exc)
        return EXIT_ERROR
    shared = SharedCrawl.from_settings(settings)
    try:
        shared.server.ping()
    except RedisError as exc:
        logger.error("Redis at %s is not reachable (%s)", mask_uri(url), type(exc).__name__)
        return EXIT_ERROR
    finally:
        shared.server.close()
    try:
        with run_lock(Path(news_get(settings, "NEWS_DATA_DIR")), sources_path,
                      kind=f"worker-{slot}"):
            return _crawl(settings, None)
    except LockHeld as exc:
        logger.info("Not starting: %s", exc)
        return EXIT_LOCKED
