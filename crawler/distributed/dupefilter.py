"""The shared request dupefilter, scoped per run.

scrapy-redis keeps fingerprints in one Redis set for ever (or deletes them when a spider
closes, which in a shared crawl would be any worker's exit). Here the set holds the fingerprints
of the current run only: it is deleted when the next run begins (:meth:`SharedCrawl.begin_or_join`
starts a run only when nothing is pending or in flight), and it carries a TTL
(``NEWS_REDIS_DUPEFILTER_TTL``, refreshed by every worker's heartbeat) so that an abandoned
run's fingerprints go away too. So its size is bounded by one run's URLs, and every run fetches
its feeds and due articles again, as a single-process run does.
"""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy_redis.dupefilter import RFPDupeFilter

from crawler.distributed.shared import SharedCrawl
from crawler.request_identity import request_fingerprint

logger = logging.getLogger(__name__)


class RunDupeFilter(RFPDupeFilter):
    def __init__(self, shared: SharedCrawl, debug: bool = False) -> None:
        super().__init__(shared.server, key=shared.keys.dupefilter, debug=debug)
        self.shared = shared

    def request_fingerprint(self, request: Request) -> bytes:
        """The crawl's request fingerprint (method, our canonical URL, body), 20 raw bytes:
        the same as the single-process dupefilter's (crawler/request_identity.py)."""
        return request_fingerprint(request)

    def request_seen(self, request: Request) -> bool:
        return self.server.sadd(self.key, self.request_fingerprint(request)) == 0

    def close(self, reason: str = "") -> None:
        """Keep the fingerprints: other workers are still crawling this run."""
