"""``newscrawl reextract``'s downloader (crawler/reextract.py): each request answered from the
archive record named in its meta; nothing goes to the network."""

from __future__ import annotations

import time
from pathlib import Path

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Headers, Request, Response
from scrapy.responsetypes import responsetypes

from crawler import keys
from crawler.browser import BROWSER_KEY
from crawler.extensions.archive import archive_dir
from crawler.reextract import REPLAY_KEY, ReextractSpider
from crawler.warc import ArchiveError, Location, read_response


class ArchiveReplay:
    """Downloader middleware (first of all): answers each request from the archive record
    named in its meta, and refuses any other request, so reextract never goes to the network."""

    def __init__(self, crawler: Crawler, directory: Path) -> None:
        self.crawler = crawler  # its spider times the replay
        self.directory = directory

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveReplay:
        return cls(crawler, archive_dir(crawler.settings))

    def process_request(self, request: Request) -> Response | None:
        location = request.meta.get(REPLAY_KEY)
        if not isinstance(location, Location):
            raise IgnoreRequest(f"reextract fetches nothing: {request.url}")
        spider = self.crawler.spider
        if request.meta.get(BROWSER_KEY) and isinstance(spider, ReextractSpider) \
                and spider.render:
            return None  # --render: the page through the browser

        if isinstance(spider, ReextractSpider) and not spider.first:
            spider.first = time.monotonic()
        try:
            record = read_response(self.directory, location)
        except ArchiveError as exc:
            raise IgnoreRequest(str(exc)) from None
        headers = Headers(record.headers)
        cls = responsetypes.from_args(headers=headers, url=record.url, body=record.body)
        request.meta[keys.REPLAYED] = True
        if record.rendered:  # the DOM the browser rendered: not rendered again
            request.meta[BROWSER_KEY] = True
        return cls(url=record.url, status=record.status, headers=headers, body=record.body,
                   request=request)
