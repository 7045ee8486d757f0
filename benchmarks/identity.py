"""Is ``extract_article`` still returning the same thing? For speed-ups that must not change output.

    .venv/bin/python benchmarks/identity.py --save before.json    # on the old code
    .venv/bin/python benchmarks/identity.py --compare before.json # on the new code

    .venv/bin/python benchmarks/identity.py --documents --save before.json  # stored shape

Runs ``extract_article`` over every page of both corpora in ``../shared/eval`` (see
benchmarks/quality.py) and records every field it returns (datetimes as ISO strings): the
fields of the extracted article (:class:`crawler.items.ArticleItem`, but those the crawl adds)
and of the verdict (``is_article``, ``page_kind``, ...). With ``--documents`` it records the
stored document instead (crawler/document.py, with a fixed ``source`` and ``fetched_at``).
``--compare`` prints the pages and fields that differ and exits 1 when any does, with the
CPU time per page of both runs (measured in the worker processes, so a loaded machine
matters less than for wall time).

The script reads the result of ``extract_article`` of revisions before crawler/items.py
too (a dict then), so a copy of it run in an older checkout saves a comparable baseline.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import fields, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make the project importable
    sys.path.insert(0, str(ROOT))

from benchmarks.quality import Page, load_aeb, load_fundus  # noqa: E402

# The fields of the item the crawl adds after extraction: not extraction's output.
_CRAWL_FIELDS = ("source", "fetched_at", "fetch", "template_lines_removed", "archive")
_FETCHED_AT = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)  # the same in every run: --documents


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def extraction_fields(result: Any) -> dict[str, Any]:
    """What ``extract_article`` returned, as one flat dict of plain values."""
    if isinstance(result, dict):  # a revision before crawler/items.py
        return {k: _plain(v) for k, v in result.items()}
    item = result.item
    flat = {f.name: getattr(item, f.name) for f in fields(item)
            if f.name not in _CRAWL_FIELDS}
    flat.update({f.name: getattr(result, f.name) for f in fields(result) if f.name != "item"})
    return {k: _plain(v) for k, v in flat.items()}


def document_fields(result: Any) -> dict[str, Any]:
    """The document the article of ``extract_article``'s result would be stored as."""
    from crawler.document import article_document

    if isinstance(result, dict):  # a revision before crawler/items.py
        doc = article_document({**result, "source": "eval", "fetched_at": _FETCHED_AT})
    else:
        doc = article_document(replace(result.item, source="eval", fetched_at=_FETCHED_AT))
    return {k: _plain(v) for k, v in doc.items()}


def _extract(page: Page, documents: bool = False) -> tuple[str, dict[str, Any], float]:
    from crawler.extraction.article import extract_article

    html = page.html()
    start = time.process_time()
    result = extract_article(html, page.url)
    spent = time.process_time() - start
    shape = document_fields if documents else extraction_fields
    return f"{page.corpus}/{page.id}", shape(result), spent


def outputs(workers: int | None = None, documents: bool = False,
            ) -> tuple[dict[str, dict[str, Any]], float]:
    """Every page's output, and the CPU milliseconds per page spent in ``extract_article``."""
    pages = [*load_aeb(), *load_fundus()]
    results: dict[str, dict[str, Any]] = {}
    cpu = 0.0
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for key, result, spent in pool.map(partial(_extract, documents=documents), pages,
                                           chunksize=4):
            results[key] = result
            cpu += spent
    return results, 1000 * cpu / max(len(pages), 1)


def differences(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]],
                ignore: Sequence[str] = ()) -> list[str]:
    lines = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old is None or new is None:
            lines.append(f"{key}: only in {'after' if old is None else 'before'}")
            continue
        for name in sorted((set(old) | set(new)) - set(ignore)):
            if old.get(name) != new.get(name):
                lines.append(f"{key}: {name}: {str(old.get(name))[:80]!r} -> "
                             f"{str(new.get(name))[:80]!r}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--save", type=Path, help="write the outputs to this JSON file")
    action.add_argument("--compare", type=Path, help="compare with outputs saved earlier")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: cores)")
    parser.add_argument("--documents", action="store_true",
                        help="record the stored documents instead of the extraction results")
    parser.add_argument("--ignore", action="append", default=[], metavar="FIELD",
                        help="leave this field out of --compare (a field added on purpose)")
    args = parser.parse_args(argv)
    results, ms = outputs(args.workers, args.documents)
    if args.save:
        args.save.write_text(json.dumps({"cpu_ms_per_page": ms, "pages": results}))
        print(f"{len(results)} pages saved to {args.save}; {ms:.1f} CPU ms/page")
        return 0
    saved = json.loads(args.compare.read_text())
    lines = differences(saved["pages"], results, args.ignore)
    for line in lines:
        print(line)
    changed = len({line.split(":", 1)[0] for line in lines})
    print(f"{len(results)} pages, {changed} with a different output; CPU ms/page "
          f"{saved['cpu_ms_per_page']:.1f} before, {ms:.1f} now "
          f"({ms / saved['cpu_ms_per_page']:.2f}x)")
    return 1 if lines else 0


if __name__ == "__main__":
    raise SystemExit(main())
