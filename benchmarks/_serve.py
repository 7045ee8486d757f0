"""Serve the real article pages of the scrapinghub benchmark on loopback, for the benchmarks.

    .venv/bin/python benchmarks/_serve.py [--pages DIR] [--max-n N] [--port 0]

Prints ``READY http://127.0.0.1:PORT`` on stdout once it listens. Every page of ``DIR``
(``*.html.gz``, served decompressed, at full size) is repeated at distinct URLs
``/articles/<i>.html`` for ``i < max-n`` (page ``i % len(pages)``). Also served:

- ``/robots.txt`` (allows everything, names the sitemap),
- ``/sitemap.xml`` (``max-n`` URLs) and ``/sitemap-<n>.xml`` (the first ``n``),
- ``/feed.xml`` and ``/feed-<n>.xml``: RSS 2.0 with the latest 100 of those ``n`` articles,
- ``/__stats`` (JSON: requests, bytes, wall time of the first and last request) and
  ``/__reset`` (zero the stats), so one server can time several runs.

A small asyncio HTTP/1.1 server with keep-alive and prebuilt responses, so that serving costs
the client side as little CPU as possible.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PAGES = ROOT.parent / "shared" / "eval" / "scrapinghub-aeb" / "html"
FEED_ITEMS = 100
# Entries are dated from the server's start backwards, one second apart: fresh news, so that
# a crawler's age limit (NEWS_MAX_AGE_DAYS) skips none of them.
_EPOCH = datetime.now(UTC).replace(microsecond=0)


def load_pages(directory: Path) -> list[bytes]:
    """The benchmark pages as raw (decompressed) bytes, in a stable order."""
    files = sorted(directory.glob("*.html.gz"))
    if not files:
        raise SystemExit(f"no *.html.gz pages in {directory}")
    return [gzip.decompress(path.read_bytes()) for path in files]


def article_path(i: int) -> str:
    return f"/articles/{i}.html"


def published(i: int) -> datetime:
    return _EPOCH - timedelta(seconds=i)


def sitemap_xml(base: str, n: int) -> bytes:
    rows = "".join(
        f"<url><loc>{base}{article_path(i)}</loc>"
        f"<lastmod>{published(i).isoformat()}</lastmod></url>\n"
        for i in range(n)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{rows}</urlset>\n"
    ).encode()


def feed_xml(base: str, n: int) -> bytes:
    items = "".join(
        f"<item><title>Article {i}</title><link>{base}{article_path(i)}</link>"
        f"<guid>{base}{article_path(i)}</guid>"
        f"<pubDate>{format_datetime(published(i))}</pubDate></item>\n"
        for i in range(min(n, FEED_ITEMS))
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>Benchmark news</title><link>{escape(base)}/</link>"
        f"<description>benchmark</description>\n{items}</channel></rss>\n"
    ).encode()


def response(status: str, body: bytes, content_type: str) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    ).encode("latin-1")
    return head + body


class PageServer:
    def __init__(self, pages: list[bytes], max_n: int) -> None:
        self.pages = [response("200 OK", page, "text/html") for page in pages]
        self.max_n = max_n
        self.base = ""
        self.cache: dict[str, bytes] = {}
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.bytes = 0
        self.first: float | None = None
        self.last: float | None = None

    def stats(self) -> dict[str, object]:
        return {"requests": self.requests, "bytes": self.bytes, "first": self.first,
                "last": self.last}

    def route(self, path: str, address: str = "") -> bytes:
        """The prebuilt response to ``path`` (``address``: the one the client connected to,
        unused here: one site)."""
        if path.startswith("/articles/") and path.endswith(".html"):
            try:
                i = int(path[len("/articles/"):-len(".html")])
            except ValueError:
                i = -1
            if 0 <= i < self.max_n:
                return self.pages[i % len(self.pages)]
        elif path == "/__stats":
            return response("200 OK", json.dumps(self.stats()).encode(), "application/json")
        elif path == "/__reset":
            self.reset()
            return response("200 OK", b"{}", "application/json")
        elif path == "/robots.txt":
            body = f"User-agent: *\nAllow: /\nSitemap: {self.base}/sitemap.xml\n".encode()
            return response("200 OK", body, "text/plain")
        else:
            cached = self.cache.get(path)
            if cached is not None:
                return cached
            built = self._build(path)
            if built is not None:
                self.cache[path] = built
                return built
        return response("404 Not Found", b"not found", "text/plain")

    def _build(self, path: str) -> bytes | None:
        for prefix, make, kind in (("/sitemap", sitemap_xml, "application/xml"),
                                   ("/feed", feed_xml, "application/rss+xml")):
            if path.startswith(prefix) and path.endswith(".xml"):
                middle = path[len(prefix):-len(".xml")]
                if middle == "":
                    n = self.max_n
                elif middle.startswith("-") and middle[1:].isdigit():
                    n = min(int(middle[1:]), self.max_n)
                else:
                    return None
                return response("200 OK", make(self.base, n), kind)
        return None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        address = writer.get_extra_info("sockname")[0]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                parts = lines[0].split(" ")
                if len(parts) < 2:
                    break
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip() or 0)
                if length:
                    await reader.readexactly(length)
                path = parts[1].split("?", 1)[0]
                now = time.time()
                if not path.startswith("/__"):
                    self.requests += 1
                    self.first = self.first or now
                    self.last = now
                data = self.route(path, address)
                if not path.startswith("/__"):
                    self.bytes += len(data)
                writer.write(data)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()


async def serve(pages: list[bytes], max_n: int, port: int) -> None:
    server = PageServer(pages, max_n)
    tcp = await asyncio.start_server(server.handle, "127.0.0.1", port, backlog=256)
    bound = tcp.sockets[0].getsockname()[1]
    server.base = f"http://127.0.0.1:{bound}"
    print(f"READY {server.base}", flush=True)
    async with tcp:
        await tcp.serve_forever()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=Path, default=DEFAULT_PAGES)
    parser.add_argument("--max-n", type=int, default=20_000)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    pages = load_pages(args.pages)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(pages, args.max_n, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
