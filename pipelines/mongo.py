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

from crawler import signals as news_signals
from crawler.clock import Clock
from crawler.database import Database, mask_uri
from crawler.defaults import news_float, news_get, news_int
from crawler.middlewares.incremental import IncrementalStateMiddleware
from crawler.per_source import SourceCounts
from crawler.storage.article_store import ArticleStore, WriteResult
from crawler.storage.spool import Spool
from pipelines.normalize import document_of

logger = logging.getLogger(__name__)


class MongoPipeline:
    def __init__(self, crawler: Crawler, database: Database, batch_size: int = 100,
                 flush_interval: float = 2.0, spool_path: str | Path = "data/spool.jsonl",
                 retries: int = 3, retry_delay: float = 0.5, export_stored: bool = False,
                 clock: Clock | None = None) -> None:
        self.crawler = crawler  # its stats, its signals (articles_stored), its URL state
        # The URL state's owner (crawler/middlewares/incremental.py), told of each durable batch
        # directly: the articles' state is recorded where their fetch ends, here.
        self.url_state: IncrementalStateMiddleware | None = None
        self.database = database
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.spool = Spool(spool_path)
        self.retries = retries
        self.retry_delay = retry_delay
        self.clock = clock or Clock()  # NEWS_NOW: updated_at, superseded_at
        self.buffer: list[dict[str, Any]] = []
        self.store: ArticleStore | None = None  # opened with the spider
        self._lock = asyncio.Lock()
        self._timer: asyncio.Task[None] | None = None
        # With a feed export (-o out.jsonl): each item waits for its batch to be written and
        # goes on as the article stored (docs/schema.md), not as the spider made it.
        self.export_stored = export_stored
        self._waiting: dict[str, list[asyncio.Future[dict[str, Any]]]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MongoPipeline:
        settings = crawler.settings
        database = Database.for_crawler(crawler)
        # Fail before anything is fetched when the database does not answer.
        database.check()
        return cls(
            crawler, database,
            batch_size=news_int(settings, "NEWS_MONGO_BATCH_SIZE"),
            flush_interval=news_float(settings, "NEWS_MONGO_FLUSH_INTERVAL"),
            spool_path=Path(news_get(settings, "NEWS_DATA_DIR")) / "spool.jsonl",
            retries=news_int(settings, "NEWS_MONGO_RETRIES"),
            export_stored=bool(settings.getdict("FEEDS")),
            clock=Clock.from_settings(settings),
        )

    def _count(self, key: str, value: int = 1, source: str | None = None) -> None:
        if value:
            self.crawler.stats.inc_value(f"news/mongo/{key}", value)
            if source:  # per source (crawler/per_source.py)
                SourceCounts.for_crawler(self.crawler).add(source, key, value)

    async def open_spider(self) -> None:
        self.url_state = self.crawler.get_spider_middleware(IncrementalStateMiddleware)
        self.store = ArticleStore(self.database.db["articles"],
                                  self.database.db["article_revisions"])
        await asyncio.to_thread(self.store.ensure_indexes)
        logger.info("Storing articles in %s, database %r, collection 'articles'",
                    mask_uri(self.database.uri), self.database.name)
        await self._replay_spool()
        self._timer = asyncio.ensure_future(self._flush_periodically())

    async def process_item(self, item: Any) -> Any:
        # The article item becomes its document here, where it is stored.
        doc = document_of(item, self.crawler.stats) if not isinstance(item, dict) \
            else ItemAdapter(item).asdict()
        self.buffer.append(doc)
        if not self.export_stored:
            if len(self.buffer) >= self.batch_size:
                await self.flush()
            return doc
        stored: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(doc["url"], []).append(stored)
        if len(self.buffer) >= self.batch_size:
            await self.flush()
        return await stored

    def _release(self, batch: list[dict[str, Any]], result: WriteResult | None) -> None:
        """Hand each waiting item its stored shape (spooled: its own, without internal keys)."""
        for doc in batch:
            for waiter in self._waiting.pop(doc["url"], []):
                if not waiter.done():
                    stored = (result.documents.get(doc["url"]) if result else None) or doc
                    waiter.set_result(export_shape(stored))

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
            result = None
            try:
                result = await asyncio.to_thread(self._write_or_spool, batch)
            finally:
                self._release(batch, result)
            # Written or spooled: durable either way. Articles first, then their URL state: a
            # crash in between refetches, never skips. A spooled batch gets its URL state when
            # it is replayed. (The signal: the distributed queue's acknowledgements.)
            if self.url_state is not None and result is not None:
                self.url_state.articles_stored(batch)
            self.crawler.signals.send_catch_log(news_signals.articles_stored, docs=batch,
                                                spooled=result is None)
            if result is not None and len(self.spool):
                await self._replay_spool()

    def _write_or_spool(self, batch: list[dict[str, Any]]) -> WriteResult | None:
        assert self.store is not None
        for attempt in range(self.retries + 1):
            try:
                result = self.store.write(batch, now=self.clock.now())
            except PyMongoError as exc:
                self._count("write_errors")
                logger.warning("MongoDB write of %d article(s) failed (attempt %d/%d): %s",
                               len(batch), attempt + 1, self.retries + 1, type(exc).__name__)
                if attempt < self.retries:
                    time.sleep(self.retry_delay * 2**attempt)
                continue
            sources = {doc["url"]: doc.get("source") for doc in batch}
            for url, outcome in result.outcomes.items():
                self._count(_STAT[outcome], source=sources.get(url))
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
            result = await asyncio.to_thread(self.store.write, docs, self.clock.now())
        except PyMongoError as exc:
            logger.warning("Spool of %d article(s) not replayed yet: %s", len(docs),
                           type(exc).__name__)
            return
        self.spool.clear()
        self._count("replayed", len(docs))
        self._count("stored_new", result.new)
        self._count("updated", result.updated)
        if self.url_state is not None:
            self.url_state.articles_stored(docs)
        logger.info("Replayed %d spooled article(s) into MongoDB", len(docs))


_STAT = {"new": "stored_new", "updated": "updated", "unchanged": "unchanged"}


def export_shape(doc: dict[str, Any]) -> dict[str, Any]:
    """An article document as readers see it: no ``_id``, no internal ``_`` keys."""
    return {key: value for key, value in doc.items()
            if key != "_id" and not key.startswith("_")}

