"""Headlines: site-name removal from titles and the choice among the page's title sources."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from crawler.extraction.dom import MetaIndex, element_value, h1_texts, inner_text, itemprop
from crawler.extraction.text import squash, text_value

TITLE_SEP_RE = re.compile(r"\s+(?:\||-|–|—|::|·|•|»|«|/{1,2})\s+")
_HOST_PREFIXES = {"www", "www2", "m", "mobile", "amp", "edition", "beta", "en", "de"}
_SECOND_LEVEL = {"co", "com", "org", "net", "gov", "ac", "edu", "or", "ne", "go", "gv", "nic"}


def host_names(host: str | None) -> set[str]:
    """Squashed forms of a host under which a site may name itself in its titles."""
    if not host:
        return set()
    host = host.lower().split(":")[0].strip(".")
    labels = [label for label in host.split(".") if label]
    while len(labels) > 2 and labels[0] in _HOST_PREFIXES:
        labels = labels[1:]
    if len(labels) < 2:
        return {squash(host)} if host else set()
    names = {squash(".".join(labels)), squash(".".join(labels[-2:]))}
    core = labels[-3] if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL else labels[-2]
    names.add(squash(core))
    return {name for name in names if len(name) >= 3}


def names_site(
    part: str,
    site_keys: set[str],
    host_keys: set[str],
    *,
    trailing: bool = False,
    acronyms: frozenset[str] = frozenset(),
) -> bool:
    """Whether a title part is (a form of) the site's own name (or, with ``acronyms``, the
    initials of it: "LTO" for "Legal Tribune Online")."""
    key = squash(part)
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
    text = text_value(title) or ""
    if not text:
        return ""
    site_keys = {squash(site_name)} if site_name and squash(site_name) else set()
    host_keys = host_names(urlsplit(url).hostname) if url else set()
    if not site_keys and not host_keys:
        return text

    # Split, remembering separators so kept parts are re-joined exactly as they were.
    pieces = TITLE_SEP_RE.split(text)
    seps = TITLE_SEP_RE.findall(text)
    if len(pieces) < 2:
        return text

    removed = False
    # A trailing date ("X | Site | 28.04.2023") goes with the site name after it.
    if (
        len(pieces) >= 3
        and _DATE_PART_RE.match(pieces[-1])
        and names_site(pieces[-2], site_keys, host_keys, trailing=True)
    ):
        pieces, seps = pieces[:-1], seps[:-1]
    # Trailing site name, possibly preceded by a section ("X | Politik | Site").
    if names_site(pieces[-1], site_keys, host_keys, trailing=True):
        pieces, seps = pieces[:-1], seps[:-1]
        removed = True
    elif pieces and names_site(pieces[0], site_keys, host_keys):
        pieces, seps = pieces[1:], seps[1:]
        removed = True
    if removed and len(pieces) >= 2 and section and squash(pieces[-1]) == squash(section):
        pieces, seps = pieces[:-1], seps[:-1]
    # A second trailing site-like part ("X - Site.de - Site") is removed as well.
    if (
        removed
        and len(pieces) >= 2
        and names_site(pieces[-1], site_keys, host_keys, trailing=True)
    ):
        pieces, seps = pieces[:-1], seps[:-1]

    if not pieces or not any(squash(p) for p in pieces):
        return text
    out = pieces[0]
    for sep, piece in zip(seps, pieces[1:], strict=False):
        out += sep + piece
    return out.strip() or text


def choose_headline(
    root: Any,
    metas: MetaIndex,
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
    page_title = text_value(inner_text(title_el)) if title_el is not None else None
    title_key = squash(page_title or "")
    site_keys = {squash(site_name)} if site_name else set()
    hosts = host_names(urlsplit(url).hostname)
    h1s = [
        h
        for h in (clean(t) for t in h1_texts(root))
        if h and len(squash(h)) >= 4 and not names_site(h, site_keys, hosts)
    ]

    jsonld_headline = None
    if article is not None:
        jsonld_headline = clean(text_value(article.get("headline") or article.get("name")))
    social_raw = metas.find("og:title") + metas.find("twitter:title")
    social = [c for c in (clean(text_value(v)) for v in social_raw) if c]

    if jsonld_headline:
        # Google truncates headlines at 110 characters; prefer a complete equivalent.
        if jsonld_headline.endswith(("…", "...")):
            stem = squash(jsonld_headline)
            for alt in [*social, *h1s]:
                if alt and squash(alt).startswith(stem) and len(alt) > len(jsonld_headline):
                    return alt
        # "Headline | Section" where the page's other titles agree on "Headline" alone.
        return _prefer_h1(jsonld_headline, [*social, *h1s])
    micro = [v for v in (element_value(e) for e in itemprop(root, "headline")) if v]
    micro = [c for c in (clean(v) for v in micro) if c]
    if social:
        return _prefer_h1(social[0], h1s)
    if micro:
        return micro[0]
    if h1s:
        in_article = {
            t
            for t in (
                clean(text_value(inner_text(h)))
                for h in root.xpath("//article//h1 | //main//h1 | //*[@role='main']//h1")
            )
            if t
        }
        for h1 in h1s:
            if title_key and squash(h1) in title_key:
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
    """An <h1> (or other title of the page) equal to the leading parts of a title that has
    more parts ("H1 | Section")."""
    pieces = TITLE_SEP_RE.split(value)
    if len(pieces) < 2:
        return value
    seps = TITLE_SEP_RE.findall(value)
    for count in range(len(pieces) - 1, 0, -1):
        lead = pieces[0] + "".join(
            sep + piece for sep, piece in zip(seps, pieces[1:count], strict=False)
        )
        for h1 in h1s:
            if squash(h1) == squash(lead):
                return h1
    return value

