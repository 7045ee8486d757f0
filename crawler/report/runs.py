"""``newscrawl runs``: the recent runs from ``crawl_runs``, one line per run and source, with
the columns of the end-of-run summary table (crawler.report.table)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crawler.report.source_counts import EVENTS, health
from crawler.report.table import Row, format_rows, refusals

PREFIX = (("started (UTC)", 19, "<"), ("secs", 5, ">"), ("outcome", 11, "<"))


def runs_lines(records: Iterable[dict[str, Any]]) -> list[str]:
    """The table of ``crawl_runs`` documents, in the order given; under a run, its problems,
    each after a ``!``. The outcome column: ``ok``, ``failed``, or how a run that did not
    finish ended (``interrupted``, ``killed``)."""
    runs: list[tuple[list[Row], list[str]]] = []
    for record in records:
        started = record["started_at"].strftime("%Y-%m-%d %H:%M:%S")
        ended = record.get("ended_at")
        secs = f"{(ended - record['started_at']).total_seconds():.0f}" if ended else "-"
        status = record.get("status")
        # a run that did not finish says how it ended (its outcome is "failed")
        outcome = str(status if status in ("interrupted", "killed") else
                      record.get("outcome") or status or "?")
        counts: dict[str, dict[str, int]] = {
            name: {**dict.fromkeys(EVENTS, 0), **c}
            for name, c in (record.get("counts") or {}).items()}
        shares = record.get("health") or health(counts)
        rows: list[Row] = [((started, secs, outcome), name, c, shares.get(name, {}),
                            refusals(c))
                           for name, c in (counts or {"-": {}}).items()]
        runs.append((rows, [str(p) for p in record.get("problems") or []]))
    width = max([0, *(len(row[1]) for rows, _ in runs for row in rows)])
    lines = format_rows([], PREFIX, width=width)
    indent = sum(w + 1 for _, w, _ in PREFIX)
    for rows, problems in runs:
        lines += format_rows(rows, PREFIX, header=False, width=width)
        lines += [f"{'':<{indent}}! {problem}" for problem in problems]
    return lines
