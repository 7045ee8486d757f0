"""A durable local spool for articles that could not be written to MongoDB.

Append-only JSON Lines in MongoDB Extended JSON (so dates stay dates), fsynced after every
append. The storage pipeline replays it when it opens and whenever a write succeeds again.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC
from pathlib import Path
from typing import Any

from bson import json_util

logger = logging.getLogger(__name__)

_JSON_OPTIONS = json_util.CANONICAL_JSON_OPTIONS.with_options(tz_aware=True, tzinfo=UTC)


class Spool:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def append(self, docs: list[dict[str, Any]]) -> None:
        if not docs:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = "".join(json_util.dumps(doc, json_options=_JSON_OPTIONS) + "\n" for doc in docs)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    def read(self) -> list[dict[str, Any]]:
        """Every spooled document; a torn last line (a crash mid-write) is skipped."""
        if not self.path.exists():
            return []
        docs: list[dict[str, Any]] = []
        with open(self.path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    docs.append(json_util.loads(line, json_options=_JSON_OPTIONS))
                except ValueError:
                    logger.warning("Skipped an unreadable line %d of spool %s", number, self.path)
        return docs

    def clear(self) -> None:
        if self.path.exists():
            self.path.unlink()

    def __len__(self) -> int:
        if not self.path.exists():
            return 0
        with open(self.path, encoding="utf-8") as handle:
            return sum(1 for line in handle if line.strip())
