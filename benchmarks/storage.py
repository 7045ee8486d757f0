"""MongoDB writes of the storage pipeline: batched ``ArticleStore.write`` vs one ``insert_one``.

    .venv/bin/python benchmarks/storage.py [--docs 2000] [--batch 100] [--rounds 3]

Builds real article documents (the 181 benchmark pages through ``extract_article`` and
``article_document``, repeated at distinct URLs), then, over interleaved rounds against one
embedded nx-27017 server, writes the same documents into fresh collections with the same
indexes (``ArticleStore.ensure_indexes``):

- batched: ``crawler.storage.article_store.ArticleStore.write`` in batches of ``--batch``
  (``NEWS_MONGO_BATCH_SIZE``): it reads the stored state of the batch's URLs and the wire-copy
  candidates, links stories, and inserts the new articles with one ``insert_many``;
- one by one: ``collection.insert_one`` per document (the goal's baseline);
- raw ``insert_many``: the same batches inserted with nothing read or computed, the most any
  batched write path can get from this server.

Prints documents/s (medians), the ratio, and the database server's CPU per document, and writes
them to docs/performance.md (between marker comments).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import pymongo

# benchmarks/ holds other scripts too (one may be named like an installed package): look
# there last, after the installed packages.
sys.path.append(str(Path(__file__).resolve().parent))
sys.path.sort(key=lambda p: Path(p or ".").resolve() == Path(__file__).resolve().parent)

from _runners import decoded_pages
from _serve import DEFAULT_PAGES
from throughput import write_section

from crawler.database import EmbeddedMongo
from crawler.document import article_document
from crawler.extraction.article import extract_article
from crawler.storage.article_store import ArticleStore


def documents(count: int, pages_dir: Path) -> list[dict[str, Any]]:
    """``count`` stored-shape documents with distinct URLs, from the real benchmark pages."""
    extracted = []
    for i, html in enumerate(decoded_pages(pages_dir)):
        item = extract_article(html, f"http://127.0.0.1/articles/{i}.html")
        item.pop("is_article", None)
        extracted.append(item)
    now = datetime.now(UTC)
    docs = []
    for i in range(count):
        item = dict(extracted[i % len(extracted)])
        item["url"] = item["fetched_url"] = f"http://127.0.0.1/articles/{i}.html"
        item.update(source="bench", fetched_at=now, http_status=200)
        docs.append(article_document(item))
    return docs


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def main() -> int:
    parser = argparse.ArgumentParser(description="batched vs one-by-one article writes")
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pages", type=Path, default=DEFAULT_PAGES)
    parser.add_argument("--no-write", action="store_true", help="do not touch the docs")
    args = parser.parse_args()
    docs = documents(args.docs, args.pages)
    size = sum(len(d["text"]) for d in docs) / len(docs)
    modes = ["batched", "insert_one", "insert_many"]
    rates: dict[str, list[float]] = {mode: [] for mode in modes}
    server_ms: dict[str, list[float]] = {mode: [] for mode in modes}
    with tempfile.TemporaryDirectory(prefix="bench-storage-") as tmp, \
            EmbeddedMongo(Path(tmp) / "db") as mongo:
        assert mongo.uri is not None and mongo.process is not None
        server = psutil.Process(mongo.process.pid)
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo.uri,
                                                                          tz_aware=True)
        db = client["bench"]
        for round_no in range(args.rounds):
            for mode in modes[round_no % len(modes):] + modes[:round_no % len(modes)]:
                collection = db[f"articles_{mode}_{round_no}"]
                store = ArticleStore(collection)
                store.ensure_indexes()
                batch = [dict(d) for d in docs]  # fresh copies: insert_one adds an _id
                cpu = _cpu(server)
                started = time.perf_counter()
                if mode == "batched":
                    for start in range(0, len(batch), args.batch):
                        store.write(batch[start:start + args.batch])
                elif mode == "insert_many":
                    for start in range(0, len(batch), args.batch):
                        collection.insert_many(batch[start:start + args.batch], ordered=False)
                else:
                    for doc in batch:
                        collection.insert_one(doc)
                elapsed = time.perf_counter() - started
                stored = collection.count_documents({})
                if stored != len(docs):
                    raise SystemExit(f"{mode}: {stored} documents stored, {len(docs)} written")
                rates[mode].append(len(docs) / elapsed)
                server_ms[mode].append(1000 * (_cpu(server) - cpu) / len(docs))
                print(f"round {round_no + 1} {mode:10} {len(docs) / elapsed:8.1f} docs/s",
                      flush=True)
        client.close()
    ratios = [b / o for b, o in zip(rates["batched"], rates["insert_one"], strict=True)]
    lines = [
        f"{len(docs)} article documents (text {size / 1000:.1f} kB on average), "
        f"{args.rounds} interleaved rounds, one embedded nx-27017 server; medians.",
        "",
        "| | docs/s | database CPU ms/doc |",
        "|---|---:|---:|",
        f"| `ArticleStore.write`, batches of {args.batch} "
        f"| {statistics.median(rates['batched']):.0f} "
        f"| {statistics.median(server_ms['batched']):.2f} |",
        f"| `insert_one` per document | {statistics.median(rates['insert_one']):.0f} "
        f"| {statistics.median(server_ms['insert_one']):.2f} |",
        f"| raw `insert_many`, batches of {args.batch} "
        f"| {statistics.median(rates['insert_many']):.0f} "
        f"| {statistics.median(server_ms['insert_many']):.2f} |",
        "",
        f"- batched / insert_one: **{statistics.median(ratios):.2f}×** (per round: "
        + ", ".join(f"{r:.2f}" for r in ratios) + ")",
    ]
    raw = [m / o for m, o in zip(rates["insert_many"], rates["insert_one"], strict=True)]
    lines.append(f"- raw insert_many / insert_one: **{statistics.median(raw):.2f}×** "
                 "(per round: " + ", ".join(f"{r:.2f}" for r in raw) + ")")
    table = "\n".join(lines)
    print("\n" + table)
    if not args.no_write:
        write_section("storage", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
