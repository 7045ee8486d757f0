"""The URL guard: schemes other than http(s) and non-public addresses are never requested.

Unit tests build the middleware from a real Scrapy crawler and call it directly (literal
addresses and ``localhost`` only: nothing is resolved over the network); the crawl tests run
``scrapy crawl`` against loopback sites, one of which redirects to another.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.resolver import dnscache
from scrapy.utils.test import get_crawler
from twisted.internet.error import DNSLookupError

from crawler.middlewares.url_guard import UrlGuardMiddleware, is_public, parse_networks
from tests.conftest import log_of, run_crawl


def _guard(allowed: str = "", **settings: Any) -> UrlGuardMiddleware:
    crawler = get_crawler(settings_dict={"NEWS_ALLOWED_PRIVATE_NETWORKS": allowed, **settings})
    return UrlGuardMiddleware.from_crawler(crawler)


def _check(guard: UrlGuardMiddleware, url: str) -> None:
    asyncio.run(guard.process_request(Request(url)))


def _stat(guard: UrlGuardMiddleware, event: str) -> int:
    return int(guard.stats.get_value(f"news/url_guard/{event}", 0))


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "ftp://127.0.0.1/pub/file", "data:text/html,<p>hi</p>",
    "javascript://%0Aalert(1)", "s3://bucket/key", "gopher://127.0.0.1:70/", "about:blank",
])
def test_only_http_and_https_pass(url: str) -> None:
    guard = _guard("0.0.0.0/0,::/0")  # even with every address allowed
    with pytest.raises(IgnoreRequest, match="is not http"):
        _check(guard, url)
    assert _stat(guard, "bad_scheme") == 1


def test_public_addresses_pass() -> None:
    guard = _guard()
    for url in ("http://93.184.215.14/news", "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/",
                "HTTP://8.8.8.8:8080/x"):
        _check(guard, url)  # literal addresses: checked, never contacted
    assert _stat(guard, "private_address") == _stat(guard, "bad_scheme") == 0


@pytest.mark.parametrize("host", [
    "127.0.0.1", "127.9.9.9", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
    "100.64.0.1", "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255", "198.18.0.1",
    "[::1]", "[::]", "[fe80::1]", "[fc00::1]", "[ff02::1]", "[::ffff:10.0.0.1]",
    "[::ffff:127.0.0.1]", "[2001:db8::1]",
    "2130706433",  # 127.0.0.1 as a decimal number
    "0x7f.1",      # 127.0.0.1 in inet_aton's shorthand
    "localhost",
])
def test_non_public_addresses_are_refused_by_default(host: str) -> None:
    guard = _guard()
    with pytest.raises(IgnoreRequest, match="not a public address"):
        _check(guard, f"http://{host}:8080/latest/meta-data/")
    assert _stat(guard, "private_address") == 1


def test_allowed_networks_let_their_addresses_through_and_nothing_else() -> None:
    guard = _guard("127.0.0.0/8, fd00::/8")
    for url in ("http://127.0.0.2:8601/", "http://localhost/", "http://[fd12::5]/",
                "http://[::ffff:127.0.0.9]/", "http://2130706433/"):
        _check(guard, url)
    for url in ("http://[::1]/", "http://0.0.0.0:27017/", "http://169.254.169.254/"):
        with pytest.raises(IgnoreRequest):
            _check(guard, url)
    assert _stat(guard, "private_address") == 3


def test_every_address_of_a_host_is_checked() -> None:
    """A name with one public and one loopback address is refused; the addresses come from
    Scrapy's DNS cache here (the ones the downloader connects to: no lookup is made), as the
    IPv4/IPv6 resolver stores them."""
    from twisted.internet.address import IPv4Address, IPv6Address

    dnscache["two.example"] = [IPv4Address("TCP", "93.184.215.14", 0),
                               IPv6Address("TCP", "::1", 0)]
    dnscache["one.example"] = "10.1.2.3"  # as the default resolver stores it
    try:
        with pytest.raises(IgnoreRequest, match=r"resolves to\) ::1,"):
            _check(_guard("127.0.0.0/8"), "http://two.example/")
        _check(_guard("127.0.0.0/8,::1/128"), "http://two.example/")
        with pytest.raises(IgnoreRequest, match=r"resolves to\) 10\.1\.2\.3"):
            _check(_guard("127.0.0.0/8"), "http://one.example/")
    finally:
        dnscache.pop("two.example", None)
        dnscache.pop("one.example", None)


def test_the_checked_address_is_pinned_for_the_download() -> None:
    guard = _guard("127.0.0.0/8")
    assert guard.pin_dns  # the default resolver answers from scrapy.resolver.dnscache
    dnscache.pop("localhost", None)
    try:
        _check(guard, "http://localhost/")
        assert dnscache["localhost"] == "127.0.0.1"
    finally:
        dnscache.pop("localhost", None)
    assert not _guard("127.0.0.0/8", DNSCACHE_ENABLED=False).pin_dns
    assert not _guard("127.0.0.0/8",
                      TWISTED_DNS_RESOLVER="scrapy.resolver.CachingHostnameResolver").pin_dns


def test_a_name_that_does_not_resolve_is_a_dns_error() -> None:
    guard = _guard()
    with pytest.raises(DNSLookupError):
        _check(guard, "http://xn--a.localhost./")  # an invalid IDNA label: fails locally
    assert _stat(guard, "dns_error") == 1


def test_refusals_are_logged_once_per_scheme_or_host(caplog: pytest.LogCaptureFixture) -> None:
    guard = _guard()
    with caplog.at_level(logging.DEBUG, logger="crawler.middlewares.url_guard"):
        for url in ("file:///etc/passwd", "file:///etc/shadow", "http://[fe80::1]/a",
                    "http://[fe80::1]/b"):
            with pytest.raises(IgnoreRequest):
                _check(guard, url)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage().split(":")[0] for r in warnings] == [
        "Refused file", "Refused http"]
    assert _stat(guard, "bad_scheme") == 2 == _stat(guard, "private_address")


def test_a_bad_network_setting_is_named() -> None:
    with pytest.raises(ValueError, match=r"'10\.0\.0\.300/8' is not a network"):
        _guard("127.0.0.0/8,10.0.0.300/8")
    assert [str(n) for n in parse_networks(["127.0.0.1", " ::1/128 ", ""])] == [
        "127.0.0.1/32", "::1/128"]


def test_is_public() -> None:
    import ipaddress

    assert is_public(ipaddress.ip_address("1.1.1.1"))
    assert is_public(ipaddress.ip_address("2a00:1450:4001:80b::200e"))
    assert not is_public(ipaddress.ip_address("::ffff:192.168.0.1"))


# -- real crawls ---------------------------------------------------------------------------

class _Site(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, redirect_to: str | None = None) -> None:
        super().__init__((host, 0), _Handler)
        self.redirect_to = redirect_to
        self.paths: list[str] = []

    @property
    def base(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def server_bind(self) -> None:  # no getfqdn() DNS lookup of the address
        import socketserver

        socketserver.TCPServer.server_bind(self)


class _Handler(BaseHTTPRequestHandler):
    server: _Site

    def do_GET(self) -> None:
        self.server.paths.append(self.path)
        if self.path == "/start" and self.server.redirect_to:
            self.send_response(302)
            self.send_header("Location", self.server.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"<html><head><title>Page</title></head><body><p>short page</p></body></html>"
        self.send_response(404 if self.path == "/robots.txt" else 200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def sites() -> Iterator[tuple[_Site, _Site]]:
    """Site A on 127.0.0.2 whose /start redirects to site B on 127.0.0.3."""
    target = _Site("127.0.0.3")
    start = _Site("127.0.0.2", redirect_to=f"{target.base}/article")
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (start, target)]
    for thread in threads:
        thread.start()
    yield start, target
    for site in (start, target):
        site.shutdown()
        site.server_close()


@pytest.mark.parametrize(("allowed", "start_fetched", "target_fetched"), [
    ("", False, False),                            # the default: no private address at all
    ("127.0.0.2/32", True, False),                 # the redirect target is refused
    ("127.0.0.2/32,127.0.0.3/32", True, True),     # control: the redirect is followed
])
def test_a_redirect_to_a_refused_address_is_not_followed(
        sites: tuple[_Site, _Site], mongo_uri: str, tmp_path: Path, allowed: str,
        start_fetched: bool, target_fetched: bool) -> None:
    start, target = sites
    proc = run_crawl("-a", f"url={start.base}/start", mongo_uri=mongo_uri,
                     database=f"guard_{len(allowed)}", data_dir=tmp_path,
                     settings={"NEWS_ALLOWED_PRIVATE_NETWORKS": allowed})
    assert proc.returncode == 0, log_of(proc)
    stats = proc.stats
    assert stats["finish_reason"] == "finished"
    assert ("/start" in start.paths) is start_fetched
    assert bool(target.paths) is target_fetched, target.paths
    refused = 0 if target_fetched else 1
    assert stats.get("news/url_guard/private_address", 0) == refused, log_of(proc)
    assert stats.get("news/fetch/ignored", 0) == refused
    if not target_fetched and start_fetched:
        assert f"Refused {target.base}/article: 127.0.0.3 is" in proc.stderr
