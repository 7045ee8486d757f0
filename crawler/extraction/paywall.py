"""Whether the page says its article is free to read, and which marker said so.

Markers, all declared by the publisher (nothing is guessed from the text):

- schema.org ``isAccessibleForFree`` on the article or page node (JSON-LD or microdata);
- a JSON-LD ``hasPart`` of the article with ``isAccessibleForFree: false`` (Google's
  paywalled-content markup, usually with a ``cssSelector`` naming the locked part);
- ``<meta property="article:content_tier">``: ``locked`` or ``metered`` (``free`` is free).

A "not free" marker wins over a "free" one: sites that lock a part of the article often
leave a page-level ``true`` in place.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from crawler.extraction.dom import MetaIndex, element_value, itemprop
from crawler.extraction.jsonld import JsonLd

_LOCKED_TIERS = {"locked", "metered", "premium", "subscriber", "subscription", "paid"}
_FREE_TIERS = {"free"}


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in {"true", "yes", "1"}:
            return True
        if lowered in {"false", "no", "0"}:
            return False
    return None


def _jsonld_markers(
    primary: list[dict[str, Any] | None], jsonld: JsonLd
) -> Iterator[tuple[bool, str]]:
    nodes = [node for node in primary if node is not None]
    nodes += [node for node in jsonld.nodes if node not in nodes]
    for node in nodes:
        if "isAccessibleForFree" in node:
            value = as_bool(node["isAccessibleForFree"])
            if value is not None:
                yield value, "jsonld:isAccessibleForFree"
    for node in nodes[:1]:  # the article's own parts
        parts = jsonld.resolve(node.get("hasPart"))
        for part in parts if isinstance(parts, list) else [parts]:
            part = jsonld.resolve(part)
            if isinstance(part, dict) and as_bool(part.get("isAccessibleForFree")) is False:
                yield False, "jsonld:hasPart"


def paywall_status(
    root: Any,
    metas: MetaIndex,
    primary: list[dict[str, Any] | None],
    jsonld: JsonLd,
) -> tuple[bool | None, str | None]:
    """(accessible_for_free, source): False/True when the page declares it, else None."""
    markers = list(_jsonld_markers(primary, jsonld))
    for element in itemprop(root, "isAccessibleForFree"):
        value = as_bool(element_value(element))
        if value is not None:
            markers.append((value, "itemprop:isAccessibleForFree"))
    for tier in metas.find("article:content_tier", "og:article:content_tier"):
        lowered = tier.strip().lower()
        if lowered in _LOCKED_TIERS:
            markers.append((False, "meta:article:content_tier"))
        elif lowered in _FREE_TIERS:
            markers.append((True, "meta:article:content_tier"))
    for value, source in markers:
        if value is False:
            return False, source
    if markers:
        return markers[0]
    return None, None
