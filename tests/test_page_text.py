"""The spider decodes a page as Scrapy's ``TextResponse.text`` would, without keeping the text
on the response (crawler/encoding.py: page_text)."""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse

from crawler.encoding import page_text

PAGES = {
    "charset in the header": ({"Content-Type": "text/html; charset=iso-8859-1"},
                              "<p>caf\u00e9 \u2019quoted\u2019</p>".encode("cp1252")),
    "charset in a meta tag": ({"Content-Type": "text/html"},
                              '<meta charset="koi8-r"><p>\u043f\u0440\u0438\u0432\u0435\u0442</p>'
                              .encode("koi8-r")),
    "a UTF-8 byte order mark": ({"Content-Type": "text/html; charset=latin-1"},
                                "\ufeff<p>\u65e5\u672c\u8a9e</p>".encode("utf-8-sig")),
    "nothing declared, UTF-8": ({"Content-Type": "text/html"},
                                "<p>na\u00efve \u2014 \u00fcber</p>".encode()),
    "nothing declared, Windows-1252": ({"Content-Type": "text/html"},
                                       "<p>na\u00efve \u2014 \u00fcber</p>".encode("cp1252")),
    "invalid bytes for its charset": ({"Content-Type": "text/html; charset=utf-8"},
                                      b"<p>broken \xff\xfe bytes \xe2\x80</p>"),
    "an unknown charset": ({"Content-Type": "text/html; charset=x-no-such"},
                           "<p>plain \u00e9</p>".encode()),
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_text_is_what_scrapy_decodes(name: str) -> None:
    headers, body = PAGES[name]
    ours = HtmlResponse("http://127.0.0.1/a.html", headers=headers, body=body)
    theirs = HtmlResponse("http://127.0.0.1/a.html", headers=headers, body=body)
    assert page_text(ours.body, ours.encoding) == theirs.text
