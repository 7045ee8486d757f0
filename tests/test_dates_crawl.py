"""Feed and sitemap dates with zone names, through a real crawl into MongoDB.

A site on loopback lists undated articles in an RSS feed and a news sitemap whose dates name
their zone (EST, CEST, PDT, AEST, ...), state none, or name an ambiguous one (IST). The stored
``published`` must be the right UTC instant, the age cut-off must judge the right instant, and
times without zone are resolved with the source's ``timezone`` or stored flagged and counted.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pymongo
import pytest

from tests.conftest import log_of, run_crawl
from tests.hostile_site import Reply, _Handler, _Server

TOWNS = ["Lunenburg", "Yarmouth", "Digby", "Pictou", "Antigonish", "Shelburne", "Windsor",
         "Amherst", "Kentville", "Wolfville", "Baddeck", "Canso", "Parrsboro", "Liverpool"]
PARAGRAPHS = [
    "The {town} council voted seven to two on Tuesday evening to approve the long-delayed "
    "harbour bridge, ending a debate that has divided the waterfront neighbourhoods of {town} "
    "for more than a decade.",
    "Supporters in {town} said the crossing would cut the commute from the east shore by twenty "
    "minutes and take heavy trucks off the narrow streets of the old town, where residents "
    "have complained about noise and cracked foundations.",
    "Opponents argued that the cost estimate for the {town} crossing had doubled since the first "
    "study and that the ferry service, which carries about four thousand passengers a day, "
    "would lose most of its riders.",
    "The mayor of {town} said construction could begin next spring if the provincial "
    "government confirms its share of the funding. A final design will be presented at a "
    "public meeting in the community centre.",
    "Business owners along the {town} quay were divided. A café owner said the bridge would "
    "bring customers from the other side of the harbour, while a ferry captain said his crew "
    "feared for their jobs.",
]
MAX_AGE_DAYS = 2


def _page(base: str, path: str, town: str, date: str | None = None) -> bytes:
    """An article that states no date anywhere (no meta, no <time>, no date in the URL), or
    only ``date`` as its JSON-LD datePublished."""
    title = f"{town} council approves new harbour bridge"
    body = "".join(f"<p>{p.format(town=town)}</p>\n" for p in PARAGRAPHS)
    jsonld = ('<script type="application/ld+json">{"@context": "https://schema.org", '
              f'"@type": "NewsArticle", "headline": "{title}", "datePublished": "{date}"}}'
              "</script>") if date else ""
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">{jsonld}'
            f"<title>{title} | The Harbour Daily</title>"
            f'<link rel="canonical" href="{base}{path}">'
            f'<meta property="og:type" content="article"></head><body>'
            f'<header><a href="/">The Harbour Daily</a></header><main><article>'
            f'<h1>{title}</h1><p class="byline">By Priya Raman</p>{body}</article></main>'
            f"<footer>About us</footer></body></html>").encode()


@dataclass
class Listed:
    path: str
    date: str  # as the feed or sitemap writes it
    instant: datetime | None  # the stored published, UTC; None: not fetched (too old)
    zone: str | None = None  # the stored published_zone
    page_date: str | None = None  # the page's own datePublished


def _rfc822(instant: datetime, offset_hours: float, name: str) -> str:
    """``instant`` as the wall clock of a zone, with that zone's name (RFC 822)."""
    wall = instant.astimezone(timezone(timedelta(hours=offset_hours)))
    return wall.strftime("%a, %d %b %Y %H:%M:%S ") + name


class ZoneSite:
    """Two sources on one loopback server: ``wire`` (no timezone configured) and ``metro``
    (``timezone: America/Chicago``), each with a feed and a news sitemap."""

    def __init__(self, now: datetime) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.site = self  # type: ignore[assignment]
        address, port = self._server.server_address[:2]
        self.base = f"http://{address!s}:{port}"
        self.routes: dict[str, Reply] = {}
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        recent = (now - timedelta(hours=6)).replace(second=0, microsecond=0)
        cut = (now - timedelta(days=MAX_AGE_DAYS)).replace(microsecond=0)
        chicago = ZoneInfo("America/Chicago")
        naive_wall = recent.replace(tzinfo=None)
        self.listed: dict[str, list[Listed]] = {
            "wire-feed": [
                Listed("/wire/a.html", _rfc822(recent, -5, "EST"), recent, "stated"),
                Listed("/wire/b.html", _rfc822(recent - timedelta(hours=1), 2, "CEST"),
                       recent - timedelta(hours=1), "stated"),
                Listed("/wire/c.html", _rfc822(recent - timedelta(hours=2), 10, "AEST"),
                       recent - timedelta(hours=2), "stated"),
                # Ambiguous name: the wall clock is kept, flagged, counted.
                Listed("/wire/d.html", naive_wall.strftime("%a, %d %b %Y %H:%M:%S IST"),
                       recent.replace(tzinfo=UTC), "none"),
                # Across the cut-off: taken as UTC, the first would be too old and the second
                # recent enough; their zones say the opposite.
                Listed("/wire/e.html", _rfc822(cut + timedelta(hours=4), -7, "PDT"),
                       cut + timedelta(hours=4), "stated"),
                Listed("/wire/f.html", _rfc822(cut - timedelta(hours=4), 9, "JST"), None),
                # The page states the time without zone, the feed the same time with one.
                Listed("/wire/j.html", _rfc822(recent - timedelta(hours=7), -4, "EDT"),
                       recent - timedelta(hours=7), "stated",
                       page_date=(recent - timedelta(hours=7)).astimezone(
                           timezone(timedelta(hours=-4))).strftime("%Y-%m-%dT%H:%M:%S")),
            ],
            "wire-sitemap": [
                Listed("/wire/g.html", _rfc822(recent - timedelta(hours=3), -4, "EDT"),
                       recent - timedelta(hours=3), "stated"),
                Listed("/wire/h.html", (recent - timedelta(hours=4)).astimezone(
                    timezone(timedelta(hours=5, minutes=30))).isoformat(),
                       recent - timedelta(hours=4), "stated"),
                Listed("/wire/i.html", _rfc822(recent - timedelta(hours=5), 0, "GMT"),
                       recent - timedelta(hours=5), "stated"),
            ],
            "metro-feed": [
                # No zone: the source's timezone (America/Chicago) places it.
                Listed("/metro/a.html", (recent.astimezone(chicago)).strftime(
                    "%a, %d %b %Y %H:%M:%S"), recent, "source"),
                # No zone, across the cut-off: as UTC it would be too old.
                Listed("/metro/b.html", (cut + timedelta(hours=2)).astimezone(chicago).strftime(
                    "%a, %d %b %Y %H:%M:%S"), cut + timedelta(hours=2), "source"),
            ],
            "metro-sitemap": [
                Listed("/metro/c.html", (recent - timedelta(hours=1)).astimezone(chicago)
                       .strftime("%Y-%m-%dT%H:%M:%S"), recent - timedelta(hours=1), "source"),
                Listed("/metro/d.html", _rfc822(recent - timedelta(hours=2), -6, "CST"),
                       recent - timedelta(hours=2), "stated"),
            ],
        }
        towns = iter(TOWNS)
        for name, entries in self.listed.items():
            for entry in entries:
                self.routes[entry.path] = Reply(body=_page(self.base, entry.path, next(towns),
                                                           entry.page_date))
            source = name.split("-")[0]
            if name.endswith("feed"):
                self.routes[f"/{source}/rss.xml"] = Reply(
                    content_type="application/rss+xml", body=self._feed(entries))
            else:
                self.routes[f"/{source}/news-sitemap.xml"] = Reply(
                    content_type="application/xml", body=self._sitemap(entries))

    def _feed(self, entries: list[Listed]) -> bytes:
        items = "".join(
            f"<item><title>Story {i}</title><link>{self.base}{e.path}</link>"
            f"<guid>{self.base}{e.path}</guid><pubDate>{e.date}</pubDate></item>\n"
            for i, e in enumerate(entries))
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
                f"<title>The Harbour Daily</title><link>{self.base}/</link>"
                f"<description>Latest</description>\n{items}</channel></rss>\n").encode()

    def _sitemap(self, entries: list[Listed]) -> bytes:
        urls = "".join(
            f"<url><loc>{self.base}{e.path}</loc><news:news><news:publication>"
            "<news:name>The Harbour Daily</news:name><news:language>en</news:language>"
            f"</news:publication><news:publication_date>{e.date}</news:publication_date>"
            "</news:news></url>\n" for e in entries)
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/'
                'schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/'
                f'0.9">\n{urls}</urlset>\n').encode()

    def sources_yaml(self) -> str:
        return ("sources:\n"
                f"  - name: wire\n    feeds: [{self.base}/wire/rss.xml]\n"
                f"    sitemaps: [{self.base}/wire/news-sitemap.xml]\n"
                f"  - name: metro\n    feeds: [{self.base}/metro/rss.xml]\n"
                f"    sitemaps: [{self.base}/metro/news-sitemap.xml]\n"
                "    timezone: America/Chicago\n")

    # what tests/hostile_site.py's request handler asks of its site
    def record(self, path: str) -> None:
        pass

    def reply(self, raw_path: str) -> Reply:
        return self.routes.get(urlsplit(raw_path).path, Reply(404, "text/plain", b"not found"))

    def __enter__(self) -> ZoneSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory,
          mongo_uri: str) -> Iterator[tuple[ZoneSite, Any, dict[str, dict[str, Any]]]]:
    tmp = tmp_path_factory.mktemp("zones")
    with ZoneSite(datetime.now(UTC)) as site:
        sources = tmp / "sources.yaml"
        sources.write_text(site.sources_yaml(), encoding="utf-8")
        proc = run_crawl(mongo_uri=mongo_uri, database="zones", data_dir=tmp, settings={
            "NEWS_SOURCES": str(sources), "NEWS_MAX_AGE_DAYS": str(MAX_AGE_DAYS)})
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri, tz_aware=True)
    try:
        stored = {d["url"].removeprefix(site.base): d
                  for d in client["zones"].articles.find({}, {"_id": 0})}
    finally:
        client.drop_database("zones")
        client.close()
    yield site, proc, stored


def test_stored_published_is_the_utc_instant(
        crawl: tuple[ZoneSite, Any, dict[str, dict[str, Any]]]) -> None:
    site, proc, stored = crawl
    assert proc.returncode == 0, log_of(proc)
    expected = {e.path: (e, listing.split("-")[1]) for listing, entries in site.listed.items()
                for e in entries if e.instant is not None}
    assert set(stored) == set(expected), log_of(proc)
    for path, (entry, via) in expected.items():
        doc = stored[path]
        assert doc["published"] == entry.instant, (path, entry.date, doc["published"])
        assert doc["published_zone"] == entry.zone, (path, entry.date)
        assert doc["published_source"] == ("jsonld:datePublished" if entry.page_date else via)


def test_age_cut_off_judges_the_corrected_instant(
        crawl: tuple[ZoneSite, Any, dict[str, dict[str, Any]]]) -> None:
    _site, proc, stored = crawl
    stats = proc.stats
    assert "/wire/e.html" in stored and "/metro/b.html" in stored  # old as UTC, recent in fact
    assert "/wire/f.html" not in stored  # recent as UTC, too old in fact
    assert stats.get("news/source/wire/skipped_too_old") == 1, log_of(proc)
    assert "news/source/metro/skipped_too_old" not in stats


def test_times_without_zone_are_counted(
        crawl: tuple[ZoneSite, Any, dict[str, dict[str, Any]]]) -> None:
    _site, proc, _stored = crawl
    stats = proc.stats
    assert stats.get("news/dates/naive") == 1, log_of(proc)  # the IST one
    assert stats.get("news/dates/naive_listed") == 1
    assert stats.get("news/dates/source_zone") == 3  # metro a, b, c
    assert "Zone name 'IST'" in proc.stderr and "ambiguous" in proc.stderr
    assert "Source wire states times without zone" in proc.stderr  # once, with what to do
    assert proc.stderr.count("states times without zone") == 1
