"""Serve many new news sites on distinct loopback hosts, with real pages, for a first crawl.

    .venv/bin/python benchmarks/_sites.py --sites 50 [--pages-per-site 5] [--min-bytes 150000]

Site ``i`` is ``http://127.0.0.<i + 2>:PORT`` (one server process, one port, every host):
``/robots.txt`` (allows everything, names the sitemap), ``/sitemap.xml`` (a plain sitemap of
the site's articles) and ``/articles/<k>.html``. Each article is a real page of
../shared/eval/scrapinghub-aeb/html/ or ../shared/eval/fundus-testdata/ (decompressed, full
size; each page on one site only, unless there are too few pages), with the site's template
line (:func:`trailer`) injected into the article body after its longest paragraph. Only pages
whose extraction keeps the trailer and is taken for an article are used, so that every page of
a site carries its template line.

Prints ``READY <json>`` on stdout once it listens: ``{"port": ..., "sites": [{"base": ...,
"trailer": ..., "pages": [url, ...], "bytes": [...]}, ...]}``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "eval"
PAGE_DIRS = (SHARED / "scrapinghub-aeb" / "html", SHARED / "fundus-testdata")

_PARAGRAPH = re.compile(rb"<p\b[^>]*>(.*?)</p>", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(rb"<[^>]+>")


def trailer(i: int) -> str:
    """Site ``i``'s template line: on every one of its articles."""
    return (f"Reporting for the Loopback Courier {i} newsroom: send your tips to desk{i} and "
            f"follow our live coverage of the region every day.")


def page_files() -> list[Path]:
    files: list[Path] = []
    for directory in PAGE_DIRS:
        files += sorted(directory.rglob("*.html.gz"))
    return files


def inject(page: bytes, line: str) -> bytes | None:
    """The page with ``<p>line</p>`` right after its longest paragraph (None: no paragraph)."""
    best: re.Match[bytes] | None = None
    best_len = 0
    for match in _PARAGRAPH.finditer(page):
        length = len(_TAG.sub(b"", match.group(1)).strip())
        if length > best_len:
            best, best_len = match, length
    if best is None:
        return None
    encoded = line.encode("ascii")
    return page[:best.end()] + b"<p>" + encoded + b"</p>" + page[best.end():]


def usable(page: bytes, line: str) -> bool:
    """Extraction takes the page with the line injected for an article, line included."""
    from w3lib.encoding import html_to_unicode

    from crawler.extraction import extract_article

    injected = inject(page, line)
    if injected is None:
        return False
    html = html_to_unicode("text/html", injected)[1]
    result = extract_article(html, "http://127.0.0.2/articles/0.html", detect_language=False)
    return result.is_article and line in result.item.text


def choose_pages(count: int, min_bytes: int) -> list[bytes]:
    """``count`` usable real pages of at least ``min_bytes`` (smallest first), repeated when
    there are fewer."""
    probe = trailer(0)
    found: list[bytes] = []
    candidates = [(len(raw), raw) for raw in (gzip.decompress(p.read_bytes())
                                              for p in page_files())]
    candidates = sorted((c for c in candidates if c[0] >= min_bytes), key=lambda c: c[0])
    for _size, raw in candidates:
        if usable(raw, probe):
            found.append(raw)
            if len(found) >= count:
                break
    if not found:
        raise SystemExit(f"no usable page of at least {min_bytes} bytes")
    return [found[i % len(found)] for i in range(count)]


def _response(status: str, body: bytes, content_type: str) -> bytes:
    head = (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n").encode("latin-1")
    return head + body


class SitesServer:
    def __init__(self, sites: int, per_site: int, min_bytes: int) -> None:
        self.sites = sites
        self.per_site = per_site
        self.pages = choose_pages(sites * per_site, min_bytes)
        self.routes: dict[tuple[str, str], bytes] = {}
        self.info: list[dict[str, object]] = []

    def build(self, port: int) -> None:
        for i in range(self.sites):
            host = f"127.0.0.{i + 2}"
            base = f"http://{host}:{port}"
            line = trailer(i)
            urls, sizes = [], []
            for k in range(self.per_site):
                raw = self.pages[i * self.per_site + k]
                page = inject(raw, line)
                assert page is not None
                path = f"/articles/{k}.html"
                self.routes[(host, path)] = _response("200 OK", page, "text/html")
                urls.append(base + path)
                sizes.append(len(page))
            rows = "".join(f"<url><loc>{url}</loc></url>\n" for url in urls)
            sitemap = ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns='
                       f'"http://www.sitemaps.org/schemas/sitemap/0.9">\n{rows}</urlset>\n')
            self.routes[(host, "/sitemap.xml")] = _response(
                "200 OK", sitemap.encode(), "application/xml")
            robots = f"User-agent: *\nAllow: /\nSitemap: {base}/sitemap.xml\n"
            self.routes[(host, "/robots.txt")] = _response("200 OK", robots.encode(),
                                                           "text/plain")
            self.info.append({"base": base, "trailer": line, "pages": urls, "bytes": sizes})

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host = writer.get_extra_info("sockname")[0]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                parts = head.decode("latin-1").split("\r\n")[0].split(" ")
                if len(parts) < 2:
                    break
                path = parts[1].split("?", 1)[0]
                data = self.routes.get((host, path)) or _response("404 Not Found", b"not found",
                                                                  "text/plain")
                writer.write(data)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()


async def serve(server: SitesServer) -> None:
    first = await asyncio.start_server(server.handle, "127.0.0.2", 0, backlog=256)
    port = first.sockets[0].getsockname()[1]
    others = [await asyncio.start_server(server.handle, f"127.0.0.{i + 2}", port, backlog=256)
              for i in range(1, server.sites)]
    server.build(port)
    print("READY " + json.dumps({"port": port, "sites": server.info}), flush=True)
    async with contextlib.AsyncExitStack() as stack:
        for tcp in [first, *others]:
            await stack.enter_async_context(tcp)
        await first.serve_forever()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sites", type=int, default=50)
    parser.add_argument("--pages-per-site", type=int, default=5)
    parser.add_argument("--min-bytes", type=int, default=150_000)
    args = parser.parse_args()
    if not 1 <= args.sites <= 250:
        raise SystemExit("--sites: 1 to 250 (hosts 127.0.0.2 to 127.0.0.251)")
    server = SitesServer(args.sites, args.pages_per_site, args.min_bytes)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(server))
    return 0


if __name__ == "__main__":
    sys.exit(main())
