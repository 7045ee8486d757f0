"""Read a ``scrapy crawl`` log: the stats Scrapy dumps when the spider closes."""

from __future__ import annotations

import datetime
import re
from typing import Any

_DUMP = re.compile(r"Dumping Scrapy stats:\n(\{.*?\})\n(?:\d{4}-\d\d-\d\d |\Z)", re.DOTALL)


def stats_of(log: str) -> dict[str, Any]:
    """The stats dict of the crawl's closing "Dumping Scrapy stats" block (empty if none)."""
    match = _DUMP.search(log)
    if match is None:
        return {}
    # pprint of a dict of str, numbers and datetimes: evaluate it with nothing else in scope.
    value = eval(match.group(1), {"__builtins__": {}, "datetime": datetime})
    assert isinstance(value, dict)
    return value
