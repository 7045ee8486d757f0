"""The one date parser of the project: feed and sitemap dates, page dates, stored dates.

:func:`parse_date` reads ISO 8601, RFC 822 and other unambiguous full dates with dateutil, and
resolves zone abbreviations ("EST", "CEST", "AEST") with the table :data:`ZONES` (dateutil's
``tzinfos``). The result is aware when the string states its zone, naive when it does not:
a naive value is a wall-clock time in an unknown zone and is never converted as if it were UTC
here. :func:`zone_of` says which of the two a value is, :func:`resolve_naive` applies a zone
that is known from elsewhere (the source's ``timezone``). docs/dates.md documents the table, the
abbreviations refused as ambiguous and what is stored for a naive time.

One plausible range for every date (:func:`sane_date`): not before :data:`MIN_YEAR`, not more
than :data:`FUTURE_TOLERANCE` after now.
"""

from __future__ import annotations

import logging
import re
import warnings
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo

from dateutil import parser as date_parser
from dateutil import tz

logger = logging.getLogger(__name__)

MIN_YEAR = 1995  # no news site published online before; earlier dates are garbage ("1970")
FUTURE_TOLERANCE = timedelta(days=1)  # a date later than now plus this is garbage
MAX_LENGTH = 80  # a longer string is not a date

_HOUR = 3600

# Zone abbreviations as news feeds, sitemaps and pages write them, and their UTC offsets.
# Fixed offsets: "EST" in June still means UTC-5. The generic US names (ET, CT, MT, PT) and
# their DST depend on the date, so they are IANA zones. docs/dates.md lists them.
ZONES: dict[str, int | str] = {
    # UTC
    "UTC": 0, "UT": 0, "GMT": 0, "Z": 0,
    # Europe
    "WET": 0, "WEST": _HOUR, "BST": _HOUR, "CET": _HOUR, "CEST": 2 * _HOUR,
    "MEZ": _HOUR, "MESZ": 2 * _HOUR, "EET": 2 * _HOUR, "EEST": 3 * _HOUR, "MSK": 3 * _HOUR,
    # North America (RFC 822 names with their RFC 822 meaning: CST is US Central)
    "EST": -5 * _HOUR, "EDT": -4 * _HOUR, "CST": -6 * _HOUR, "CDT": -5 * _HOUR,
    "MST": -7 * _HOUR, "MDT": -6 * _HOUR, "PST": -8 * _HOUR, "PDT": -7 * _HOUR,
    "AKST": -9 * _HOUR, "AKDT": -8 * _HOUR, "HST": -10 * _HOUR,
    "ET": "America/New_York", "CT": "America/Chicago", "MT": "America/Denver",
    "PT": "America/Los_Angeles",
    # Africa
    "WAT": _HOUR, "CAT": 2 * _HOUR, "SAST": 2 * _HOUR, "EAT": 3 * _HOUR,
    # Asia and Oceania
    "PKT": 5 * _HOUR, "WIB": 7 * _HOUR, "HKT": 8 * _HOUR, "SGT": 8 * _HOUR,
    "AWST": 8 * _HOUR, "JST": 9 * _HOUR, "KST": 9 * _HOUR, "ACST": 9 * _HOUR + 1800,
    "ACDT": 10 * _HOUR + 1800, "AEST": 10 * _HOUR, "AEDT": 11 * _HOUR,
    "NZST": 12 * _HOUR, "NZDT": 13 * _HOUR,
}
# Abbreviations with more than one common meaning in the news: refused (the value is naive).
AMBIGUOUS: dict[str, str] = {
    "IST": "India +05:30, Ireland +01:00, Israel +02:00",
    "AST": "Atlantic -04:00, Arabia +03:00",
    "ADT": "Atlantic -03:00, Arabia +04:00",
    "SST": "Singapore +08:00, Samoa -11:00",
}

Zone = Literal["stated", "source", "none", "day"]

_YEAR_RE = re.compile(r"(?<!\d)(1[89]\d\d|2\d\d\d)(?!\d)")
_EPOCH_RE = re.compile(r"\d{10}(?:\d{3})?")
_RFC822_RE = re.compile(r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s")
_DOTTED_RE = re.compile(r"(?<![\d.])\d{1,2}\.\d{1,2}\.\d{4}(?![\d.])")  # 10.06.2025: day first
_DOUBLE_ZONE_RE = re.compile(r"([+-]\d\d:?\d\d)\s*Z$")
# "GMT+3", "UTC-05:00": dateutil reads these the POSIX way (UTC+3 as three hours *behind*);
# pages mean three hours ahead, so they become plain offsets first.
_NAMED_OFFSET_RE = re.compile(r"\b(?:GMT|UTC|UT)\s*([+-])(\d{1,2})(?::?(\d\d))?\b")
_DEFAULT_A = datetime(2000, 1, 1)
_DEFAULT_B = datetime(2001, 2, 2)
_WS_RE = re.compile(r"\s+")
_reported: set[str] = set()


def parse_date(
    value: str | None, *, now: datetime | None = None, not_before: datetime | None = None
) -> datetime | None:
    """A full date (or date-time) with its zone, or None.

    ISO 8601 (``2024-01-15T10:30:00+01:00``, ``...Z``, ``2024-01-15 10:30``, day only),
    RFC 822 (``Mon, 15 Jan 2024 10:30:00 +0100``, ``... EST``, ``... CEST``), Unix epoch
    seconds/milliseconds and other unambiguous full dates. Aware when the string states an
    offset or a zone of :data:`ZONES`, naive otherwise (no zone, an unknown or an ambiguous
    abbreviation). None for garbage, incomplete dates ("May 2024"), dates before
    :data:`MIN_YEAR`, more than :data:`FUTURE_TOLERANCE` after ``now`` (default: the current
    time) or, when given, before ``not_before``.
    """
    if not isinstance(value, str):
        return None
    text = _WS_RE.sub(" ", value).strip()
    if not text or len(text) > MAX_LENGTH:
        return None
    text = _DOUBLE_ZONE_RE.sub(r"\1", text)  # "...+01:00Z" seen in the wild
    text = _NAMED_OFFSET_RE.sub(_offset, text)
    result: datetime | None
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
    if result is None:
        result = _dateutil_parse(text)
    if result is None:
        return None
    return sane_date(result, now, not_before)


def _offset(match: re.Match[str]) -> str:
    sign, hours, minutes = match.groups()
    return f"{sign}{int(hours):02d}:{minutes or '00'}"


def _dateutil_parse(text: str) -> datetime | None:
    """dateutil, but only when the string names a full date (year, month, day)."""
    if not _YEAR_RE.search(text) and not _RFC822_RE.match(text):
        return None
    names: list[str] = []

    def zone(name: str | None, offset: int | None) -> tzinfo | None:
        if name:
            known = ZONES.get(name.upper())
            if isinstance(known, int):
                return UTC if known == 0 else tz.tzoffset(name.upper(), known)
            if isinstance(known, str):
                return ZoneInfo(known)
            names.append(name)
        if offset is not None:
            return UTC if offset == 0 else tz.tzoffset(None, offset)
        return None  # no zone: naive (dateutil would take a name of the host's zone as local)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dayfirst = _DOTTED_RE.search(text) is not None
            first = date_parser.parse(text, default=_DEFAULT_A, tzinfos=zone, dayfirst=dayfirst)
            second = date_parser.parse(text, default=_DEFAULT_B, tzinfos=zone, dayfirst=dayfirst)
    except (ValueError, OverflowError, TypeError, LookupError):
        return None
    if first.date() != second.date():  # a component came from the default: incomplete date
        return None
    if names and first.tzinfo is None:
        _report(names[0], text)
    return first


def _report(name: str, text: str) -> None:
    """Log an unresolved zone name once per process (the value is then counted as naive)."""
    key = name.upper()
    if key in _reported or len(_reported) > 1000:
        return
    _reported.add(key)
    why = f"ambiguous ({AMBIGUOUS[key]})" if key in AMBIGUOUS else "not in the zone table"
    logger.info("Zone name %r in date %r is %s: the time is kept without zone "
                "(see docs/dates.md)", name, text, why)


def _compare_key(value: datetime, other: datetime) -> tuple[datetime, datetime]:
    """Both values comparable: an aware one in UTC when the other is naive (or the reverse)."""
    if (value.tzinfo is None) == (other.tzinfo is None):
        return value, other
    if value.tzinfo is None:
        return value, other.astimezone(UTC).replace(tzinfo=None)
    return value.astimezone(UTC).replace(tzinfo=None), other


def sane_date(
    value: datetime, now: datetime | None = None, not_before: datetime | None = None
) -> datetime | None:
    """``value`` when it is plausible for a news article: not before :data:`MIN_YEAR`, not
    before ``not_before`` (the site's first article, when the caller knows it) and not more
    than :data:`FUTURE_TOLERANCE` after ``now`` (default: the current time)."""
    if value.year < MIN_YEAR:
        return None
    if not_before is not None:
        try:
            mine, floor = _compare_key(value, not_before)
            if mine < floor - FUTURE_TOLERANCE:
                return None
        except (OverflowError, ValueError):
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


def has_time(value: datetime) -> bool:
    """Whether ``value`` is more than a day: it has a zone or a time other than midnight."""
    return value.tzinfo is not None or (value.hour, value.minute, value.second) != (0, 0, 0)


class SourceZone(tzinfo):
    """A source's configured timezone (``timezone`` in the sources file), as the zone of a time
    that stated none: the value then says how its zone was known (:func:`zone_of`)."""

    def __init__(self, key: str) -> None:
        self.key = key
        self._zone = ZoneInfo(key)

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return self._zone.utcoffset(dt)

    def dst(self, dt: datetime | None) -> timedelta | None:
        return self._zone.dst(dt)

    def tzname(self, dt: datetime | None) -> str | None:
        return self._zone.tzname(dt)

    def __getinitargs__(self) -> tuple[str]:  # pickled with the requests of a distributed crawl
        return (self.key,)

    def __repr__(self) -> str:
        return f"SourceZone({self.key!r})"


def zone_of(value: datetime) -> Zone:
    """``stated``: the value has the zone it stated; ``source``: the source's timezone was
    applied (:func:`resolve_naive`); ``day``: a date without time; ``none``: a wall-clock time
    in an unknown zone."""
    if isinstance(value.tzinfo, SourceZone):
        return "source"
    if value.tzinfo is not None:
        return "stated"
    return "none" if has_time(value) else "day"


def resolve_naive(value: datetime, zone: SourceZone | None) -> datetime:
    """A naive wall-clock time placed in the source's ``zone`` (DST included); anything else
    unchanged. A date without time stays as it is: the day is what is known, and moving its
    midnight to UTC would change the day."""
    if zone is None or zone_of(value) != "none":
        return value
    return value.replace(tzinfo=zone)


def zone_from(value: datetime, other: datetime | None) -> datetime:
    """A naive time given the zone of ``other`` (a feed's date for the same article) when
    ``other`` shows the same wall-clock time, to the minute, in its zone; else ``value``."""
    if other is None or other.tzinfo is None or zone_of(value) != "none":
        return value
    try:
        if abs(other.replace(tzinfo=None) - value) < timedelta(minutes=1):
            return value.replace(tzinfo=other.tzinfo)
    except (OverflowError, ValueError):
        pass
    return value
