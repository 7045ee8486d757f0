"""JSON-LD: lenient parsing, @graph/@id resolution and choosing the page's own article node."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)


_JSON_COMMENT_BLOCK_RE = re.compile(r"/\*.*?\*/", re.DOTALL)
_JSON_LINE_COMMENT_RE = re.compile(r"^\s*//[^\n]*$", re.MULTILINE)
_JSON_TRAILING_COMMA_RE = re.compile(r",\s*([}\]])")
_JSON_BAD_ESCAPE_RE = re.compile(r'\\(?!["\\/bfnrtu])')
_JSON_WRAPPERS_RE = re.compile(r"<!--|-->|<!\[CDATA\[|\]\]>|^\s*//\s*")


def load_json(script: str) -> Any:
    """json.loads with fallbacks for what publishers actually ship; None when hopeless."""
    text = script.strip()
    if not text:
        return None
    try:
        return json.loads(text, strict=False)
    except ValueError:
        pass
    text = _JSON_WRAPPERS_RE.sub("", text)
    text = _JSON_COMMENT_BLOCK_RE.sub("", text)
    text = _JSON_LINE_COMMENT_RE.sub("", text)
    text = _JSON_TRAILING_COMMA_RE.sub(r"\1", text).strip().rstrip(";").strip()
    for candidate in (text, _JSON_BAD_ESCAPE_RE.sub(r"\\\\", text)):
        try:
            return json.loads(candidate, strict=False)
        except ValueError:
            pass
        # Several objects back to back, or garbage after the first one.
        decoder = json.JSONDecoder(strict=False)
        items: list[Any] = []
        pos = 0
        while pos < len(candidate):
            while pos < len(candidate) and candidate[pos] in " \t\r\n,;":
                pos += 1
            if pos >= len(candidate):
                break
            try:
                obj, pos = decoder.raw_decode(candidate, pos)
            except ValueError:
                break
            items.append(obj)
        if items:
            return items if len(items) > 1 else items[0]
    logger.debug("unparseable JSON-LD block (%d chars)", len(script))
    return None


def types_of(node: dict[str, Any]) -> list[str]:
    raw = node.get("@type") or node.get("type")
    values = raw if isinstance(raw, list) else [raw]
    out: list[str] = []
    for value in values:
        if isinstance(value, str) and value.strip():
            name = re.split(r"[/#:]", value.strip())[-1]
            if name:
                out.append(name)
    return out


_ARTICLE_TYPES = {
    "BlogPosting",
    "LiveBlogPosting",
    "ReportageNews",
    "Report",
    "SocialMediaPosting",
    "DiscussionForumPosting",
}
_PAGE_TYPES = {"WebPage", "ItemPage", "AboutPage", "QAPage", "FAQPage"}


def is_article_node(node: dict[str, Any]) -> bool:
    return any(t.endswith("Article") or t in _ARTICLE_TYPES for t in types_of(node))


def is_page_node(node: dict[str, Any]) -> bool:
    return any(t in _PAGE_TYPES for t in types_of(node))


@dataclass
class JsonLd:
    nodes: list[dict[str, Any]] = field(default_factory=list)  # top level / @graph / mainEntity
    by_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    main_entities: list[int] = field(default_factory=list)  # ids of nodes seen as mainEntity

    def resolve(self, value: Any) -> Any:
        """Replace a bare {"@id": ...} reference by the node it names."""
        if isinstance(value, dict) and len(value) <= 2 and "@id" in value:
            target = self.by_id.get(str(value["@id"]))
            if target is not None:
                return target
        return value


def collect_jsonld(root: Any) -> JsonLd:
    result = JsonLd()
    for script in root.xpath(
        "//script[translate(@type, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
        " = 'application/ld+json']"
    ):
        data = load_json(script.text or "")
        if data is not None:
            _index_ids(data, result, 0)
            _walk_jsonld(data, result, depth=0, main=False)
    return result


def _index_ids(data: Any, result: JsonLd, depth: int) -> None:
    if depth > 12:
        return
    if isinstance(data, list):
        for item in data:
            _index_ids(item, result, depth + 1)
    elif isinstance(data, dict):
        node_id = data.get("@id")
        # A full node wins over a bare {"@id": ...} reference to it.
        if isinstance(node_id, str) and (len(data) > 2 or node_id not in result.by_id):
            result.by_id[node_id] = data
        for value in data.values():
            if isinstance(value, dict | list):
                _index_ids(value, result, depth + 1)


def _walk_jsonld(data: Any, result: JsonLd, depth: int, main: bool) -> None:
    if depth > 8:
        return
    if isinstance(data, list):
        for item in data:
            _walk_jsonld(item, result, depth + 1, main)
        return
    if not isinstance(data, dict):
        return
    graph = data.get("@graph")
    if graph is not None:
        _walk_jsonld(graph, result, depth + 1, main)
    if types_of(data):
        result.nodes.append(data)
        if main:
            result.main_entities.append(id(data))
    for key in ("mainEntity", "mainEntityOfPage"):
        entity = data.get(key)
        if isinstance(entity, dict | list):
            targets = entity if isinstance(entity, list) else [entity]
            for target in targets:
                if isinstance(target, dict) and (is_article_node(target) or key == "mainEntity"):
                    _walk_jsonld(target, result, depth + 1, key == "mainEntity")


def _url_key(value: str | None) -> str:
    if not value:
        return ""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return ""
    host = (parts.hostname or "").lower().removeprefix("www.")
    return host + parts.path.rstrip("/")


def _node_urls(node: dict[str, Any]) -> list[str]:
    urls: list[str] = []
    for key in ("url", "@id", "mainEntityOfPage"):
        value = node.get(key)
        if isinstance(value, dict):
            value = value.get("@id") or value.get("url")
        if isinstance(value, str):
            urls.append(value)
    return urls


def pick_article(jsonld: JsonLd, url: str) -> dict[str, Any] | None:
    page_key = _url_key(url)
    best: dict[str, Any] | None = None
    best_score = -100
    for node in jsonld.nodes:
        if not is_article_node(node):
            continue
        score = 0
        keys = [_url_key(u) for u in _node_urls(node) if u.startswith(("http", "//"))]
        if page_key and keys:
            if any(key == page_key or key.split("#")[0] == page_key for key in keys):
                score += 4
            elif not any(key.startswith(page_key) or page_key.startswith(key) for key in keys):
                score -= 3
        if node.get("headline"):
            score += 2
        if node.get("datePublished"):
            score += 1
        if id(node) in jsonld.main_entities:
            score += 1
        if score > best_score:
            best, best_score = node, score
    return best


def jsonld_values(nodes: Iterable[dict[str, Any] | None], key: str) -> Iterator[Any]:
    for node in nodes:
        if node is not None and node.get(key) not in (None, "", [], {}):
            yield node[key]

