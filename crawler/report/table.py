"""The per-source summary table of a run: logged at the end of every crawl and printed by
``newscrawl runs``.

Columns: entries found (listed by feeds and sitemaps), pages fetched, articles new, updated,
unchanged, 304 (not modified), pages refused as non-articles (with their most frequent
reasons), listed entries skipped as too old, fetch errors, pages rendered in the browser
(crawler/browser.py), and the extraction health shares
(``-`` where there was nothing to judge: no page fetched, no article extracted); docs/cron.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crawler.extraction.classify import REFUSAL_KINDS

HEALTH_COLUMNS = (("empty_text", "empty"), ("no_date", "nodate"), ("no_author", "noauth"),
                  ("paywalled", "paywl"), ("fast", "fast"))
COUNT_COLUMNS = (("discovered", "found"), ("fetched", "fetched"), ("stored_new", "new"),
                 ("updated", "upd"), ("unchanged", "same"), ("not_modified", "304"),
                 ("rejected", "refused"), ("skipped_too_old", "old"), ("errors", "err"),
                 ("rendered", "browser"))


def judged(counts: Mapping[str, int], metric: str) -> bool:
    """Whether a health share means something: a share of the pages fetched needs pages, a
    share of the articles extracted needs articles (else it is shown as ``-``)."""
    base = "fetched" if metric in ("empty_text", "rejected") else "articles"
    return int(counts.get(base, 0)) > 0


def refusals(counts: Mapping[str, int]) -> dict[str, int]:
    """A source's pages refused by kind, from its counts (events ``refused_<kind>``)."""
    return {event.removeprefix("refused_"): int(value) for event, value in counts.items()
            if event.startswith("refused_") and value}


def top_reasons(kinds: Mapping[str, int], limit: int = 3) -> str:
    """``"4 mostly links, 2 too short"``: the most frequent refusal kinds first."""
    ranked = sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return ", ".join(f"{n} {REFUSAL_KINDS.get(slug, slug)}" for slug, n in ranked)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


Row = tuple[tuple[str, ...], str, Mapping[str, int], Mapping[str, float], Mapping[str, int]]


def table_lines(counts: Mapping[str, Mapping[str, int]],
                health: Mapping[str, Mapping[str, float]]) -> list[str]:
    """The table of one run as text lines: a header, one line per source (in the order of
    ``counts``), a total line when there are several sources, and under a source the top
    reasons its pages were refused."""
    rows: list[Row] = [((), name, c, health.get(name, {}), refusals(c))
                       for name, c in counts.items()]
    return format_rows(rows, total=len(rows) > 1)


def format_rows(rows: list[Row], prefix: Sequence[tuple[str, int, str]] = (),
                total: bool = False, header: bool = True, width: int = 0) -> list[str]:
    """Rows of (leading values, source, counts, health shares, refusals by kind) as text
    lines under a header. ``prefix`` names the leading columns: (title, width, alignment
    ``<`` or ``>``); ``width`` is the least width of the source column."""
    width = max([width, len("source"), *(len(name) for _, name, _, _, _ in rows)])
    head = [f"{title:{align}{w}}" for title, w, align in prefix]
    head += [f"{'source':<{width}}"]
    head += [f"{title:>{max(len(title), 5)}}" for _, title in COUNT_COLUMNS]
    head += [f"{title:>6}" for _, title in HEALTH_COLUMNS]
    lines = [" ".join(head)] if header else []
    sums: dict[str, int] = {}
    indent = sum(w + 1 for _, w, _ in prefix)
    for values, name, c, shares, kinds in rows:
        cells = [f"{value:{align}{w}}" for value, (_, w, align)
                 in zip(values, prefix, strict=True)]
        cells.append(f"{name:<{width}}")
        for key, title in COUNT_COLUMNS:
            value = int(c.get(key, 0))
            sums[key] = sums.get(key, 0) + value
            cells.append(f"{value:>{max(len(title), 5)}}")
        cells += [f"{_share(shares.get(key) if judged(c, key) else None):>6}"
                  for key, _ in HEALTH_COLUMNS]
        lines.append(" ".join(cells))
        if kinds:
            lines.append(f"{'':<{indent}}  {name} refused: {top_reasons(kinds)}")
    if total:
        cells = [f"{'':{align}{w}}" for _, w, align in prefix]
        cells.append(f"{'total':<{width}}")
        cells += [f"{sums.get(key, 0):>{max(len(title), 5)}}" for key, title in COUNT_COLUMNS]
        lines.append(" ".join(cells))
    return lines


def summary_rows(counts: Mapping[str, Mapping[str, int]],
                 health: Mapping[str, Mapping[str, float]]) -> list[dict[str, Any]]:
    """The same table as data (for JSON logs): one dict per source."""
    rows = []
    for name, c in counts.items():
        row: dict[str, Any] = {"source": name}
        row.update({key: int(c.get(key, 0)) for key, _ in COUNT_COLUMNS})
        row["refused_reasons"] = refusals(c)
        row["health"] = dict(health.get(name, {}))
        rows.append(row)
    return rows
