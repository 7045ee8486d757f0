"""The page's declared language as an ISO 639-1 code."""

from __future__ import annotations

import re
from typing import Any

from crawler.extraction.dom import MetaIndex
from crawler.extraction.jsonld import jsonld_values

# ISO 639-1 (plus the deprecated "iw"/"in"/"ji" that old sites still declare).
_ISO639_1_TEXT = """
    aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu
    cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi
    ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks
    ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl
    nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl
    sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve
    vi vo wa wo xh yi yo za zh zu
"""
_ISO639_1 = frozenset(_ISO639_1_TEXT.split())
_OLD_CODES = {"iw": "he", "in": "id", "ji": "yi"}
_LANG_RE = re.compile(r"^\s*([A-Za-z]{2})(?:[-_][A-Za-z0-9]{1,8})*\s*$")


def normalize_language(value: str | None) -> str | None:
    """ISO 639-1 code from a declared language: "de-DE" -> "de", "en_US" -> "en"."""
    if not value or not isinstance(value, str):
        return None
    first = value.split(",")[0]
    match = _LANG_RE.match(first)
    if not match:
        return None
    code = match.group(1).lower()
    code = _OLD_CODES.get(code, code)
    return code if code in _ISO639_1 else None


def choose_language(
    root: Any, metas: MetaIndex, primary: list[dict[str, Any] | None]
) -> str | None:
    candidates: list[Any] = [
        root.get("lang"),
        root.get("{http://www.w3.org/XML/1998/namespace}lang"),
    ]
    for value in jsonld_values(primary, "inLanguage"):
        if isinstance(value, dict):
            value = value.get("alternateName") or value.get("name")
        candidates.append(value)
    candidates += metas.find("og:locale")
    candidates += metas.find("content-language")
    candidates += metas.find("language") + metas.find("dc.language")
    candidates += metas.find("dcterms.language")
    for candidate in candidates:
        code = normalize_language(candidate) if isinstance(candidate, str) else None
        if code:
            return code
    return None

