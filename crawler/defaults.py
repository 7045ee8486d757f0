"""Our ``NEWS_`` settings read with their defaults, which live in one place: crawler/settings.py.

A component reads ``news_float(settings, "NEWS_RETRY_BACKOFF")``, not
``settings.getfloat("NEWS_RETRY_BACKOFF", 1.0)``: the default is never written a second time, so
it cannot drift from the one documented in docs/settings.md. Settings that do not come from the
project (a test's ``get_crawler(settings_dict=...)``, ``scrapy shell`` outside the project) get
the same defaults.
"""

from __future__ import annotations

from typing import Any

from scrapy.settings import BaseSettings

from crawler import settings as _project


def default(name: str) -> Any:
    """The default of one of our settings (an unknown name is a programming error)."""
    return getattr(_project, name)


def news_get(settings: BaseSettings, name: str) -> Any:
    return settings.get(name, default(name))


def news_int(settings: BaseSettings, name: str) -> int:
    return settings.getint(name, default(name))


def news_float(settings: BaseSettings, name: str) -> float:
    return settings.getfloat(name, default(name))


def news_bool(settings: BaseSettings, name: str) -> bool:
    return settings.getbool(name, default(name))


def news_list(settings: BaseSettings, name: str) -> list[Any]:
    return settings.getlist(name, default(name))
