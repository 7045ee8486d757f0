"""Pages whose declared encoding is wrong: plain functions, independent of Scrapy."""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from w3lib.encoding import html_to_unicode

REPLACEMENT = "\ufffd"


def page_text(body: bytes, encoding: str) -> str:
    """The body decoded as Scrapy's ``TextResponse.text`` decodes it, given the response's
    ``encoding``, without keeping the text on the response.

    A response keeps ``.text`` for as long as it lives, and an article held for its site's
    template (crawler/template_hold.py) keeps its response: its text would double or
    quadruple (characters beyond Latin-1) what the held body weighs. (A page is decoded in its
    extraction worker: :class:`EncodedPage`.)"""
    return html_to_unicode(f"charset={encoding}", body)[1]


def mislabeled_utf8(body: bytes, encoding: str, text: str) -> str | None:
    """The page decoded as Windows-1252 when it is declared UTF-8 but is not, else None.

    ``text`` is the body as decoded with the declared encoding (invalid bytes replaced by
    U+FFFD). A body that is not valid UTF-8, decodes as Windows-1252 and holds more invalid
    bytes than valid multi-byte characters is a Windows-1252 page labeled UTF-8 (a common CMS
    misconfiguration); a mostly UTF-8 page with a few stray bytes keeps its decoding.
    """
    try:
        if codecs.lookup(encoding).name != "utf-8":
            return None
    except LookupError:
        return None
    if REPLACEMENT not in text:
        return None
    try:
        body.decode("utf-8")
        return None  # valid UTF-8 that really contains U+FFFD
    except UnicodeDecodeError:
        pass
    try:
        fallback = body.decode("cp1252")
    except UnicodeDecodeError:
        return None
    replaced = text.count(REPLACEMENT)
    multibyte = sum(1 for char in text if ord(char) > 0x7F) - replaced
    return fallback if replaced > multibyte else None


@dataclass(frozen=True, slots=True)
class EncodedPage:
    """A page as downloaded: its body and the encoding its response declares or Scrapy
    inferred for it. The spider hands this to the extraction pool, which decodes it in the
    worker that extracts it (crawler/extraction_pool.py): the crawl process never holds the
    page's text, only its body, which its response holds anyway."""

    body: bytes
    encoding: str

    def decoded(self) -> tuple[str, bool]:
        """The text as Scrapy's ``TextResponse.text`` decodes it (:func:`page_text`), and
        whether it was decoded as Windows-1252 instead, being that and declared UTF-8
        (:func:`mislabeled_utf8`)."""
        text = page_text(self.body, self.encoding)
        repaired = mislabeled_utf8(self.body, self.encoding, text)
        return (text, False) if repaired is None else (repaired, True)
