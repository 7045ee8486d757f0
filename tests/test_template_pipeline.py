"""The template pipeline on its own (no crawl): holding, the held-bytes budget, the warm-up.
Releases that need a crawl (nothing of a site pending) are in tests/test_crawl.py."""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy import Spider
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem
from crawler.templates.counts import LocalCounts
from pipelines.template_strip import TemplateStripPipeline

# One topic per story: pages that differ by a word or two would be one story told again
# (crawler/templates/model.py), and a site's warm-up counts stories.
TOPICS = ["harbour ferry strike", "council budget vote", "school roof repairs",
          "river flood warning", "market fire rebuild"]


def _item(site: int, n: int) -> ArticleItem:
    text = "\n\n".join([f"Story {n} of site {site}: {TOPICS[n % len(TOPICS)]}.",
                        f"Follow site {site} for live updates."])
    return ArticleItem(url=f"http://site{site}.example/story-{n}", text=text)


def test_held_articles_past_the_budget_release_the_site_held_longest() -> None:
    """Without a crawl, a site's pages may always come: its articles wait for the warm-up,
    unless the held responses exceed the budget (here two pages' worth: an unknown response
    size counts as Scrapy's minimum, 1 kB). At close, the articles of sites whose template is
    not learned are not stored."""
    crawler = get_crawler(Spider)
    pipeline = TemplateStripPipeline(crawler, LocalCounts(), warmup=4, hold_max_bytes=2048,
                                     tick=0.01)

    async def crawl() -> tuple[list[bool], ArticleItem, list[Any]]:
        await pipeline.open_spider()
        first = asyncio.ensure_future(pipeline.process_item(_item(1, 1)))
        second = asyncio.ensure_future(pipeline.process_item(_item(2, 1)))
        await asyncio.sleep(0.05)
        waiting = [not first.done(), not second.done()]
        third = asyncio.ensure_future(pipeline.process_item(_item(3, 1)))  # over the budget
        await asyncio.sleep(0.05)
        waiting += [not first.done(), not second.done(), not third.done()]
        await pipeline.close_spider()  # decides what is still held
        closed = await asyncio.gather(second, third, return_exceptions=True)
        return waiting, await first, closed

    waiting, first, closed = asyncio.run(crawl())
    assert waiting == [True, True, False, True, True]  # site 1, held longest, went first
    assert first.template_lines_removed == 0  # one page: nothing learned, nothing removed
    assert [type(result) for result in closed] == [DropItem, DropItem]  # not learned
    assert pipeline.held == {} and pipeline.held_bytes == 0
    stats = crawler.stats.get_stats()
    assert stats["news/templates/held"] == 3
    assert stats["news/templates/released/budget"] == 1  # site 1
    assert stats["news/templates/not_stored"] == 2  # sites 2 and 3
    assert "news/templates/released/closing" not in stats


def test_at_close_a_learned_sites_articles_are_stored_clean_the_others_not() -> None:
    """Closing (Ctrl-C): a site whose warm-up is reached has its held articles stripped and
    stored; a site still learning has its held articles dropped (fetched again next run)."""
    crawler = get_crawler(Spider)
    pipeline = TemplateStripPipeline(crawler, LocalCounts(), warmup=4, tick=0.01)

    async def crawl() -> tuple[list[Any], list[Any]]:
        await pipeline.open_spider()
        learning = [asyncio.ensure_future(pipeline.process_item(_item(1, n)))
                    for n in range(1, 3)]
        learned = [asyncio.ensure_future(pipeline.process_item(_item(2, n)))
                   for n in range(1, 4)]
        await asyncio.sleep(0.05)
        # Site 2's warm-up is reached while the crawl closes (a page already being fetched):
        # counted, it releases the site before the close decides.
        pipeline.sites["site2.example"].pages = 4
        await pipeline.close_spider()
        return (await asyncio.gather(*learning, return_exceptions=True),
                await asyncio.gather(*learned, return_exceptions=True))

    learning, learned = asyncio.run(crawl())
    assert [type(result) for result in learning] == [DropItem, DropItem]
    assert all(isinstance(item, ArticleItem) for item in learned)
    assert [item.template_lines_removed for item in learned] == [1, 1, 1]
    assert crawler.stats.get_value("news/templates/not_stored") == 2
    assert crawler.stats.get_value("news/templates/released/closing") == 1


def test_a_sites_articles_wait_for_the_warm_up_and_are_all_clean() -> None:
    pipeline = TemplateStripPipeline(get_crawler(Spider), LocalCounts(), warmup=4, tick=0.01)

    async def crawl() -> tuple[list[bool], list[ArticleItem]]:
        await pipeline.open_spider()
        held = [asyncio.ensure_future(pipeline.process_item(_item(2, n))) for n in range(1, 4)]
        await asyncio.sleep(0.05)
        waiting = [not future.done() for future in held]
        docs = [await pipeline.process_item(_item(2, 4)), *await asyncio.gather(*held)]
        await pipeline.close_spider()
        return waiting, docs

    waiting, docs = asyncio.run(crawl())
    assert waiting == [True, True, True]
    assert [item.template_lines_removed for item in docs] == [1, 1, 1, 1]
    assert all("Follow site 2" not in item.text for item in docs)
    assert all(item.paragraphs == item.text.split("\n\n") for item in docs)
