from __future__ import annotations

import logging

import pytest

from crawler.extensions.mask_credentials import CredentialFilter, mask


@pytest.mark.parametrize(("text", "expected"), [
    ("mongodb://reader:s3cret@db:27017/news", "mongodb://reader:***@db:27017/news"),
    ("{'MONGO_URI': 'mongodb+srv://u:p%40ss@cluster/x'}", "{'MONGO_URI': 'mongodb+srv://u:***@cluster/x'}"),
    ("redis://:pw@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
    ("http://example.com:8080/a", "http://example.com:8080/a"),
])
def test_mask(text: str, expected: str) -> None:
    assert mask(text) == expected


def test_filter_rewrites_formatted_records() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "Overridden: %(s)s",
                               ({"s": "mongodb://a:b@h"},), None)
    assert CredentialFilter().filter(record)
    assert record.getMessage() == "Overridden: mongodb://a:***@h"
