"""Module-level task for tests/test_run_report.py: a spawned extraction worker that logs and
warns, as a library in a worker may."""

from __future__ import annotations

import logging
import warnings
from typing import Any

from crawler.extraction import extract_article
from crawler.items import Extraction


def noisy(html: str, url: str, **kwargs: Any) -> Extraction:
    logging.getLogger("some.library").warning("worker says: odd page %s", url)
    warnings.warn("worker warns", UserWarning, stacklevel=1)
    return extract_article(html, url, **kwargs)
