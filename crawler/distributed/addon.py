"""The switch: with ``NEWS_REDIS_URL`` (or ``REDIS_URL``) set, a crawl shares its queue and
dupefilter in Redis and what it learns and records in MongoDB. Unset, it changes nothing.

A Scrapy add-on (``ADDONS`` in crawler/settings.py): its ``update_settings`` runs after the
command line's ``-s`` settings are in, before anything is built from them.
"""

from __future__ import annotations

import logging

from scrapy.settings import BaseSettings

from crawler.distributed import redis_url

logger = logging.getLogger(__name__)

PRIORITY = "addon"


class DistributedAddon:
    def update_settings(self, settings: BaseSettings) -> None:
        if not redis_url(settings):
            return
        from crawler.distributed.idle import IdleExit
        from crawler.distributed.middleware import SharedQueueMiddleware
        from crawler.distributed.run_parts import DistributedRunRecorder
        from crawler.extensions.run_record import RunRecorder

        settings.set("SCHEDULER", "crawler.distributed.scheduler.RedisScheduler", PRIORITY)
        settings.set("DUPEFILTER_CLASS", "crawler.distributed.dupefilter.RunDupeFilter",
                     PRIORITY)
        settings.set_in_component_priority_dict("SPIDER_MIDDLEWARES", SharedQueueMiddleware, 950)
        settings.set_in_component_priority_dict("EXTENSIONS", IdleExit, 510)
        _replace(settings, "EXTENSIONS", RunRecorder, DistributedRunRecorder, 500)
        # pipelines.template_strip.TemplateStripPipeline stays: with NEWS_REDIS_URL set, its
        # from_crawler picks the shared count store (crawler/templates/shared_counts.py).


def _replace(settings: BaseSettings, name: str, old: type, new: type, priority: int) -> None:
    """``new`` where ``old`` was (or at ``priority`` when ``old`` is not configured)."""
    try:
        settings.replace_in_component_priority_dict(name, old, new)
    except KeyError:
        settings.set_in_component_priority_dict(name, new, priority)
