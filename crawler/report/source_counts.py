"""The events counted per source (crawler/per_source.py) and a source's extraction health, for
the run record (crawler/extensions/run_record.py), the run table and the report."""

from __future__ import annotations

# The per-source events (crawler/per_source.py; in the stats as news/source/<name>/<event>).
EVENTS = ("discovered", "fetched", "not_modified", "stored_new", "updated", "unchanged",
          "rejected", "empty_text", "errors", "skipped_not_due", "skipped_too_old",
          "articles", "no_date", "no_author", "paywalled", "fast", "rendered")
# Below this many fetched pages a source's extraction health is not judged.
HEALTH_MIN_PAGES = 5


def health(counts: dict[str, dict[str, int]]) -> dict[str, dict[str, float]]:
    """Per-source extraction health as shares: of the pages fetched, empty text and rejected
    as non-article; of the articles extracted, no date, no author, paywalled, and extracted
    through their site's learned layout (fast: docs/layouts.md)."""
    shares = {}
    for name, c in counts.items():
        pages, articles = c["fetched"], c["articles"]
        shares[name] = {
            "empty_text": round(c["empty_text"] / pages, 3) if pages else 0.0,
            "rejected": round(c["rejected"] / pages, 3) if pages else 0.0,
            "no_date": round(c["no_date"] / articles, 3) if articles else 0.0,
            "no_author": round(c["no_author"] / articles, 3) if articles else 0.0,
            "paywalled": round(c["paywalled"] / articles, 3) if articles else 0.0,
            "fast": round(c["fast"] / articles, 3) if articles else 0.0,
        }
    return shares
