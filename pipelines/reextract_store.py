"""The item pipelines of ``newscrawl reextract`` (crawler/reextract.py): the storage pipeline
without URL state, checkpointing each written batch, and its dry-run variants that write
nothing (neither articles nor template counts)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from crawler.reextract import COMPARED, OUTCOME_OF_WRITE, ReextractSpider
from crawler.storage.article_store import ArticleStore, WriteResult
from crawler.templates.counts import LocalCounts
from crawler.templates.local_store import TemplateStore
from pipelines.mongo import MongoPipeline
from pipelines.template_strip import TemplateStripPipeline

logger = logging.getLogger(__name__)


class ReextractStore(MongoPipeline):
    """MongoPipeline (batches, revisions, spool) without the URL state: nothing was fetched
    (reextract turns the incremental state middleware off). After each batch is written, its
    records are done (checkpoint)."""

    def _spider(self) -> ReextractSpider | None:
        spider = self.crawler.spider
        return spider if isinstance(spider, ReextractSpider) else None

    def _write_or_spool(self, batch: list[dict[str, Any]]) -> WriteResult | None:
        result = super()._write_or_spool(batch)
        spider = self._spider()
        if result is not None and spider is not None:
            self._done(spider, batch, result)
            assert spider.checkpoints is not None
            spider.checkpoints.flush()
        return result

    @staticmethod
    def _done(spider: ReextractSpider, batch: list[dict[str, Any]],
              result: WriteResult) -> None:
        counts: Counter[str] = Counter()
        for url, outcome in result.outcomes.items():
            counts[OUTCOME_OF_WRITE[outcome]] += 1
            spider.count(OUTCOME_OF_WRITE[outcome])
            if outcome != "unchanged":
                logger.info("Reextract: %s %s", OUTCOME_OF_WRITE[outcome], url)
        records = [(str(d["archive"]["file"]), int(d["archive"]["offset"]))
                   for d in batch if isinstance(d.get("archive"), dict)]
        spider.record_done(records, dict(counts))


class DryRunStore(ReextractStore):
    """What ReextractStore would write, compared with the stored articles; writes nothing.
    ``NEWS_REEXTRACT_REPORT``: a JSON Lines file of the pages that would change, with the
    fields that would (each ``[stored, new]``)."""

    report: Any = None

    async def open_spider(self) -> None:
        self.store = ArticleStore(self.database.db["articles"])
        path = self.crawler.settings.get("NEWS_REEXTRACT_REPORT")
        if path:
            self.report = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed at close
        self._lock = asyncio.Lock()

    async def close_spider(self) -> None:
        await self.flush()
        if self.report is not None:
            self.report.close()

    async def _replay_spool(self) -> None:
        return None

    def _write_or_spool(self, batch: list[dict[str, Any]]) -> WriteResult | None:
        assert self.store is not None
        latest = {doc["url"]: doc for doc in batch}
        stored = {doc["url"]: doc for doc in self.store.collection.find(
            {"url": {"$in": list(latest)}}, {"_id": 0})}
        result = WriteResult()
        for url, doc in latest.items():
            old = stored.get(url)
            if old is None:
                outcome = "new"
            elif old.get("content_hash") == doc.get("content_hash"):
                outcome = "unchanged"
            else:
                outcome = "updated"
            setattr(result, outcome, getattr(result, outcome) + 1)
            result.outcomes[url] = outcome
            self._count(f"dry_run_{outcome}", source=doc.get("source"))
            fields = {key: [_plain(old.get(key)), _plain(doc.get(key))] for key in COMPARED
                      if old is not None and _plain(old.get(key)) != _plain(doc.get(key))}
            for key in fields:
                self.crawler.stats.inc_value(f"news/reextract/field/{key}")
            if self.report is not None and (fields or old is None):
                self.report.write(json.dumps({"url": url, "outcome": OUTCOME_OF_WRITE[outcome],
                                              "fields": fields}, ensure_ascii=False) + "\n")
        spider = self._spider()
        if spider is not None:
            self._done(spider, batch, result)
        return result


class _ReadOnlyTemplateStore(TemplateStore):
    def save(self, template: Any) -> None:
        return None


class DryRunTemplates(TemplateStripPipeline):
    """The template pipeline of a dry run: strips with what was learned, saves nothing."""

    async def open_spider(self) -> None:
        await super().open_spider()
        counts = self.counts
        if isinstance(counts, LocalCounts) and counts.store is not None:
            counts.store = _ReadOnlyTemplateStore(counts.store.collection)


def _plain(value: Any) -> Any:
    """A value as stored: BSON keeps dates to the millisecond."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.replace(microsecond=value.microsecond // 1000 * 1000).isoformat()
    return value
