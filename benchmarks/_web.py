"""Serve each real benchmark page as a site of its own, with articles that share its layout.

    .venv/bin/python benchmarks/_web.py [--pages DIR] [--max-n N] [--variants 10] [--port 0]

Page ``p`` of ``DIR`` (``*.html.gz``, the 181 pages of ../shared/eval/scrapinghub-aeb/html/)
becomes the site ``http://<host(p)>:PORT`` (127.0.0.2, 127.0.0.3, ...: one server process, one
port, every host, as benchmarks/_sites.py does it). Article ``i < max-n`` is article
``k = i // H`` of site ``i % H`` (``H`` sites), at ``/articles/<k>.html``: N articles spread
over the sites, N/H each. Article ``k`` is variant ``k % V`` of its page (``V`` = ``--variants``,
at most as many as a site has articles); articles past ``V`` repeat the variants at distinct
URLs (N = 20,000 gives 110 articles a site, each variant served 11 times).

Variant 0 is the page as it is. Variant ``k > 0`` has its long texts replaced: a run of text
(text between tags, joined over inline tags such as ``<a>``, ``<em>``, ``<span>``) of at least
``MIN_WORDS`` words (40 characters in Chinese or Japanese) in the body, outside
``<header>``, ``<footer>``, ``<nav>``, ``<h1>``, ``<script>``, ``<style>``, ``<title>`` and
comments. The new text is made of paragraphs of the ground truth (../shared/eval/scrapinghub-
aeb/ground-truth.json) of other pages whose text is in the same script (the dominant Unicode
script of its letters; Han, hiragana and katakana count as one), drawn deterministically by
``(p, k, run)``, cut to the original run's length and spread over its text pieces, so the
markup stays byte for byte and the page keeps its size and encoding. A JSON-LD ``articleBody``
gets the new texts too. So a site's articles share its layout (markup, header, footer,
navigation, JSON-LD apart from the body, ``<title>``) but not their text.

Also served on every host: ``/robots.txt`` (allows everything, names the sitemap),
``/sitemap.xml`` (the site's articles below ``max-n``) and ``/sitemap-<n>.xml`` (those below
``n``; ``/sitemap-<a>-<b>.xml``: those from ``a`` to ``b - 1``); on any host: ``/__stats``,
``/__reset`` (as benchmarks/_serve.py), ``/__urls-<n>.txt`` (the first ``n`` article URLs, in
order ``i``) and ``/__sources-<n>.yaml`` (a sources file with one source per site, its
``sitemap-<n>.xml``; ``/__sources-<a>-<b>.yaml``: its ``sitemap-<a>-<b>.xml``).

Prints ``READY http://127.0.0.2:PORT`` once it listens. The pages are built before that
(about 5 s for 1,810 on this machine).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import json
import random
import re
import sys
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from _runners import scrapy_decoded
from _serve import DEFAULT_PAGES, PageServer, published, response

GROUND_TRUTH = DEFAULT_PAGES.parent / "ground-truth.json"
MIN_WORDS = 12  # a text run this long (in words) is article text, replaced in variants
MIN_CHARS_UNSPACED = 40  # the same for scripts written without spaces (Chinese, Japanese)
UNSPACED = {"CJK", "THAI"}
# Tags a run of text continues over; any other tag (and a comment) ends it.
INLINE = frozenset((
    "a", "abbr", "b", "bdi", "bdo", "br", "cite", "code", "data", "del", "dfn", "em", "font", "i",
    "ins", "kbd", "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u",
    "var", "wbr"))
# Elements whose text stays: the site's own lines and the title.
KEEP = frozenset(("header", "footer", "nav", "h1"))
_TOKEN = re.compile(
    r"<!--.*?-->"
    # elements whose content is not markup: one token (JSON-LD apart, kept whole)
    r"|<(script|style|title|textarea)\b[^>]*>.*?</\1\s*>"
    r"|</?[A-Za-z][^\s/>]*(?:[^>\"']|\"[^\"]*\"|'[^']*')*>"
    r"|<![^>]*>|<\?[^>]*>",
    re.DOTALL | re.IGNORECASE)
_TAG_NAME = re.compile(r"</?([A-Za-z][^\s/>]*)")
_BODY = re.compile(r"<body\b", re.IGNORECASE)
_JSON_LD = re.compile(r"<script\b[^>]*application/ld\+json[^>]*>", re.IGNORECASE)
_ARTICLE_BODY = re.compile(r'("articleBody"\s*:\s*)"((?:[^"\\]|\\.)*)"', re.DOTALL)


def host(p: int) -> str:
    """Site ``p``'s loopback address: 127.0.0.2 onwards, skipping .0 and .255."""
    i = p + 2
    return f"127.0.{i // 254}.{i % 254 + 1}" if i >= 254 else f"127.0.0.{i}"


def script_of(text: str) -> str | None:
    """The dominant Unicode script of the letters of ``text`` (None: no letter)."""
    counts: Counter[str] = Counter()
    for ch in text:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            word = name.split(" ", 1)[0] if name else "OTHER"
            counts["CJK" if word in ("HIRAGANA", "KATAKANA", "HALFWIDTH") else word] += 1
    return counts.most_common(1)[0][0] if counts else None


def is_long(text: str, script: str | None) -> bool:
    if script in UNSPACED:
        return len("".join(text.split())) >= MIN_CHARS_UNSPACED
    return len(text.split()) >= MIN_WORDS


@dataclass
class Run:
    """A run of article text: the indexes of its text pieces in :attr:`Layout.pieces`."""
    pieces: list[int]
    script: str | None
    length: int  # characters of its text, surrounding white space left out


@dataclass
class Layout:
    """A page cut into markup and text pieces, with the runs of text a variant replaces."""
    encoding: str
    pieces: list[str]
    runs: list[Run] = field(default_factory=list)
    article_body: list[int] = field(default_factory=list)  # pieces: JSON-LD with articleBody


def cut(raw: bytes) -> Layout | None:
    """The page's layout (None: the page does not decode and encode back to the same bytes)."""
    encoding, text = scrapy_decoded("text/html", raw)
    try:
        if text.encode(encoding) != raw:
            return None
    except UnicodeError:
        return None
    layout = Layout(encoding, [])
    pieces = layout.pieces
    body = _BODY.search(text)
    body_start = body.start() if body else 0
    kept: Counter[str] = Counter()  # open KEEP elements, by name
    current: list[int] = []  # the text pieces of the run being read

    def end_run() -> None:
        if current:
            joined = " ".join(pieces[i] for i in current)
            script = script_of(joined)
            if is_long(joined, script):
                layout.runs.append(Run(list(current), script,
                                       sum(len(pieces[i].strip()) for i in current)))
            current.clear()

    position = 0
    for match in _TOKEN.finditer(text):
        if match.start() > position:
            pieces.append(text[position:match.start()])
            if position >= body_start and not sum(kept.values()):
                current.append(len(pieces) - 1)
        token = match.group()
        pieces.append(token)
        position = match.end()
        if _JSON_LD.match(token) and _ARTICLE_BODY.search(token):
            layout.article_body.append(len(pieces) - 1)
        name_match = _TAG_NAME.match(token)
        name = name_match.group(1).lower() if name_match else ""
        if name in KEEP:
            if token.startswith("</"):
                kept[name] = max(kept[name] - 1, 0)
            elif not token.endswith("/>"):
                kept[name] += 1
        if name not in INLINE or name in KEEP:
            end_run()
    if position < len(text):
        pieces.append(text[position:])
        if not sum(kept.values()):
            current.append(len(pieces) - 1)
    end_run()
    return layout


def paragraph_pool(pages: list[Path]) -> dict[str, list[tuple[int, str]]]:
    """Ground-truth paragraphs by script: ``(page index, paragraph)``; a page's script is the
    dominant one of its whole body."""
    truth = json.loads(GROUND_TRUTH.read_text())
    pool: dict[str, list[tuple[int, str]]] = {}
    for p, path in enumerate(pages):
        body = (truth.get(path.name.split(".", 1)[0]) or {}).get("articleBody") or ""
        script = script_of(body)
        if script is None:
            continue
        for paragraph in body.split("\n"):
            paragraph = " ".join(paragraph.split())
            if paragraph:
                pool.setdefault(script, []).append((p, paragraph))
    return pool


def new_text(pool: list[tuple[int, str]], p: int, rng: random.Random, length: int,
             unspaced: bool) -> str:
    """About ``length`` characters of paragraphs of pages other than ``p`` (of ``p`` itself
    when the pool has no other page), from a random place of ``pool`` onwards."""
    start = rng.randrange(len(pool))
    own = all(page == p for page, _ in pool)
    parts: list[str] = []
    total = 0
    for step in range(len(pool)):
        page, paragraph = pool[(start + step) % len(pool)]
        if page == p and not own:
            continue
        parts.append(paragraph)
        total += len(paragraph) + 1
        if total >= length:
            break
    joined = ("" if unspaced else " ").join(parts)
    if len(joined) <= length:
        return joined
    if unspaced:
        return joined[:length]
    space = joined.rfind(" ", 0, length + 1)
    return joined[:space] if space > length // 2 else joined[:length]


def spread(text: str, lengths: list[int], unspaced: bool) -> list[str]:
    """``text`` cut into consecutive parts of about ``lengths`` characters (at spaces, unless
    ``unspaced``), the last part taking the rest."""
    parts: list[str] = []
    position = 0
    for length in lengths[:-1]:
        end = min(position + length, len(text))
        if not unspaced and end < len(text):
            space = text.find(" ", end)
            end = space if space != -1 else len(text)
        parts.append(text[position:end].strip())
        position = end
    parts.append(text[position:].strip())
    return parts


def variant(layout: Layout, pool: dict[str, list[tuple[int, str]]], p: int, k: int) -> bytes:
    """Variant ``k`` of page ``p``: its runs of article text replaced (module doc)."""
    pieces = list(layout.pieces)
    rng = random.Random(p * 1_000_003 + k)
    bodies: list[str] = []
    for run in layout.runs:
        paragraphs = pool.get(run.script or "") or pool.get("LATIN") or []
        if not paragraphs:
            continue
        unspaced = run.script in UNSPACED
        text = new_text(paragraphs, p, rng, run.length, unspaced)
        bodies.append(text)
        filled = [i for i in run.pieces if layout.pieces[i].strip()]
        lengths = [len(layout.pieces[i].strip()) for i in filled]
        for i, part in zip(filled, spread(text, lengths, unspaced), strict=True):
            old = layout.pieces[i]
            lead = old[:len(old) - len(old.lstrip())]
            trail = old[len(old.rstrip()):]
            pieces[i] = lead + html.escape(part, quote=False) + trail
    if bodies:
        joined = " ".join(bodies)
        for i in layout.article_body:
            pieces[i] = _ARTICLE_BODY.sub(lambda m: _json_body(m, joined), pieces[i])
    return "".join(pieces).encode(layout.encoding, errors="xmlcharrefreplace")


def _json_body(match: re.Match[str], text: str) -> str:
    """A JSON-LD ``"articleBody": "..."`` with ``text`` (cut to the old value's length)."""
    value = json.dumps(text[:len(match.group(2))], ensure_ascii=False).replace("</", "<\\/")
    return match.group(1) + value


@dataclass
class Built:
    pages: list[list[bytes]]  # per site, its variants
    seconds: float
    unchanged: int  # pages that could not be cut (served as they are in every variant)
    no_runs: int  # pages without a run of article text (their variants are the page)
    replaced_share: float  # characters replaced / characters of the variants k > 0


def build(directory: Path, variants: int) -> Built:
    """Every site's ``variants`` variants (precomputed once)."""
    import gzip

    started = time.monotonic()
    files = sorted(directory.glob("*.html.gz"))
    if not files:
        raise SystemExit(f"no *.html.gz pages in {directory}")
    pool = paragraph_pool(files)
    pages: list[list[bytes]] = []
    unchanged = no_runs = 0
    replaced = total = 0
    for p, path in enumerate(files):
        raw = gzip.decompress(path.read_bytes())
        layout = cut(raw)
        if layout is None:
            unchanged += 1
            pages.append([raw] * variants)
            continue
        if not layout.runs:
            no_runs += 1
        share = sum(run.length for run in layout.runs)
        site = [raw]
        for k in range(1, variants):
            site.append(variant(layout, pool, p, k))
            replaced += share
            total += len(raw)
        pages.append(site)
    return Built(pages, time.monotonic() - started, unchanged, no_runs,
                 replaced / total if total else 0.0)


class WebServer(PageServer):
    """Many sites on one port: routes by the address the client connected to."""

    def __init__(self, built: Built, max_n: int) -> None:
        super().__init__([], max_n)
        self.sites = [[response("200 OK", page, "text/html") for page in site]
                      for site in built.pages]
        self.index = {host(p): p for p in range(len(self.sites))}
        self.port = 0

    def url(self, i: int) -> str:
        sites = len(self.sites)
        return f"http://{host(i % sites)}:{self.port}/articles/{i // sites}.html"

    def route(self, path: str, address: str = "") -> bytes:
        p = self.index.get(address)
        sites = len(self.sites)
        if p is not None and path.startswith("/articles/") and path.endswith(".html"):
            try:
                k = int(path[len("/articles/"):-len(".html")])
            except ValueError:
                k = -1
            if k >= 0 and k * sites + p < self.max_n:
                site = self.sites[p]
                return site[k % len(site)]
        elif p is not None and path == "/robots.txt":
            base = f"http://{address}:{self.port}"
            body = f"User-agent: *\nAllow: /\nSitemap: {base}/sitemap.xml\n".encode()
            return response("200 OK", body, "text/plain")
        elif path.startswith("/__") and not path.startswith(("/__urls", "/__sources")):
            return super().route(path, address)
        else:
            key = f"{address}{path}" if path.startswith("/sitemap") else path
            cached = self.cache.get(key)
            if cached is not None:
                return cached
            built = self._build_web(path, p)
            if built is not None:
                self.cache[key] = built
                return built
        return response("404 Not Found", b"not found", "text/plain")

    def _build_web(self, path: str, p: int | None) -> bytes | None:
        for prefix, suffix in (("/sitemap", ".xml"), ("/__urls", ".txt"),
                               ("/__sources", ".yaml")):
            if path.startswith(prefix) and path.endswith(suffix):
                middle = path[len(prefix):-len(suffix)]
                bounds = middle[1:].split("-") if middle.startswith("-") else []
                if middle == "":
                    start, n = 0, self.max_n
                elif len(bounds) in (1, 2) and all(b.isdigit() for b in bounds):
                    # -<n>: articles below n; -<a>-<b>: articles a to b - 1
                    start = int(bounds[0]) if len(bounds) == 2 else 0
                    n = min(int(bounds[-1]), self.max_n)
                else:
                    return None
                if prefix == "/sitemap" and p is not None:
                    return response("200 OK", self.sitemap(p, n, start), "application/xml")
                if prefix == "/__urls":
                    body = "".join(self.url(i) + "\n" for i in range(start, n))
                    return response("200 OK", body.encode(), "text/plain")
                if prefix == "/__sources":
                    return response("200 OK", self.sources(n, start), "application/yaml")
        return None

    def sitemap(self, p: int, n: int, start: int = 0) -> bytes:
        first = start + (p - start) % len(self.sites)  # site p's first article from start
        rows = "".join(f"<url><loc>{self.url(i)}</loc>"
                       f"<lastmod>{published(i).isoformat()}</lastmod></url>\n"
                       for i in range(first, n, len(self.sites)))
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                f"{rows}</urlset>\n").encode()

    def sources(self, n: int, start: int = 0) -> bytes:
        rows = ["sources:"]
        sitemap = f"sitemap-{start}-{n}" if start else f"sitemap-{n}"
        for p in range(min(n - start, len(self.sites))):
            rows += [f"  - name: site-{p}",
                     f"    sitemaps: [http://{host(p)}:{self.port}/{sitemap}.xml]"]
        return ("\n".join(rows) + "\n").encode()


async def serve(server: WebServer) -> None:
    hosts = [host(p) for p in range(len(server.sites))]
    first = await asyncio.start_server(server.handle, hosts[0], 0, backlog=256)
    server.port = first.sockets[0].getsockname()[1]
    others = [await asyncio.start_server(server.handle, address, server.port, backlog=256)
              for address in hosts[1:]]
    server.base = f"http://{hosts[0]}:{server.port}"
    print(f"READY {server.base}", flush=True)
    async with contextlib.AsyncExitStack() as stack:
        for tcp in [first, *others]:
            await stack.enter_async_context(tcp)
        await first.serve_forever()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=Path, default=DEFAULT_PAGES)
    parser.add_argument("--max-n", type=int, default=1810)
    parser.add_argument("--variants", type=int, default=10,
                        help="distinct articles a site (more articles repeat them)")
    args = parser.parse_args()
    sites = len(list(args.pages.glob("*.html.gz")))
    variants = max(1, min(args.variants, -(-args.max_n // max(sites, 1))))
    built = build(args.pages, variants)
    print(f"built {sites} sites x {variants} variants in {built.seconds:.1f} s "
          f"({built.unchanged} pages not cut, {built.no_runs} without article text, "
          f"{100 * built.replaced_share:.1f} % of a variant's characters replaced)",
          file=sys.stderr, flush=True)
    server = WebServer(built, args.max_n)
    del built  # the pages live on in the server's prebuilt responses only
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(server))
    return 0


if __name__ == "__main__":
    sys.exit(main())
