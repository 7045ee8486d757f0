"""``scrapy shell``: no run recorded (it is not a crawl), and Scrapy's own memory queue.

The shell hands a request to the engine and then attaches its callbacks to that same object
(``scrapy.shell._request_deferred``), so the request must wait in the queue as it is: our
queue keeps a pickled copy (crawler/request_queue.py), whose download would never call them
back and the shell would wait for ever."""

from __future__ import annotations

import argparse

from scrapy.commands.shell import Command as ScrapyShellCommand

from crawler.commands import not_a_run

SCRAPY_MEMORY_QUEUE = "scrapy.squeues.LifoMemoryQueue"


class Command(ScrapyShellCommand):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        not_a_run(self.settings)
        assert self.settings is not None  # Scrapy sets them before it processes the options
        self.settings.set("SCHEDULER_MEMORY_QUEUE", SCRAPY_MEMORY_QUEUE, priority="cmdline")
