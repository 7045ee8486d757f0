"""JSON log lines for ``newscrawl run|seed|worker --log-json``: every line on standard error is
one JSON object (``time``, ``level``, ``logger``, ``message``, and the record's extra fields),
with an ISO 8601 ``time`` in UTC that states its offset (``2026-06-01T10:00:00.123+00:00``).

Covered besides our own and Scrapy's and Twisted's records: Python warnings, an uncaught
exception (``level: CRITICAL`` with ``exc_info``), and the extraction worker processes, which
are spawned and so configure their logging from the environment (:func:`install_in_child`).
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import UTC, datetime
from types import TracebackType

from pythonjsonlogger.json import JsonFormatter

ENV = "NEWSCRAWL_LOG_JSON"  # set to the log level: child processes log JSON too


class ZonedJsonFormatter(JsonFormatter):
    """python-json-logger's formatter with ISO times that carry their zone."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s",
                         rename_fields={"asctime": "time", "levelname": "level",
                                        "name": "logger"})

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


def json_handler(level: str | int) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)
    handler.setFormatter(ZonedJsonFormatter())
    return handler


def install(level: str | int) -> None:
    """Log JSON lines only, from here and from the processes this one starts."""
    root = logging.getLogger()
    root.handlers[:] = [json_handler(level)]
    root.setLevel(level)
    logging.captureWarnings(True)  # warnings.warn -> logger py.warnings, as JSON
    sys.excepthook = _log_uncaught
    os.environ[ENV] = logging.getLevelName(level) if isinstance(level, int) else level


def install_in_child() -> None:
    """In a spawned child process (extraction worker): JSON lines when the parent logs them."""
    level = os.environ.get(ENV)
    if level:
        install(level)


def _log_uncaught(kind: type[BaseException], value: BaseException,
                  traceback: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, traceback)
        return
    logging.getLogger("newscrawl").critical("Uncaught exception: %s", value,
                                           exc_info=(kind, value, traceback))
