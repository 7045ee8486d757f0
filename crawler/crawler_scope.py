"""Objects shared by the components of one Scrapy crawler, kept beside it rather than on it.

Several of our components need one handle per crawl: the database (``Database.for_crawler``)
and the shared Redis state of a distributed crawl (``SharedCrawl.for_crawler``). They are
looked up from ``from_crawler`` of extensions, middlewares, pipelines and the scheduler, some
of them before Scrapy's extension manager exists (``Crawler.get_extension`` raises then), and
from tests that build a bare crawler (``scrapy.utils.test.get_crawler``). Rather than setting
attributes of our own on Scrapy's ``Crawler`` (which Scrapy does not promise to allow), each
handle lives in a registry keyed by the crawler, weakly: it goes with the crawler.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

T = TypeVar("T")

_SCOPES: WeakKeyDictionary[Any, dict[type[Any], Any]] = WeakKeyDictionary()


def crawler_scoped(crawler: Any, cls: type[T], build: Callable[[], T]) -> T:
    """The ``cls`` instance of ``crawler``: built by ``build`` on the first call, the same one
    on every later call for that crawler."""
    scope = _SCOPES.setdefault(crawler, {})
    existing = scope.get(cls)
    if existing is not None:
        assert isinstance(existing, cls)
        return existing
    instance = build()
    scope[cls] = instance
    return instance


def crawler_scoped_if_built(crawler: Any, cls: type[T]) -> T | None:
    """The ``cls`` instance of ``crawler`` if one was built (a crawl that failed to start may
    have none)."""
    existing = _SCOPES.get(crawler, {}).get(cls)
    assert existing is None or isinstance(existing, cls)
    return existing
