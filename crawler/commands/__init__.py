"""Our versions of Scrapy commands (``COMMANDS_MODULE``): ``scrapy crawl`` ends a crawl that
cannot start with one line and exit code 2 (as ``newscrawl run``); ``scrapy shell`` and
``scrapy parse`` are not crawls, so they record no run in ``crawl_runs``."""

from __future__ import annotations

from typing import Any


def not_a_run(settings: Any) -> None:
    """This command is no crawl: nothing goes into ``crawl_runs`` (``NEWS_RUN_RECORD``)."""
    settings.set("NEWS_RUN_RECORD", False, priority="cmdline")
