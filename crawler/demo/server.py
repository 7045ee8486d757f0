"""Serve the three demo news sites on loopback (``python -m crawler.demo.server [--port N]``).

Each site gets its own :class:`http.server.ThreadingHTTPServer` bound to its own loopback
address (127.0.0.2-4 by default), so the sites have distinct hosts like real publishers.
Pages are rendered once at start, for the actual ``http://ip:port`` base URL.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socketserver
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, cast
from urllib.parse import unquote, urlsplit

from crawler.demo.content import DEFAULT_HOSTS, DemoSite, SiteContent
from crawler.demo.layout import Page
from crawler.demo.sites import LAYOUTS, demo_site, layout_for, site_pages

__all__ = ["DemoServer", "DemoSite", "RequestRecord", "main", "write_sources_file"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RequestRecord:
    """One request a demo site received, and the status it answered with."""

    site: str
    method: str
    path: str  # with the query string
    headers: dict[str, str]
    status: int


class _SiteHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], demo: DemoServer, site_name: str) -> None:
        super().__init__(address, _Handler)
        self.demo = demo
        self.site_name = site_name
        self.pages: dict[str, Page] = {}
        self.not_found = Page(b"Not Found", "text/plain; charset=utf-8")

    def server_bind(self) -> None:
        # HTTPServer.server_bind() would resolve the address with getfqdn(): skip the DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug(
            "demo site %s: error serving %s", self.site_name, client_address, exc_info=True
        )


def _http_date(value: datetime) -> str:
    return format_datetime(value.astimezone(UTC), usegmt=True)


class _Handler(BaseHTTPRequestHandler):
    server_version = "DemoNews/1.0"

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def _not_modified(self, page: Page) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
            return "*" in tags or page.etag in tags
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_modified_since and page.last_modified is not None:
            try:
                since = parsedate_to_datetime(if_modified_since)
            except (TypeError, ValueError):
                return False
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
            return page.last_modified.replace(microsecond=0) <= since
        return False

    def _serve(self, send_body: bool) -> None:
        server = cast(_SiteHTTPServer, self.server)
        split = urlsplit(self.path)
        path = unquote(split.path) or "/"
        page = server.pages.get(path)
        headers: dict[str, str] = {}
        if page is None and not path.endswith("/") and path + "/" in server.pages:
            status, page = 301, None
            headers["Location"] = path + "/" + (f"?{split.query}" if split.query else "")
        elif page is None:
            status, page = 404, server.not_found
        elif self._not_modified(page):
            status = 304
        else:
            status = 200
        server.demo.record(
            RequestRecord(
                site=server.site_name,
                method=self.command,
                path=self.path,
                headers=dict(self.headers.items()),
                status=status,
            )
        )
        if server.demo.response_delay > 0:
            time.sleep(server.demo.response_delay)
        server.demo.wait_gate(server.site_name)
        body = b""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if page is not None:
            if page.last_modified is not None:
                self.send_header("Last-Modified", _http_date(page.last_modified))
            if status != 404:
                self.send_header("ETag", page.etag)
            if status != 304:
                body = page.body
                self.send_header("Content-Type", page.content_type)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body and body:
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                logger.debug("client went away before %s was sent", self.path)


class DemoServer:
    """The demo sites, each on its own loopback address; start/stop or use as a context manager.

    ``hosts`` maps site name to the IP to bind (default: :data:`DEFAULT_HOSTS`); every site
    binds ``port`` (0: a free port each). ``response_delay`` seconds pass before each answer
    (a slow publisher); :meth:`hold` makes one site answer nothing until :meth:`release`.
    After :meth:`start`, :attr:`sites` describes them and :attr:`request_log` records every
    request they receive.
    """

    def __init__(self, hosts: Mapping[str, str] | None = None, port: int = 0,
                 response_delay: float = 0.0) -> None:
        self.hosts: dict[str, str] = dict(DEFAULT_HOSTS if hosts is None else hosts)
        unknown = sorted(set(self.hosts) - set(LAYOUTS))
        if unknown:
            raise ValueError(f"unknown demo sites {unknown}; expected some of {sorted(LAYOUTS)}")
        self.port = port
        self.response_delay = response_delay
        self.sites: list[DemoSite] = []
        self.request_log: list[RequestRecord] = []
        self._log_lock = threading.Lock()
        self._servers: list[_SiteHTTPServer] = []
        self._threads: list[threading.Thread] = []
        self._gates: dict[str, threading.Event] = {}

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> DemoServer:
        if self._servers:
            raise RuntimeError("DemoServer is already running")
        try:
            for name, ip in self.hosts.items():
                server = _SiteHTTPServer((ip, self.port), self, name)
                self._servers.append(server)
                layout = layout_for(name, f"http://{ip}:{server.server_port}")
                server.pages = site_pages(layout)
                server.not_found = layout.not_found_page()
                self.sites.append(demo_site(layout))
            for server in self._servers:
                thread = threading.Thread(
                    target=server.serve_forever,
                    kwargs={"poll_interval": 0.05},
                    name=f"demo-site-{server.site_name}",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)
        except BaseException:
            self.stop()
            raise
        for site in self.sites:
            logger.info("demo site %s serving at %s", site.name, site.base_url)
        return self

    def stop(self) -> None:
        """Stop serving and close every socket; safe to call twice."""
        for name in list(self._gates):
            self.release(name)
        for server, _thread in zip(self._servers, self._threads, strict=False):
            server.shutdown()
        for server in self._servers:
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers.clear()
        self._threads.clear()
        self.sites.clear()

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def set_content(self, name: str, content: SiteContent) -> None:
        """Serve ``content`` on the running site ``name`` from now on (an evolving site)."""
        for server, site in zip(self._servers, self.sites, strict=True):
            if server.site_name == name:
                layout = LAYOUTS[name](content, site.base_url)
                server.pages = site_pages(layout)
                server.not_found = layout.not_found_page()
                return
        raise KeyError(f"demo site {name!r} is not running")

    def hold(self, name: str) -> None:
        """Answer no request of the site ``name`` (each waits, up to a minute) until
        :meth:`release`: a site that stalls, for tests that need a crawl to wait."""
        self._gates.setdefault(name, threading.Event())

    def release(self, name: str) -> None:
        """Answer the requests of the site ``name`` again, the waiting ones first."""
        gate = self._gates.pop(name, None)
        if gate is not None:
            gate.set()

    def wait_gate(self, name: str) -> None:
        gate = self._gates.get(name)
        if gate is not None:
            gate.wait(timeout=60)

    # -- queries ----------------------------------------------------------------------------

    def site(self, name: str) -> DemoSite:
        for site in self.sites:
            if site.name == name:
                return site
        raise KeyError(f"demo site {name!r} is not running")

    def record(self, entry: RequestRecord) -> None:
        with self._log_lock:
            self.request_log.append(entry)

    def requests(self, site: str | None = None) -> list[RequestRecord]:
        """A snapshot of the request log, optionally for one site only."""
        with self._log_lock:
            return [r for r in self.request_log if site is None or r.site == site]

    def clear_request_log(self) -> None:
        with self._log_lock:
            self.request_log.clear()


# How the crawler discovers each site: (sources.yaml key, URL of the site, declare language?)
_DISCOVERY: dict[str, tuple[str, str, bool]] = {
    "rundschau": ("feeds", "feed_url", True),
    "harbour": ("sitemaps", "sitemap_url", True),
    "courrier": ("start_urls", "home_url", False),
}


def write_sources_file(sites: Iterable[DemoSite], path: str | os.PathLike[str]) -> None:
    """Write a crawler sources file (YAML) for ``sites``.

    rundschau is discovered through its RSS feed, harbour through its sitemap index and
    courrier from its home page; courrier declares no language (the crawler detects it).
    """
    lines = ["sources:"]
    for site in sites:
        key, url_field, with_language = _DISCOVERY[site.name]
        url = asdict(site)[url_field]
        lines.append(f"  - name: {site.name}")
        lines.append(f"    {key}: [{url}]")
        if with_language:
            lines.append(f"    language: {site.language}")
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    logger.debug("wrote sources file %s", path)


def _summary(site: DemoSite) -> dict[str, str | None]:
    return {
        "name": site.name,
        "title": site.title,
        "language": site.language,
        "base_url": site.base_url,
        "home_url": site.home_url,
        "feed_url": site.feed_url,
        "sitemap_url": site.sitemap_url,
        "atom_url": site.atom_url,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m crawler.demo.server",
        description="Serve the demo news sites on loopback until SIGTERM/SIGINT.",
    )
    parser.add_argument("--port", type=int, default=0, help="port for every site (0: free ports)")
    parser.add_argument("--sources", metavar="PATH", help="also write a crawler sources file")
    args = parser.parse_args(argv)

    stopping = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        with DemoServer(port=args.port) as server:
            if args.sources:
                write_sources_file(server.sites, args.sources)
            print(json.dumps({"sites": [_summary(s) for s in server.sites]}), flush=True)
            while not stopping.wait(0.5):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
