"""Extraction quality crawled as sites, with learned layouts on and off, side by side.

    .venv/bin/python benchmarks/sites_quality.py [--hosts 32]
    .venv/bin/python benchmarks/sites_quality.py --baseline ../parent-checkout  # + a baseline
    .venv/bin/python benchmarks/sites_quality.py --web 1810   # benchmarks/_web.py's sites

Serves the pages of both eval corpora (``../shared/eval``: scrapinghub-aeb, fundus-testdata)
on loopback hosts as tests/test_real_pages.py does (every page at its published path, plain
sitemaps, a front page; tests/eval_sites.py), and crawls them with ``scrapy crawl news`` into
a fresh embedded database once with ``NEWS_LAYOUTS=True`` and once with ``False`` (the same
served bytes, the same settings otherwise). Each stored
article is scored against its page's ground truth: body shingle precision, recall and F1 as
benchmarks/quality.py computes them. Also printed: the articles extracted the fast way
(through their site's learned layout) of the articles found, the ``news/layout/*`` stats, and
the articles whose text differs between the two modes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pymongo
import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make the project importable
    sys.path.insert(0, str(ROOT))

from benchmarks.crawl_diff import crawl as crawl_with  # noqa: E402
from benchmarks.quality import shingle_scores  # noqa: E402
from crawler.canonical import split_paragraphs  # noqa: E402
from crawler.database import EmbeddedMongo  # noqa: E402
from tests.eval_sites import EvalPage, EvalSites, aeb_pages, fundus_pages  # noqa: E402

CORPORA = {"scrapinghub-aeb": aeb_pages, "fundus-testdata": fundus_pages}
MODES = {"layouts on": "True", "layouts off": "False"}


def crawl(uri: str, database: str, sources: Path, data: Path, layouts: str, run: int,
          project: Path = ROOT, extra: dict[str, str] | None = None) -> dict[str, Any]:
    """One ``scrapy crawl news`` with ``project``'s code (another checkout: a baseline) and
    ``extra`` settings; its stats."""
    stats = data / f"stats-{database}-{run}.json"
    folder = data / database
    folder.mkdir(parents=True, exist_ok=True)
    crawl_with(project, uri, database, sources, folder, {
        "NEWS_LAYOUTS": layouts, "NEWS_ARCHIVE": "False",
        "STATS_CLASS": "tests.stats_file.JsonStatsCollector", "STATS_FILE": str(stats),
        **(extra or {})})
    result: dict[str, Any] = json.loads(stats.read_text(encoding="utf-8"))
    return result


def _key(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def score(uri: str, database: str, pages: dict[str, list[EvalPage]]
          ) -> tuple[dict[str, dict[str, float]], dict[str, str]]:
    """Per corpus: pages, stored, mean precision, recall and F1 over the pages (a page not
    stored scores 0); and the stored text of each page (by corpus and path)."""
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(uri, tz_aware=True)
    try:
        docs = list(client[database].articles.find({}, {"fetched_url": 1, "url": 1,
                                                       "text": 1, "source": 1}))
    finally:
        client.close()
    texts: dict[str, str] = {}
    for doc in docs:
        corpus = str(doc.get("source", "")).split(".", 1)[0]
        for url in (doc.get("fetched_url"), doc.get("url")):
            if url:
                texts.setdefault(f"{corpus} {_key(url)}", doc.get("text") or "")
    table: dict[str, dict[str, float]] = {}
    for corpus, corpus_pages in pages.items():
        precision, recall, f1, stored = [], [], [], 0
        for page in corpus_pages:
            text = texts.get(f"{corpus} {page.path}")
            if text is None:
                precision.append(0.0)
                recall.append(0.0)
                f1.append(0.0)
                continue
            stored += 1
            p, r = shingle_scores(text, page.truth)
            p = p or 0.0
            precision.append(p)
            recall.append(r)
            f1.append(2 * p * r / (p + r) if p + r else 0.0)
        table[corpus] = {"pages": len(corpus_pages), "stored": stored,
                         "precision": statistics.fmean(precision),
                         "recall": statistics.fmean(recall), "f1": statistics.fmean(f1),
                         "f1_median": statistics.median(f1)}
    return table, texts


def _texts(uri: str, database: str) -> dict[str, str]:
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(uri, tz_aware=True)
    try:
        return {str(d["url"]): str(d.get("text") or "")
                for d in client[database].articles.find({}, {"url": 1, "text": 1})}
    finally:
        client.close()


def web(n: int, dump: Path | None = None, extra: dict[str, str] | None = None) -> int:
    """benchmarks/_web.py's sites (181 real layouts, each serving different articles): the
    text stored with layouts on against the text stored the full way, article by article."""
    from crawler.layouts.learn import agreement

    with tempfile.TemporaryDirectory(prefix="sites-quality-web-") as tmp, ExitStack() as stack:
        folder = Path(tmp)
        server = EmbeddedMongo(folder / "db")
        uri = server.start()
        stack.callback(server.stop)
        pages = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "_web.py"),
                                  "--max-n", str(n)], stdout=subprocess.PIPE, text=True,
                                 cwd=ROOT)
        stack.callback(pages.kill)
        assert pages.stdout is not None
        base = pages.stdout.readline().strip().split(" ", 1)[1]
        sources_file = folder / "sources.yaml"
        with urllib.request.urlopen(f"{base}/__sources-{n}.yaml", timeout=30) as reply:
            sources_file.write_bytes(reply.read())
        stats, texts = {}, {}
        for number, (mode, value) in enumerate(MODES.items()):
            stats[mode] = crawl(uri, f"web{number}", sources_file, folder, value, 1,
                                extra=extra if value == "True" else None)
            texts[mode] = _texts(uri, f"web{number}")
    on, off = texts["layouts on"], texts["layouts off"]
    if dump is not None:
        dump.write_text(json.dumps({"on": on, "off": off}, ensure_ascii=False),
                        encoding="utf-8")
    scores = [agreement(split_paragraphs(on[url]), split_paragraphs(off[url]))
              for url in off if url in on]
    same = sum(1 for url in off if on.get(url) == off[url])
    layout = {k.removeprefix("news/layout/"): v for k, v in sorted(stats["layouts on"].items())
              if k.startswith("news/layout/")}
    articles = stats["layouts on"].get("news/page/article", 0)
    print(f"web mode, {n} pages: articles stored, layouts on {len(on)}, off {len(off)} "
          f"(missing with layouts on: {len(set(off) - set(on))}, extra: "
          f"{len(set(on) - set(off))})")
    print(f"  fast: {layout.get('fast', 0)} of {articles} articles; {layout}")
    print(f"  text identical to the full way's: {same} of {len(off)}; paragraph F1 against "
          f"the full way: mean {statistics.fmean(scores):.4f}, min {min(scores):.3f}, "
          f"below 0.99: {sum(s < 0.99 for s in scores)}, below 0.95: "
          f"{sum(s < 0.95 for s in scores)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=32,
                        help="loopback hosts a corpus is spread over; 0: one per publisher "
                             "(per original host)")
    parser.add_argument("--runs", type=int, default=1, choices=(1, 2),
                        help="2: a second, incremental crawl after the first")
    parser.add_argument("--web", type=int, metavar="N", default=0,
                        help="instead: N pages of benchmarks/_web.py's 181 sites, layouts on "
                             "against off")
    parser.add_argument("--baseline", type=Path,
                        help="also crawl with another checkout's code (the change's parent)")
    parser.add_argument("--dump", type=Path,
                        help="both modes' texts (JSON; the eval sets: the texts that differ)")
    parser.add_argument("-s", dest="settings", action="append", default=[],
                        metavar="NAME=VALUE",
                        help="extra setting for the crawls with layouts on (this checkout's)")
    args = parser.parse_args(argv)
    extra = dict(item.split("=", 1) for item in args.settings)
    if args.web:
        return web(args.web, args.dump, extra)
    pages = {name: load() for name, load in CORPORA.items()}
    results: dict[str, tuple[dict[str, dict[str, float]], dict[str, str], dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="sites-quality-") as tmp, ExitStack() as stack:
        folder = Path(tmp)
        server = EmbeddedMongo(folder / "db")
        uri = server.start()
        stack.callback(server.stop)
        sources, first = [], 20
        for name, corpus_pages in pages.items():
            # each corpus on loopback addresses of its own: a site is a host, whatever its port
            sites = stack.enter_context(EvalSites(corpus_pages, hosts=args.hosts or None,
                                                  first=first))
            first += sites.hosts
            sources += [{"name": f"{name}.{i}", "sitemaps": [base + "/sitemap.xml"]}
                        for i, base in enumerate(sites.base_urls)]
        sources_file = folder / "sources.yaml"
        sources_file.write_text(yaml.safe_dump({"sources": sources}), encoding="utf-8")
        modes = {mode: (value, ROOT) for mode, value in MODES.items()}
        if args.baseline:
            modes["baseline"] = ("True", args.baseline.resolve())
        for n, (mode, (value, project)) in enumerate(modes.items()):
            database = f"quality{n}"
            stats: dict[str, Any] = {}
            for run in range(1, args.runs + 1):
                settings = extra if value == "True" and project == ROOT else None
                for key, count in crawl(uri, database, sources_file, folder, value,
                                        run, project, settings).items():
                    if isinstance(count, int) and key.startswith("news/"):
                        stats[key] = stats.get(key, 0) + count
            table, texts = score(uri, database, pages)
            results[mode] = (table, texts, stats)
    print(f"{'corpus':<16} {'mode':<12} {'pages':>5} {'stored':>6} {'prec':>6} {'recall':>6} "
          f"{'F1':>6} {'F1 med':>6} {'fast':>5} {'articles':>8}")
    for corpus in pages:
        for mode, (table, _, stats) in results.items():
            row = table[corpus]
            fast, articles = (sum(v for k, v in stats.items()
                                  if k.startswith(f"news/source/{corpus}.")
                                  and k.endswith(f"/{event}")) for event in ("fast", "articles"))
            print(f"{corpus:<16} {mode:<12} {row['pages']:>5.0f} {row['stored']:>6.0f} "
                  f"{row['precision']:>6.3f} {row['recall']:>6.3f} {row['f1']:>6.3f} "
                  f"{row['f1_median']:>6.3f} {fast:>5} {articles:>8}")
    for mode, (_, _, stats) in results.items():
        layout = {k.removeprefix("news/layout/"): v for k, v in sorted(stats.items())
                  if k.startswith("news/layout/")}
        print(f"{mode}, all runs: {layout}")
    on, off = results["layouts on"][1], results["layouts off"][1]
    differ = sorted(k for k in set(on) | set(off) if on.get(k) != off.get(k))
    print(f"articles whose text differs between the modes: {len(differ)}")
    for key in differ[:20]:
        print(f"  {key}")
    if args.dump is not None:  # the texts that differ, both modes
        args.dump.write_text(json.dumps({k: {"on": on.get(k), "off": off.get(k)} for k in differ},
                                        ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
