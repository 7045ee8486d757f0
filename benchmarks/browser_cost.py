"""What a page rendered in the browser costs, against an ordinary page (crawler/browser.py).

    .venv/bin/python benchmarks/browser_cost.py [--pages 20] [--browser-pages 2]

Serves on loopback a home page linking ``--pages`` declared NewsArticle pages, twice: once with
their text in the HTML (ordinary pages), once with an empty body that a script fills in (the
pages of tests/test_browser.py: each is fetched, refused as too short, rendered in chromium
and extracted again). Each site is crawled by ``scrapy crawl news -a url=HOME`` with no
database (``ITEM_PIPELINES={}``, a feed export); the crawl's process tree (scrapy, extraction
workers, Playwright's driver, chromium) is sampled with psutil: CPU (user + system), wall time,
peak RSS. Prints both runs and the difference per page.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._measure import MB, TreeMonitor
from tests.loopback import NOT_FOUND, LoopbackServer, Reply
from tests.test_browser import SCRIPT_TEXT, script_page

ROOT = Path(__file__).resolve().parent.parent


def plain_page(title: str) -> bytes:
    """The same article with its paragraphs in the HTML."""
    body = "".join(f"<p>{text}</p>" for text in SCRIPT_TEXT)
    jsonld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
              "datePublished": "2024-05-02T09:30:00+00:00"}
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f'<script type="application/ld+json">{json.dumps(jsonld)}</script></head><body>'
            f"<article><h1>{title}</h1>{body}</article></body></html>").encode()


def site(pages: int, scripted: bool) -> LoopbackServer:
    def reply(path: str) -> Reply:
        if path == "/robots.txt":
            return Reply(content_type="text/plain", body=b"User-agent: *\nAllow: /\n")
        if path == "/":
            links = "".join(f'<p><a href="/news/2024/05/story-number-{n}">Story {n}</a></p>'
                            for n in range(pages))
            return Reply(body=f"<html><body><h1>Home</h1>{links}</body></html>".encode())
        if path.startswith("/news/2024/05/story-number-"):
            title = f"Story {path.rsplit('-', 1)[-1]}"
            return Reply(body=script_page(title) if scripted else plain_page(title))
        return NOT_FOUND

    return LoopbackServer(reply)


def crawl(home: str, work: Path, browser_pages: int) -> dict[str, float]:
    out = work / "out.jsonl"
    stats = work / "stats.json"
    command = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"url={home}",
               "-o", str(out)]
    for key, value in {"ITEM_PIPELINES": "{}", "NEWS_DATA_DIR": str(work),
                       "AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_DELAY": "0",
                       "NEWS_EXTRACT_WORKERS": "2", "NEWS_MAX_AGE_DAYS": "0",
                       "NEWS_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8", "LOG_LEVEL": "INFO",
                       "NEWS_BROWSER_PAGES": str(browser_pages),
                       "STATS_CLASS": "tests.stats_file.JsonStatsCollector",
                       "STATS_FILE": str(stats)}.items():
        command += ["-s", f"{key}={value}"]
    env = dict(os.environ, SCRAPY_SETTINGS_MODULE="crawler.settings", PYTHONPATH=str(ROOT))
    started = time.monotonic()
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=open(work / "crawl.log", "w"))  # noqa: SIM115
    monitor = TreeMonitor({"crawl": proc.pid})
    proc.wait()
    wall = time.monotonic() - started
    usage = monitor.stop()
    counts = json.loads(stats.read_text())
    articles = sum(1 for _ in out.open()) if out.exists() else 0
    return {"wall_s": wall, "cpu_s": usage.cpu, "peak_rss_mb": usage.peak_rss / MB,
            "processes": usage.processes, "articles": articles,
            "rendered": counts.get("news/browser/rendered", 0)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--browser-pages", type=int, default=2, help="NEWS_BROWSER_PAGES")
    args = parser.parse_args()
    results = {}
    for name, scripted in (("ordinary", False), ("rendered", True)):
        with site(args.pages, scripted) as server, tempfile.TemporaryDirectory() as work:
            results[name] = crawl(f"{server.base}/", Path(work), args.browser_pages)
        print(f"{name:9} {json.dumps({k: round(v, 2) for k, v in results[name].items()})}")
    plain, rendered = results["ordinary"], results["rendered"]
    n = args.pages
    print(f"per rendered page, over an ordinary one ({n} pages, NEWS_BROWSER_PAGES="
          f"{args.browser_pages}): CPU +{(rendered['cpu_s'] - plain['cpu_s']) / n * 1000:.0f} "
          f"ms, wall +{(rendered['wall_s'] - plain['wall_s']) / n * 1000:.0f} ms; "
          f"peak RSS +{rendered['peak_rss_mb'] - plain['peak_rss_mb']:.0f} MB for the crawl")
    return 0


if __name__ == "__main__":
    sys.exit(main())
