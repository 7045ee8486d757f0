"""Our MetaRefreshMiddleware decides as Scrapy's does, reading only the head of a big page."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware as ScrapyMetaRefresh
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.middlewares.meta_refresh import HEAD_BYTES, MetaRefreshMiddleware

REFRESH = '<meta http-equiv="refresh" content="0;url=/moved.html">'
FILLER = "<p>" + "Words of the story, about as many as a long article has. " * 4000 + "</p>"


def _page(head: str, body: str = FILLER, charset: str = "utf-8") -> HtmlResponse:
    html = f"<html><head><title>t</title>{head}</head><body>{body}</body></html>"
    return HtmlResponse("http://127.0.0.1/a.html", body=html.encode(charset),
                        headers={"Content-Type": f"text/html; charset={charset}"})


CASES = {
    "big page with a refresh in its head": _page(REFRESH),
    "big page without a refresh": _page(""),
    "big page whose refresh is past 4096 characters": _page("", body=FILLER + REFRESH),
    "big UTF-16 page with a refresh": _page(REFRESH, charset="utf-16"),
    "big page with a slow refresh (over METAREFRESH_MAXDELAY)":
        _page('<meta http-equiv="refresh" content="500;url=/later.html">'),
    "small page with a refresh": _page(REFRESH, body="<p>short</p>"),
}
REDIRECTED = {"big page with a refresh in its head", "big UTF-16 page with a refresh",
              "small page with a refresh"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_same_decision_as_scrapys_middleware(name: str) -> None:
    crawler = get_crawler(settings_dict={})
    ours = MetaRefreshMiddleware.from_crawler(crawler)
    theirs = ScrapyMetaRefresh.from_crawler(crawler)
    response = CASES[name]
    if name.startswith("big"):  # the case reaches the head-only path
        assert len(response.body) > 10 * HEAD_BYTES
    request = Request(response.url)
    mine = ours.process_response(request, response)
    scrapys = theirs.process_response(request, response.replace())  # a copy
    assert isinstance(scrapys, Request) == (name in REDIRECTED)
    if isinstance(scrapys, Request):
        assert isinstance(mine, Request) and mine.url == scrapys.url
    else:
        assert mine is response  # the page itself goes on, not the short copy read
