"""Module-level task functions for tests/test_extraction_pool.py: spawned extraction workers
import them by name, so they live in a module of their own."""

from __future__ import annotations

import os
import time
from typing import Any

from crawler.extraction import extract_article
from crawler.items import Extraction


def slow_on_marker(html: str, url: str, **kwargs: Any) -> Extraction:
    """extract_article, except that a page containing ``SLOW`` hangs for a minute."""
    if "SLOW" in html:
        time.sleep(60)
    return extract_article(html, url, **kwargs)


def crash_on_marker(html: str, url: str, **kwargs: Any) -> Extraction:
    """extract_article, except that a page containing ``CRASH`` kills its worker process."""
    if "CRASH" in html:
        os._exit(9)
    return extract_article(html, url, **kwargs)


def raise_on_marker(html: str, url: str, **kwargs: Any) -> Extraction:
    """extract_article, except that a page containing ``RAISE`` raises (an extractor bug)."""
    if "RAISE" in html:
        raise ValueError("extractor bug")
    return extract_article(html, url, **kwargs)


def environment_of_worker(html: str, url: str, **kwargs: Any) -> Extraction:
    """The worker's ``GLIBC_TUNABLES`` as the article's text (tests/test_malloc_tuning.py)."""
    item = extract_article(html, url, **kwargs).item
    item.text = os.environ.get("GLIBC_TUNABLES", "")
    return Extraction(item, is_article=True, page_kind="environment")
