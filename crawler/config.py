"""Configuration checks done before anything starts, and operator errors as one line.

``check_settings`` validates every ``NEWS_`` setting against the type of its default in
:mod:`crawler.settings` (plus the few with a syntax of their own), ``DEPTH_LIMIT`` and
``MONGO_URI``, raising :class:`ConfigError` for the first wrong one or for a setting of ours
that a Scrapy setting replaced (``NEWS_MAX_DEPTH``); it returns a warning for each ``NEWS_``
name that is not a setting (a misspelling would otherwise be silently ignored).
``operator_error`` turns the exceptions an operator can fix (configuration, sources file,
database unreachable) into the one line that ``newscrawl`` and ``scrapy crawl`` print before
exiting with ``EXIT_CONFIG``.
"""

from __future__ import annotations

import difflib
import math
from typing import Any

from pymongo.errors import ConfigurationError as MongoConfigurationError

from crawler.database import DatabaseUnavailable, configured_uri, mask_uri, stores_articles
from crawler.sources import SourcesError

EXIT_CONFIG = 2  # configuration error or database unreachable: nothing was crawled (docs/cron.md)

# Settings of ours that a Scrapy setting replaced: naming one is an error, not a warning (the
# run would silently not do what was asked).
REPLACED = {
    "NEWS_MAX_DEPTH": "Scrapy's DEPTH_LIMIT (link hops followed from an HTML page, default 2; "
                      "0 means no limit; docs/settings.md)",
}


class ConfigError(ValueError):
    """A setting, file or argument is wrong; the message names it and says what is wrong."""


def known_settings() -> dict[str, Any]:
    """Every ``NEWS_`` setting with its default."""
    from crawler import settings as defaults

    return {name: getattr(defaults, name) for name in dir(defaults) if name.startswith("NEWS_")}


def check_settings(settings: Any) -> list[str]:
    """Raise ConfigError naming the first wrong ``NEWS_`` setting (or ``MONGO_URI``); return
    one warning per unknown ``NEWS_`` name."""
    for name, replacement in REPLACED.items():
        if settings.get(name) is not None:
            raise ConfigError(f"setting {name} is gone: use {replacement}")
    known = known_settings()
    for name, default in sorted(known.items()):
        _check_value(settings, name, default)
    _check_special(settings)
    _check_mongo_uri(settings)
    warnings = []
    for name in sorted(str(key) for key in settings):
        if name.startswith("NEWS_") and name not in known:
            close = difflib.get_close_matches(name, list(known), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            warnings.append(f"Unknown setting {name} (ignored: no such NEWS_ setting, see "
                            f"docs/settings.md){hint}")
    return warnings


def _check_value(settings: Any, name: str, default: Any) -> None:
    value = settings.get(name)
    if value is None:
        return
    if isinstance(default, bool):
        try:
            settings.getbool(name)
        except ValueError:
            raise ConfigError(f"setting {name}: {value!r} is not a boolean "
                              f"(True/False, 1/0)") from None
    elif isinstance(default, int | float):
        try:
            number = settings.getint(name) if isinstance(default, int) else \
                settings.getfloat(name)
        except (TypeError, ValueError):
            kind = "a whole number" if isinstance(default, int) else "a number"
            raise ConfigError(f"setting {name}: {value!r} is not {kind} "
                              f"(default {default})") from None
        if not math.isfinite(number) or number < 0:
            raise ConfigError(f"setting {name}: {value!r} must be 0 or more")


def _check_special(settings: Any) -> None:
    from crawler import settings as defaults
    from crawler.clock import parse_now
    from crawler.middlewares.url_guard import parse_networks
    from crawler.url_state import parse_backoff, parse_schedule

    # Scrapy's, read by the spider and its middleware; our default is in crawler/settings.py
    _check_value(settings, "DEPTH_LIMIT", defaults.DEPTH_LIMIT)
    try:
        parse_networks(settings.getlist("NEWS_ALLOWED_PRIVATE_NETWORKS"))
    except ValueError as exc:
        raise ConfigError(f"setting {exc}") from None
    try:
        parse_schedule(settings.get("NEWS_RECRAWL_SCHEDULE") or "")
    except ValueError as exc:
        raise ConfigError(f"setting NEWS_RECRAWL_SCHEDULE: {exc}") from None
    try:
        parse_backoff(settings.get("NEWS_PAGE_BACKOFF") or "")
    except ValueError as exc:
        raise ConfigError(f"setting NEWS_PAGE_BACKOFF: {exc}") from None
    try:
        parse_now(str(settings.get("NEWS_NOW") or ""))
    except ValueError as exc:
        raise ConfigError(f"setting NEWS_NOW: {exc}") from None


def _check_mongo_uri(settings: Any) -> None:
    uri = configured_uri(settings.get("MONGO_URI"))
    if not stores_articles(settings):  # no database used: its URI does not matter
        return
    if not uri or uri.startswith("mongodb+srv://"):  # an SRV URI is checked by a DNS lookup
        return
    from pymongo.uri_parser import parse_uri

    try:
        parse_uri(uri)
    except (MongoConfigurationError, ValueError) as exc:
        raise ConfigError(f"MONGO_URI {mask_uri(uri)}: {exc}") from None


def operator_error(exc: BaseException) -> str | None:
    """The one-line message of an error the operator can fix, else None (a bug: traceback)."""
    if isinstance(exc, ConfigError | SourcesError | DatabaseUnavailable):
        return str(exc)
    if isinstance(exc, MongoConfigurationError):
        return f"MONGO_URI: {exc}"
    return None
