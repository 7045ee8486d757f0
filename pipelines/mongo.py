"""Store articles in MongoDB: batched, idempotent, off the reactor thread, never lost.

Items are buffered and written with one ``bulk_write`` per batch (``NEWS_MONGO_BATCH_SIZE``), on a
timer (``NEWS_MONGO_FLUSH_INTERVAL``) and when the spider closes. Writes run in a thread. A batch
that cannot be written after retries goes to a durable spool on local disk, which is written to
the database when it answers again, in this run or at the next run's start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import Any

from itemadapter import ItemAdapter
from pymongo.errors import PyMongoError
from scrapy.crawler import Crawler

from crawler.database import Database, mask_uri
from pipelines.article_store import ArticleStore, WriteResult
from pipelines.spool import Spool

logger = logging.getLogger(__name__)


class MongoPipeline:
    def __init__(self, batch_size: int = 100, flush_interval: float = 2.0,
                 spool_path: str | Path = "data/spool.jsonl", retries: int = 3,
                 retry_delay: float = 0.5) -> None:
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.spool = Spool(spool_path)
        self.retries = retries
        self.retry_delay = retry_delay
        self.buffer: list[dict[str, Any]] = []
        self.crawler: Crawler | None = None
        self.database: Database | None = None
        self.store: ArticleStore | None = None
        self._lock = asyncio.Lock()
        self._timer: asyncio.Task[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MongoPipeline:
        settings = crawler.settings
        data_dir = Path(settings.get("NEWS_DATA_DIR", "data"))
        pipeline = cls(
            batch_size=settings.getint("NEWS_MONGO_BATCH_SIZE", 100),
            flush_interval=settings.getfloat("NEWS_MONGO_FLUSH_INTERVAL", 2.0),
            spool_path=data_dir / "spool.jsonl",
        )
        pipeline.crawler = crawler
        # Fail before anything is fetched when the database does not answer.
        pipeline.database = Database.for_crawler(crawler)
        pipeline.database.check()
        return pipeline

    def _count(self, key: str, value: int = 1) -> None:
        if self.crawler is not None and self.crawler.stats is not None and value:
            self.crawler.stats.inc_value(f"news/mongo/{key}", value)

    async def open_spider(self) -> None:
        assert self.database is not None
        self.store = ArticleStore(self.database.db["articles"])
        await asyncio.to_thread(self.store.ensure_indexes)
        logger.info("Storing articles in %s, database %r, collection 'articles'",
                    mask_uri(self.database.uri), self.database.name)
        await self._replay_spool()
        self._timer = asyncio.ensure_future(self._flush_periodically())

    async def process_item(self, item: Any) -> Any:
        self.buffer.append(ItemAdapter(item).asdict())
        if len(self.buffer) >= self.batch_size:
            await self.flush()
        return item

    async def close_spider(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
        await self.flush()

    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval)
            if self.buffer:
                # Shielded: cancelling this timer at close must not abandon a batch mid-write;
                # close_spider's own flush waits on the lock until this one has finished.
                await asyncio.shield(self.flush())

    async def flush(self) -> None:
        async with self._lock:
            batch, self.buffer = self.buffer, []
            if not batch:
                return
            result = await asyncio.to_thread(self._write_or_spool, batch)
            if result is not None and len(self.spool):
                await self._replay_spool()

    def _write_or_spool(self, batch: list[dict[str, Any]]) -> WriteResult | None:
        assert self.store is not None
        for attempt in range(self.retries + 1):
            try:
                result = self.store.write(batch)
            except PyMongoError as exc:
                self._count("write_errors")
                logger.warning("MongoDB write of %d article(s) failed (attempt %d/%d): %s",
                               len(batch), attempt + 1, self.retries + 1, type(exc).__name__)
                if attempt < self.retries:
                    time.sleep(self.retry_delay * 2**attempt)
                continue
            self._count("stored_new", result.new)
            self._count("updated", result.updated)
            self._count("unchanged", result.unchanged)
            return result
        self.spool.append(batch)
        self._count("spooled", len(batch))
        logger.error("MongoDB unavailable: %d article(s) kept in the spool %s; they are "
                     "written when the database answers again", len(batch), self.spool.path)
        return None

    async def _replay_spool(self) -> None:
        docs = self.spool.read()
        if not docs:
            return
        assert self.store is not None
        try:
            result = await asyncio.to_thread(self.store.write, docs)
        except PyMongoError as exc:
            logger.warning("Spool of %d article(s) not replayed yet: %s", len(docs),
                           type(exc).__name__)
            return
        self.spool.clear()
        self._count("replayed", len(docs))
        self._count("stored_new", result.new)
        self._count("updated", result.updated)
        logger.info("Replayed %d spooled article(s) into MongoDB", len(docs))
