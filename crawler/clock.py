"""The crawl's notion of now (``NEWS_NOW``): the real clock, or a clock that starts at a given
moment when the crawl starts and runs at real speed from there.

Everything the recrawl schedule and the stored dates follow reads it: what is due, the
``url_state`` a fetch leaves, an article's ``fetched_at`` / ``first_seen`` / ``updated_at``.
A simulated site can so live through a month of runs in an afternoon
(benchmarks/month.py): each run is started at its simulated moment. Crawl-run bookkeeping
(``crawl_runs``), logs and WARC records keep the real time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

_clocks: dict[str, Clock] = {}  # one per NEWS_NOW value: every component of a crawl agrees


class Clock:
    def __init__(self, start: datetime | None = None) -> None:
        self.offset = (start - datetime.now(UTC)) if start is not None else timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    @classmethod
    def from_settings(cls, settings: Any) -> Clock:
        value = str(settings.get("NEWS_NOW") or "").strip()
        if value not in _clocks:
            _clocks[value] = cls(parse_now(value))
        return _clocks[value]


def parse_now(value: str) -> datetime | None:
    """``NEWS_NOW``: an ISO 8601 date-time (UTC when it names no zone), or empty (None)."""
    if not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 date-time "
                         "(e.g. 2025-03-01T12:00:00Z; empty: the real clock)") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
