"""Which requests are the same request: identity by canonical URL, fetching by published URL.

The spider requests a URL exactly as its feed, sitemap or page publishes it (resolved against
the base; Scrapy's ``Request`` makes it requestable with ``safe_url_string``): sites answer a
rewritten URL (``/a?id`` as ``/a``, ``q=a/b`` as ``q=a%2Fb``) with a 404 or another page. Only
the *identity* of a request is its canonical URL (:func:`crawler.canonical.canonicalize_url`:
no tracking parameters, no fragment, sorted query, lower-cased host), so the dupefilter still
drops ``/a?utm_source=x`` after ``/a``, and ``?b=2&a=1`` after ``?a=1&b=2``.

:func:`request_fingerprint` is Scrapy's fingerprint (method, w3lib-canonical URL, body) of the
request with its URL replaced by the canonical one. :class:`CanonicalRequestFingerprinter` is
``REQUEST_FINGERPRINTER_CLASS`` (crawler/settings.py); the distributed dupefilter uses the same
function, so one process and many workers drop the same duplicates.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from scrapy import Request
from scrapy.utils.request import fingerprint

from crawler.canonical import canonicalize_url

_cache: WeakKeyDictionary[Request, bytes] = WeakKeyDictionary()


def request_fingerprint(request: Request) -> bytes:
    """The 20-byte SHA-1 fingerprint of ``request`` under its canonical URL (cached per
    request, as Scrapy caches its own)."""
    cached = _cache.get(request)
    if cached is None:
        try:  # what Scrapy's fingerprint reads (method, URL, body; no headers), nothing else
            identity = Request(canonicalize_url(request.url), method=request.method,
                               body=request.body)
        except ValueError:  # a canonical form Scrapy cannot hold: the URL as it is
            identity = request
        cached = _cache[request] = fingerprint(identity)
    return cached


class CanonicalRequestFingerprinter:
    """Scrapy's request fingerprinter, keyed on the canonical URL of each request."""

    @classmethod
    def from_crawler(cls, crawler: Any) -> CanonicalRequestFingerprinter:
        return cls()

    def fingerprint(self, request: Request) -> bytes:
        return request_fingerprint(request)
