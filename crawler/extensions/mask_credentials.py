"""Mask credentials in every log line: ``mongodb://user:secret@host`` becomes
``mongodb://user:***@host`` (Scrapy itself logs overridden settings, ``-s MONGO_URI=...``
included). Installed as a filter on the root logger's handlers when the crawler starts."""

from __future__ import annotations

import logging
import re

from scrapy.crawler import Crawler

_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s'\"]*:)[^@\s'\"]+@", re.IGNORECASE)


def mask(text: str) -> str:
    return _CREDENTIALS.sub(r"\1***@", text)


class CredentialFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class MaskCredentials:
    def __init__(self) -> None:
        self.filter = CredentialFilter()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MaskCredentials:
        extension = cls()
        extension.install()
        return extension

    def install(self) -> None:
        for handler in logging.getLogger().handlers:
            if self.filter not in handler.filters:
                handler.addFilter(self.filter)
