"""The two reference workloads of benchmarks/throughput.py, each run in a process of its own.

    .venv/bin/python benchmarks/_runners.py limit N OUT.json [--pages DIR | --urls FILE]
    .venv/bin/python benchmarks/_runners.py naive SITEMAP_URL[,SITEMAP_URL...] OUT.json

``limit``: ``trafilatura.extract`` over N pages (the benchmark pages repeated, decoded exactly
as Scrapy decodes them) in a process pool of ``os.cpu_count()`` workers, timed from the first
submission to the last result, after the workers have started and imported trafilatura. With
``--urls`` (a file of URLs, one a line: the web mode of benchmarks/throughput.py) the N pages
are the first N URLs, fetched and decoded before the clock starts and kept on disk, read as
they are handed to the pool; at most a few chunks a worker wait in the pool's queue.

``naive``: a plain Scrapy ``SitemapSpider`` that calls ``trafilatura.extract`` in its callback,
with the same relaxed politeness as the project's benchmark crawl and no item pipeline; it
starts from every sitemap of the comma-separated list.

Both write a JSON summary to OUT.json (wall times are ``time.time()``, comparable across
processes).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

# benchmarks/ holds other scripts too (one may be named like an installed package): look
# there last, after the installed packages.
sys.path.append(str(Path(__file__).resolve().parent))
sys.path.sort(key=lambda p: Path(p or ".").resolve() == Path(__file__).resolve().parent)

from _serve import DEFAULT_PAGES, load_pages

# Settings shared by the naive spider and the project crawl: politeness relaxed for loopback.
RELAXED = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "ROBOTSTXT_OBEY": True,
    "LOG_LEVEL": "INFO",
}


def _auto_detect(text: bytes) -> str | None:
    """Scrapy's fallback when neither the headers nor the page declare an encoding."""
    for encoding in ("utf-8", "cp1252"):
        try:
            text.decode(encoding)
        except UnicodeError:
            continue
        return encoding
    return None


def scrapy_decoded(content_type: str, body: bytes) -> tuple[str, str]:
    """w3lib's ``html_to_unicode`` with the auto-detection Scrapy's responses used (w3lib 2.6
    deprecates the argument; the decoding is the same)."""
    import warnings

    from w3lib.encoding import html_to_unicode

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return html_to_unicode(content_type, body, auto_detect_fun=_auto_detect)


def decoded_pages(directory: Path) -> list[str]:
    """The pages decoded as Scrapy decodes them for ``response.text`` (w3lib, served as
    ``text/html`` without a charset), without importing Scrapy into the pool's parent."""

    return [scrapy_decoded("text/html", page)[1] for page in load_pages(directory)]


def fetched_pages(urls: list[str], directory: Path) -> list[Path]:
    """Each URL's page decoded as Scrapy decodes it (the response's Content-Type), saved as
    UTF-8 in ``directory``: one file a page, in order."""

    files = []
    for i, url in enumerate(urls):
        with urllib.request.urlopen(url, timeout=30) as reply:
            body = reply.read()
            content_type = reply.headers.get("Content-Type", "text/html")
        path = directory / f"{i}.html"
        path.write_text(scrapy_decoded(content_type, body)[1], encoding="utf-8")
        files.append(path)
    return files


def _extract(job: tuple[str, str]) -> int:
    import trafilatura

    text = trafilatura.extract(job[0], url=job[1])
    return len(text or "")


def _extract_chunk(jobs: list[tuple[str, str]]) -> int:
    return sum(_extract(job) for job in jobs)


def _bounded_map(pool: ProcessPoolExecutor, fn: Callable[[list[tuple[str, str]]], int],
                 jobs: Iterable[tuple[str, str]], chunksize: int, window: int) -> int:
    """The sum of ``fn`` over ``jobs`` in chunks, with at most ``window`` chunks submitted and
    not done (``pool.map`` submits everything at once: every page held in memory)."""
    total = 0
    pending: set[Future[int]] = set()
    chunk: list[tuple[str, str]] = []
    for job in jobs:
        chunk.append(job)
        if len(chunk) < chunksize:
            continue
        pending.add(pool.submit(fn, chunk))
        chunk = []
        if len(pending) >= window:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            total += sum(future.result() for future in done)
    if chunk:
        pending.add(pool.submit(fn, chunk))
    total += sum(future.result() for future in wait(pending).done)
    return total


def _warm(_: int) -> int:
    import trafilatura  # noqa: F401

    time.sleep(0.2)  # keep this worker busy so the next warm-up task starts another one
    return os.getpid()


def run_limit(n: int, out: Path, directory: Path) -> None:
    pages = decoded_pages(directory)

    def jobs() -> Iterator[tuple[str, str]]:
        for i in range(n):
            yield pages[i % len(pages)], f"http://127.0.0.1/articles/{i}.html"

    _limit(n, jobs(), out)


def run_limit_urls(n: int, out: Path, urls_file: Path) -> None:
    urls = urls_file.read_text().split()[:n]
    with tempfile.TemporaryDirectory(prefix="limit-pages-") as tmp:
        files = fetched_pages(urls, Path(tmp))

        def jobs() -> Iterator[tuple[str, str]]:
            for url, path in zip(urls, files, strict=True):
                yield path.read_text(encoding="utf-8"), url

        _limit(len(urls), jobs(), out)


def _limit(n: int, jobs: Iterator[tuple[str, str]], out: Path) -> None:
    workers = os.cpu_count() or 1
    with ProcessPoolExecutor(max_workers=workers,
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(_warm, range(workers)))
        started = time.time()
        chars = _bounded_map(pool, _extract_chunk, jobs, chunksize=4, window=4 * workers)
        finished = time.time()
    json.dump({"pages": n, "extracted_chars": chars, "workers": workers, "first": started,
               "last": finished}, out.open("w"))


def run_naive(sitemap: str, out: Path) -> None:
    import trafilatura
    from scrapy.crawler import CrawlerProcess
    from scrapy.spiders import SitemapSpider

    state: dict[str, Any] = {"pages": 0, "extracted": 0, "last": None}

    class NaiveSpider(SitemapSpider):
        name = "naive"
        sitemap_urls = tuple(sitemap.split(","))

        def parse(self, response: Any) -> Iterator[dict[str, Any]]:
            text = trafilatura.extract(response.text, url=response.url)
            state["pages"] += 1
            state["last"] = time.time()
            if text:
                state["extracted"] += 1
                yield {"url": response.url, "text": text}

    settings = dict(RELAXED, TELNETCONSOLE_ENABLED=False, COOKIES_ENABLED=False,
                    TWISTED_REACTOR="twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    process = CrawlerProcess(settings)
    process.crawl(NaiveSpider)
    process.start()
    json.dump(state, out.open("w"))


def main(argv: list[str]) -> int:
    if len(argv) == 5 and argv[0] == "limit" and argv[3] == "--urls":
        run_limit_urls(int(argv[1]), Path(argv[2]), Path(argv[4]))
        return 0
    if len(argv) >= 3 and argv[0] == "limit":
        directory = Path(argv[4]) if len(argv) > 4 and argv[3] == "--pages" else DEFAULT_PAGES
        run_limit(int(argv[1]), Path(argv[2]), directory)
        return 0
    if len(argv) == 3 and argv[0] == "naive":
        run_naive(argv[1], Path(argv[2]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
