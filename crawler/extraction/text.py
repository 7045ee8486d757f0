"""Small text helpers shared by the metadata modules: clean one-line values, comparison keys."""

from __future__ import annotations

import html as html_lib
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

_WS_RE = re.compile(r"\s+")
_TAG_RE = re.compile(r"<[^>]{0,200}>")


def norm_ws(value: str) -> str:
    return _WS_RE.sub(" ", value).strip()


def text_value(value: Any) -> str | None:
    """A clean one-line string from a JSON-LD/meta value, or None."""
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or value.get("text")
    if isinstance(value, list):
        for item in value:
            text = text_value(item)
            if text:
                return text
        return None
    if not isinstance(value, str):
        return None
    if "&" in value:
        value = html_lib.unescape(value)
    if "<" in value:
        value = _TAG_RE.sub(" ", value)
    value = _INVISIBLE_RE.sub("", value.replace("\u00a0", " "))
    value = norm_ws(value)
    return value or None


_INVISIBLE_RE = re.compile("[\u00ad\u200b-\u200f\u2060-\u2064\ufeff]")
_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe"})


def squash(value: str) -> str:
    """Lower-case alphanumerics only, umlauts transliterated and accents dropped: the key
    used to compare names and titles ("Börsen-Zeitung" == "boersen-zeitung.de" minus TLD)."""
    folded = unicodedata.normalize("NFKD", value.casefold().translate(_TRANSLIT))
    return "".join(ch for ch in folded if ch.isalnum())


def dedupe(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        key = value.casefold()
        if key not in seen:
            seen.add(key)
            out.append(value)
    return out



# Han ideographs, kana: scripts written without spaces between words.
_UNSPACED_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CJK_PUNCTUATION_RE = re.compile(r"[\u3000-\u303f\uff01-\uff0f\uff1a-\uff20]")


def word_count(text: str) -> int:
    """Words of a text, also in Chinese and Japanese, which put no spaces between words:
    there, two characters count as one word (the average word length in both)."""
    unspaced = len(_UNSPACED_RE.findall(text))
    if not unspaced:
        return len(text.split())
    spaced = _CJK_PUNCTUATION_RE.sub(" ", _UNSPACED_RE.sub(" ", text))
    return len(spaced.split()) + (unspaced + 1) // 2
