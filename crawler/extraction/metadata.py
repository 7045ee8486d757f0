"""Page metadata from the page's own structured data.

trafilatura gives us good main text but weak metadata (day-only dates, titles with the
site name attached, noisy authors). This module reads what publishers declare themselves:
JSON-LD (schema.org), OpenGraph / ``article:*`` / Dublin Core ``<meta>`` tags, microdata
``itemprop`` attributes, ``<time datetime>`` elements and, as a last resort, the URL.

Everything here is a plain function over HTML (``str``/``bytes``) or an lxml tree plus the
page URL: no Scrapy, no network. Nothing raises on garbage input; problems are logged at
debug level and the affected field is left empty.
"""

from __future__ import annotations

import html as html_lib
import json
import logging
import re
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
from dateutil import parser as date_parser
from lxml import etree

logger = logging.getLogger(__name__)

__all__ = [
    "PageMetadata",
    "clean_authors",
    "clean_title",
    "normalize_language",
    "page_metadata",
    "parse_datetime",
]

MIN_YEAR = 1995
FUTURE_TOLERANCE = timedelta(days=1)


@dataclass
class PageMetadata:
    """Metadata a page declares about itself (see :func:`page_metadata`)."""

    headline: str | None = None
    site_name: str | None = None
    description: str | None = None
    image: str | None = None
    authors: list[str] = field(default_factory=list)
    published: datetime | None = None
    published_source: str | None = None
    modified: datetime | None = None
    modified_source: str | None = None
    language: str | None = None
    tags: list[str] = field(default_factory=list)
    section: str | None = None
    types: set[str] = field(default_factory=set)
    accessible_for_free: bool | None = None


# --------------------------------------------------------------------------- text helpers

_WS_RE = re.compile(r"\s+")
_TAG_RE = re.compile(r"<[^>]{0,200}>")


def _norm_ws(value: str) -> str:
    return _WS_RE.sub(" ", value).strip()


def _text(value: Any) -> str | None:
    """A clean one-line string from a JSON-LD/meta value, or None."""
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or value.get("text")
    if isinstance(value, list):
        for item in value:
            text = _text(item)
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
    value = _norm_ws(value)
    return value or None


_INVISIBLE_RE = re.compile("[\u00ad\u200b-\u200f\u2060-\u2064\ufeff]")
_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe"})


def _squash(value: str) -> str:
    """Lower-case alphanumerics only, umlauts transliterated and accents dropped: the key
    used to compare names and titles ("Börsen-Zeitung" == "boersen-zeitung.de" minus TLD)."""
    folded = unicodedata.normalize("NFKD", value.casefold().translate(_TRANSLIT))
    return "".join(ch for ch in folded if ch.isalnum())


def _dedupe(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        key = value.casefold()
        if key not in seen:
            seen.add(key)
            out.append(value)
    return out


# --------------------------------------------------------------------------- dates

_TZINFOS: dict[str, int] = {
    "UTC": 0,
    "GMT": 0,
    "UT": 0,
    "Z": 0,
    "WET": 0,
    "WEST": 3600,
    "BST": 3600,
    "CET": 3600,
    "MEZ": 3600,
    "CEST": 7200,
    "MESZ": 7200,
    "EET": 7200,
    "EEST": 10800,
    "MSK": 10800,
    "EST": -5 * 3600,
    "EDT": -4 * 3600,
    "CST": -6 * 3600,
    "CDT": -5 * 3600,
    "MST": -7 * 3600,
    "MDT": -6 * 3600,
    "PST": -8 * 3600,
    "PDT": -7 * 3600,
    "JST": 9 * 3600,
    "KST": 9 * 3600,
    "AEST": 10 * 3600,
    "AEDT": 11 * 3600,
}
_YEAR_RE = re.compile(r"(?<!\d)(1[89]\d\d|2\d\d\d)(?!\d)")
_EPOCH_RE = re.compile(r"\d{10}(?:\d{3})?")
_RFC822_RE = re.compile(r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s")
_DOUBLE_ZONE_RE = re.compile(r"([+-]\d\d:?\d\d)\s*Z$")
_DEFAULT_A = datetime(2000, 1, 1)
_DEFAULT_B = datetime(2001, 2, 2)


def _sane(value: datetime, now: datetime | None = None) -> datetime | None:
    if value.year < MIN_YEAR:
        return None
    if now is None:
        now = datetime.now(UTC)
    try:
        if value.tzinfo is None:
            limit = now.astimezone(UTC).replace(tzinfo=None) + FUTURE_TOLERANCE
        else:
            limit = now.astimezone(UTC) + FUTURE_TOLERANCE
        if value > limit:
            return None
    except (OverflowError, ValueError):
        return None
    return value


def _dateutil_parse(value: str) -> datetime | None:
    """dateutil, but only when the string really names a full date (year, month, day)."""
    if not _YEAR_RE.search(value):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            first = date_parser.parse(value, default=_DEFAULT_A, tzinfos=_TZINFOS)
            second = date_parser.parse(value, default=_DEFAULT_B, tzinfos=_TZINFOS)
    except (ValueError, OverflowError, TypeError, LookupError):
        return None
    if first.date() != second.date():  # a component came from the default: incomplete date
        return None
    return first


def parse_datetime(value: str, *, now: datetime | None = None) -> datetime | None:
    """Parse a machine-readable date/time as found in meta tags and JSON-LD.

    ISO 8601 (``2024-01-15T10:30:00+01:00``, ``...Z``, ``2024-01-15 10:30``, day only),
    RFC 822 (``Mon, 15 Jan 2024 10:30:00 +0100``), Unix epoch seconds/milliseconds and other
    unambiguous full dates. The result is aware when the source has a zone, naive otherwise.
    Returns None for garbage, incomplete dates, dates before 1995 and dates more than one day
    in the future (relative to ``now``, default: the current time).
    """
    if not isinstance(value, str):
        return None
    text = _norm_ws(value)
    if not text or len(text) > 80:
        return None
    text = _DOUBLE_ZONE_RE.sub(r"\1", text)  # "...+01:00Z" seen in the wild
    result: datetime | None = None
    try:
        result = datetime.fromisoformat(text)
    except ValueError:
        result = None
    if result is None and _EPOCH_RE.fullmatch(text):
        seconds = int(text) / (1000 if len(text) == 13 else 1)
        try:
            result = datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            result = None
    if result is None and _RFC822_RE.match(text):
        try:
            result = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            result = None
    if result is None:
        result = _dateutil_parse(text)
    if result is None:
        return None
    return _sane(result, now)


def _has_time(value: datetime) -> bool:
    return value.tzinfo is not None or (value.hour, value.minute, value.second) != (0, 0, 0)


_URL_DATE_RE = re.compile(
    r"(?<![0-9])((?:19|20)\d\d)[/_-](0?[1-9]|1[0-2])[/_-](0?[1-9]|[12]\d|3[01])(?![0-9])"
)
_URL_DATE_COMPACT_RE = re.compile(r"(?<![0-9])((?:19|20)\d\d)(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])/")


def _date_from_url(url: str, now: datetime | None = None) -> datetime | None:
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    match = _URL_DATE_RE.search(path) or _URL_DATE_COMPACT_RE.search(path)
    if not match:
        return None
    try:
        value = datetime(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None
    return _sane(value, now)


# --------------------------------------------------------------------------- titles

_TITLE_SEP_RE = re.compile(r"\s+(?:\||-|–|—|::|·|•|»|«|/{1,2})\s+")
_HOST_PREFIXES = {"www", "www2", "m", "mobile", "amp", "edition", "beta", "en", "de"}
_SECOND_LEVEL = {"co", "com", "org", "net", "gov", "ac", "edu", "or", "ne", "go", "gv", "nic"}


def _host_names(host: str | None) -> set[str]:
    """Squashed forms of a host under which a site may name itself in its titles."""
    if not host:
        return set()
    host = host.lower().split(":")[0].strip(".")
    labels = [label for label in host.split(".") if label]
    while len(labels) > 2 and labels[0] in _HOST_PREFIXES:
        labels = labels[1:]
    if len(labels) < 2:
        return {_squash(host)} if host else set()
    names = {_squash(".".join(labels)), _squash(".".join(labels[-2:]))}
    core = labels[-3] if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL else labels[-2]
    names.add(_squash(core))
    return {name for name in names if len(name) >= 3}


def _names_site(
    part: str,
    site_keys: set[str],
    host_keys: set[str],
    *,
    trailing: bool = False,
    acronyms: frozenset[str] = frozenset(),
) -> bool:
    """Whether a title part is (a form of) the site's own name (or, with ``acronyms``, the
    initials of it: "LTO" for "Legal Tribune Online")."""
    key = _squash(part)
    if len(key) < 2:
        return False
    n_words = len(part.split())
    for site in site_keys:
        if key == site or key in acronyms:
            return True
        # "Rundschau" within "Rheinische Rundschau Online", or the reverse, for short parts.
        if len(key) >= 4 and key in site and n_words <= 4:
            return True
        if len(site) >= 4 and site in key and n_words <= 4 and len(key) <= len(site) + 12:
            return True
    max_words = 5 if trailing else 3
    for host in host_keys:
        if key == host:
            return True
        related = host in key or key in host
        if len(host) >= 5 and len(key) >= 4 and n_words <= max_words and related:
            return True
    return False


_DATE_PART_RE = re.compile(r"^[\d\s./:-]{6,}$")


def clean_title(
    title: str,
    site_name: str | None = None,
    *,
    url: str | None = None,
    section: str | None = None,
) -> str:
    """Remove a leading/trailing site-name part from a title.

    Parts are separated by `` | ``, `` - ``, `` – ``, `` — ``, `` :: ``, `` · `` (and a few
    similar). Only parts that name the site are removed: they must match ``site_name``
    (ignoring case, spaces and punctuation; or be contained in it) or the host of ``url``.
    Once a site-name part is gone, a trailing part equal to ``section`` is dropped too.
    Other parts are never touched, so a headline containing `` | `` keeps it.
    """
    text = _text(title) or ""
    if not text:
        return ""
    site_keys = {_squash(site_name)} if site_name and _squash(site_name) else set()
    host_keys = _host_names(urlsplit(url).hostname) if url else set()
    if not site_keys and not host_keys:
        return text

    # Split, remembering separators so kept parts are re-joined exactly as they were.
    pieces = _TITLE_SEP_RE.split(text)
    seps = _TITLE_SEP_RE.findall(text)
    if len(pieces) < 2:
        return text

    removed = False
    # A trailing date ("X | Site | 28.04.2023") goes with the site name after it.
    if (
        len(pieces) >= 3
        and _DATE_PART_RE.match(pieces[-1])
        and _names_site(pieces[-2], site_keys, host_keys, trailing=True)
    ):
        pieces, seps = pieces[:-1], seps[:-1]
    # Trailing site name, possibly preceded by a section ("X | Politik | Site").
    if _names_site(pieces[-1], site_keys, host_keys, trailing=True):
        pieces, seps = pieces[:-1], seps[:-1]
        removed = True
    elif pieces and _names_site(pieces[0], site_keys, host_keys):
        pieces, seps = pieces[1:], seps[1:]
        removed = True
    if removed and len(pieces) >= 2 and section and _squash(pieces[-1]) == _squash(section):
        pieces, seps = pieces[:-1], seps[:-1]
    # A second trailing site-like part ("X - Site.de - Site") is removed as well.
    if (
        removed
        and len(pieces) >= 2
        and _names_site(pieces[-1], site_keys, host_keys, trailing=True)
    ):
        pieces, seps = pieces[:-1], seps[:-1]

    if not pieces or not any(_squash(p) for p in pieces):
        return text
    out = pieces[0]
    for sep, piece in zip(seps, pieces[1:], strict=False):
        out += sep + piece
    return out.strip() or text


# --------------------------------------------------------------------------- authors

_AUTHOR_PREFIX_RE = re.compile(
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
    value = _norm_ws(value).strip(" \t-–—:|,;·•*")
    for _ in range(2):
        new = _AUTHOR_PREFIX_RE.sub("", value)
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
    URLs and handles; splits on " and "/" und "/" et "/" y "/"&"/","/";"/"|"; drops roles
    ("Staff Writer", "Reporter"), and anything that does not look like a name (more than
    five words, digits). Whitespace is normalised, duplicates are removed ignoring case and
    punctuation ("Jane Doe" == "jane-doe"), the order is kept.
    """
    names: list[str] = []
    if isinstance(raw, str):
        raw = [raw]
    for item in raw:
        text = _text(item) if isinstance(item, str) else None
        if not text:
            continue
        text = _strip_author_noise(text)
        if len(text.split()) > 10 and not re.search(r"[,;&|]", text):
            continue  # prose, not a byline
        for part in _AUTHOR_SPLIT_RE.split(text):
            part = _strip_author_noise(part)
            if _is_name(part):
                names.append(part)
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        key = _squash(name)
        if key and key not in seen:
            seen.add(key)
            out.append(name)
    return out


# --------------------------------------------------------------------------- language

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


# --------------------------------------------------------------------------- JSON-LD

_JSON_COMMENT_BLOCK_RE = re.compile(r"/\*.*?\*/", re.DOTALL)
_JSON_LINE_COMMENT_RE = re.compile(r"^\s*//[^\n]*$", re.MULTILINE)
_JSON_TRAILING_COMMA_RE = re.compile(r",\s*([}\]])")
_JSON_BAD_ESCAPE_RE = re.compile(r'\\(?!["\\/bfnrtu])')
_JSON_WRAPPERS_RE = re.compile(r"<!--|-->|<!\[CDATA\[|\]\]>|^\s*//\s*")


def _load_json(script: str) -> Any:
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


def _types_of(node: dict[str, Any]) -> list[str]:
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


def _is_article(node: dict[str, Any]) -> bool:
    return any(t.endswith("Article") or t in _ARTICLE_TYPES for t in _types_of(node))


def _is_page(node: dict[str, Any]) -> bool:
    return any(t in _PAGE_TYPES for t in _types_of(node))


@dataclass
class _JsonLd:
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


def _collect_jsonld(root: Any) -> _JsonLd:
    result = _JsonLd()
    for script in root.xpath(
        "//script[translate(@type, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
        " = 'application/ld+json']"
    ):
        data = _load_json(script.text or "")
        if data is not None:
            _index_ids(data, result, 0)
            _walk_jsonld(data, result, depth=0, main=False)
    return result


def _index_ids(data: Any, result: _JsonLd, depth: int) -> None:
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


def _walk_jsonld(data: Any, result: _JsonLd, depth: int, main: bool) -> None:
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
    if _types_of(data):
        result.nodes.append(data)
        if main:
            result.main_entities.append(id(data))
    for key in ("mainEntity", "mainEntityOfPage"):
        entity = data.get(key)
        if isinstance(entity, dict | list):
            targets = entity if isinstance(entity, list) else [entity]
            for target in targets:
                if isinstance(target, dict) and (_is_article(target) or key == "mainEntity"):
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


def _pick_article(jsonld: _JsonLd, url: str) -> dict[str, Any] | None:
    page_key = _url_key(url)
    best: dict[str, Any] | None = None
    best_score = -100
    for node in jsonld.nodes:
        if not _is_article(node):
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


def _jsonld_values(nodes: Iterable[dict[str, Any] | None], key: str) -> Iterator[Any]:
    for node in nodes:
        if node is not None and node.get(key) not in (None, "", [], {}):
            yield node[key]


# --------------------------------------------------------------------------- HTML helpers


def _to_root(document: Any) -> Any:
    """An lxml root element for HTML text/bytes or an lxml tree/element; None if unusable."""
    if document is None:
        return None
    if isinstance(document, str | bytes):
        data = document.encode("utf-8", "replace") if isinstance(document, str) else document
        if not data.strip():
            return None
        encoding: str | None = "utf-8"
        if isinstance(document, bytes):
            try:
                document.decode("utf-8")
            except UnicodeDecodeError:
                encoding = None  # let libxml2 use the page's own <meta charset>
        try:
            parser = lxml.html.HTMLParser(encoding=encoding, remove_comments=True)
            return lxml.html.document_fromstring(data, parser=parser)
        except (etree.ParserError, ValueError, TypeError) as exc:
            logger.debug("cannot parse HTML: %s", exc)
            return None
    if hasattr(document, "getroot"):
        return document.getroot()
    if hasattr(document, "getroottree"):
        return document.getroottree().getroot()
    return None


def _meta_key(key: str) -> str:
    """ "article:published_time", "article:published:time", "Article_Published_Time" alike."""
    return re.sub(r"[\s_:.-]+", ":", key.strip().lower())


class _MetaIndex(dict[str, list[str]]):
    """<meta> contents by normalised property / name / itemprop / http-equiv."""

    def find(self, *keys: str) -> list[str]:
        return [value for key in keys for value in dict.get(self, _meta_key(key), [])]


def _meta_index(root: Any) -> _MetaIndex:
    index = _MetaIndex()
    for meta in root.iter("meta"):
        content = meta.get("content")
        if content is None:
            content = meta.get("value")
        if content is None or not content.strip():
            continue
        keys: set[str] = set()
        for attr in ("property", "name", "itemprop", "http-equiv"):
            for single in (meta.get(attr) or "").split():
                keys.add(_meta_key(single))
        for key in keys:
            index.setdefault(key, []).append(content.strip())
    return index


def _inner_text(element: Any) -> str:
    """Text of an element without comments (works for lxml.html and plain etree elements)."""
    try:
        return str(element.xpath("string()"))
    except (etree.XPathError, ValueError, TypeError):
        return ""


def _element_value(element: Any) -> str | None:
    for attr in ("content", "datetime"):
        value = element.get(attr)
        if value and value.strip():
            return value.strip()
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in ("a", "link") and element.get("href"):
        return str(element.get("href"))
    if tag in ("img", "source") and element.get("src"):
        return str(element.get("src"))
    if tag == "meta":
        return None
    return _text(_inner_text(element))


def _itemprop(root: Any, name: str) -> list[Any]:
    return list(
        root.xpath("//*[contains(concat(' ', normalize-space(@itemprop), ' '), $n)]", n=f" {name} ")
    )


_ARTICLE_SCOPE_XPATH = (
    "//*[@itemscope][contains(@itemtype, 'Article') or contains(@itemtype, 'BlogPosting')"
    " or contains(@itemtype, 'ReportageNews')]"
)


def _microdata_authors(root: Any) -> list[str]:
    """itemprop=author/creator names; inside the first article item when there is one, so
    that the bylines of teasers elsewhere on the page are not picked up."""
    scopes = [scope for scope in root.xpath(_ARTICLE_SCOPE_XPATH) if _itemprop(scope, "author")]
    scope = scopes[0] if scopes else root
    elements = _itemprop(scope, "author") or _itemprop(scope, "creator")
    elements = [e for e in elements if not e.xpath("ancestor::aside or ancestor::nav")]
    if not elements:
        return []
    # Keep the byline the first author belongs to: authors in the same small container.
    container = elements[0]
    for _ in range(3):
        parent = container.getparent()
        if parent is None or parent.tag in ("body", "html", "article", "main"):
            break
        if parent.get("itemscope") is not None or len(_inner_text(parent)) > 400:
            break
        container = parent
    elements = [e for e in elements if e is elements[0] or _contains(container, e)]
    out: list[str] = []
    for element in elements:
        if element.get("itemscope") is not None:
            names = element.xpath(
                ".//*[contains(concat(' ', normalize-space(@itemprop), ' '), ' name ')]"
            )
            value = _element_value(names[0]) if names else None
            if value is None and element.tag != "meta":
                value = _text(_inner_text(element))
        elif element.tag in ("a", "link") and not element.get("content"):
            value = _text(_inner_text(element))  # the name, not the profile URL
        else:
            value = _element_value(element)
        if value and not value.startswith(("http://", "https://", "/")):
            out.append(value)
    return out


def _contains(ancestor: Any, element: Any) -> bool:
    node = element.getparent()
    while node is not None:
        if node is ancestor:
            return True
        node = node.getparent()
    return False


_BYLINE_AUTHOR_XPATH = (
    "//*[contains(translate(@class, 'AUTHORBYLINE', 'authorbyline'), 'author')"
    " or contains(translate(@class, 'AUTHORBYLINE', 'authorbyline'), 'byline')]"
    "[not(ancestor::nav or ancestor::footer or ancestor::aside or ancestor::header"
    " or ancestor::*[contains(translate(@class, 'TEASR', 'teasr'), 'teaser')])]"
)
_LABEL_AUTHOR_RE = re.compile(
    r"^(?:written|posted|reported)\s+by|^(?:verfasst|geschrieben)\s+von|^autor|^author"
    r"|^escrito\s+por|^écrit\s+par|^scritto\s+da",
    re.IGNORECASE,
)


def _label_authors(metas: _MetaIndex) -> list[str]:
    """Yoast-style twitter:labelN "Written by" / twitter:dataN "Jane Doe" pairs."""
    out: list[str] = []
    for n in range(1, 5):
        labels = metas.find(f"twitter:label{n}")
        if labels and _LABEL_AUTHOR_RE.match(labels[0].strip()):
            out.extend(metas.find(f"twitter:data{n}")[:1])
    return out


def _byline_authors(root: Any) -> list[str]:
    """Text of the first short element whose class names an author/byline (last resort)."""
    for element in root.xpath(_BYLINE_AUTHOR_XPATH):
        if element.tag in ("meta", "link", "script", "style", "img", "body", "html"):
            continue
        text = _text(_inner_text(element))
        if not text or not 3 <= len(text) <= 80:
            continue
        links = [element] if element.tag == "a" else element.xpath(".//a[@href]")
        to_profile = any(_PROFILE_LINK_RE.search(a.get("href") or "") for a in links)
        named = _NAME_CLASS_RE.search(element.get("class") or "")
        if _AUTHOR_PREFIX_RE.match(text) or to_profile or named:
            return [text]
    return []


_NAME_CLASS_RE = re.compile(r"author[-_]*name", re.IGNORECASE)
_PROFILE_LINK_RE = re.compile(r"/(?:authors?|autor(?:en|in)?|auteurs?|autores?|journalists?)/")


def _h1_texts(root: Any) -> list[str]:
    out: list[str] = []
    for h1 in root.iter("h1"):
        text = _text(_inner_text(h1))
        if text:
            out.append(text)
    return out


_BYLINE_XPATH = (
    "//*[self::article or self::main or @role='main'"
    " or contains(translate(@class, 'BYLINE', 'byline'), 'byline')"
    " or contains(translate(@class, 'ATICLEHDR', 'aticlehdr'), 'article-header')"
    " or contains(translate(@class, 'META', 'meta'), 'meta')]"
    "//time[@datetime]"
)


# --------------------------------------------------------------------------- main entry


_PUBLISHED_META = (
    "article:published_time",
    "og:published_time",
    "article:published",
    "datepublished",
    "published_time",
    "publishdate",
    "publish-date",
    "publish_date",
    "pubdate",
    "date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "dcterms.date",
    "dc.date.created",
    "dcterms.created",
    "sailthru.date",
    "parsely-pub-date",
    "article.published",
    "article_date_original",
    "original-publish-date",
    "cxenseparse:recs:publishtime",
    "pub_date",
    "release_date",
    "creation_date",
)
_MODIFIED_META = (
    "article:modified_time",
    "og:updated_time",
    "article:modified",
    "datemodified",
    "modified_time",
    "last-modified",
    "lastmod",
    "dc.date.modified",
    "dcterms.modified",
    "article.updated",
    "revised",
)
_AUTHOR_META = (
    "author",
    "article:author",
    "og:article:author",
    "article:author_name",
    "dc.creator",
    "dcterms.creator",
    "parsely-author",
    "sailthru.author",
    "byl",
    "byline",
    "cxenseparse:author",
    "author_name",
)


def _first_date(
    candidates: Iterable[tuple[str, Callable[[], Iterable[str]]]], now: datetime | None
) -> tuple[datetime | None, str | None]:
    """First valid date among (source, values) candidates.

    A day-only value is upgraded by a later candidate with a time on the same day, and a
    naive time by a later candidate with the same wall-clock time and a zone.
    """
    chosen: datetime | None = None
    source: str | None = None
    for name, getter in candidates:
        for raw in getter():
            value = parse_datetime(raw, now=now) if isinstance(raw, str) else None
            if value is None:
                continue
            if chosen is None:
                chosen, source = value, name
                if chosen.tzinfo is not None:
                    return chosen, source
            elif not _has_time(chosen):
                if _has_time(value) and value.date() == chosen.date():
                    chosen, source = value, name
                    if chosen.tzinfo is not None:
                        return chosen, source
            elif value.tzinfo is not None:
                wall = value.replace(tzinfo=None)
                if abs(wall - chosen) < timedelta(minutes=1):
                    return value, name
    return chosen, source


def page_metadata(
    html: str | bytes | etree._Element | etree._ElementTree,
    url: str,
    *,
    now: datetime | None = None,
) -> PageMetadata:
    """Collect the metadata a page declares about itself.

    ``html`` is the page as ``str``/``bytes`` or an lxml tree/element; ``url`` is used to
    resolve relative image URLs, to recognise the site's name in titles and as a last-resort
    date source. Never raises: on unusable input an empty :class:`PageMetadata` is returned.
    """
    try:
        return _page_metadata(html, url or "", now)
    except Exception:  # defensive: metadata must never break the crawl
        logger.debug("metadata extraction failed for %s", url, exc_info=True)
        return PageMetadata()


def _page_metadata(html: Any, url: str, now: datetime | None) -> PageMetadata:
    meta = PageMetadata()
    root = _to_root(html)
    if root is None:
        date = _date_from_url(url, now)
        if date is not None:
            meta.published, meta.published_source = date, "url"
        return meta

    jsonld = _collect_jsonld(root)
    metas = _meta_index(root)
    article = _pick_article(jsonld, url)
    pages = [node for node in jsonld.nodes if _is_page(node)]
    primary: list[dict[str, Any] | None] = [article, *pages]

    meta_values = metas.find

    def first_text(values: Iterable[Any]) -> str | None:
        for value in values:
            text = _text(value)
            if text:
                return text
        return None

    # ---- types
    for node in jsonld.nodes:
        meta.types.update(_types_of(node))
    for og_type in meta_values("og:type"):
        if og_type.strip():
            meta.types.add(og_type.strip())
    for itemtype in root.xpath("//*[@itemtype]/@itemtype"):
        for value in str(itemtype).split():
            name = re.split(r"[/#:]", value.rstrip("/"))[-1]
            if name:
                meta.types.add(name)

    # ---- site name
    publisher_names = []
    for publisher in _jsonld_values([article], "publisher"):
        publisher = jsonld.resolve(publisher)
        if isinstance(publisher, list):
            publisher = jsonld.resolve(publisher[0]) if publisher else None
        publisher_names.append(publisher)
    websites = [node.get("name") for node in jsonld.nodes if "WebSite" in _types_of(node)]
    micro_publishers = [
        _element_value(name)
        for publisher in _itemprop(root, "publisher")
        for name in publisher.xpath(
            ".//*[contains(concat(' ', normalize-space(@itemprop), ' '), ' name ')]"
        )[:1]
    ]
    meta.site_name = first_text(
        [
            *meta_values("og:site_name"),
            *publisher_names,
            *websites,
            *micro_publishers,
            *meta_values("application-name", "apple-mobile-web-app-title", "twitter:app:name"),
        ]
    )

    # ---- section and tags (section helps to clean titles)
    meta.section = first_text(
        [
            *meta_values("article:section"),
            *_jsonld_values(primary, "articleSection"),
            *[_element_value(e) for e in _itemprop(root, "articleSection")],
        ]
    )
    meta.tags = _collect_tags(meta_values, primary)

    # ---- headline
    meta.headline = _choose_headline(root, metas, article, meta.site_name, meta.section, url)

    # ---- description, image
    meta.description = first_text(
        [
            *meta_values("og:description"),
            *_jsonld_values([article], "description"),
            *meta_values("description", "twitter:description", "dc.description"),
        ]
    )
    meta.image = _choose_image(root, metas, article, jsonld, url)

    # ---- authors
    meta.authors = _choose_authors(root, metas, article, jsonld, meta.site_name, url)

    # ---- dates
    def jsonld_dates(key: str, nodes: Sequence[dict[str, Any] | None]) -> Callable[[], list[str]]:
        def values() -> list[str]:
            out: list[str] = []
            for value in _jsonld_values(nodes, key):
                items = value if isinstance(value, list) else [value]
                out.extend(item for item in items if isinstance(item, str))
            return out

        return values

    def meta_dates(keys: tuple[str, ...]) -> Callable[[], list[str]]:
        return lambda: meta_values(*keys)

    def itemprop_dates(name: str) -> Callable[[], list[str]]:
        return lambda: [
            v for v in (_element_value(e) for e in _itemprop(root, name) if e.tag != "meta") if v
        ]

    def time_elements() -> list[str]:
        found = root.xpath("//time[@pubdate][@datetime]") + root.xpath(_BYLINE_XPATH)
        return [str(e.get("datetime")) for e in found]

    published_candidates: list[tuple[str, Callable[[], Iterable[str]]]] = [
        ("jsonld:datePublished", jsonld_dates("datePublished", [article])),
        *[(f"meta:{key}", meta_dates((key,))) for key in _PUBLISHED_META[:3]],
        ("meta:itemprop:datePublished", meta_dates(("datepublished",))),
        ("itemprop:datePublished", itemprop_dates("datePublished")),
        *[(f"meta:{key}", meta_dates((key,))) for key in _PUBLISHED_META[4:]],
        ("jsonld:dateCreated", jsonld_dates("dateCreated", [article])),
        ("jsonld:page:datePublished", jsonld_dates("datePublished", pages)),
        ("time[datetime]", time_elements),
    ]
    meta.published, meta.published_source = _first_date(published_candidates, now)
    if meta.published is None:
        url_date = _date_from_url(url, now)
        if url_date is not None:
            meta.published, meta.published_source = url_date, "url"

    modified_candidates: list[tuple[str, Callable[[], Iterable[str]]]] = [
        ("jsonld:dateModified", jsonld_dates("dateModified", [article])),
        *[(f"meta:{key}", meta_dates((key,))) for key in _MODIFIED_META],
        ("itemprop:dateModified", itemprop_dates("dateModified")),
        ("jsonld:page:dateModified", jsonld_dates("dateModified", pages)),
    ]
    meta.modified, meta.modified_source = _first_date(modified_candidates, now)

    # ---- language
    meta.language = _choose_language(root, metas, primary)

    # ---- paywall flag
    meta.accessible_for_free = _choose_free(primary, jsonld, root)
    return meta


def _collect_tags(
    meta_values: Callable[..., list[str]], primary: list[dict[str, Any] | None]
) -> list[str]:
    tags: list[str] = []
    for value in meta_values("article:tag", "og:article:tag"):
        tags.extend(_split_keywords(value, split_commas=False))
    for value in _jsonld_values(primary[:1], "keywords"):
        tags.extend(_split_keywords(value, split_commas=True))
    if not tags:
        for value in meta_values("news_keywords", "keywords"):
            tags.extend(_split_keywords(value, split_commas=True))
    return _dedupe(tags)


def _split_keywords(value: Any, split_commas: bool) -> list[str]:
    if isinstance(value, list):
        return [t for item in value for t in _split_keywords(item, split_commas=False)]
    text = _text(value)
    if not text:
        return []
    parts = re.split(r"\s*[,;]\s*", text) if split_commas else [text]
    return [part.strip() for part in parts if part.strip() and len(part.strip()) <= 100]


def _choose_headline(
    root: Any,
    metas: _MetaIndex,
    article: dict[str, Any] | None,
    site_name: str | None,
    section: str | None,
    url: str,
) -> str | None:
    def clean(value: str | None) -> str | None:
        if not value:
            return None
        return clean_title(value, site_name, url=url, section=section) or None

    title_el = root.find(".//title")
    page_title = _text(_inner_text(title_el)) if title_el is not None else None
    title_key = _squash(page_title or "")
    site_keys = {_squash(site_name)} if site_name else set()
    hosts = _host_names(urlsplit(url).hostname)
    h1s = [
        h
        for h in (clean(t) for t in _h1_texts(root))
        if h and len(_squash(h)) >= 4 and not _names_site(h, site_keys, hosts)
    ]

    jsonld_headline = None
    if article is not None:
        jsonld_headline = clean(_text(article.get("headline") or article.get("name")))
    social_raw = metas.find("og:title") + metas.find("twitter:title")
    social = [c for c in (clean(_text(v)) for v in social_raw) if c]

    if jsonld_headline:
        # Google truncates headlines at 110 characters; prefer a complete equivalent.
        if jsonld_headline.endswith(("…", "...")):
            stem = _squash(jsonld_headline)
            for alt in [*social, *h1s]:
                if alt and _squash(alt).startswith(stem) and len(alt) > len(jsonld_headline):
                    return alt
        return jsonld_headline
    micro = [v for v in (_element_value(e) for e in _itemprop(root, "headline")) if v]
    micro = [c for c in (clean(v) for v in micro) if c]
    if social:
        return _prefer_h1(social[0], h1s)
    if micro:
        return micro[0]
    if h1s:
        in_article = {
            t
            for t in (
                clean(_text(_inner_text(h)))
                for h in root.xpath("//article//h1 | //main//h1 | //*[@role='main']//h1")
            )
            if t
        }
        for h1 in h1s:
            if title_key and _squash(h1) in title_key:
                return h1
        for h1 in h1s:
            if h1 in in_article:
                return h1
        return h1s[0]
    cleaned_title = clean(page_title)
    if not cleaned_title:
        return None
    return _prefer_h1(cleaned_title, h1s)


def _prefer_h1(value: str, h1s: list[str]) -> str:
    """An <h1> equal to the leading parts of a title that has more parts ("H1 | Section")."""
    pieces = _TITLE_SEP_RE.split(value)
    if len(pieces) < 2:
        return value
    seps = _TITLE_SEP_RE.findall(value)
    for count in range(len(pieces) - 1, 0, -1):
        lead = pieces[0] + "".join(
            sep + piece for sep, piece in zip(seps, pieces[1:count], strict=False)
        )
        for h1 in h1s:
            if _squash(h1) == _squash(lead):
                return h1
    return value


def _image_url(value: Any, jsonld: _JsonLd) -> str | None:
    value = jsonld.resolve(value)
    if isinstance(value, list):
        for item in value:
            found = _image_url(item, jsonld)
            if found:
                return found
        return None
    if isinstance(value, dict):
        return _image_url(value.get("url") or value.get("contentUrl"), jsonld)
    if isinstance(value, str) and value.strip() and not value.strip().startswith("data:"):
        return value.strip()
    return None


def _choose_image(
    root: Any,
    metas: _MetaIndex,
    article: dict[str, Any] | None,
    jsonld: _JsonLd,
    url: str,
) -> str | None:
    candidates: list[str | None] = [
        *metas.find("og:image:secure_url"),
        *metas.find("og:image"),
        *metas.find("og:image:url"),
        _image_url(article.get("image") or article.get("thumbnailUrl"), jsonld)
        if article
        else None,
        *metas.find("twitter:image"),
        *metas.find("twitter:image:src"),
        *[str(link.get("href")) for link in root.xpath("//link[@rel='image_src'][@href]")],
    ]
    for candidate in candidates:
        if candidate and candidate.strip() and not candidate.strip().startswith("data:"):
            try:
                return urljoin(url, candidate.strip()) if url else candidate.strip()
            except ValueError:
                continue
    return None


def _jsonld_people(
    value: Any, jsonld: _JsonLd, persons: list[str], orgs: list[str], depth: int = 0
) -> None:
    if depth > 4 or value is None:
        return
    value = jsonld.resolve(value)
    if isinstance(value, list):
        for item in value:
            _jsonld_people(item, jsonld, persons, orgs, depth + 1)
    elif isinstance(value, str):
        if not value.strip().startswith(("http://", "https://", "/")):
            persons.append(value)
    elif isinstance(value, dict):
        types = _types_of(value)
        name = value.get("name")
        if isinstance(name, list):
            name = next((n for n in name if isinstance(n, str)), None)
        if isinstance(name, dict):
            name = name.get("@value")
        if not isinstance(name, str) or not name.strip():
            given, family = value.get("givenName"), value.get("familyName")
            if isinstance(given, str) and isinstance(family, str):
                name = f"{given} {family}"
        if not isinstance(name, str) or not name.strip():
            return
        is_org = any(t.endswith(("Organization", "Organisation", "Corporation")) for t in types)
        if is_org and "Person" not in types:
            orgs.append(name)
        else:
            persons.append(name)


def _choose_authors(
    root: Any,
    metas: _MetaIndex,
    article: dict[str, Any] | None,
    jsonld: _JsonLd,
    site_name: str | None,
    url: str,
) -> list[str]:
    """Persons from the first source that has any; organisations only when none has.

    A "person" whose name is the site's own name (or host) counts as an organisation, and so
    does every other name given in the same raw string ("example.de, Frankfurt, Germany").
    """
    persons: list[str] = []
    orgs: list[str] = []
    if article is not None:
        for key in ("author", "creator"):
            if article.get(key):
                _jsonld_people(article.get(key), jsonld, persons, orgs)
                break
    site_keys = {_squash(site_name)} if site_name and _squash(site_name) else set()
    host_keys = _host_names(urlsplit(url).hostname) if url else set()
    acronyms: frozenset[str] = frozenset()
    if site_name and len(site_name.split()) >= 2:
        acronyms = frozenset({"".join(_squash(w)[:1] for w in site_name.split())})
    sources: list[list[str]] = [
        persons,
        [
            value
            for key in _AUTHOR_META
            for value in metas.find(key)
            if not value.strip().startswith(("http://", "https://", "/"))
        ],
        _label_authors(metas),
        _microdata_authors(root),
        [
            text
            for text in (
                _text(_inner_text(a)) for a in root.xpath("//a[@rel='author' or @rel='Author']")
            )
            if text
        ],
    ]
    fallback_orgs: list[str] = clean_authors(orgs)
    for raw in [*sources, _byline_authors(root)]:
        names: list[str] = []
        for item in raw:
            cleaned = clean_authors([item])
            if any(_names_site(n, site_keys, host_keys, acronyms=acronyms) for n in cleaned):
                if not orgs:
                    fallback_orgs.extend(cleaned[:1])
            else:
                names.extend(cleaned)
        names = clean_authors(names)
        if names:
            return names
    return clean_authors(fallback_orgs)


def _choose_language(
    root: Any, metas: _MetaIndex, primary: list[dict[str, Any] | None]
) -> str | None:
    candidates: list[Any] = [
        root.get("lang"),
        root.get("{http://www.w3.org/XML/1998/namespace}lang"),
    ]
    for value in _jsonld_values(primary, "inLanguage"):
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


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in {"true", "yes", "1"}:
            return True
        if lowered in {"false", "no", "0"}:
            return False
    return None


def _choose_free(primary: list[dict[str, Any] | None], jsonld: _JsonLd, root: Any) -> bool | None:
    nodes = [node for node in primary if node is not None]
    nodes += [node for node in jsonld.nodes if node not in nodes]
    for node in nodes:
        if "isAccessibleForFree" in node:
            value = _as_bool(node["isAccessibleForFree"])
            if value is not None:
                return value
    for element in _itemprop(root, "isAccessibleForFree"):
        value = _as_bool(_element_value(element))
        if value is not None:
            return value
    return None
