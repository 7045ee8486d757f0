"""Does a crawl store the same thing as before? For changes that must not change output.

    .venv/bin/python benchmarks/crawl_diff.py --project ../old-checkout --out before.jsonl
    .venv/bin/python benchmarks/crawl_diff.py --project . --out after.jsonl
    .venv/bin/python benchmarks/crawl_diff.py --compare before.jsonl after.jsonl

``--project DIR`` crawls with that checkout's code (its ``.venv``, ``scrapy crawl news`` run in
DIR): the three demo sites and the pages of both eval corpora (``../shared/eval``, 32 loopback
hosts each, plain sitemaps; tests/eval_sites.py), twice into one fresh database (the second
run is incremental: what it skips and refetches is part of the result). The sites are served
and the database (nx-27017) run by this checkout, so both crawls see the same bytes.

The dump holds every stored article, URL state and template document, keyed and sorted, with
what differs from run to run by nature left out (times of the crawl, ``_id``, WARC offsets).
``--compare`` prints each document and field that differ and exits 1 when any does.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

import pymongo
import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make the project importable
    sys.path.insert(0, str(ROOT))

from crawler.database import EmbeddedMongo  # noqa: E402
from crawler.demo.server import DemoServer, write_sources_file  # noqa: E402
from tests.eval_sites import EvalSites, aeb_pages, fundus_pages  # noqa: E402

# Fields that differ between any two crawls: when they ran, where the WARC record landed.
VOLATILE = {"_id", "fetched_at", "first_seen", "updated_at", "last_fetched", "next_recrawl",
            "archive", "revised_at", "stored_at", "last_seen", "created_at", "saved_at"}
_PORT = re.compile(r"(127\.0\.0\.\d+):\d+")
COLLECTIONS = {"articles": "url", "url_state": "url", "site_templates": "site"}
SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
    "NEWS_EXTRACT_WORKERS": "2",
    "NEWS_MONGO_FLUSH_INTERVAL": "0.5",
    "NEWS_MAX_AGE_DAYS": "0",  # the demo articles are years old
    "NEWS_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
    "NEWS_PROGRESS_INTERVAL": "0",
    "LOG_LEVEL": "INFO",
}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in sorted(value.items()) if k not in VOLATILE}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _sources(demo: DemoServer, corpora: list[EvalSites], folder: Path) -> Path:
    demo_file = folder / "demo.yaml"
    write_sources_file(demo.sites, demo_file)
    sources = yaml.safe_load(demo_file.read_text(encoding="utf-8"))["sources"]
    for c, sites in enumerate(corpora):
        sources += [{"name": f"eval{c}-{i}", "sitemaps": [base + "/sitemap.xml"]}
                    for i, base in enumerate(sites.base_urls)]
    path = folder / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": sources}), encoding="utf-8")
    return path


def crawl(project: Path, uri: str, database: str, sources: Path, data_dir: Path,
          settings: dict[str, str] | None = None) -> None:
    """``scrapy crawl news`` with ``project``'s code and virtualenv (``settings`` on top of
    SETTINGS); the log is kept in ``data_dir``."""
    python = project / ".venv" / "bin" / "python"
    command = [str(python), "-m", "scrapy", "crawl", "news"]
    for key, value in {**SETTINGS, "NEWS_SOURCES": str(sources), "MONGO_DATABASE": database,
                       "NEWS_DATA_DIR": str(data_dir), **(settings or {})}.items():
        command += ["-s", f"{key}={value}"]
    env = dict(os.environ, MONGO_URI=uri, SCRAPY_SETTINGS_MODULE="crawler.settings",
               PYTHONPATH=str(project))
    proc = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True,
                          check=False, timeout=1800)
    (data_dir / f"crawl-{database}.log").write_text(proc.stderr, encoding="utf-8")
    if proc.returncode != 0:
        raise SystemExit(f"crawl in {project} failed ({proc.returncode}); log in {data_dir}")


def dump(uri: str, database: str) -> Iterator[dict[str, Any]]:
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(uri, tz_aware=True)
    try:
        for name, key in COLLECTIONS.items():
            docs = {str(d.get(key) or d["_id"]): _plain(d)
                    for d in client[database][name].find({})}
            for found, doc in sorted(docs.items()):
                yield {"collection": name, "key": found, "doc": doc}
    finally:
        client.close()


def save(project: Path, out: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="crawl-diff-") as tmp, ExitStack() as stack:
        folder = Path(tmp)
        server = EmbeddedMongo(folder / "db")
        uri = server.start()
        stack.callback(server.stop)
        demo = stack.enter_context(DemoServer())
        corpora = [stack.enter_context(EvalSites(pages(), hosts=32))
                   for pages in (aeb_pages, fundus_pages)]
        sources = _sources(demo, corpora, folder)
        lines = []
        for run in (1, 2):
            crawl(project.resolve(), uri, "diff", sources, folder)
            lines += [{"run": run, **entry} for entry in dump(uri, "diff")]
        out.write_text("".join(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n"
                               for line in lines), encoding="utf-8")
        counts = {(r, c): sum(1 for line in lines if line["run"] == r and line["collection"] == c)
                  for r in (1, 2) for c in COLLECTIONS}
        print(f"{out}: " + ", ".join(f"run {r} {c} {n}" for (r, c), n in counts.items()))


def _comparable(entries: list[dict[str, Any]]) -> dict[tuple[int, str, str], dict[str, Any]]:
    """What two crawls on different ports can agree on: a story is named by its first URL (its
    id hashes a URL with the port), ETags are left out (the demo server's hash the base URL),
    and the order of a template's counts (the order pages came in) does not matter."""
    docs: dict[tuple[int, str, str], dict[str, Any]] = {}
    stories: dict[tuple[int, str], str] = {}
    for entry in entries:
        if entry["collection"] == "articles" and entry["doc"].get("story_id"):
            key = (entry["run"], entry["doc"]["story_id"])
            stories[key] = min(stories.get(key, entry["key"]), entry["key"])
    for entry in entries:
        run, doc = entry["run"], dict(entry["doc"])
        for field in ("story_id", "duplicate_of"):
            if doc.get(field):
                doc[field] = stories.get((run, doc[field]), doc[field])
        if entry["collection"] == "url_state":
            doc.pop("etag", None)
        if entry["collection"] == "site_templates":
            doc = {k: sorted(v, key=json.dumps) if isinstance(v, list) else v
                   for k, v in doc.items()}
        docs[(run, entry["collection"], entry["key"])] = doc
    return docs


def _shown(doc: dict[str, Any], field: str) -> str:
    return json.dumps(doc[field])[:80] if field in doc else "(absent)"


def compare(before: Path, after: Path, ignore: frozenset[str] = frozenset()) -> int:
    def load(path: Path) -> dict[tuple[int, str, str], dict[str, Any]]:
        # The test servers bind port 0: their hosts are the same in both crawls, not the ports.
        text = _PORT.sub(r"\1", path.read_text(encoding="utf-8"))
        docs = _comparable([json.loads(line) for line in text.splitlines()])
        return {key: {f: v for f, v in doc.items() if f not in ignore}
                for key, doc in docs.items()}

    old, new = load(before), load(after)
    differ = 0
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        differ += 1
        if a is None or b is None:
            print(f"run {key[0]} {key[1]} {key[2]}: only {'after' if a is None else 'before'}")
            continue
        fields = sorted(f for f in set(a) | set(b) if (f in a) != (f in b) or a[f] != b[f])
        print(f"run {key[0]} {key[1]} {key[2]}: " + "; ".join(
            f"{f}: {_shown(a, f)} -> {_shown(b, f)}" for f in fields))
    print(f"{len(set(old) | set(new))} documents, {differ} differ")
    return 1 if differ else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--project", type=Path, default=ROOT)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    parser.add_argument("--ignore", action="append", default=[], metavar="FIELD",
                        help="a field to leave out of --compare (a field added on purpose)")
    args = parser.parse_args(argv)
    if args.compare:
        return compare(*args.compare, ignore=frozenset(args.ignore))
    if args.out is None:
        parser.error("--out or --compare")
    save(args.project, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
