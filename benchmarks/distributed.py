"""Distributed crawl throughput with 1 and 2 workers, and the Redis memory per 10,000 URLs.

    .venv/bin/python benchmarks/distributed.py                 # N=1810, workers 1 and 2, 2 rounds
    .venv/bin/python benchmarks/distributed.py --pin           # each worker on a core of its own
    .venv/bin/python benchmarks/distributed.py --memory-only   # the Redis memory measure alone

The site is the throughput benchmark's (benchmarks/_serve.py: the 181 real pages of
../shared/eval/scrapinghub-aeb/html/ repeated at N distinct URLs, with a sitemap). For each
worker count, in a fresh embedded database and an emptied Redis: the workers are started
(``newscrawl worker``, politeness relaxed for loopback as in benchmarks/throughput.py), then
``newscrawl seed`` queues the sitemap; the rate is pages extracted (summed over the workers) /
(last article stored - first request the page server saw). ``--pin`` runs worker i with
``taskset -c i`` and one extraction process, which is what adding a machine adds.

Redis memory: ``INFO memory`` (``used_memory``) before and after 10,000 article requests as
the spider makes them from a sitemap are pushed through the dupefilter into the queue, and
``MEMORY USAGE`` of each key; then the same requests popped into a worker's in-flight hash.
Prints tables and writes them to docs/distributed.md (between marker comments).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pymongo
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _runners import RELAXED
from _serve import DEFAULT_PAGES
from throughput import Server, crawl_stats, write_section

from crawler.database import EmbeddedMongo
from crawler.distributed.dupefilter import RunDupeFilter
from crawler.distributed.queue import ReliableQueue
from crawler.distributed.shared import SharedCrawl
from crawler.spiders.news import NewsSpider

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "distributed.md"
PY = sys.executable
MB = 1024 * 1024


class RedisServer:
    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("redis-server is not installed (apt-get install redis-server)")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
             "no", "--dir", str(workdir)], stdout=subprocess.DEVNULL, cwd=workdir)
        self.url = f"redis://127.0.0.1:{port}/0"
        self.client = redis.Redis.from_url(self.url)
        for _ in range(200):
            try:
                self.client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise SystemExit("redis-server did not start")

    def close(self) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(timeout=10)


def run_workers(server: Server, rds: RedisServer, n: int, workers: int, pin: bool,
                tmp: Path) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix=f"dist-{workers}-", dir=tmp))
    sources = data_dir / "sources.yaml"
    sources.write_text(f"sources:\n  - name: bench\n    sitemaps: [{server.base}/sitemap-{n}.xml]"
                       "\n", encoding="utf-8")
    rds.client.flushdb()
    with EmbeddedMongo(data_dir / "db") as mongo:
        assert mongo.uri is not None
        settings = {**RELAXED, "NEWS_DATA_DIR": str(data_dir), "NEWS_REDIS_URL": rds.url,
                    "NEWS_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
                    "NEWS_REDIS_IDLE_TIMEOUT": 2}
        if pin:
            settings["NEWS_EXTRACT_WORKERS"] = 1
        if workers == 0:  # the single-process crawl, for comparison: no Redis at all
            settings = {k: v for k, v in settings.items() if not k.startswith("NEWS_REDIS_")}
        common = ["--sources", str(sources)]
        for key, value in settings.items():
            common += ["-s", f"{key}={value}"]
        env = dict(os.environ, MONGO_URI=mongo.uri)
        env.pop("REDIS_URL", None)
        procs, logs = [], []
        if workers == 0:
            log = data_dir / "single.log"
            logs.append(log)
            server.get("/__reset")
            with log.open("wb") as out:
                pinned = ["taskset", "-c", "0"] if pin else []
                code = subprocess.run([*pinned, PY, "-m", "crawler.cli", "run", *common], cwd=ROOT,
                                      env=env, stdout=out, stderr=subprocess.STDOUT,
                                      check=False).returncode
            if code:
                raise SystemExit(f"single-process crawl failed:\n{log.read_text()[-3000:]}")
        for i in range(workers):
            log = data_dir / f"worker-{i + 1}.log"
            logs.append(log)
            prefix = ["taskset", "-c", str(i % (os.cpu_count() or 1))] if pin else []
            with log.open("wb") as out:
                procs.append(subprocess.Popen(
                    [*prefix, PY, "-m", "crawler.cli", "worker", "--slot", str(i + 1), *common],
                    cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 60
        while rds.client.scard("newscrawl:workers") < workers and time.monotonic() < deadline:
            time.sleep(0.05)
        if workers:
            server.get("/__reset")
            seed = subprocess.run([PY, "-m", "crawler.cli", "seed", *common], cwd=ROOT, env=env,
                                  capture_output=True, text=True, check=False)
            if seed.returncode != 0:
                raise SystemExit(f"seed failed:\n{seed.stderr[-3000:]}")
        codes = [p.wait(timeout=3600) for p in procs]
        if any(codes):
            raise SystemExit(f"a worker failed ({codes}):\n"
                             f"{logs[codes.index(max(codes))].read_text()[-3000:]}")
        stats = server.get("/__stats")
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo.uri,
                                                                          tz_aware=True)
        try:
            stored = client.news.articles.count_documents({})
            newest = client.news.articles.find_one({}, {"updated_at": 1},
                                                   sort=[("updated_at", -1)])
        finally:
            client.close()
    per_worker = [crawl_stats(log.read_text(errors="replace")).get("news/page/extracted", 0)
                  for log in logs]
    last = newest["updated_at"].timestamp() if newest else 0.0
    span = last - (stats["first"] or last)
    pages = sum(per_worker)
    return {"workers": workers, "pages": pages, "per_worker": per_worker, "stored": stored,
            "span": span, "rate": pages / span if span > 0 else 0.0,
            "dupefilter_bytes": int(rds.client.memory_usage("newscrawl:dupefilter",
                                                            samples=0) or 0)}


def redis_memory(rds: RedisServer, urls: int) -> dict[str, float]:
    """Bytes per ``urls`` URLs: pending queue, dupefilter, in flight (INFO memory and keys)."""
    client = rds.client
    client.flushdb()
    used = lambda: int(client.info("memory")["used_memory"])  # noqa: E731
    base = used()
    shared = SharedCrawl(client, worker="bench:1:x")
    spider = NewsSpider()
    queue, dupefilter = ReliableQueue(shared, spider), RunDupeFilter(shared)
    published = datetime.now(UTC).replace(microsecond=0)
    for i in range(urls):
        request = spider._page_request(
            f"https://www.example-news.com/2024/06/01/article-{i}-a-headline-of-some-words.html",
            "example-news", depth=2,
            meta={"news_via": "sitemap", "news_hinted": True,
                  "news_hint": {"title": f"A headline of some words, number {i}",
                                "published": published, "modified": None}})
        if not dupefilter.request_seen(request):
            queue.push(request)
    queued = used()
    result = {"queued_total": queued - base,
              "pending_key": int(client.memory_usage(shared.keys.pending, samples=0) or 0),
              "dupefilter_key": int(client.memory_usage(shared.keys.dupefilter, samples=0) or 0)}
    while shared.pop() is not None:
        pass
    result["inflight_key"] = int(client.memory_usage(shared.keys.inflight(shared.worker),
                                                     samples=0) or 0)
    client.flushdb()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description="distributed crawl: 1 vs 2 workers; Redis memory")
    parser.add_argument("--n", type=int, default=1810)
    parser.add_argument("--workers", default="0,1,2",
                        help="worker counts to measure; 0 is the single-process crawl")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pin", action="store_true", help="worker i on core i, 1 extractor")
    parser.add_argument("--pages", type=Path, default=DEFAULT_PAGES)
    parser.add_argument("--memory-urls", type=int, default=10_000)
    parser.add_argument("--memory-only", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",") if w]
    with tempfile.TemporaryDirectory(prefix="bench-dist-") as tmp_name:
        tmp = Path(tmp_name)
        rds = RedisServer(tmp)
        try:
            memory = redis_memory(rds, args.memory_urls)
            k = args.memory_urls / 10_000
            mem_lines = [
                f"Redis {rds.client.info('server')['redis_version']}, per 10,000 article URLs "
                f"(requests as the spider makes them from a sitemap entry):",
                "",
                f"- pending queue + dupefilter, `INFO memory` used_memory delta: "
                f"**{memory['queued_total'] / k / MB:.2f} MB**",
                f"- of which the pending queue (sorted set) {memory['pending_key'] / k / MB:.2f} "
                f"MB and the dupefilter (set of 20-byte fingerprints) "
                f"{memory['dupefilter_key'] / k / MB:.2f} MB (`MEMORY USAGE`)",
                f"- the same requests in a worker's in-flight hash: "
                f"{memory['inflight_key'] / k / MB:.2f} MB (in practice in flight is at most "
                f"`CONCURRENT_REQUESTS` per worker)"]
            print("\n".join(mem_lines), flush=True)
            if not args.no_write:
                write_section("redis-memory", "\n".join(mem_lines), DOC)
            if args.memory_only:
                return 0
            server = Server(args.n, args.pages)
            try:
                runs: list[dict[str, Any]] = []
                for round_no in range(args.rounds):
                    order = counts if round_no % 2 == 0 else counts[::-1]
                    for workers in order:
                        run = run_workers(server, rds, args.n, workers, args.pin, tmp)
                        runs.append(run)
                        print(f"round {round_no + 1}: {workers} worker(s) {run['rate']:6.1f} "
                              f"pages/s  pages {run['pages']} {run['per_worker']}  stored "
                              f"{run['stored']}  span {run['span']:.1f} s", flush=True)
            finally:
                server.close()
        finally:
            rds.close()
    lines = [f"N = {args.n} pages, {args.rounds} rounds, {os.cpu_count()} cores"
             f"{', worker i pinned to core i with 1 extraction process' if args.pin else ''}; "
             "medians (per round in brackets).", "",
             "| workers | pages/s | pages per worker | stored | first request to last stored, s |",
             "|---:|---:|---|---:|---:|"]
    for workers in counts:
        rs = [r for r in runs if r["workers"] == workers]
        per_round = ", ".join(f"{r['rate']:.1f}" for r in rs)
        label = "single process (no Redis)" if workers == 0 else str(workers)
        lines.append(
            f"| {label} | {statistics.median(r['rate'] for r in rs):.1f} "
            f"[{per_round}] | {rs[-1]['per_worker']} "
            f"| {rs[-1]['stored']} | {statistics.median(r['span'] for r in rs):.1f} |")
    dupes = [r["dupefilter_bytes"] * 10_000 / r["pages"] for r in runs if r["pages"]]
    if dupes:
        lines += ["", f"- dupefilter after the crawls: {statistics.median(dupes) / MB:.2f} MB "
                      "per 10,000 pages fetched (`MEMORY USAGE`)"]
    table = "\n".join(lines)
    print("\n" + table)
    if not args.no_write:
        write_section("distributed-throughput" + ("-pinned" if args.pin else ""), table, DOC)
    return 0


if __name__ == "__main__":
    sys.exit(main())
