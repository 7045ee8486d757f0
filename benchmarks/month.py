"""A month in an afternoon: an evolving news site crawled run after run on a simulated clock.

    .venv/bin/python benchmarks/month.py [--runs 60] [--hours 12] [--per-run 2]

The site (tests/month_site.py) publishes, edits, deletes and moves articles between runs;
each run is a real ``scrapy crawl news`` started at its simulated moment (``NEWS_NOW``), on
loopback, into the embedded nx-27017 database. Prints one line per run and the month's
table (docs/cron.md, "A month in an afternoon").
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.database import EmbeddedMongo  # noqa: E402
from tests.month_site import MonthReport, RunRow, available, simulate  # noqa: E402


def show(row: RunRow) -> None:
    print(f"run {row.run:>3} {row.at:%Y-%m-%d %H:%M}  published {row.published:>4}  "
          f"stored {row.stored_in_time:>4}/{row.expected:<4} fetches {row.fetches:>3} "
          f"(minimum {row.minimum:>3})  url_state {row.url_state:>4} "
          f"(URLs seen {row.urls_seen:>4})  {row.seconds:5.1f} s", flush=True)


def table(report: MonthReport) -> str:
    rows = report.rows
    fetched = sum(r.fetches for r in rows[1:])
    minimum = sum(r.minimum for r in rows[1:])
    edits = sum(e for e, _ in report.revisions.values())
    revisions = sum(r for _, r in report.revisions.values())
    last = rows[-1]
    lines = [
        "| runs | articles published | stored in time | late | lost | edits | revisions "
        "| gone (marked) | moved (one document) | fetches per run | minimum per run "
        "| fetches / minimum | url_state / URLs seen |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        f"| {len(rows)} | {report.articles} | {last.stored_in_time} of {last.expected} live "
        f"| {len(report.late)} | {len(report.lost)} | {edits} | {revisions} "
        f"| {len(report.gone)} ({sum(report.gone.values())}) "
        f"| {len(report.moved)} ({sum(1 for n in report.moved.values() if n == 1)}) "
        f"| {statistics.mean(r.fetches for r in rows[1:]):.1f} "
        f"| {statistics.mean(r.minimum for r in rows[1:]):.1f} | {fetched / minimum:.2f} "
        f"| {last.url_state} / {last.urls_seen} |",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--hours", type=float, default=12.0, help="simulated hours per run")
    parser.add_argument("--per-run", type=int, default=2, help="articles published per run")
    args = parser.parse_args()
    if not available():
        print("needs ../shared/eval/scrapinghub-aeb/ground-truth.json", file=sys.stderr)
        return 2
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp, EmbeddedMongo(Path(tmp) / "db") as mongo:
        assert mongo.uri is not None
        report = simulate(args.runs, mongo.uri, "bench_month", Path(tmp) / "data",
                          step=timedelta(hours=args.hours), per_run=args.per_run, log=show)
    print()
    print(table(report))
    print(f"\n(first run excluded from the per-run means; {time.monotonic() - started:.0f} s "
          "wall)")
    for title, items in (("late", report.late), ("lost", report.lost),
                         ("problems", report.problems)):
        for item in items:
            print(f"{title}: {item}")
    for n, (edits, revisions) in sorted(report.revisions.items()):
        if edits != revisions:
            print(f"revisions: article {n}: {edits} edits, {revisions} revisions")
    for n, marked in sorted(report.gone.items()):
        if not marked:
            print(f"gone: article {n} not marked")
    for n, documents in sorted(report.moved.items()):
        if documents != 1:
            print(f"moved: article {n} is {documents} documents")
    return 0


if __name__ == "__main__":
    sys.exit(main())
