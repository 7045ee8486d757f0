"""Give each text response its encoding explicitly, so that no response keeps a decoded copy
of its page that nothing reads.

A page that declares no encoding (no ``charset`` in its ``Content-Type``, no BOM, no ``<meta>``
charset near its top) gets one from Scrapy by decoding the whole body
(``TextResponse.encoding``), and Scrapy keeps that decoded text on the response for as long as
the response lives. The crawl never reads it (the page is decoded in its extraction worker:
crawler/encoding.py, EncodedPage), and an article held for its site's template
(crawler/template_hold.py) keeps its response: every held page of that kind weighed its body
and its text (twice to four times the body beyond Latin-1). Measured on 181 sites
(``benchmarks/throughput.py --mode web``, tracemalloc at the crawl process's peak), 49 MB of the
crawl process were such texts.

This middleware reads the response's encoding once, as Scrapy infers it, and hands on a copy of
the response that carries it as its declared encoding (``response.replace(encoding=...)``,
the body shared, not copied). The copy decodes exactly as the original did, and the original
goes with its decoded text. Its place (590) is just before Scrapy's meta refresh (580) on the
way back from the downloader, the first to read the encoding.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.http import Response, TextResponse


class ResponseEncodingMiddleware:
    def process_response(self, request: Request, response: Response) -> Response:
        if not isinstance(response, TextResponse):
            return response
        return response.replace(encoding=response.encoding)
