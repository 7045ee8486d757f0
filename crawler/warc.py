"""The WARC archive of fetched pages: writing, rotating and reading gzip-per-record WARC files.

Each fetched HTML page is kept as a WARC ``response`` record (the HTTP status line, headers and
body as Scrapy received them) followed by the ``request`` record that got it, each compressed
as a gzip member of its own, so a record can be read alone from its offset. Every file starts
with a ``warcinfo`` record. Records and digests are built by warcio; the gzip member of a
record is written with one ``write`` and flushed, so a process killed mid-write loses at most
that record, and a reader stops cleanly before a record that was cut off. Members are
compressed by ISA-L (``isal``) at levels 0-3, by zlib above: the same gzip format, ISA-L's
level 3 as small as zlib's and 0.4 times its CPU (docs/performance.md, "Archive").

Besides the standard fields (``WARC-Target-URI``, ``WARC-Date``, ``WARC-Payload-Digest``,
``WARC-Block-Digest``, ``WARC-Record-ID``), a response record carries what the crawl knew of
the page before fetching it, for ``newscrawl reextract``: ``Newscrawl-Source`` (the source
name) and ``Newscrawl-Meta`` (JSON: how the page was found and the feed's title and dates).

A page rendered in the browser (crawler/browser.py) is kept as a ``conversion`` record of its
own: the DOM the browser's scripts wrote (``Content-Type: text/html``), for the same
``WARC-Target-URI``, with ``WARC-Refers-To`` naming the ``response`` record of the page as it
was fetched (none when a ``render: browser`` source's page was only fetched by the browser).
It is written after that response record, so the newest record of the URL is the rendered one:
``newscrawl reextract`` extracts it without rendering again.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from isal import isal_zlib
from warcio.recordloader import ArcWarcRecordLoader
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date, iso_date_to_datetime
from warcio.warcwriter import WARCWriter

SOFTWARE = "newscrawl/0.1 (warcio)"
SUFFIX = ".warc.gz"
# Hop-by-hop and transfer headers that no longer describe the body Scrapy hands over (it is
# decompressed and de-chunked): left out, and Content-Length set to the body kept.
_DROPPED_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}
_READ_CHUNK = 1 << 20


class ArchiveError(OSError):
    """The archive cannot be written (unwritable folder, full disk, file size limit)."""


@dataclass(frozen=True)
class Location:
    """Where a response record is: a file of the archive folder, its offset and length (of
    its gzip member) in bytes."""

    file: str
    offset: int
    length: int

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "offset": self.offset, "length": self.length}


@dataclass
class Exchange:
    """One fetch to archive: the request as sent and the response as received."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    request_method: str = "GET"
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    date: datetime = field(default_factory=lambda: datetime.now(UTC))
    source: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    protocol: str = "HTTP/1.1"


@dataclass
class ArchivedResponse:
    """A response record read back from the archive."""

    location: Location
    url: str
    date: datetime
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    source: str | None
    meta: dict[str, Any]
    record_id: str | None = None  # WARC-Record-ID
    rendered: bool = False  # a conversion record: the DOM the browser rendered


# -- writing ---------------------------------------------------------------------------------

def _gzip_member(data: bytes, level: int) -> bytes:
    """``data`` as one gzip member: ISA-L for levels 0-3 (its range), zlib for 4-9."""
    if 0 <= level <= isal_zlib.ISAL_BEST_COMPRESSION:
        fast = isal_zlib.compressobj(level, isal_zlib.DEFLATED, zlib.MAX_WBITS | 16)
        return fast.compress(data) + fast.flush()
    compressor = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return compressor.compress(data) + compressor.flush()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        from crawler.dates import zone_of

        if zone_of(value) == "source":  # the source's timezone was applied: keep the wall clock
            return {"$datetime": value.replace(tzinfo=None).isoformat(), "zone": "source"}
        return {"$datetime": value.isoformat()}
    return str(value)


def decode_meta(value: Any, zone: Any = None) -> Any:
    """The meta of a record as the crawl had it: dates are datetimes again; a date the
    source's timezone had been applied to gets ``zone`` (a SourceZone), when given."""
    if isinstance(value, dict):
        if "$datetime" in value:
            try:
                parsed = datetime.fromisoformat(str(value["$datetime"]))
            except ValueError:
                return None
            if value.get("zone") == "source" and zone is not None:
                parsed = parsed.replace(tzinfo=zone)
            return parsed
        return {key: decode_meta(item, zone) for key, item in value.items()}
    if isinstance(value, list):
        return [decode_meta(item, zone) for item in value]
    return value


class ArchiveWriter:
    """Writes exchanges to ``directory``/``prefix``-``time``-``pid``-``n``.warc.gz, starting a new
    file when the current one reaches ``max_bytes``. Not thread-safe: use it from one thread."""

    def __init__(self, directory: str | Path, max_bytes: int = 1 << 30, prefix: str = "news",
                 gzip_level: int = 3, info: dict[str, str] | None = None) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.prefix = prefix
        self.gzip_level = gzip_level
        self.info = info or {}
        self.files = 0
        self.records = 0
        self.bytes = 0
        self._handle: io.BufferedWriter | None = None
        self._name = ""
        self._size = 0
        self._file_records = 0  # records in the current file (besides its warcinfo)
        self._builder = WARCWriter(io.BytesIO(), gzip=False)

    @property
    def current(self) -> str:
        return self._name

    def open(self) -> None:
        """Create the folder and the first file (raises ArchiveError when it cannot)."""
        if self._handle is None:
            self._start_file()

    def _start_file(self) -> None:
        self.close()
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            for n in range(self.files, self.files + 1000):
                name = f"{self.prefix}-{stamp}-{os.getpid()}-{n:05d}{SUFFIX}"
                try:
                    handle = open(self.directory / name, "xb")  # noqa: SIM115 - kept open
                except FileExistsError:
                    continue
                break
            else:  # pragma: no cover - a thousand files in one second
                raise FileExistsError(self.directory / name)
        except OSError as exc:
            raise ArchiveError(exc.errno, f"cannot create a WARC file in {self.directory}: "
                                          f"{exc.strerror or exc}") from None
        self._handle, self._name, self._size, self._file_records = handle, name, 0, 0
        self.files += 1
        info = {"software": SOFTWARE, "hostname": socket.gethostname(),
                "format": "WARC File Format 1.1",
                "conformsTo": "https://iipc.github.io/warc-specifications/specifications/"
                              "warc-format/warc-1.1/", **self.info}
        record = self._builder.create_warcinfo_record(name, info)
        self._append([self._member(record)])

    def _member(self, record: Any) -> bytes:
        out = io.BytesIO()
        self._builder.out = out
        self._builder.write_record(record)
        return _gzip_member(out.getvalue(), self.gzip_level)

    def _append(self, members: list[bytes]) -> int:
        """Write members at the end of the current file in one write; on failure cut the file
        back to where it was, so it stays readable, and raise ArchiveError."""
        assert self._handle is not None
        offset = self._size
        data = b"".join(members)
        try:
            self._handle.write(data)
            self._handle.flush()
        except OSError as exc:
            self._truncate(offset)
            raise ArchiveError(exc.errno, f"cannot write to {self.directory / self._name}: "
                                          f"{exc.strerror or exc}") from None
        self._size += len(data)
        self.bytes += len(data)
        return offset

    def _truncate(self, offset: int) -> None:
        handle, self._handle = self._handle, None
        if handle is None:
            return
        with contextlib.suppress(OSError):  # what did not reach the file is cut below anyway
            handle.close()
        with contextlib.suppress(OSError):  # a reader stops before a partial last record anyway
            os.truncate(self.directory / self._name, offset)
        self._size = offset
        try:
            self._handle = open(self.directory / self._name, "ab")  # noqa: SIM115
        except OSError:
            self._handle = None

    def write(self, exchange: Exchange) -> Location:
        """Archive one exchange; returns where its response record is."""
        if self._handle is None or self._size >= self.max_bytes:
            self._start_file()
        response, request = self._records(exchange)
        members = [self._member(response), self._member(request)]
        offset = self._append(members)
        self.records += 1
        self._file_records += 1
        return Location(self._name, offset, len(members[0]))

    def write_rendered(self, exchange: Exchange, refers_to: str | None = None) -> Location:
        """Archive the DOM a browser rendered (``exchange.body``) as a ``conversion`` record
        referring to the response record ``refers_to`` (its WARC-Record-ID)."""
        if self._handle is None or self._size >= self.max_bytes:
            self._start_file()
        date = datetime_to_iso_date(exchange.date.astimezone(UTC).replace(tzinfo=None),
                                    use_micros=True)
        warc_headers = {"WARC-Date": date}
        if refers_to:
            warc_headers["WARC-Refers-To"] = refers_to
        if exchange.source:
            warc_headers["Newscrawl-Source"] = exchange.source
        if exchange.meta:
            warc_headers["Newscrawl-Meta"] = json.dumps(exchange.meta, default=_json_default,
                                                        ensure_ascii=True)
        record = self._builder.create_warc_record(
            exchange.url, "conversion", payload=io.BytesIO(exchange.body),
            length=len(exchange.body), warc_content_type="text/html; charset=utf-8",
            warc_headers_dict=warc_headers)
        member = self._member(record)
        offset = self._append([member])
        self.records += 1
        self._file_records += 1
        return Location(self._name, offset, len(member))

    def _records(self, exchange: Exchange) -> tuple[Any, Any]:
        builder = self._builder
        date = datetime_to_iso_date(exchange.date.astimezone(UTC).replace(tzinfo=None),
                                    use_micros=True)
        headers = [(k, v) for k, v in exchange.headers if k.lower() not in _DROPPED_HEADERS]
        headers.append(("Content-Length", str(len(exchange.body))))
        reason = _REASONS.get(exchange.status, "")
        http = StatusAndHeaders(f"{exchange.status} {reason}".strip(), headers,
                                protocol=exchange.protocol)
        warc_headers = {"WARC-Date": date}
        if exchange.source:
            warc_headers["Newscrawl-Source"] = exchange.source
        if exchange.meta:
            warc_headers["Newscrawl-Meta"] = json.dumps(exchange.meta, default=_json_default,
                                                        ensure_ascii=True)
        response = builder.create_warc_record(
            exchange.url, "response", payload=io.BytesIO(exchange.body),
            length=len(exchange.body), http_headers=http, warc_headers_dict=warc_headers)
        path = _request_path(exchange.url)
        request_http = StatusAndHeaders(f"{exchange.request_method} {path} {exchange.protocol}",
                                        list(exchange.request_headers), is_http_request=True)
        request = builder.create_warc_record(
            exchange.url, "request", payload=io.BytesIO(b""), length=0,
            http_headers=request_http,
            warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To":
                               response.rec_headers.get_header("WARC-Record-ID")})
        return response, request

    def close(self) -> None:
        """Close the current file; a file that holds no record (a crawl that fetched no page)
        is removed: it would only say that nothing was archived."""
        handle, self._handle = self._handle, None
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.close()
            if not self._file_records:
                with contextlib.suppress(OSError):
                    (self.directory / self._name).unlink()
                    self.files -= 1
                    self.bytes -= self._size


def _request_path(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


_REASONS = {200: "OK", 201: "Created", 202: "Accepted", 203: "Non-Authoritative Information",
            204: "No Content", 206: "Partial Content"}


# -- reading ---------------------------------------------------------------------------------

def archive_files(directory: str | Path) -> list[Path]:
    """The WARC files of an archive folder, oldest first (their names start with the time)."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if p.name.endswith(SUFFIX) and p.is_file()),
                  key=lambda p: (p.name.split("-")[1:2], p.name))


def members(path: str | Path, start: int = 0) -> Iterator[tuple[int, int, bytes]]:
    """``(offset, length, data)`` of each complete gzip member of a file from ``start``. Stops
    before a member that is cut off (a write killed midway) or not gzip at all."""
    with open(path, "rb") as handle:
        handle.seek(start)
        offset = start
        pending = b""
        while True:
            decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
            parts: list[bytes] = []
            consumed = 0
            data = pending
            pending = b""
            while True:
                if not data:
                    data = handle.read(_READ_CHUNK)
                    if not data:
                        return  # end of file: complete members were all given
                try:
                    parts.append(decompressor.decompress(data))
                except zlib.error:
                    return  # not a gzip member here: nothing more to read
                if decompressor.eof:
                    used = len(data) - len(decompressor.unused_data)
                    consumed += used
                    pending = decompressor.unused_data
                    break
                consumed += len(data)
                data = b""
            yield offset, consumed, b"".join(parts)
            offset += consumed


_LOADER = ArcWarcRecordLoader()


def _parse(data: bytes, location: Location) -> ArchivedResponse | None:
    """A response (or conversion: rendered) record from the bytes of its member; None for
    other record types."""
    record = _LOADER.parse_record_stream(io.BytesIO(data), ensure_http_headers=True)
    if record.rec_type not in ("response", "conversion"):
        return None
    headers = record.rec_headers
    http = record.http_headers
    try:
        status = int(http.get_statuscode())
    except (TypeError, ValueError):
        status = 0
    meta_raw = headers.get_header("Newscrawl-Meta")
    try:
        meta = json.loads(meta_raw) if meta_raw else {}
    except ValueError:
        meta = {}
    date = iso_date_to_datetime(headers.get_header("WARC-Date")).replace(tzinfo=UTC)
    return ArchivedResponse(
        location=location, url=headers.get_header("WARC-Target-URI"), date=date,
        status=status, headers=list(http.headers), body=record.raw_stream.read(),
        source=headers.get_header("Newscrawl-Source"), meta=meta if isinstance(meta, dict) else {},
        record_id=headers.get_header("WARC-Record-ID"),
        rendered=record.rec_type == "conversion")


def iter_responses(path: str | Path, start: int = 0) -> Iterator[ArchivedResponse]:
    """The response records (and conversion records: pages rendered) of one WARC file, in
    order, up to the first one cut off."""
    name = Path(path).name
    for offset, length, data in members(path, start):
        try:
            response = _parse(data, Location(name, offset, length))
        except Exception:  # a member that is not a WARC record: the rest is not trusted
            return
        if response is not None:
            yield response


def read_response(directory: str | Path, location: Location) -> ArchivedResponse:
    """The response record at a location (raises ArchiveError when it is not there)."""
    path = Path(directory) / location.file
    try:
        with open(path, "rb") as handle:
            handle.seek(location.offset)
            raw = handle.read(location.length)
    except OSError as exc:
        raise ArchiveError(exc.errno, f"cannot read {path}: {exc.strerror or exc}") from None
    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        data = decompressor.decompress(raw)
        response = _parse(data, location) if decompressor.eof else None
    except Exception:
        response = None
    if response is None:
        raise ArchiveError(0, f"no complete response record at {path}:{location.offset}")
    return response
