"""``newscrawl export``: articles updated since a moment, as JSON Lines in a stable shape."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from pymongo import ASCENDING
from pymongo.database import Database

from crawler.config import ConfigError

# The exported fields, in this order; dates are ISO 8601 UTC strings ending in "Z".
FIELDS = ("url", "source", "site", "title", "text", "language", "published", "published_zone",
          "modified", "authors", "tags", "section", "site_name", "description", "image",
          "paywalled", "word_count", "content_hash", "revision", "first_seen", "fetched_at",
          "updated_at", "schema_version")


_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$")
_AGE_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """An ISO 8601 date or date-time (without a zone: UTC), or an age before ``now``: ``30m``,
    ``24h``, ``7d``, ``2w``. ConfigError names ``--since`` and says what it accepts."""
    age = _AGE.match(value)
    if age:
        seconds = float(age.group(1)) * _AGE_UNITS[age.group(2)]
        return (now or datetime.now(UTC)) - timedelta(seconds=seconds)
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"--since {value!r}: not an ISO 8601 date-time "
                          f"(2024-06-01T00:00:00Z) nor an age (30m, 24h, 7d, 2w)") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _iso(value: datetime) -> str:
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


def record(doc: dict[str, Any]) -> dict[str, Any]:
    return {key: _iso(v) if isinstance(v := doc.get(key), datetime) else v for key in FIELDS}


def updated_since(db: Database[dict[str, Any]], since: datetime, source: str | None = None,
                  language: str | None = None) -> Iterator[dict[str, Any]]:
    query: dict[str, Any] = {"updated_at": {"$gt": since}}
    if source:
        query["source"] = source
    if language:
        query["language"] = language
    for doc in db["articles"].find(query).sort([("updated_at", ASCENDING), ("url", ASCENDING)]):
        yield record(doc)


def write_jsonl(records: Iterator[dict[str, Any]], out: IO[str]) -> int:
    count = 0
    for item in records:
        out.write(json.dumps(item, ensure_ascii=False) + "\n")
        count += 1
    return count
