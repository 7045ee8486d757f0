"""Real publishers' pages on loopback: the pages of ``../shared/eval`` served as many sites,
or any other list of real pages (:func:`stored_pages`: an original URL and a gzipped file each).

Each page is served at its published path and query (as its site served it), on one of
``hosts`` loopback addresses (127.0.0.20 and up, each its own HTTP server on a free port), or on
a host of its own per original host (``hosts=None``); a publisher's pages stay on one host. The
bytes are served as stored, with the page's ``content_type`` (``text/html; charset=utf-8`` for
the eval corpora; ``text/html``, no charset, for :func:`stored_pages`). Every host also serves:

- ``/robots.txt`` (allows everything, names the sitemap);
- ``/sitemap.xml``: a plain sitemap (``<loc>`` only: no ``news:`` fields, no dates), listing
  the front page too with ``list_home=True`` (as many small sites' sitemaps do);
- ``/``: a home page listing its articles as a real front page does (headline links and the
  first words of each story as teasers), unless one of the pages is served at ``/``.

Each host's server (tests/loopback.py) records the paths requested.
"""

from __future__ import annotations

import gzip
import html
import ipaddress
import json
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from crawler.extraction.text import word_count
from tests.loopback import NOT_FOUND, LoopbackServer, Reply

EVAL = Path(__file__).resolve().parent.parent.parent / "shared" / "eval"
AEB = EVAL / "scrapinghub-aeb"
FUNDUS = EVAL / "fundus-testdata"


@dataclass(frozen=True)
class EvalPage:
    """One real page: its id in the corpus, its published URL, its HTML and its true text."""

    id: str
    published_url: str
    body: bytes
    truth: str

    @property
    def domain(self) -> str:
        return urlsplit(self.published_url).hostname or ""

    @property
    def path(self) -> str:
        """The path and query the page's site served it at (what a request line carries)."""
        parts = urlsplit(self.published_url)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    title: str = ""
    content_type: str | None = "text/html; charset=utf-8"  # the Content-Type it is served with

    @property
    def headline(self) -> str:
        name = urlsplit(self.published_url).path.rstrip("/").rsplit("/", 1)[-1] or self.domain
        return _first_words(self.title or self.truth.split("\n", 1)[0] or name, 14)

    @property
    def teaser(self) -> str:
        return _first_words(self.truth, 22) + " …"


def _first_words(text: str, words: int) -> str:
    """The start of ``text`` up to ``words`` words (two Chinese or Japanese characters a word),
    as a front page cuts a headline or teaser."""
    cut = " ".join(text.split())
    low, high = 0, len(cut)
    while low < high:  # the longest prefix of at most `words` words
        middle = (low + high + 1) // 2
        if word_count(cut[:middle]) <= words:
            low = middle
        else:
            high = middle - 1
    return cut[:low]


def aeb_pages() -> list[EvalPage]:
    """The 181 pages of scrapinghub-aeb with their ground truth."""
    truth: dict[str, dict[str, str]] = json.loads(
        (AEB / "ground-truth.json").read_text(encoding="utf-8"))
    return [EvalPage(id=key, published_url=value["url"],
                     body=gzip.decompress((AEB / "html" / f"{key}.html.gz").read_bytes()),
                     truth=value["articleBody"])
            for key, value in sorted(truth.items())]


def fundus_pages() -> list[EvalPage]:
    """The pages of fundus-testdata (258 pages of 181 publishers), one per published URL (two
    crawl dates of one Taz article share a URL: the later is kept)."""
    gold: list[dict[str, Any]] = json.loads(
        (FUNDUS / "gold_index.json").read_text(encoding="utf-8"))
    by_url: dict[str, EvalPage] = {}
    for record in sorted(gold, key=lambda r: str(r["file"])):
        by_url[record["url"]] = EvalPage(
            id=str(record["file"]), published_url=str(record["url"]),
            body=gzip.decompress((FUNDUS / record["file"]).read_bytes()),
            truth="\n\n".join(record.get("body_paragraphs") or []),
            title=str(record.get("title") or ""))
    return sorted(by_url.values(), key=lambda page: page.id)


def _request_path(path: str) -> str:
    """``path`` as tests/loopback.py's server sees it: Python's http.server turns a leading
    ``//`` into ``/`` (``https://www.sonnenenergie.de//index.php?id=30``)."""
    return "/" + path.lstrip("/") if path.startswith("//") else path


def stored_pages(pages: Iterable[tuple[str, Path]]) -> list[EvalPage]:
    """Pages given as (original URL, gzipped file), each with the file's name as its id, served
    as a server that states no charset serves them (``Content-Type: text/html``): the browser,
    or the crawler, finds the encoding in the bytes. No ground truth: a front page's headlines
    are the pages' names, without teasers."""
    return [EvalPage(id=file.name, published_url=url, body=gzip.decompress(file.read_bytes()),
                     truth="", content_type="text/html")
            for url, file in pages]


def loopback_address(index: int) -> str:
    """The ``index``-th loopback address: 127.0.0.<index> below 256, then 127.0.1.0 and on
    (Linux answers on all of 127.0.0.0/8)."""
    if not 0 < index < 2 ** 24 - 1:
        raise ValueError(f"no loopback address number {index}")
    return str(ipaddress.IPv4Address("127.0.0.0") + index)


class EvalSites:
    """``with EvalSites(pages, hosts=32) as sites:`` serves ``pages`` on ``hosts`` hosts;
    ``hosts=None``: one host per original host (per :attr:`EvalPage.domain`)."""

    def __init__(self, pages: list[EvalPage], hosts: int | None = 32, first: int = 20,
                 list_home: bool = False) -> None:
        self.pages = pages
        self.hosts = hosts if hosts is not None else len({page.domain for page in pages})
        self.first = first
        self.list_home = list_home
        self.servers: list[LoopbackServer] = []
        self.routes: dict[str, dict[str, Reply]] = {}  # base URL -> path -> reply
        self.url_of: dict[str, str] = {}  # page id -> the URL it is served at
        self.requested_as: dict[str, str] = {}  # page id -> that URL as its server logs it
        self.homes: list[str] = []  # the URLs of the generated home pages

    def __enter__(self) -> EvalSites:
        domains = sorted({page.domain for page in self.pages})
        host_of = {domain: i % self.hosts for i, domain in enumerate(domains)}
        for i in range(self.hosts):
            routes: dict[str, Reply] = {}
            server = LoopbackServer(lambda path, routes=routes: routes.get(path, NOT_FOUND),
                                    loopback_address(self.first + i))
            self.servers.append(server)
            self.routes[server.base] = routes
        for page in self.pages:
            server = self.servers[host_of[page.domain]]
            route = _request_path(page.path)
            if route in self.routes[server.base]:
                raise ValueError(f"two pages at {page.path} on {server.base}")
            self.routes[server.base][route] = Reply(content_type=page.content_type,
                                                    body=page.body)
            self.url_of[page.id] = server.base + page.path
            self.requested_as[page.id] = server.base + route
        for server in self.servers:
            self._add_site_pages(server.base)
            server.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        # All at once: each waits up to half a second for its serving thread to notice.
        with ThreadPoolExecutor(32) as pool:
            list(pool.map(lambda server: server.__exit__(exc_type, exc, tb), self.servers))

    def _add_site_pages(self, base: str) -> None:
        routes = self.routes[base]
        mine = [page for page in self.pages if self.url_of[page.id].startswith(base + "/")]
        home = "/" not in routes  # no page of the corpus is this site's front page
        listed = [base + page.path for page in mine]
        if home and self.list_home:
            listed.insert(0, base + "/")
        locs = "".join(f"<url><loc>{escape(url)}</loc></url>\n" for url in listed)
        sitemap = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                   '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                   f"{locs}</urlset>\n")
        routes["/sitemap.xml"] = Reply(200, "application/xml", sitemap.encode())
        robots = f"User-agent: *\nAllow: /\n\nSitemap: {base}/sitemap.xml\n"
        routes["/robots.txt"] = Reply(200, "text/plain", robots.encode())
        if not home:
            return
        teasers = "".join(
            f'<article class="teaser"><h2><a href="{html.escape(page.path)}">'
            f"{html.escape(page.headline)}</a></h2>"
            + (f"<p>{html.escape(page.teaser)}</p>" if page.truth else "") + "</article>\n"
            for page in mine)
        front = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Front page</title>"
                 '<meta property="og:type" content="website"></head><body>'
                 '<header><nav><a href="/">Home</a> <a href="/">Latest</a></nav></header>'
                 f"<main><h1>Latest news</h1>\n{teasers}</main>"
                 "<footer><p>© The publisher</p></footer></body></html>")
        routes["/"] = Reply(body=front.encode())
        self.homes.append(base + "/")

    @property
    def base_urls(self) -> list[str]:
        return [server.base for server in self.servers]

    @property
    def requested(self) -> set[str]:
        """The URLs the sites were asked for, as their servers log them (see
        :attr:`requested_as`)."""
        return {server.base + path for server in self.servers for path in server.paths}
