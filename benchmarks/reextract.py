"""``newscrawl reextract`` over a WARC archive of real pages: its rate against the extraction
pool's own, and a regression check of one version of the extraction against another.

    .venv/bin/python benchmarks/reextract.py --n 400 --rounds 3      # rate: pool vs reextract
    .venv/bin/python benchmarks/reextract.py --diff --data-dir DIR   # stored vs a new run

Rate: serves the real pages of ../shared/eval/scrapinghub-aeb/html/ at N distinct URLs
(benchmarks/_serve.py), crawls them once (archive on) into a fresh embedded database, then over
interleaved rounds measures

1. pool: the archived responses, decoded as Scrapy decodes them, extracted by the crawl's
   :class:`~crawler.extraction_pool.ExtractionPool` (one worker a core, warmed up), from the
   first page submitted to the last result;
2. reextract: ``newscrawl reextract`` over the same archive and database (the crawl's spider,
   template stripping, normalisation and store; nothing fetched), from the first archived
   response handed to the spider to the last page done (its stat
   ``news/reextract/pages_per_second``).

Diff (``--diff``): over the archive and database of an earlier crawl (``--data-dir``, the
crawl's ``NEWS_DATA_DIR``; ``MONGO_URI`` or its embedded database), runs ``newscrawl reextract
--dry-run`` with the code checked out now and reports how many stored articles the new
extraction would change, and in which fields: crawl with version A, check out version B, run
this. The default run ends with the same check on its own crawl (same code: no change).
Writes its tables to docs/performance.md (between marker comments) unless ``--no-write``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parent))
sys.path.sort(key=lambda p: Path(p or ".").resolve() == Path(__file__).resolve().parent)

from _serve import DEFAULT_PAGES
from throughput import Server, run_project, write_section

from crawler.database import EmbeddedMongo
from crawler.warc import archive_files, iter_responses

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def decoded(data_dir: Path) -> list[tuple[str, str]]:
    """(html, url) of the newest archived response of each URL, decoded as Scrapy does."""
    from scrapy.http import Headers
    from scrapy.responsetypes import responsetypes

    newest: dict[str, Any] = {}
    for path in archive_files(data_dir / "archive"):
        for record in iter_responses(path):
            newest[record.url] = record
    pages = []
    for record in newest.values():
        headers = Headers(record.headers)
        cls = responsetypes.from_args(headers=headers, url=record.url, body=record.body)
        pages.append((cls(url=record.url, headers=headers, body=record.body).text, record.url))
    return pages


async def _pool_rate(pages: list[tuple[str, str]], workers: int) -> tuple[int, float]:
    from crawler.extraction_pool import ExtractionPool

    pool = ExtractionPool(workers=workers)
    try:
        await asyncio.gather(*(pool.extract("<html><body><p>warm</p></body></html>",
                                            "http://warm.up/") for _ in range(workers)))
        first = time.monotonic()
        await asyncio.gather(*(pool.extract(html, url) for html, url in pages))
        return len(pages), len(pages) / (time.monotonic() - first)
    finally:
        pool.close()


def _cpu() -> float:
    """CPU seconds of this process and of its children waited for (their workers too)."""
    return sum(getattr(resource.getrusage(who), field) for who in
               (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for field in ("ru_utime", "ru_stime"))


def pool_rate(pages: list[tuple[str, str]], workers: int) -> tuple[float, float]:
    """Pages a second, and CPU ms a page of the whole job (pool start-up included)."""
    before = _cpu()
    rate = asyncio.run(_pool_rate(pages, workers))[1]
    return rate, 1000 * (_cpu() - before) / len(pages)


def _sources_file(data_dir: Path, url: str) -> Path:
    """The crawl was ``-a url=...`` (source ``adhoc``): a sources file naming it."""
    path = data_dir / "bench-sources.yaml"
    path.write_text(f"sources:\n  - name: adhoc\n    sitemaps: ['{url}']\n", encoding="utf-8")
    return path


def newscrawl_reextract(data_dir: Path, uri: str, sources: Path, *args: str,
                        settings: list[str] | None = None) -> str:
    command = [PY, "-m", "crawler.cli", "reextract", *args, "-s", f"NEWS_DATA_DIR={data_dir}",
               "-s", f"NEWS_SOURCES={sources}", "-s", "LOG_LEVEL=INFO"]
    for item in settings or []:
        command += ["-s", item]
    proc = subprocess.run(command, cwd=ROOT, env=dict(os.environ, MONGO_URI=uri),
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"newscrawl reextract exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return proc.stderr


_RATE = re.compile(r"'news/reextract/pages_per_second': ([\d.]+)")
_OWN_CPU = re.compile(r"'news/reextract/process_cpu_ms': (\d+)")


def diff(data_dir: Path, uri: str, sources: Path, settings: list[str]) -> str:
    """Stored articles against a dry run of the extraction checked out now."""
    with tempfile.TemporaryDirectory(prefix="reextract-diff-") as tmp:
        report = Path(tmp) / "report.jsonl"
        log = newscrawl_reextract(data_dir, uri, sources, "--dry-run",
                                  settings=[*settings, f"NEWS_REEXTRACT_REPORT={report}"])
        lines = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    summary = re.search(r"Reextract \w+ \(dry run\): (.*)", log)
    fields: Counter[str] = Counter(key for line in lines for key in line["fields"])
    out = [f"Stored articles against a new extraction (dry run): "
           f"{summary.group(1) if summary else '?'}.", ""]
    if fields:
        out += ["| field | articles that would change |", "|---|---:|"]
        out += [f"| {key} | {count} |" for key, count in fields.most_common()]
        example = next(line for line in lines if line["fields"])
        key = next(iter(example["fields"]))
        old, new = example["fields"][key]
        out += ["", f"e.g. {example['url']} `{key}`: {str(old)[:120]!r} -> {str(new)[:120]!r}"]
    else:
        out.append("No stored article would change.")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description="reextract: rate and regression check")
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pages", type=Path, default=DEFAULT_PAGES)
    parser.add_argument("--diff", action="store_true", help="only the regression check")
    parser.add_argument("--data-dir", type=Path, help="--diff: the crawl's NEWS_DATA_DIR")
    parser.add_argument("--sources", type=Path, help="--diff: the crawl's sources file")
    parser.add_argument("-s", dest="settings", action="append", default=[])
    parser.add_argument("--no-write", action="store_true", help="do not touch the docs")
    args = parser.parse_args()
    workers = os.cpu_count() or 1
    if args.diff:
        if args.data_dir is None or args.sources is None:
            parser.error("--diff needs --data-dir and --sources")
        uri = os.environ.get("MONGO_URI")
        with EmbeddedMongo(args.data_dir) if not uri else _Given(uri) as mongo:
            print(diff(args.data_dir, str(mongo.uri), args.sources, args.settings))
        return 0
    server = Server(args.n, args.pages)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-reextract-") as tmp_name:
            tmp = Path(tmp_name)
            crawl = run_project(server, args.n, tmp, args.settings)
            data_dir = Path(crawl.extra["log"]).parent
            sources = _sources_file(data_dir, f"{server.base}/sitemap-{args.n}.xml")
            pages = decoded(data_dir)
            print(f"crawled {crawl.pages} pages, {crawl.items} stored; "
                  f"{len(pages)} archived responses", flush=True)
            rates: dict[str, list[float]] = {"pool": [], "reextract": []}
            cpu: dict[str, list[float]] = {"pool": [], "reextract": []}
            walls: list[float] = []
            own: list[float] = []  # CPU ms a page of the reextract process itself
            with EmbeddedMongo(data_dir / "db") as mongo:
                assert mongo.uri is not None
                for round_no in range(args.rounds):
                    order = ["pool", "reextract"][::(-1) ** round_no]
                    for variant in order:
                        if variant == "pool":
                            rate, ms = pool_rate(pages, workers)
                        else:
                            started, before = time.monotonic(), _cpu()
                            log = newscrawl_reextract(data_dir, mongo.uri, sources,
                                                      settings=args.settings)
                            walls.append(time.monotonic() - started)
                            ms = 1000 * (_cpu() - before) / len(pages)
                            found = _RATE.search(log)
                            rate = float(found.group(1)) if found else 0.0
                            mine = _OWN_CPU.search(log)
                            own.append(int(mine.group(1)) / len(pages) if mine else 0.0)
                        rates[variant].append(rate)
                        cpu[variant].append(ms)
                        print(f"round {round_no + 1} {variant:9} {rate:6.1f} pages/s "
                              f"{ms:6.1f} CPU ms/page", flush=True)
                check = diff(data_dir, mongo.uri, sources, args.settings)
            ratios = [r / p for r, p in zip(rates["reextract"], rates["pool"], strict=True) if p]
            table = "\n".join([
                f"N = {args.n} pages served ({len(pages)} archived responses), "
                f"{args.rounds} interleaved rounds, {workers} extraction workers; medians.",
                "",
                "| | pages/s | per round | CPU ms/page (whole job) |", "|---|---:|---|---:|",
                *(f"| {k} | {statistics.median(v):.1f} | {', '.join(f'{x:.1f}' for x in v)} "
                  f"| {statistics.median(cpu[k]):.1f} |" for k, v in rates.items()),
                "",
                f"- reextract/pool, pages/s: **{statistics.median(ratios):.2f}** (per round: "
                f"{', '.join(f'{x:.2f}' for x in ratios)}); reextract process wall, start-up "
                f"and archive scan included: {statistics.median(walls):.1f} s",
                f"- pool/reextract, CPU a page (whole jobs, start-up included; the rate the "
                f"same cores would give when nothing else runs): "
                f"**{statistics.median(cpu['pool']) / statistics.median(cpu['reextract']):.2f}**; "
                f"of reextract's {statistics.median(cpu['reextract']):.1f} ms a page, its own "
                f"process (Scrapy, archive reads, templates, normalising, store; start-up "
                f"included) {statistics.median(own):.1f} ms, its extraction workers the rest",
                "", check])
            print("\n" + table)
            if not args.no_write:
                write_section("reextract", table)
    finally:
        server.close()
    return 0


class _Given:
    """A database given by MONGO_URI (nothing to start)."""

    def __init__(self, uri: str) -> None:
        self.uri = uri

    def __enter__(self) -> _Given:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


if __name__ == "__main__":
    sys.exit(main())
