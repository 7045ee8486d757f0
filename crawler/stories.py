"""Wire copies: the same story published by several sources is linked by a shared ``story_id``.

Each article's text has a 64-bit SimHash ``fingerprint`` (crawler.extraction.fingerprint). Two
articles whose fingerprints differ in at most ``NEAR_DUPLICATE_DISTANCE`` bits tell one story.
To find such neighbours with an index, the fingerprint is cut into ``BANDS`` bands: two
fingerprints within that distance agree on at least one whole band (pigeonhole), so a lookup of
the bands (``fingerprint_bands``, a multikey index) returns every candidate, and the exact
distance decides. The first article of a story (stored first; ties by URL) names the story,
later copies name it in ``duplicate_of``. Plain functions, no Scrapy.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from crawler.extraction.fingerprint import NEAR_DUPLICATE_DISTANCE, distance

BANDS = NEAR_DUPLICATE_DISTANCE + 1
MIN_WORDS = 30  # shorter texts give fingerprints too noisy to link


def bands(fingerprint: str) -> list[str]:
    """The fingerprint cut into BANDS keys like ``"3:1a"``."""
    value = int(fingerprint, 16)
    width, extra = divmod(64, BANDS)
    keys, shift = [], 0
    for band in range(BANDS):
        size = width + (1 if band < extra else 0)
        keys.append(f"{band}:{(value >> shift) & ((1 << size) - 1):x}")
        shift += size
    return keys


class Candidates:
    """Articles a new one may be a copy of, looked up by the bands of their fingerprints: the
    ones sharing a band with a fingerprint are all those within ``NEAR_DUPLICATE_DISTANCE``
    (and more, which :func:`link_story` measures), without measuring every article of a
    batch against every other."""

    def __init__(self, docs: Iterable[dict[str, Any]] = ()) -> None:
        self._by_band: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        for doc in docs:
            self.add(doc)

    def add(self, doc: dict[str, Any]) -> None:
        fingerprint = doc.get("fingerprint")
        if fingerprint:
            for key in bands(fingerprint):
                self._by_band[key].append(doc)

    def near(self, fingerprint: str | None) -> list[dict[str, Any]]:
        """The articles added whose fingerprint shares a band with ``fingerprint``, each once."""
        if not fingerprint:
            return []
        found: dict[int, dict[str, Any]] = {}
        for key in bands(fingerprint):
            for doc in self._by_band.get(key, ()):
                found.setdefault(id(doc), doc)
        return list(found.values())


def story_id_for(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def first_key(article: dict[str, Any]) -> tuple[bool, Any, str]:
    """Order of articles within a story: stored first (``first_seen``), then by URL."""
    return (article.get("first_seen") is None, article.get("first_seen"), article["url"])


def link_story(doc: dict[str, Any], candidates: Iterable[dict[str, Any]]) -> None:
    """Set ``story_id`` and ``duplicate_of`` of a new article from already stored ones."""
    fingerprint = doc.get("fingerprint")
    doc["story_id"], doc["duplicate_of"] = story_id_for(doc["url"]), None
    if not fingerprint or doc.get("word_count", 0) < MIN_WORDS:
        return
    near = [c for c in candidates
            if c.get("fingerprint") and c["url"] != doc["url"]
            and distance(c["fingerprint"], fingerprint) <= NEAR_DUPLICATE_DISTANCE]
    if near:
        first = min(near, key=first_key)
        doc["story_id"] = first.get("story_id") or story_id_for(first["url"])
        doc["duplicate_of"] = first.get("duplicate_of") or first["url"]
