"""Refuse requests the crawler must never send: other schemes than http(s), private addresses.

A feed, sitemap or page decides which URLs the crawler requests, so a hostile one could point
it at ``file:///etc/passwd`` or at a service inside our own network (``http://10.0.0.5/``,
``http://169.254.169.254/`` cloud metadata, ``http://0.0.0.0:27017/``). This downloader
middleware sees every request, including each hop of a redirect (a redirected request goes
through the downloader middlewares again), and refuses with :class:`IgnoreRequest`:

- a URL whose scheme is not ``http`` or ``https`` (stat ``news/url_guard/bad_scheme``);
- a URL whose host is, or resolves to, an address that is not public: private, loopback,
  link-local, multicast, reserved, unspecified or otherwise not globally routable, checked
  for EVERY address the name resolves to, IPv4 and IPv6 (stat ``news/url_guard/private_address``),
  unless the address lies in one of the networks of ``NEWS_ALLOWED_PRIVATE_NETWORKS``
  (a list of CIDRs; empty by default: no private address is allowed).

A host name that does not resolve is passed on as a DNS lookup error (stat
``news/url_guard/dns_error``), so the retry middleware treats it like any other.

Names are resolved with ``getaddrinfo`` in the event loop's thread pool, never blocking the
reactor. The address the downloader then connects to is pinned: after the check, an IPv4
address of the host is put into Scrapy's DNS cache (``scrapy.resolver.dnscache``), from which
the default resolver (``CachingThreadedResolver``) answers the download's own lookup. A host
already in that cache is judged by the cached addresses (those the download will use), with
no new lookup.

Remaining DNS-rebinding gap: with another ``TWISTED_DNS_RESOLVER``, with
``DNSCACHE_ENABLED = False``, when the cache (``DNSCACHE_SIZE`` hosts) evicts the pinned entry
before the connection is made, or through an HTTP proxy, the download resolves the name a
second time, and a name server that answers a public address to the check and a private one
to the download gets through. Closing that would take a download handler that connects to the
checked address itself.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request
from scrapy.resolver import dnscache
from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.statscollectors import StatsCollector
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.error import DNSLookupError

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOWED_SCHEMES = frozenset({"http", "https"})
_DEFAULT_RESOLVER = "scrapy.resolver.CachingThreadedResolver"


class UrlRefused(IgnoreRequest):
    """A request the URL guard does not let through."""


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """CIDRs (``127.0.0.0/8``, ``::1/128``, a bare address) as networks; ValueError names a bad
    one."""
    networks = []
    for value in values:
        value = str(value).strip()
        if not value:
            continue
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise ValueError(f"NEWS_ALLOWED_PRIVATE_NETWORKS: {value!r} is not a network "
                             f"(CIDR such as 10.0.0.0/8)") from None
    return tuple(networks)


def _plain(address: IPAddress) -> IPAddress:
    """An IPv4-mapped IPv6 address (``::ffff:127.0.0.1``) as the IPv4 address it carries."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_public(address: IPAddress) -> bool:
    """Whether an address is a public, globally routable unicast address."""
    address = _plain(address)
    return address.is_global and not (
        address.is_private or address.is_loopback or address.is_link_local
        or address.is_multicast or address.is_reserved or address.is_unspecified)


def allowed_address(address: IPAddress, allowed: tuple[IPNetwork, ...]) -> bool:
    """Whether the guard lets an address through: public, or in one of ``allowed``."""
    if is_public(address):
        return True
    plain = _plain(address)
    return any(plain in network for network in allowed if network.version == plain.version)


@dataclass(frozen=True)
class Refusal:
    """Why a URL is refused: ``event`` (the stat, ``bad_scheme``, ``private_address``,
    ``dns_error``), ``key`` (the scheme or host, for logging once) and ``reason``."""

    event: str
    key: str
    reason: str


def scheme_refusal(url: str) -> Refusal | None:
    """A refusal when the URL is not http(s) or has no host."""
    parsed = urlsplit(url)
    scheme = (parsed.scheme or "").lower()
    if scheme not in ALLOWED_SCHEMES:
        return Refusal("bad_scheme", scheme or "(none)",
                       f"scheme {scheme or '(none)'!r} is not http(s)")
    if not parsed.hostname:
        return Refusal("bad_scheme", "(no host)", "URL without a host")
    return None


def address_refusal(host: str, addresses: Iterable[IPAddress],
                    allowed: tuple[IPNetwork, ...]) -> Refusal | None:
    """A refusal when any address of ``host`` is neither public nor allowed."""
    blocked = sorted({str(a) for a in addresses if not allowed_address(a, allowed)})
    if not blocked:
        return None
    return Refusal("private_address", host,
                   f"{host} is (or resolves to) {', '.join(blocked)}, not a public "
                   f"address nor in NEWS_ALLOWED_PRIVATE_NETWORKS")


async def host_addresses(host: str) -> list[IPAddress]:
    """The addresses a host is, or resolves to (Scrapy's DNS cache first: the download is
    answered from it); DNSLookupError when it resolves to none."""
    try:
        return [ipaddress.ip_address(host)]  # a literal address: nothing to resolve
    except ValueError:
        pass
    cached = _cached(host)
    if cached:  # Scrapy's caching resolvers answer the download from here: check these
        return cached
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise DNSLookupError(f"{host}: {exc}") from None
    found = list({a for info in infos if (a := _address(info[4][0])) is not None})
    if not found:
        raise DNSLookupError(f"{host}: no address")
    return found


async def url_refusal(url: str, allowed: tuple[IPNetwork, ...]) -> Refusal | None:
    """The whole check of one URL, as a plain function (the browser's requests go through
    it, crawler/browser.py): None when the URL may be requested."""
    refused = scheme_refusal(url)
    if refused is not None:
        return refused
    host = urlsplit(url).hostname or ""
    try:
        addresses = await host_addresses(host)
    except DNSLookupError as exc:
        return Refusal("dns_error", host, str(exc))
    return address_refusal(host, addresses, allowed)


class UrlGuardMiddleware:
    def __init__(self, stats: StatsCollector, allowed_networks: Iterable[str] = (),
                 pin_dns: bool = False) -> None:
        self.stats = stats
        self.allowed = parse_networks(allowed_networks)
        self.pin_dns = pin_dns
        self._logged: set[tuple[str, str]] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> UrlGuardMiddleware:
        settings = crawler.settings
        resolver = settings["TWISTED_DNS_RESOLVER"]
        resolver_path = resolver if isinstance(resolver, str) else (
            f"{getattr(resolver, '__module__', '')}.{getattr(resolver, '__qualname__', '')}")
        default_resolver = (resolver_path == _DEFAULT_RESOLVER and (
            settings.getpriority("DNS_RESOLVER") or 0) <= SETTINGS_PRIORITIES["default"])
        return cls(
            crawler.stats,
            allowed_networks=settings.getlist("NEWS_ALLOWED_PRIVATE_NETWORKS"),
            pin_dns=default_resolver and settings.getbool("DNSCACHE_ENABLED"),
        )

    async def process_request(self, request: Request) -> None:
        refused = scheme_refusal(request.url)
        if refused is not None:
            self._refuse(refused, request)
        host = urlparse_cached(request).hostname or ""
        try:
            addresses = await host_addresses(host)
        except DNSLookupError:
            self._count("dns_error")
            raise
        refused = address_refusal(host, addresses, self.allowed)
        if refused is not None:
            self._refuse(refused, request)
        self._pin(host, addresses)
        return None

    def _allowed(self, address: IPAddress) -> bool:
        return allowed_address(address, self.allowed)

    def _pin(self, host: str, addresses: list[IPAddress]) -> None:
        """Make the download connect to an address this check saw (see the module doc)."""
        if not self.pin_dns or host in dnscache:
            return
        try:
            ipaddress.ip_address(host)
            return  # a literal address is not looked up
        except ValueError:
            pass
        ipv4 = sorted(str(a) for a in addresses if isinstance(a, ipaddress.IPv4Address))
        if ipv4:
            dnscache[host] = ipv4[0]

    def _refuse(self, refused: Refusal, request: Request) -> NoReturn:
        event, key, reason = refused.event, refused.key, refused.reason
        self._count(event)
        if (event, key) not in self._logged:  # once per scheme or host, not per URL
            self._logged.add((event, key))
            logger.warning("Refused %s: %s (further refusals of %s are logged at debug level)",
                           request.url[:300], reason, key)
        else:
            logger.debug("Refused %s: %s", request.url[:300], reason)
        raise UrlRefused(f"URL guard: {reason}")

    def _count(self, event: str) -> None:
        self.stats.inc_value(f"news/url_guard/{event}")


def _cached(host: str) -> list[IPAddress]:
    """The addresses Scrapy's DNS cache holds for a host: a string (CachingThreadedResolver)
    or a list of Twisted addresses (CachingHostnameResolver)."""
    value = dnscache.get(host)
    values = value if isinstance(value, list) else [value]
    found = (_address(getattr(v, "host", v)) for v in values if v is not None)
    return [a for a in found if a is not None]


def _address(text: Any) -> IPAddress | None:
    try:
        return ipaddress.ip_address(str(text).split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return None
