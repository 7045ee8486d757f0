"""``newscrawl seed``: push the sources' feeds, sitemaps and start pages into the shared queue.

It begins a new run when the previous one is over (nothing pending or in flight): the run's
fingerprints start empty, so the seeds and everything found from them are fetched again, as a
single-process run would. While a run is going it joins it: the seeds already queued in this run
are dropped by the dupefilter, new ones (another ``--source``) are added. Exits 0 when it began a
run or queued something, 75 (try again later) when a run is going and had every seed already,
2 on a configuration error or an unreachable Redis. Needs no MongoDB.
"""

from __future__ import annotations

import asyncio
import logging

from redis.exceptions import RedisError
from scrapy import Request

from crawler.distributed import redis_url
from crawler.distributed.dupefilter import RunDupeFilter
from crawler.distributed.queue import ReliableQueue
from crawler.distributed.shared import SharedCrawl, new_worker_id
from crawler.run import (
    EXIT_ERROR,
    EXIT_LOCKED,
    EXIT_OK,
    build_settings,
    check,
    configure_logging,
)
from crawler.sources import SourcesError, select_sources
from crawler.spiders.news import NewsSpider

logger = logging.getLogger(__name__)


def seed(source: str | None, sources: str | None, overrides: list[str],
         json_lines: bool = False) -> int:
    settings = build_settings(overrides, sources)
    configure_logging(settings, json_lines)
    check(settings)  # ConfigError: one line, exit 2 (crawler.cli)
    if not redis_url(settings):
        logger.error("newscrawl seed needs NEWS_REDIS_URL (or the environment variable "
                     "REDIS_URL): see docs/distributed.md")
        return EXIT_ERROR
    try:
        chosen = select_sources(settings.get("NEWS_SOURCES"), name=source)
    except SourcesError as exc:
        logger.error("%s", exc)
        return EXIT_ERROR
    spider = NewsSpider(source=source)  # its start requests, as a crawl makes them
    spider.sources = chosen
    requests = asyncio.run(_collect(spider))
    shared = SharedCrawl.from_settings(settings, worker=f"seeder:{new_worker_id()}")
    try:
        shared.server.ping()
        return _push(shared, spider, requests)
    except RedisError as exc:
        logger.error("Redis at %s is not reachable (%s): nothing was seeded",
                     _mask(redis_url(settings) or ""), type(exc).__name__)
        return EXIT_ERROR
    finally:
        shared.server.close()


async def _collect(spider: NewsSpider) -> list[Request]:
    return [request async for request in spider.start()]


def _push(shared: SharedCrawl, spider: NewsSpider, requests: list[Request]) -> int:
    moved, dead = shared.requeue_dead()
    if dead:
        logger.warning("Requeued %d in-flight request(s) of %d dead worker(s)", moved, dead)
    began, run = shared.begin_or_join([s.name for s in spider.sources])
    try:
        queue = ReliableQueue(shared, spider)
        dupefilter = RunDupeFilter(shared)
        queued = 0
        for request in requests:
            if request.dont_filter or not dupefilter.request_seen(request):
                queue.push(request)
                queued += 1
    finally:
        shared.end_seeding()
    status = shared.status()
    if began:
        logger.info("Began run %s: queued %d seed(s); %d request(s) pending", run["id"], queued,
                    status.pending)
        return EXIT_OK
    logger.info("Run %s is still going (%d pending, %d in flight on %d worker(s)): queued %d "
                "new seed(s) of %d", run["id"], status.pending, status.inflight, status.workers,
                queued, len(requests))
    return EXIT_OK if queued else EXIT_LOCKED


def _mask(url: str) -> str:
    from crawler.database import mask_uri

    return mask_uri(url)
