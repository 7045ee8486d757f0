"""ResponseEncodingMiddleware: the same decoding as Scrapy's, and no decoded copy kept."""

from __future__ import annotations

import gc
import tracemalloc

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, Response

from crawler.middlewares.response_encoding import ResponseEncodingMiddleware

URL = "http://127.0.0.1/a.html"
STORY = "<p>Ünïcödé wörds, ωορδς, 漢字 and plain words of a story.</p>"


def _page(body: bytes, content_type: str = "text/html") -> HtmlResponse:
    return HtmlResponse(URL, body=body, headers={"Content-Type": content_type})


def _html(head: str = "", paragraphs: int = 3) -> str:
    return f"<html><head><title>t</title>{head}</head><body>{STORY * paragraphs}</body></html>"


CASES = {
    # no charset anywhere: Scrapy infers one from the whole body
    "undeclared UTF-8": _page(_html().encode("utf-8")),
    "undeclared Windows-1252": _page(_html().replace("ωορδς, 漢字", "").encode("cp1252")),
    "charset in the header": _page(_html().encode("utf-8"), "text/html; charset=utf-8"),
    "charset in a meta": _page(_html('<meta charset="iso-8859-7">').encode(
        "iso-8859-7", errors="xmlcharrefreplace")),
    "UTF-16 with a BOM": _page(_html().encode("utf-16")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_decodes_as_scrapy_decodes_the_original(name: str) -> None:
    original = CASES[name]
    reference = original.replace()  # a copy left to Scrapy alone
    returned = ResponseEncodingMiddleware().process_response(Request(URL), original)
    assert isinstance(returned, HtmlResponse)
    assert returned.encoding == reference.encoding
    assert returned.text == reference.text
    assert returned.body is original.body  # shared, not copied
    assert returned.url == original.url and returned.headers == original.headers


def test_a_page_that_declares_no_encoding_keeps_no_decoded_copy() -> None:
    body = _html(paragraphs=20_000).encode("utf-8")  # about 1.4 MB, no charset anywhere
    original = _page(body)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        returned = ResponseEncodingMiddleware().process_response(Request(URL), original)
        del original
        gc.collect()
        retained = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert returned.encoding == "utf-8"
    # Without the middleware the response keeps its text: 2-4 bytes a character here.
    assert retained < len(body) // 10


def test_other_responses_pass_unchanged() -> None:
    image = Response(URL, body=b"\x89PNG\r\n\x1a\n", headers={"Content-Type": "image/png"})
    assert ResponseEncodingMiddleware().process_response(Request(URL), image) is image


def test_in_the_crawl_before_the_meta_refresh() -> None:
    """On the way back from the downloader (the middlewares in reverse order) it comes before
    the first reader of the encoding, Scrapy's meta refresh."""
    from scrapy.utils.conf import build_component_list
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    order = build_component_list(settings.getwithbase("DOWNLOADER_MIDDLEWARES"))
    names = [getattr(c, "__name__", c) if not isinstance(c, str) else c.rsplit(".", 1)[-1]
             for c in order]
    assert names.index("ResponseEncodingMiddleware") > names.index("MetaRefreshMiddleware")
