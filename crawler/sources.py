"""The sources file: which news sites to crawl and how to find their articles."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from crawler.dates import SourceZone

_KNOWN_KEYS = {"name", "feeds", "sitemaps", "start_urls", "language", "boilerplate", "timezone",
               "render"}
RENDER_BROWSER = "browser"  # ``render: browser``: every page of the source through the browser
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class SourcesError(ValueError):
    """The sources file is missing or malformed; the message names the file, entry and problem."""


@dataclass(frozen=True)
class Source:
    name: str
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    start_urls: tuple[str, ...] = ()
    language: str | None = None
    boilerplate: tuple[re.Pattern[str], ...] = field(default=())
    timezone: str | None = None  # IANA name: the zone of the site's dates that state none
    render: str | None = None  # "browser": its pages are fetched through the browser

    @property
    def renders(self) -> bool:
        return self.render == RENDER_BROWSER

    @property
    def urls(self) -> tuple[str, ...]:
        return self.feeds + self.sitemaps + self.start_urls

    @property
    def zone(self) -> SourceZone | None:
        return SourceZone(self.timezone) if self.timezone else None


def load_sources(path: str | Path) -> list[Source]:
    """Read and validate a sources file."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourcesError(f"{path}: file not found (setting NEWS_SOURCES)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourcesError(f"{path}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        raise SourcesError(f"{path}: not valid YAML: {exc}") from None
    return parse_sources(raw, str(path))


def select_sources(path: str | Path, name: str | None = None,
                   url: str | None = None) -> list[Source]:
    """The sources one crawl covers: with ``url`` (``-a url``), that one URL as a source of its
    own, named ``name`` or ``adhoc``; otherwise the sources of the file at ``path``, or only
    the one called ``name``. SourcesError names the file and the problem (no such source, a
    bad URL, a bad file). Used by the ``news`` spider and by ``newscrawl seed``."""
    if url is not None:  # even empty: url_list says so, not a crawl of every source
        return [Source(name=name or "adhoc", start_urls=url_list([url], "-a url"))]
    sources = load_sources(path)
    if not name:
        return sources
    chosen = [s for s in sources if s.name == name]
    if not chosen:
        raise SourcesError(f"{path}: no source named {name!r} (have: "
                           f"{', '.join(s.name for s in sources)})")
    return chosen


def parse_sources(raw: Any, where: str = "<sources>") -> list[Source]:
    if not isinstance(raw, dict) or not isinstance(raw.get("sources"), list):
        raise SourcesError(f"{where}: expected a mapping with a list under 'sources'")
    sources: list[Source] = []
    names: set[str] = set()
    for index, entry in enumerate(raw["sources"]):
        label = f"{where}: sources[{index}]"
        if not isinstance(entry, dict):
            raise SourcesError(f"{label}: expected a mapping, got {type(entry).__name__}")
        name = entry.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise SourcesError(f"{label}: 'name' is required (letters, digits, '_', '-', '.')")
        label = f"{where}: source '{name}'"
        if name in names:
            raise SourcesError(f"{label}: duplicate name")
        names.add(name)
        unknown = set(entry) - _KNOWN_KEYS
        if unknown:
            raise SourcesError(f"{label}: unknown key(s) {sorted(unknown)}; "
                               f"allowed: {sorted(_KNOWN_KEYS)}")
        urls = {key: url_list(entry.get(key), f"{label}: '{key}'")
                for key in ("feeds", "sitemaps", "start_urls")}
        if not any(urls.values()):
            raise SourcesError(f"{label}: needs at least one of feeds, sitemaps, start_urls")
        language = entry.get("language")
        if language is not None and (not isinstance(language, str)
                                     or not re.fullmatch(r"[A-Za-z]{2}", language)):
            raise SourcesError(f"{label}: 'language' must be a two-letter ISO 639-1 code")
        patterns = []
        for pattern in _str_list(entry.get("boilerplate"), f"{label}: 'boilerplate'"):
            try:
                patterns.append(re.compile(pattern))
            except re.error as exc:
                raise SourcesError(f"{label}: bad boilerplate pattern {pattern!r}: {exc}") from None
        sources.append(Source(
            name=name, feeds=urls["feeds"], sitemaps=urls["sitemaps"],
            start_urls=urls["start_urls"], language=language.lower() if language else None,
            boilerplate=tuple(patterns), timezone=_timezone(entry.get("timezone"), label),
            render=_render(entry.get("render"), label),
        ))
    return sources


def _render(value: Any, label: str) -> str | None:
    if value is None:
        return None
    if value != RENDER_BROWSER:
        raise SourcesError(f"{label}: 'render' can only be {RENDER_BROWSER!r} (its pages "
                           f"fetched through the browser), not {value!r}")
    return RENDER_BROWSER


def _timezone(value: Any, label: str) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise SourcesError(f"{label}: 'timezone' must be an IANA time zone name such as "
                           f"Europe/Berlin, not {value!r}") from None
    return str(value)


def _str_list(value: Any, label: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SourcesError(f"{label} must be a list of strings")
    return tuple(value)


def url_list(value: Any, label: str) -> tuple[str, ...]:
    """``value`` as http(s) URLs; SourcesError names ``label`` and the bad one."""
    urls = _str_list(value, label)
    for url in urls:
        if not url.strip():
            raise SourcesError(f"{label}: empty URL given; give the http(s) URL of a feed, "
                               f"sitemap or page")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SourcesError(f"{label}: {url!r} is not an http(s) URL")
    return urls
