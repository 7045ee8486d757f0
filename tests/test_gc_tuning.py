"""The crawl process's garbage collector (crawler/extensions/gc_tuning.py): tuned while the
engine runs, cycles still collected, the process left as found when the last crawl stops."""

from __future__ import annotations

import gc
import weakref

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from crawler.extensions.gc_tuning import CollectorTuning


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def _start(tuning: CollectorTuning) -> None:
    tuning.engine_started()  # Scrapy's engine_started signal


def _stop(tuning: CollectorTuning) -> None:
    tuning.engine_stopped()  # engine_stopped


def test_tuned_while_the_engine_runs_and_restored_after() -> None:
    before = gc.get_threshold()
    crawler = get_crawler(settings_dict={"NEWS_GC_THRESHOLD": 5000})
    tuning = CollectorTuning.from_crawler(crawler)
    _start(tuning)
    try:
        assert gc.get_threshold() == (5000, before[1], before[2])
        assert gc.get_freeze_count() > 0  # what was alive at the start is left out
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle made during the crawl is still collected
        gone = weakref.ref(a)
        del a, b
        gc.collect()
        assert gone() is None
    finally:
        _stop(tuning)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_two_crawls_in_one_process_restore_when_the_last_stops() -> None:
    before = gc.get_threshold()
    first = CollectorTuning.from_crawler(get_crawler(settings_dict={"NEWS_GC_THRESHOLD": 5000}))
    second = CollectorTuning.from_crawler(get_crawler(settings_dict={"NEWS_GC_THRESHOLD": 8000}))
    _start(first)
    _start(second)
    _stop(first)
    assert gc.get_threshold()[0] == 8000  # the second crawl still runs
    _stop(second)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_zero_leaves_the_collector_alone() -> None:
    with pytest.raises(NotConfigured):
        CollectorTuning.from_crawler(get_crawler(settings_dict={"NEWS_GC_THRESHOLD": 0}))
