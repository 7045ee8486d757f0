"""Distributed crawling on Redis with scrapy-redis (docs/distributed.md).

Setting ``NEWS_REDIS_URL`` (or the environment variable ``REDIS_URL``) switches a crawl to a
shared scheduler queue and request dupefilter in Redis (:mod:`crawler.distributed.addon`); any
number of crawl processes on any machines then share the work. Unset, nothing here is loaded.

| module | what it is |
|---|---|
| ``addon`` | the settings switch: scheduler, dupefilter, middleware, extensions, pipelines |
| ``shared`` | ``SharedCrawl``: the Redis keys and atomic (Lua) operations of one shared crawl |
| ``queue`` | the reliable priority queue: pop moves a request to the worker's in-flight hash |
| ``dupefilter`` | request fingerprints of the current run, in Redis |
| ``scheduler`` | the scrapy-redis scheduler adapted to Scrapy 2.19 and the reliable queue |
| ``tracker`` | acknowledges a request once its response is handled and its articles stored |
| ``middleware`` | seeds only in seeding processes; tags articles with their queue entry |
| ``idle`` | keeps a worker open until the shared crawl has been idle for a while |
| ``run_record`` | one ``crawl_runs`` record per distributed run, counts summed over workers |
| ``seed`` / ``worker`` | ``newscrawl seed`` and ``newscrawl worker`` |
"""

from __future__ import annotations

import os
from typing import Any

from crawler import keys

ENV_URL = "REDIS_URL"
QUEUE_ID = keys.QUEUE_ID  # request meta: the id of the request's in-flight queue entry


def redis_url(settings: Any) -> str | None:
    """The Redis URL of a distributed crawl: the setting first, then ``REDIS_URL``; ``None``
    means a single-process crawl."""
    return str(settings.get("NEWS_REDIS_URL") or "") or os.environ.get(ENV_URL) or None
