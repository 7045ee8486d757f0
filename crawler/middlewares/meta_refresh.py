"""Scrapy's ``MetaRefreshMiddleware``, reading only the head of each page.

Scrapy's looks for ``<meta http-equiv="refresh">`` in the first 4,096 characters of a page's
``response.text``, which decodes the whole body and keeps the text on the response for as long
as the response lives. An article held for its site's template (crawler/template_hold.py)
keeps its response, so every held page weighed its body plus its whole text (twice to four
times the body beyond Latin-1): measured on 181 sites (``benchmarks/throughput.py --mode web``,
tracemalloc), 140 MB of the crawl process at its peak. This one gives Scrapy's the first
``HEAD_BYTES`` of the body (at least 4,096 characters in any encoding), so the decoded text is
that of a short copy, gone with it; what it decides (redirect or not) is Scrapy's.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware as ScrapyMetaRefresh
from scrapy.http import HtmlResponse, Response

# Scrapy reads 4,096 characters; a character is at most 4 bytes (UTF-8, UTF-32).
HEAD_BYTES = 4 * 4096


class MetaRefreshMiddleware(ScrapyMetaRefresh):
    # Without the deprecated ``spider`` argument of Scrapy's signature (Scrapy passes none).
    def process_response(  # type: ignore[override]
            self, request: Request, response: Response) -> Request | Response:
        if not isinstance(response, HtmlResponse) or len(response.body) <= HEAD_BYTES:
            return super().process_response(request, response)
        head = response.replace(body=response.body[:HEAD_BYTES])
        result = super().process_response(request, head)
        return response if result is head else result
