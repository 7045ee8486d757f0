"""``scrapy parse``: no run recorded (it is not a crawl)."""

from __future__ import annotations

import argparse

from scrapy.commands.parse import Command as ScrapyParseCommand

from crawler.commands import not_a_run


class Command(ScrapyParseCommand):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        not_a_run(self.settings)
