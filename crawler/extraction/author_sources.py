"""Authors: the page's author sources, ranked, and the choice among them."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from crawler.extraction.authors import AUTHOR_PREFIX_RE, clean_authors
from crawler.extraction.dom import MetaIndex, contains, element_value, inner_text, itemprop
from crawler.extraction.jsonld import JsonLd, types_of
from crawler.extraction.text import norm_ws, squash, text_value
from crawler.extraction.titles import host_names, names_site

_ARTICLE_SCOPE_XPATH = (
    "//*[@itemscope][contains(@itemtype, 'Article') or contains(@itemtype, 'BlogPosting')"
    " or contains(@itemtype, 'ReportageNews')]"
)


def _microdata_authors(root: Any) -> list[str]:
    """itemprop=author/creator names; inside the first article item when there is one, so
    that the bylines of teasers elsewhere on the page are not picked up."""
    scopes = [scope for scope in root.xpath(_ARTICLE_SCOPE_XPATH) if itemprop(scope, "author")]
    scope = scopes[0] if scopes else root
    elements = itemprop(scope, "author") or itemprop(scope, "creator")
    elements = [e for e in elements if not e.xpath("ancestor::aside or ancestor::nav")]
    if not elements:
        return []
    # Keep the byline the first author belongs to: authors in the same small container.
    container = elements[0]
    for _ in range(3):
        parent = container.getparent()
        if parent is None or parent.tag in ("body", "html", "article", "main"):
            break
        if parent.get("itemscope") is not None or len(inner_text(parent)) > 400:
            break
        container = parent
    elements = [e for e in elements if e is elements[0] or contains(container, e)]
    out: list[str] = []
    for element in elements:
        if element.get("itemscope") is not None:
            names = element.xpath(
                ".//*[contains(concat(' ', normalize-space(@itemprop), ' '), ' name ')]"
            )
            value = element_value(names[0]) if names else None
            if value is None and element.tag != "meta":
                value = text_value(inner_text(element))
        elif element.tag in ("a", "link") and not element.get("content"):
            value = text_value(inner_text(element))  # the name, not the profile URL
        else:
            value = element_value(element)
        if value and not value.startswith(("http://", "https://", "/")):
            out.append(value)
    return out



# An element whose class names an author or a byline (any case), not inside navigation, a
# footer, an aside, a header or a teaser. Read in Python over the elements with a class: the
# same elements as the XPath with translate() that it replaces, in 40 % less time.
_CLASSED = etree.XPath("//*[@class]")
_BYLINE_CASE = str.maketrans("AUTHORBYLINE", "authorbyline")
_TEASER_CASE = str.maketrans("TEASR", "teasr")
_NOT_BYLINE_PLACES = frozenset({"nav", "footer", "aside", "header"})


def _byline_elements(root: Any) -> Iterator[Any]:
    for element in _CLASSED(root):
        names = element.get("class").translate(_BYLINE_CASE)
        if "author" not in names and "byline" not in names:
            continue
        if not any(a.tag in _NOT_BYLINE_PLACES
                   or "teaser" in (a.get("class") or "").translate(_TEASER_CASE)
                   for a in element.iterancestors()):
            yield element


_LABEL_AUTHOR_RE = re.compile(
    r"^(?:written|posted|reported)\s+by|^(?:verfasst|geschrieben)\s+von|^autor|^author"
    r"|^escrito\s+por|^écrit\s+par|^scritto\s+da",
    re.IGNORECASE,
)


def _label_authors(metas: MetaIndex) -> list[str]:
    """Yoast-style twitter:labelN "Written by" / twitter:dataN "Jane Doe" pairs."""
    out: list[str] = []
    for n in range(1, 5):
        labels = metas.find(f"twitter:label{n}")
        if labels and _LABEL_AUTHOR_RE.match(labels[0].strip()):
            out.extend(metas.find(f"twitter:data{n}")[:1])
    return out


def _byline_authors(root: Any) -> list[str]:
    """Text of the first short element whose class names an author/byline (last resort)."""
    for element in _byline_elements(root):
        if element.tag in ("meta", "link", "script", "style", "img", "body", "html"):
            continue
        text = text_value(inner_text(element))
        if not text or not 3 <= len(text) <= 80:
            continue
        links = [element] if element.tag == "a" else element.xpath(".//a[@href]")
        to_profile = any(_PROFILE_LINK_RE.search(a.get("href") or "") for a in links)
        named = _NAME_CLASS_RE.search(element.get("class") or "")
        if AUTHOR_PREFIX_RE.match(text) or to_profile or named:
            return [text]
    return []


_NAME_CLASS_RE = re.compile(r"author[-_]*name", re.IGNORECASE)
_PROFILE_LINK_RE = re.compile(r"/(?:authors?|autor(?:en|in)?|auteurs?|autores?|journalists?)/")

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


def _jsonld_people(
    value: Any, jsonld: JsonLd, persons: list[str], orgs: list[str], depth: int = 0
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
        types = types_of(value)
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


def _labelled_authors(root: Any) -> list[str]:
    """A name shown next to an author label ("<strong>Autorin/Autor</strong> Roman G."),
    outside navigation, asides and footers: the first such one."""
    for element in root.iter():
        if not isinstance(element.tag, str) or element.tag in ("script", "style", "head"):
            continue
        own = (element.text or "").strip()
        if not own or not _AUTHOR_LABEL_RE.match(own) or element.xpath(_SKIP_XPATH):
            continue
        parent = element.getparent()
        if parent is None:
            continue
        text = norm_ws(inner_text(parent))
        rest = text[len(own):].strip(" :") if text.startswith(own) else ""
        if rest and len(rest) <= _MAX_LABELLED:
            return [rest]
    return []


_AUTHOR_LABEL_RE = re.compile(
    r"^(?:autor(?:in)?(?:\s*/\s*autor(?:in)?)?|autor(?:inn)?en|authors?|auteure?s?|autore|"
    r"autores?|written\s+by|text|texto|tekst)\s*:?$",
    re.IGNORECASE,
)
_SKIP_XPATH = "ancestor::nav or ancestor::aside or ancestor::footer"
_MAX_LABELLED = 100


def choose_authors(
    root: Any,
    metas: MetaIndex,
    article: dict[str, Any] | None,
    jsonld: JsonLd,
    site_name: str | None,
    url: str,
) -> tuple[list[str], str | None]:
    """Persons from the first source that has any; organisations only when none has.

    A "person" whose name is the site's own name (or host) counts as an organisation, and so
    does every other name given in the same raw string ("example.de, Frankfurt, Germany").
    Returns the names and the source they came from (``organization`` for the fallback).
    """
    persons: list[str] = []
    orgs: list[str] = []
    if article is not None:
        for key in ("author", "creator"):
            if article.get(key):
                _jsonld_people(article.get(key), jsonld, persons, orgs)
                break
    site_keys = {squash(site_name)} if site_name and squash(site_name) else set()
    host_keys = host_names(urlsplit(url).hostname) if url else set()
    acronyms: frozenset[str] = frozenset()
    if site_name and len(site_name.split()) >= 2:
        acronyms = frozenset({"".join(squash(w)[:1] for w in site_name.split())})
    sources: list[tuple[str, Callable[[], list[str]]]] = [
        ("jsonld", lambda: persons),
        ("meta", lambda: [
            value
            for key in _AUTHOR_META
            for value in metas.find(key)
            if not value.strip().startswith(("http://", "https://", "/"))
        ]),
        ("meta:twitter:label", lambda: _label_authors(metas)),
        ("itemprop:author", lambda: _microdata_authors(root)),
        ("a[rel=author]", lambda: [
            text
            for text in (
                text_value(inner_text(a)) for a in root.xpath("//a[@rel='author' or @rel='Author']")
            )
            if text
        ]),
        ("byline", lambda: _byline_authors(root)),
        ("text:label", lambda: _labelled_authors(root)),
    ]
    fallback_orgs: list[str] = clean_authors(orgs)
    for source, getter in sources:
        names: list[str] = []
        for item in getter():
            cleaned = clean_authors([item])
            if any(names_site(n, site_keys, host_keys, acronyms=acronyms) for n in cleaned):
                if not orgs:
                    fallback_orgs.extend(cleaned[:1])
            else:
                names.extend(cleaned)
        names = clean_authors(names)
        if names:
            return names, source
    organisations = clean_authors(fallback_orgs)
    return organisations, "organization" if organisations else None
