"""Author names: cleaning raw bylines ("By", roles, agencies, separators) into names."""

from __future__ import annotations

import re
from collections.abc import Iterable

from crawler.extraction.text import norm_ws, squash, text_value

AUTHOR_PREFIX_RE = re.compile(
    r"^(?:(?:written|reported|posted|published|text|story|article|words)\s+)?"
    r"(?:by|von|par|por|door|przez|autor(?:in)?|author|text|texto|auteur|autore|"
    r"redakteur(?:in)?)\b\s*[:.]?\s+",
    re.IGNORECASE,
)
# "di"/"da"/"de" start bylines ("di Mario Rossi") but also surnames ("Di Maio"): lower-case,
# or followed by at least two more words.
_PARTICLE_PREFIX_RE = re.compile(r"^(?:di|da|af|av)\s+|^(?:Di|Da|DI|DA)\s+(?=\S+\s+\S)")
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HANDLE_RE = re.compile(r"(?<!\w)@\w+")
_PAREN_RE = re.compile(r"\s*[(\[][^)\]]*[)\]]")
_AUTHOR_SPLIT_RE = re.compile(
    r"\s+(?:and|And|AND|und|UND|et|ET|y|e|en|og|och|i|ve|oraz)\s+|\s*[&,;|]\s*|\s+[-–—]\s+"
)
_ROLE_TEXT = """
    staff writer writers reporter reporters correspondent correspondents editor editors
    editorial senior chief deputy associate contributing contributor columnist journalist
    journalists photographer photos photo foto fotos video news desk team the political
    politics business sports sport science technology tech health culture international
    national foreign economics economy affairs special freelance freier freie mitarbeiter
    mitarbeiterin redakteur redakteurin korrespondent korrespondentin autor autorin
    redaktion ressort leiter leiterin online digital producer analyst in at of for from by
    and with updated published am um aktualisiert zuletzt correspondant correspondante
    envoyé envoyée spécial spéciale corresponsal redactor redactora redazione inviato
    inviata agencies agency wire wires services service newsroom
    phd md ms msc ma ba bsc rd rn mph mba dphil jd llm cfa cpa
"""
_ROLE_WORDS = frozenset(_ROLE_TEXT.split())
# Job titles that may trail or lead a name ("신현주 기자", "Senior Reporter Jane Doe").
_TITLE_TEXT = """
    writer reporter correspondent editor columnist journalist photographer contributor
    redakteur redakteurin korrespondent korrespondentin autor autorin reporterin
    correspondant correspondante journaliste corresponsal periodista giornalista
    기자 특파원 記者 特派員 记者 编辑 责任编辑
"""
_TITLE_WORDS = frozenset(_TITLE_TEXT.split())


def _is_name(candidate: str) -> bool:
    words = candidate.split()
    if not words or len(words) > 5 or len(candidate) < 2 or len(candidate) > 60:
        return False
    if any(ch.isdigit() for ch in candidate) or "@" in candidate or "://" in candidate:
        return False
    if not any(ch.isalpha() for ch in candidate):
        return False
    if all(word.casefold().strip(".:") in _ROLE_WORDS for word in words):
        return False
    # Three or more words in a cased script, none capitalised: a phrase, not a name.
    cased = candidate.lower() != candidate.upper()
    if len(words) >= 3 and cased and not any(w[:1].isupper() for w in words):
        return False
    return not candidate.casefold().startswith(("http", "www."))


def _strip_author_noise(value: str) -> str:
    value = _PAREN_RE.sub(" ", value)
    value = _URL_RE.sub(" ", value)
    value = _EMAIL_RE.sub(" ", value)
    value = _HANDLE_RE.sub(" ", value)
    value = norm_ws(value).strip(" \t-–—:|,;·•*")
    for _ in range(2):
        new = AUTHOR_PREFIX_RE.sub("", value)
        new = _PARTICLE_PREFIX_RE.sub("", new).strip(" -–—:|,;")
        if new == value:
            break
        value = new
    words = value.split()
    while len(words) > 1 and words[-1].casefold().strip(".,:") in _TITLE_WORDS:
        words.pop()
    while len(words) > 1 and words[0].casefold().strip(".,:") in _TITLE_WORDS | {"senior"}:
        words.pop(0)
    return " ".join(words)


def clean_authors(raw: Iterable[str]) -> list[str]:
    """Turn raw author strings (meta tags, JSON-LD names, bylines) into a list of names.

    Strips "By"/"Von"/"Par"/"Por"/"Di" prefixes, parenthesised agencies ("(dpa)"), emails,
    URLs and handles; splits on " and "/" und "/" et "/" y "/"&"/","/";"/"|" (and "/" between
    full names); drops roles
    ("Staff Writer", "Reporter"), and anything that does not look like a name (more than
    five words, digits). Whitespace is normalised, duplicates are removed ignoring case and
    punctuation ("Jane Doe" == "jane-doe"), the order is kept.
    """
    names: list[str] = []
    if isinstance(raw, str):
        raw = [raw]
    for item in raw:
        text = text_value(item) if isinstance(item, str) else None
        if not text:
            continue
        text = _strip_author_noise(text)
        if "/" in text and all(len(side.split()) >= 2 for side in text.split("/")):
            text = text.replace("/", ";")  # "Jane Doe/John Smith", but "srf/hosb" is one name
        if len(text.split()) > 10 and not re.search(r"[,;&|]", text):
            continue  # prose, not a byline
        for part in _AUTHOR_SPLIT_RE.split(text):
            part = _strip_author_noise(part)
            if _is_name(part):
                names.append(part)
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        key = squash(name)
        if key and key not in seen:
            seen.add(key)
            out.append(name)
    return out
