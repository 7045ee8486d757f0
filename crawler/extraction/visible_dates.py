"""Publication dates shown to the reader next to a label ("Datum 28.04.2023",
"Published: March 5, 2024 10:15", "Publié le 05/03/2024 à 10h15").

Used when the page declares no machine-readable date. Only short elements whose text opens
with a publication label count, outside navigation, asides and footers, so a teaser's date
elsewhere on the page is not taken. Values are returned as ISO strings for
:func:`crawler.dates.parse_date` (which applies the sanity checks); a zone name of its table
after the time ("10:15 EST", "10.15 Uhr MESZ") is kept after the ISO string for it to resolve.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import htmldate

from crawler.dates import ZONES
from crawler.extraction.dom import inner_text
from crawler.extraction.text import norm_ws

logger = logging.getLogger(__name__)

_MAX_TEXT = 120
_LABEL_RE = re.compile(
    r"^(?:datum|date|published(?:\s+on)?|first\s+published|posted(?:\s+on)?|"
    r"veröffentlicht(?:\s+am)?|erschienen(?:\s+am)?|publiziert(?:\s+am)?|publié(?:\s+le)?|"
    r"publicado(?:\s+(?:el|em))?|pubblicato(?:\s+il)?|gepubliceerd(?:\s+op)?|publicerad|"
    r"publisert|udgivet|julkaistu|opublikowano|zveřejněno|publikováno|yayınlanma(?:\s+tarihi)?)"
    r"\s*[:.\-–]?\s*",
    re.IGNORECASE,
)
_SKIP_XPATH = "ancestor::nav or ancestor::aside or ancestor::footer"
MONTHS = {
    name: number
    for number, names in enumerate(
        [
            "january jan januar janvier enero gennaio januari",
            "february feb februar février fevrier febrero febbraio februari",
            "march mar märz maerz mars marzo maart",
            "april apr avril abril aprile",
            "may mai mayo maggio mei",
            "june jun juni juin junio giugno",
            "july jul juli juillet julio luglio",
            "august aug août aout agosto augustus",
            "september sep sept septembre septiembre settembre",
            "october oct oktober octobre octubre ottobre",
            "november nov novembre noviembre",
            "december dec dezember décembre decembre diciembre dicembre",
        ],
        start=1,
    )
    for name in names.split()
}
_TIME = (
    r"(?:[,\s]+(?:um|at|à|a\s+las|alle|om|kl\.?)?\s*(\d{1,2})[:.h](\d{2})"
    r"(?:\s*([ap]\.?m\.?))?(?:\s*(?:uhr\s*)?\(?([a-z]{1,5})\)?(?![^\W\d_]))?)?"
)
_ISO_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})" + _TIME, re.IGNORECASE)
_DMY_RE = re.compile(r"(\d{1,2})([./])(\d{1,2})[./](\d{4})" + _TIME, re.IGNORECASE)
_DAY_MONTH_RE = re.compile(r"(\d{1,2})\.?\s+([^\W\d_]{3,10})\.?\s+(\d{4})" + _TIME, re.IGNORECASE)
_MONTH_DAY_RE = re.compile(r"([^\W\d_]{3,10})\.?\s+(\d{1,2}),?\s+(\d{4})" + _TIME, re.IGNORECASE)


def _build(year: str, month: int | None, day: str, hour: str | None, minute: str | None,
           meridiem: str | None, zone: str | None = None) -> str | None:
    if month is None:
        return None
    try:
        value = datetime(int(year), month, int(day))
        if hour is not None and minute is not None:
            h = int(hour)
            if meridiem:
                h = h % 12 + (12 if meridiem.lower().startswith("p") else 0)
            value = value.replace(hour=h, minute=int(minute))
    except ValueError:
        return None
    if hour is not None and zone and zone.isupper() and zone in ZONES:
        return f"{value.isoformat()} {zone}"  # "10:15 EST": parse_datetime resolves the name
    return value.isoformat()


def parse_visible_date(text: str) -> str | None:
    """An ISO date(-time) from a human-readable date, day first where numeric; else None."""
    if match := _ISO_RE.search(text):
        y, m, d, hh, mm, ampm, zone = match.groups()
        return _build(y, int(m), d, hh, mm, ampm, zone)
    if match := _DMY_RE.search(text):
        d, sep, m, y, hh, mm, ampm, zone = match.groups()
        if sep == "/" and int(d) <= 12 and int(m) <= 12 and d != m:
            return None  # 04/05/2024: day-first or month-first cannot be told apart
        return _build(y, int(m), d, hh, mm, ampm, zone)
    if match := _DAY_MONTH_RE.search(text):
        d, name, y, hh, mm, ampm, zone = match.groups()
        return _build(y, MONTHS.get(name.casefold()), d, hh, mm, ampm, zone)
    if match := _MONTH_DAY_RE.search(text):
        name, d, y, hh, mm, ampm, zone = match.groups()
        return _build(y, MONTHS.get(name.casefold()), d, hh, mm, ampm, zone)
    return None


def _labelled_texts(root: Any) -> Iterator[str]:
    for element in root.iter():
        if not isinstance(element.tag, str) or element.tag in ("script", "style", "head"):
            continue
        own = (element.text or "").strip()
        if not own or not _LABEL_RE.match(own):
            continue
        if element.xpath(_SKIP_XPATH):
            continue
        # The label may sit in its own element ("<strong>Datum</strong> 28.04.2023"):
        # widen to the parent while the text stays short.
        node = element
        for _ in range(2):
            text = norm_ws(inner_text(node))
            if parse_visible_date(_LABEL_RE.sub("", text, count=1)) or node.getparent() is None:
                break
            node = node.getparent()
        text = norm_ws(inner_text(node))
        if len(text) <= _MAX_TEXT:
            yield text


def labelled_dates(root: Any) -> list[str]:
    """ISO strings of the labelled publication dates on the page, in document order."""
    out: list[str] = []
    for text in _labelled_texts(root):
        start = _LABEL_RE.search(text)
        tail = text[start.end():] if start and start.start() == 0 else text
        value = parse_visible_date(tail)
        if value:
            out.append(value)
        if len(out) >= 3:
            break
    return out


def searched_date(html: str, url: str) -> str | None:
    """htmldate's heuristic search of the whole page (the last resort): an ISO string."""
    try:
        return htmldate.find_date(html, url=url, extensive_search=True, original_date=True,
                                  outputformat="%Y-%m-%dT%H:%M:%S")
    except Exception:  # defensive: a heuristic must never break extraction
        logger.debug("htmldate failed for %s", url, exc_info=True)
        return None
