"""Depth in link hops from HTML pages: Scrapy's DepthMiddleware, with feeds and sitemaps free.

Scrapy's :class:`~scrapy.spidermiddlewares.depth.DepthMiddleware` gives each request the depth
of the response it came from plus 1, and drops it past ``DEPTH_LIMIT``. A news site is read
through hops that are no links a reader follows (robots.txt -> sitemap index -> index ->
sitemap -> article), and a nested sitemap index would silently reach the limit and lose the
articles it lists. Here a request found in a feed or sitemap (``news_via`` in its meta, set by
the spider for the entries of a listing and for the sitemaps of an index) keeps the depth of the
listing: only links taken from HTML pages count. The spider follows no link of a page a feed
or sitemap listed (the same rule as ever: a listed article is not crawled onwards).

Registered in place of Scrapy's (``SPIDER_MIDDLEWARES``, 900). ``DEPTH_LIMIT``,
``DEPTH_STATS_VERBOSE`` and ``DEPTH_PRIORITY`` mean what Scrapy documents; stats are Scrapy's:
``request_depth_max``, ``request_depth_count/<n>``, and ``depth/request_ignored_count`` for the
requests dropped past the limit. docs/settings.md, "Depth".
"""

from __future__ import annotations

from scrapy.http import Request, Response
from scrapy.spidermiddlewares.depth import DepthMiddleware

from crawler import keys
from crawler.browser import AGAIN_KEY  # request.meta: the same page again, through the browser

VIA_KEY = keys.VIA  # request.meta: "feed" or "sitemap", how the URL was found


class LinkDepthMiddleware(DepthMiddleware):
    def get_processed_request(self, request: Request,
                              response: Response | None) -> Request | None:
        if response is None or not (request.meta.get(VIA_KEY) or request.meta.get(AGAIN_KEY)):
            return super().get_processed_request(request, response)
        # Listed by a feed or sitemap, or the page itself again (crawler/browser.py): no hop.
        # The listing was within the limit, so is this.
        request.meta.pop("depth_reset", None)
        depth = int(response.meta.get("depth", 0))
        request.meta["depth"] = depth
        if self.prio:
            request.priority -= depth * self.prio
        if self.verbose_stats:
            self.stats.inc_value(f"request_depth_count/{depth}")
        self.stats.max_value("request_depth_max", depth)
        return request
