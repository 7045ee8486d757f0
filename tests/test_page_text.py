"""The spider decodes a page as Scrapy's ``TextResponse.text`` would, without keeping the text
on the response (crawler/encoding.py: page_text)."""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse

from crawler.encoding import EncodedPage, mislabeled_utf8, page_text

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


@pytest.mark.parametrize("name", sorted(PAGES))
def test_a_page_handed_to_extraction_decodes_as_scrapy_decodes(name: str) -> None:
    """The page as the spider hands it to its extraction worker (EncodedPage): Scrapy's text,
    or its Windows-1252 reading when it is that and declared UTF-8."""
    headers, body = PAGES[name]
    ours = HtmlResponse("http://127.0.0.1/a.html", headers=headers, body=body)
    theirs = HtmlResponse("http://127.0.0.1/a.html", headers=headers, body=body)
    text, repaired = EncodedPage(ours.body, ours.encoding).decoded()
    mislabeled = mislabeled_utf8(theirs.body, theirs.encoding, theirs.text)
    assert (text, repaired) == (mislabeled or theirs.text, mislabeled is not None)
    assert repaired == (name == "invalid bytes for its charset")


def test_a_windows_1252_page_declared_utf8_is_decoded_as_windows_1252() -> None:
    body = "<p>Caf\u00e9 \u2014 na\u00efve \u00fcber \u2019quoted\u2019</p>".encode("cp1252")
    text, repaired = EncodedPage(body, "utf-8").decoded()
    assert repaired and text == body.decode("cp1252")
